// Internal: whole-file reads and atomic writes with errors that name the file.
#pragma once
#include <string>

namespace qkv::tokenizers::detail {

std::string read_file(const std::string& path);
// Writes to path.tmp.<pid>, flushes, renames over path.
void write_file_atomic(const std::string& path, const std::string& content);
// "line L, column C" of byte offset pos in text.
std::string line_col(const std::string& text, size_t pos);

}  // namespace qkv::tokenizers::detail
