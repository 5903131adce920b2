// qkv/core/error.h — the exception types every qkv function throws.
//
// A message names the thing (op, file, field, shapes) and what was expected,
// e.g. "matmul: [2,3] @ [4,5]: inner dimensions 3 and 4 differ".
#pragma once
#include <stdexcept>
#include <string>

namespace qkv {

// Base of all qkv errors; the CLI prints `qkv: error: <what()>` and exits 1.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// Shapes that do not fit an op (wrong rank, mismatched or unbroadcastable dims).
class ShapeError : public Error {
 public:
  using Error::Error;
};

// A value out of range or of the wrong kind: dtype, index, probability, flag.
class ValueError : public Error {
 public:
  using Error::Error;
};

// Files and streams: missing, truncated, malformed.
class IOError : public Error {
 public:
  using Error::Error;
};

}  // namespace qkv
