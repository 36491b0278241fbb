add_library(isol8_warnings INTERFACE)
target_compile_options(isol8_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers
  # g++ 12 false positive on Asio coroutine frames (operator new/delete pairs it cannot see)
  $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>
  # g++ 12 false positives at -O2 inside std::string (GCC bugs 105329, 107138)
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict -Wno-maybe-uninitialized>)
