# isol8_embed_files(<out.cpp> FILES f1 f2 ...)
# Generates a C++ source that defines isol8::detail::embeddedFile(name), so the installed
# binaries carry the image definitions and the seccomp profile with them.
set(ISOL8_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_files.cmake)
function(isol8_embed_files out)
  cmake_parse_arguments(E "" "" "FILES" ${ARGN})
  string(REPLACE ";" "|" files "${E_FILES}")
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} "-DFILES=${files}" -P ${ISOL8_EMBED_SCRIPT}
    VERBATIM
    DEPENDS ${E_FILES} ${ISOL8_EMBED_SCRIPT}
    COMMENT "Embedding files into ${out}")
endfunction()
