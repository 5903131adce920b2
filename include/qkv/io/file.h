// qkv/io/file.h — whole-file reads and crash-safe writes.
//
// Every file qkv writes (checkpoints, configs, plots) goes through
// write_file_atomic: the bytes land in a hidden temp file next to the target,
// are flushed and fsync'ed, and only then renamed over the target. A crash or
// an error at any point leaves either the old file or the new one, never a
// half-written mix, and never a stray temp file (see docs/FORMATS.md).
//
//   qkv::io::write_file_atomic("out/config.json", text);
//   std::string back = qkv::io::read_file("out/config.json");
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace qkv::io {

// Writes `bytes` to `path` atomically: temp file in the same directory, write,
// fflush + fsync, rename (then fsync of the directory). On any error the temp
// file is removed and IOError names the path and the system's reason.
void write_file_atomic(const std::string& path, std::string_view bytes);
// The same, for bytes in several pieces written back to back (no joined copy;
// save_safetensors uses it to stream tensor data straight from storage).
void write_file_atomic(const std::string& path, const std::vector<std::string_view>& pieces);

// The whole file as bytes. IOError "cannot open <path>: <strerror>" (or a read
// error naming the path).
std::string read_file(const std::string& path);

}  // namespace qkv::io
