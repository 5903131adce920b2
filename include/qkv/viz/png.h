// qkv/viz/png.h — a dependency-free PNG encoder (8-bit RGB, no interlace).
//
// The image data goes in zlib "stored" (uncompressed) deflate blocks with
// CRC-32 and Adler-32 computed here, so no zlib is needed; any viewer reads it.
//
//   std::vector<uint8_t> rgb(w * h * 3, 255);   // white, row-major, R G B
//   qkv::viz::write_png("out.png", w, h, rgb);
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qkv::viz {

// The PNG file bytes for a w×h RGB image (rgb.size() == w*h*3, row-major).
// ValueError for non-positive or oversized dimensions or a wrong buffer size.
std::vector<uint8_t> encode_png(int width, int height, const std::vector<uint8_t>& rgb);

// encode_png + io::write_file_atomic (IOError naming the path on failure).
void write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb);

// CRC-32 (ISO-HDLC, as PNG uses) and Adler-32 (as zlib uses); exposed for tests.
uint32_t crc32(const uint8_t* data, size_t n, uint32_t crc = 0);
uint32_t adler32(const uint8_t* data, size_t n, uint32_t adler = 1);

}  // namespace qkv::viz
