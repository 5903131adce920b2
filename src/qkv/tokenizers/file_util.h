// Internal: whole-file reads and atomic writes with errors that name the file.
#pragma once
#include <cstdint>
#include <string>

namespace qkv::tokenizers::detail {

// Token ids at or above this are refused in every tokenizer file (16,777,216:
// larger than any real vocabulary, small enough that the tables an id implies
// stay small — a vocab.json id of 722,222,229 asked for 22 GB).
constexpr int64_t kMaxTokenId = int64_t{1} << 24;

std::string read_file(const std::string& path);
// Writes to path.tmp.<pid>, flushes, renames over path.
void write_file_atomic(const std::string& path, const std::string& content);
// "line L, column C" of byte offset pos in text.
std::string line_col(const std::string& text, size_t pos);

}  // namespace qkv::tokenizers::detail
