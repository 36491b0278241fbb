add_library(isol8_warnings INTERFACE)
target_compile_options(isol8_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers
  # g++ 12 false positive on Asio coroutine frames (operator new/delete pairs it cannot see)
  $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
