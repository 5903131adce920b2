// Reading plots back for structural checks: a PNG through Cairo (its size and
// where the ink is), an SVG's text layer (the labels, as figure.h adds them).
#pragma once
#include <cairo.h>

#include <cstdint>
#include <regex>
#include <string>
#include <vector>

namespace qkv::testing {

struct Image {
  int width = 0, height = 0;
  std::vector<uint32_t> px;  // 0xRRGGBB, row-major
  uint32_t at(int x, int y) const { return px[static_cast<size_t>(y) * width + x]; }
  // Fraction of the pixels in [x0, x1) × [y0, y1) that are not white.
  double ink(int x0, int y0, int x1, int y1) const {
    int n = 0, inked = 0;
    for (int y = std::max(y0, 0); y < std::min(y1, height); ++y)
      for (int x = std::max(x0, 0); x < std::min(x1, width); ++x, ++n) inked += (at(x, y) & 0xFFFFFF) != 0xFFFFFF;
    return n ? static_cast<double>(inked) / n : 0;
  }
  bool has(uint32_t rgb) const {
    for (uint32_t p : px)
      if ((p & 0xFFFFFF) == rgb) return true;
    return false;
  }
};

// The PNG at `path` decoded by Cairo; width 0 when it does not decode.
inline Image read_png(const std::string& path) {
  Image img;
  cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
  if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
    cairo_surface_flush(s);
    img.width = cairo_image_surface_get_width(s);
    img.height = cairo_image_surface_get_height(s);
    const int stride = cairo_image_surface_get_stride(s);
    const unsigned char* d = cairo_image_surface_get_data(s);
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < img.width; ++x)
        img.px.push_back(reinterpret_cast<const uint32_t*>(d + static_cast<size_t>(y) * stride)[x] & 0xFFFFFF);
  }
  cairo_surface_destroy(s);
  return img;
}

// The texts of an SVG's text layer (<g id="qkv-text">), XML escapes kept.
inline std::vector<std::string> svg_text_layer(const std::string& svg) {
  std::vector<std::string> out;
  const size_t g = svg.find("<g id=\"qkv-text\"");
  if (g == std::string::npos) return out;
  const std::string layer = svg.substr(g, svg.find("</g>", g) - g);
  static const std::regex text("<text [^>]*>([^<]*)</text>");
  for (std::sregex_iterator it(layer.begin(), layer.end(), text), end; it != end; ++it) out.push_back((*it)[1]);
  return out;
}

}  // namespace qkv::testing
