# Rebuilds after a clean checkout (CI, a second session) reuse earlier compiler output.
find_program(ISOL8_CCACHE ccache)
if(ISOL8_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${ISOL8_CCACHE})
endif()
