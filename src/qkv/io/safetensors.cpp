// safetensors reader/writer (https://github.com/huggingface/safetensors).
// The loader validates the header completely before it reads a byte of tensor
// data: sizes, dtypes, shapes, offsets (docs/FORMATS.md lists every rule).
#include "qkv/io/safetensors.h"

#include "qkv/core/json_parse.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "qkv/core/error.h"
#include "qkv/io/file.h"

static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace qkv::io {

namespace {

constexpr uint64_t kMaxHeader = 100ull * 1000 * 1000;  // the reference library's limit

// A dtype as stored in a file. F16 has no qkv DType: it is widened to Float32.
struct FileDType {
  const char* code;
  size_t size;
  DType dtype;
  bool f16 = false;
};

constexpr FileDType kFileDTypes[] = {
    {"F32", 4, DType::Float32},  {"BF16", 2, DType::BFloat16}, {"F16", 2, DType::Float32, true},
    {"I64", 8, DType::Int64},    {"I32", 4, DType::Int32},     {"I8", 1, DType::Int8},
    {"U8", 1, DType::UInt8},     {"BOOL", 1, DType::Bool},
};

const FileDType* find_file_dtype(const std::string& code) {
  for (const FileDType& f : kFileDTypes)
    if (code == f.code) return &f;
  return nullptr;
}

const char* code_for(DType t) {
  switch (t) {
    case DType::Float32: return "F32";
    case DType::BFloat16: return "BF16";
    case DType::Int64: return "I64";
    case DType::Int32: return "I32";
    case DType::Int8: return "I8";
    case DType::UInt8: return "U8";
    case DType::Bool: return "BOOL";
  }
  return nullptr;
}

// IEEE 754 binary16 -> binary32, exact (subnormals, inf, nan included).
float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000 | (man << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    int e = -1;
    do {
      ++e;
      man <<= 1;
    } while ((man & 0x400) == 0);
    bits = sign | ((112 - e) << 23) | ((man & 0x3FF) << 13);
  }
  return std::bit_cast<float>(bits);
}

struct Entry {
  std::string name;
  const FileDType* ft;
  Shape shape;
  uint64_t begin, end;
};

// Closes a descriptor on scope exit.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void pread_all(int fd, void* dst, uint64_t n, uint64_t off, const std::string& path, const std::string& what) {
  char* p = static_cast<char*>(dst);
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw IOError(path + ": cannot read " + what + ": " + std::strerror(errno));
    }
    if (r == 0) throw IOError(path + ": unexpected end of file reading " + what + " (file changed while reading?)");
    p += r;
    off += static_cast<uint64_t>(r);
    n -= static_cast<uint64_t>(r);
  }
}


// Parses the header, rejecting duplicate keys at any depth (nlohmann would
// silently keep the last one).
nlohmann::json parse_header(const std::string& text, const std::string& path) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto cb = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (depth > kMaxJsonDepth)  // qkv/core/json_parse.h: deeper would overflow the stack later
      throw IOError(path + ": header nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    if (ev == E::object_start) {
      open_objects.emplace_back();
    } else if (ev == E::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (ev == E::key && !open_objects.empty() && duplicate.empty()) {
      std::string k = parsed.get<std::string>();
      if (!open_objects.back().insert(k).second) duplicate = k;
    }
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text, cb);
  } catch (const nlohmann::json::exception& e) {
    throw IOError(path + ": header is not valid JSON: " + strip_json_prefix(e.what()));
  }
  if (!duplicate.empty()) throw IOError(path + ": header has duplicate key '" + duplicate + "'");
  if (!j.is_object()) throw IOError(path + ": header is not a JSON object");
  return j;
}

// A JSON number that is a non-negative integer, as u64.
bool as_u64(const nlohmann::json& v, uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    out = static_cast<uint64_t>(v.get<int64_t>());
    return true;
  }
  return false;
}

Entry parse_entry(const std::string& name, const nlohmann::json& v, const std::string& path) {
  const std::string where = path + ": tensor '" + name + "': ";
  if (!v.is_object()) throw IOError(where + "entry is not an object");
  Entry e{name, nullptr, {}, 0, 0};
  auto dt = v.find("dtype");
  if (dt == v.end() || !dt->is_string()) throw IOError(where + "missing string field 'dtype'");
  e.ft = find_file_dtype(dt->get<std::string>());
  if (!e.ft)
    throw IOError(where + "unsupported dtype '" + dt->get<std::string>() +
                  "' (supported: F32, BF16, F16, I64, I32, I8, U8, BOOL)");
  auto sh = v.find("shape");
  if (sh == v.end() || !sh->is_array()) throw IOError(where + "missing array field 'shape'");
  uint64_t numel = 1;
  bool overflow = false;
  for (const auto& d : *sh) {
    uint64_t n;
    if (!as_u64(d, n) || n > static_cast<uint64_t>(INT64_MAX))
      throw IOError(where + "shape " + json_excerpt(*sh) + " must hold non-negative integers");
    overflow = overflow || __builtin_mul_overflow(numel, n, &numel);
    e.shape.push_back(static_cast<int64_t>(n));
  }
  auto off = v.find("data_offsets");
  if (off == v.end() || !off->is_array() || off->size() != 2 || !as_u64((*off)[0], e.begin) ||
      !as_u64((*off)[1], e.end))
    throw IOError(where + "'data_offsets' must be [begin, end] of non-negative integers");
  if (e.begin > e.end) throw IOError(where + "data_offsets " + json_excerpt(*off) + " have begin > end");
  uint64_t nbytes = 0;
  overflow = overflow || __builtin_mul_overflow(numel, static_cast<uint64_t>(e.ft->size), &nbytes);
  // Zero-sized tensors never overflow, whatever their other dims.
  if (std::count(e.shape.begin(), e.shape.end(), int64_t{0}) > 0) overflow = false, nbytes = 0;
  if (overflow) throw IOError(where + "shape " + json_excerpt(*sh) + " is too large (byte size overflows)");
  if (nbytes != e.end - e.begin)
    throw IOError(where + "shape " + json_excerpt(*sh) + " of " + e.ft->code + " needs " + std::to_string(nbytes) +
                  " bytes but data_offsets " + json_excerpt(*off) + " span " + std::to_string(e.end - e.begin));
  return e;
}

}  // namespace

const Tensor& NamedTensors::at(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  throw IOError("no tensor named '" + name + "'");
}

bool NamedTensors::contains(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return true;
  return false;
}

NamedTensors load_safetensors(const std::string& path, bool read_data) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) throw IOError("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw IOError("cannot stat " + path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw IOError("cannot open " + path + ": " + std::strerror(EISDIR));
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8)
    throw IOError(path + ": file is " + std::to_string(file_size) +
                  " bytes, too short for a safetensors header (8-byte size + JSON)");
  unsigned char len_bytes[8];
  pread_all(f.fd, len_bytes, 8, 0, path, "header size");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  if (n > kMaxHeader)
    throw IOError(path + ": header size " + std::to_string(n) + " exceeds the 100 MB limit (not a safetensors file?)");
  if (n > file_size - 8)
    throw IOError(path + ": header size " + std::to_string(n) + " exceeds the " + std::to_string(file_size - 8) +
                  " bytes after the size field (truncated?)");
  if (n < 2) throw IOError(path + ": header size " + std::to_string(n) + " is too small for a JSON object");
  std::string text(n, '\0');
  pread_all(f.fd, text.data(), n, 8, path, "header");
  if (text[0] != '{') throw IOError(path + ": header does not start with '{' (not a safetensors file?)");
  nlohmann::json header = parse_header(text, path);

  const uint64_t data_start = 8 + n, data_size = file_size - data_start;
  NamedTensors out;
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw IOError(path + ": '__metadata__' is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string())
          throw IOError(path + ": '__metadata__' value for '" + m.key() + "' is not a string");
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    Entry e = parse_entry(it.key(), *it, path);
    if (e.end > data_size)
      throw IOError(path + ": tensor '" + e.name + "': data_offsets [" + std::to_string(e.begin) + ", " +
                    std::to_string(e.end) + "] exceed data size " + std::to_string(data_size));
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < covered)
      throw IOError(path + ": tensor '" + e.name + "': data_offsets [" + std::to_string(e.begin) + ", " +
                    std::to_string(e.end) + "] overlap tensor '" + prev->name + "'");
    if (e.begin > covered)
      throw IOError(path + ": tensor '" + e.name + "': data_offsets [" + std::to_string(e.begin) + ", " +
                    std::to_string(e.end) + "] leave a hole: bytes [" + std::to_string(covered) + ", " +
                    std::to_string(e.begin) + ") belong to no tensor");
    covered = e.end;
    prev = &e;
  }
  if (covered != data_size)
    throw IOError(path + ": data section has " + std::to_string(data_size) + " bytes but the tensors cover " +
                  std::to_string(covered) + " (trailing bytes or truncated header)");

  // Header valid: now read the data.
  for (const Entry& e : entries) {
    if (!read_data) {
      out.tensors.emplace_back(e.name, Tensor());
      out.file_dtypes.emplace(e.name, e.ft->code);
      continue;
    }
    Tensor t = Tensor::empty(e.shape, e.ft->dtype);
    const uint64_t nbytes = e.end - e.begin;
    const std::string what = "tensor '" + e.name + "'";
    if (e.ft->f16) {
      std::vector<uint16_t> half(nbytes / 2);
      pread_all(f.fd, half.data(), nbytes, data_start + e.begin, path, what);
      float* dst = t.data<float>();
      for (size_t i = 0; i < half.size(); ++i) dst[i] = half_to_float(half[i]);
    } else if (nbytes > 0) {
      pread_all(f.fd, t.raw_data(), nbytes, data_start + e.begin, path, what);
      if (e.ft->dtype == DType::Bool) {  // any non-zero byte is true; store canonical 0/1
        auto* b = static_cast<uint8_t*>(t.raw_data());
        for (uint64_t i = 0; i < nbytes; ++i) b[i] = b[i] != 0;
      }
    }
    out.tensors.emplace_back(e.name, std::move(t));
    out.file_dtypes.emplace(e.name, e.ft->code);
  }
  return out;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> seen;
  std::vector<Tensor> keep;  // contiguous copies stay alive until written
  std::vector<std::string_view> pieces(2);
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    const std::string where = "save_safetensors: " + path + ": tensor '" + name + "': ";
    if (name.empty()) throw ValueError("save_safetensors: " + path + ": empty tensor name");
    if (name == "__metadata__") throw ValueError(where + "name is reserved");
    if (!seen.insert(name).second) throw ValueError(where + "duplicate name");
    if (!t.defined()) throw ValueError(where + "undefined tensor");
    const char* code = code_for(t.dtype());
    if (!code) throw ValueError(where + "dtype " + dtype_name(t.dtype()) + " has no safetensors code");
    Tensor c = t.is_contiguous() ? t : t.detach().contiguous();
    const uint64_t nbytes = static_cast<uint64_t>(c.numel()) * dtype_size(c.dtype());
    header[name] = {{"dtype", code}, {"shape", c.shape()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    if (nbytes > 0) pieces.emplace_back(static_cast<const char*>(c.raw_data()), nbytes);
    keep.push_back(std::move(c));
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw ValueError("save_safetensors: " + path + ": " + strip_json_prefix(e.what()));
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // like the reference: data starts 8-aligned
  char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<char>((static_cast<uint64_t>(text.size()) >> (8 * i)) & 0xFF);
  pieces[0] = std::string_view(len_bytes, 8);
  pieces[1] = text;
  write_file_atomic(path, pieces);
}

}  // namespace qkv::io
