# The installed package: lib/cmake/isol8 (find_package(isol8) gives isol8::isol8),
# lib/pkgconfig/isol8.pc, share/isol8 (image definitions, seccomp profiles) and
# share/doc/isol8 (LICENSE, CHANGELOG.md). The libraries and headers: libisol8/CMakeLists.txt.
# Checked by tests/consumer/run.sh (label install), which builds a program against the
# installed prefix alone.
include(CMakePackageConfigHelpers)

set(ISOL8_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/isol8)

install(EXPORT isol8Targets NAMESPACE isol8:: DESTINATION ${ISOL8_CMAKE_DIR})
# The installed package asks for the Boost release the library was built with: libisol8.a holds
# Asio's and Beast's compiled code (BOOST_ASIO_SEPARATE_COMPILATION), so a program must see the
# same Boost headers (isol8Config.cmake.in).
set(ISOL8_BOOST_VERSION ${Boost_VERSION_MAJOR}.${Boost_VERSION_MINOR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/isol8Config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/isol8Config.cmake
  INSTALL_DESTINATION ${ISOL8_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/isol8ConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/isol8Config.cmake ${CMAKE_CURRENT_BINARY_DIR}/isol8ConfigVersion.cmake
  DESTINATION ${ISOL8_CMAKE_DIR})

# isol8.pc: relocatable (prefix from ${pcfiledir}, so `cmake --install --prefix` anywhere works).
# `pkg-config --libs isol8` is a complete static link line: the two archives, Boost.JSON (and
# what it links), then fmt and OpenSSL through Requires, and -pthread.
file(RELATIVE_PATH ISOL8_PC_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" ISOL8_PC_PREFIX "${ISOL8_PC_PREFIX}")
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR ISOL8_PC_PREFIX STREQUAL "")
  set(ISOL8_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  set(ISOL8_PC_PREFIX "\${pcfiledir}/${ISOL8_PC_PREFIX}")
endif()
set(ISOL8_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
set(ISOL8_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(ISOL8_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(ISOL8_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
endif()

# -L/-l for Boost's compiled libraries (Boost ships no .pc files), -I for its headers; nothing
# for directories the compiler searches anyway.
set(ISOL8_PC_LIBS "")
set(ISOL8_PC_CFLAGS "")
set(isol8_boost_libs Boost::json)
get_target_property(isol8_json_deps Boost::json INTERFACE_LINK_LIBRARIES)
foreach(dep IN LISTS isol8_json_deps)
  if(TARGET ${dep} AND NOT dep STREQUAL "Boost::headers")
    get_target_property(type ${dep} TYPE)
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
      list(APPEND isol8_boost_libs ${dep})
    endif()
  endif()
endforeach()
foreach(lib IN LISTS isol8_boost_libs)
  get_target_property(location ${lib} LOCATION)
  get_filename_component(dir ${location} DIRECTORY)
  get_filename_component(name ${location} NAME)
  string(REGEX REPLACE "^lib" "" name ${name})
  string(REGEX REPLACE "\\.(so|a)(\\..*)?$" "" name ${name})
  if(NOT dir IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
    string(APPEND ISOL8_PC_LIBS " -L${dir}")
  endif()
  string(APPEND ISOL8_PC_LIBS " -l${name}")
endforeach()
get_target_property(isol8_boost_includes Boost::headers INTERFACE_INCLUDE_DIRECTORIES)
foreach(dir IN LISTS isol8_boost_includes)
  if(NOT dir IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
    string(APPEND ISOL8_PC_CFLAGS " -I${dir}")
  endif()
endforeach()
string(APPEND ISOL8_PC_LIBS " -pthread")
if(ISOL8_SANITIZE)
  string(APPEND ISOL8_PC_LIBS " -fsanitize=address,undefined")
endif()
# isol8's PUBLIC compile definitions (libisol8/CMakeLists.txt), which every includer needs.
get_target_property(isol8_definitions isol8 INTERFACE_COMPILE_DEFINITIONS)
foreach(definition IN LISTS isol8_definitions)
  string(APPEND ISOL8_PC_CFLAGS " -D${definition}")
endforeach()
configure_file(${CMAKE_CURRENT_LIST_DIR}/isol8.pc.in ${CMAKE_CURRENT_BINARY_DIR}/isol8.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/isol8.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The files the library embeds (libisol8/CMakeLists.txt, ISOL8_EMBEDDED_FILES), for reading and
# for building images by hand: share/isol8/docker, share/isol8/seccomp.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docker/ DESTINATION ${CMAKE_INSTALL_DATADIR}/isol8/docker
  USE_SOURCE_PERMISSIONS)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/seccomp/ DESTINATION ${CMAKE_INSTALL_DATADIR}/isol8/seccomp
  FILES_MATCHING PATTERN "*.json")
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/CHANGELOG.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
