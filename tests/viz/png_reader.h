// A minimal reader for the PNGs qkv writes (RGB8, stored deflate blocks), used
// by the viz tests to check pixels; verifies every chunk CRC and the Adler-32.
#pragma once
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "qkv/viz/png.h"

namespace qkv::testing {

struct Png {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
  const uint8_t* at(int x, int y) const { return &rgb[(static_cast<size_t>(y) * width + x) * 3]; }
};

inline uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

inline Png decode_png(const std::string& bytes) {
  const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
  const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.size() < 8 || std::memcmp(b, sig, 8) != 0) throw std::runtime_error("bad PNG signature");
  Png png;
  std::vector<uint8_t> z;
  size_t pos = 8;
  bool ended = false;
  while (pos + 12 <= bytes.size()) {
    uint32_t len = be32(b + pos);
    if (pos + 12 + len > bytes.size()) throw std::runtime_error("chunk overruns file");
    std::string type(bytes.data() + pos + 4, 4);
    if (qkv::viz::crc32(b + pos + 4, len + 4) != be32(b + pos + 8 + len)) throw std::runtime_error("bad CRC in " + type);
    const uint8_t* d = b + pos + 8;
    if (type == "IHDR") {
      png.width = static_cast<int>(be32(d));
      png.height = static_cast<int>(be32(d + 4));
      if (d[8] != 8 || d[9] != 2 || d[12] != 0) throw std::runtime_error("not RGB8 non-interlaced");
    } else if (type == "IDAT") {
      z.insert(z.end(), d, d + len);
    } else if (type == "IEND") {
      ended = true;
    }
    pos += 12 + len;
  }
  if (!ended || pos != bytes.size()) throw std::runtime_error("missing IEND or trailing bytes");
  if (z.size() < 6 || z[0] != 0x78 || ((z[0] << 8) | z[1]) % 31 != 0) throw std::runtime_error("bad zlib header");
  std::vector<uint8_t> raw;
  size_t p = 2;
  for (;;) {
    uint8_t hdr = z.at(p);
    if ((hdr >> 1) != 0) throw std::runtime_error("not a stored block");
    uint16_t n = z.at(p + 1) | (z.at(p + 2) << 8), nn = z.at(p + 3) | (z.at(p + 4) << 8);
    if (uint16_t(~n) != nn) throw std::runtime_error("bad stored length");
    raw.insert(raw.end(), z.begin() + p + 5, z.begin() + p + 5 + n);
    p += 5 + n;
    if (hdr & 1) break;
  }
  if (be32(&z.at(p)) != qkv::viz::adler32(raw.data(), raw.size())) throw std::runtime_error("bad Adler-32");
  size_t row = static_cast<size_t>(png.width) * 3;
  if (raw.size() != (row + 1) * png.height) throw std::runtime_error("wrong image data size");
  for (int y = 0; y < png.height; ++y) {
    if (raw[y * (row + 1)] != 0) throw std::runtime_error("unexpected filter type");
    png.rgb.insert(png.rgb.end(), raw.begin() + y * (row + 1) + 1, raw.begin() + (y + 1) * (row + 1));
  }
  return png;
}

}  // namespace qkv::testing
