// Helpers shared by the unit tests.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "isol8/error.hpp"

// Checks that `expr` throws isol8::Error with exactly this code and message (not just "throws").
#define REQUIRE_ISOL8_ERROR(expr, errcode, text)                               \
  do {                                                                         \
    bool isol8Thrown = false;                                                  \
    try {                                                                      \
      static_cast<void>(expr);                                                 \
    } catch (const isol8::Error& isol8Error) {                                 \
      isol8Thrown = true;                                                      \
      CHECK(isol8Error.code() == isol8::make_error_code(errcode));             \
      CHECK(isol8Error.message() == std::string(text));                        \
    }                                                                          \
    if (!isol8Thrown) FAIL_CHECK("expected isol8::Error from: " #expr);        \
  } while (false)

// A std::string from a literal that may contain NUL bytes.
template <std::size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}
