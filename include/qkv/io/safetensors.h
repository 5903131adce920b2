// qkv/io/safetensors.h — Hugging Face safetensors files (model.safetensors,
// optimizer.safetensors).
//
// Layout: u64 little-endian N, then N bytes of UTF-8 JSON
//   {"<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
//    ..., "__metadata__": {"<key>": "<string>"}}
// padded with spaces to a multiple of 8, then the data section: each tensor's
// bytes, row-major, little-endian, at [begin, end) relative to the section.
//
// Supported dtypes: F32, BF16, I64, I32, I8, U8, BOOL (saved and loaded as the
// matching qkv::DType) and F16 (loaded only, converted to Float32). The loader
// validates the whole header before reading any tensor data (see
// load_safetensors) so a truncated or hostile file gives an IOError naming the
// file and the tensor/field, never a crash or an out-of-bounds read.
//
//   qkv::io::save_safetensors("m.safetensors", {{"wte.weight", wte}}, {{"format", "pt"}});
//   qkv::io::NamedTensors nt = qkv::io::load_safetensors("m.safetensors");
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "qkv/core/tensor.h"

namespace qkv::io {

// Tensors in file order (ascending data offset) plus the "__metadata__" map.
struct NamedTensors {
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::map<std::string, std::string> metadata;
  // Each tensor's dtype code in the file ("F32", "F16", "BF16", …; F16 is
  // widened to Float32 on load, so only this remembers it). Filled by
  // load_safetensors.
  std::map<std::string, std::string> file_dtypes;
  // The tensor called `name`; IOError listing nothing fancy if absent.
  const Tensor& at(const std::string& name) const;
  bool contains(const std::string& name) const;
};

// Writes the tensors (any layout; stored contiguous, in the given order) and
// metadata atomically. ValueError for an undefined tensor, an empty,
// duplicate or "__metadata__" name, or a dtype safetensors has no code for.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads and validates a file. Before touching data it checks: file size >= 8;
// header size <= file size - 8 and <= 100 MB; the header is a JSON object
// without duplicate keys; "__metadata__" maps strings to strings; every entry
// has a known dtype, a shape of non-negative integers, and data_offsets
// [begin, end] with begin <= end and numel * dtype size == end - begin (no
// overflow); offsets lie within the data section; sorted by begin the entries
// tile the data section exactly (no overlaps, no holes, no trailing bytes).
// Each failure is an IOError "<path>: tensor '<name>': <what>".
// read_data = false checks the same and reads no tensor data: each tensor
// is then an undefined Tensor under its name (names, file_dtypes and
// metadata only — what `qkv info` shows, without a second copy in memory).
NamedTensors load_safetensors(const std::string& path, bool read_data = true);

}  // namespace qkv::io
