// Internal to viz/: an RGB raster with rectangles, lines and 5×7 bitmap text,
// plus the colormaps and tick helpers shared by heatmaps and line plots.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qkv::viz::detail {

struct RGB {
  uint8_t r, g, b;
};

class Canvas {
 public:
  Canvas(int w, int h, RGB bg = {255, 255, 255});
  int width() const { return w_; }
  int height() const { return h_; }
  const std::vector<uint8_t>& pixels() const { return px_; }
  void set(int x, int y, RGB c);  // clipped
  void fill_rect(int x0, int y0, int w, int h, RGB c);
  void rect_outline(int x0, int y0, int w, int h, RGB c);
  void line(int x0, int y0, int x1, int y1, RGB c, int thickness = 1);
  // Text with its top-left at (x, y); each font pixel drawn as scale×scale.
  void text(int x, int y, const std::string& s, RGB c, int scale = 1);
  // Text rotated 90° counter-clockwise (reads bottom to top), its glyph
  // columns starting at x and its baseline end at y (the string's start).
  void text_up(int x, int y, const std::string& s, RGB c, int scale = 1);

 private:
  int w_, h_;
  std::vector<uint8_t> px_;
};

constexpr int kGlyphW = 5, kGlyphH = 7, kAdvance = 6;  // advance includes 1 px spacing
// Number of glyphs in `s` (a UTF-8 multi-byte sequence counts as one '?').
int glyph_count(const std::string& s);
inline int text_width(const std::string& s, int scale = 1) {
  int n = glyph_count(s);
  return n == 0 ? 0 : (n * kAdvance - 1) * scale;
}
// The 7 rows (bit 4 = leftmost column) of the glyph for byte `c`.
const uint8_t* glyph(unsigned char c);
// Rows the glyph is drawn below the line top (2 for descenders g p q y).
int glyph_drop(unsigned char c);

// t in [0, 1] -> colour.
RGB viridis(double t);
RGB diverging(double t);  // 0 blue, 0.5 white, 1 red

// Round-number tick positions covering [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target);
std::string format_tick(double v, double step);
std::string svg_escape(const std::string& s);

}  // namespace qkv::viz::detail
