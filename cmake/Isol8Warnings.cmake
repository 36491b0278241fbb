add_library(isol8_warnings INTERFACE)
target_compile_options(isol8_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
