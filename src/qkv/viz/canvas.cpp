// Raster drawing, colormaps and axis ticks shared by the heatmap and line plots.
#include "qkv/viz/canvas.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace qkv::viz::detail {

Canvas::Canvas(int w, int h, RGB bg) : w_(w), h_(h), px_(static_cast<size_t>(w) * h * 3) {
  for (size_t i = 0; i < px_.size(); i += 3) {
    px_[i] = bg.r;
    px_[i + 1] = bg.g;
    px_[i + 2] = bg.b;
  }
}

void Canvas::set(int x, int y, RGB c) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
  size_t i = (static_cast<size_t>(y) * w_ + x) * 3;
  px_[i] = c.r;
  px_[i + 1] = c.g;
  px_[i + 2] = c.b;
}

void Canvas::fill_rect(int x0, int y0, int w, int h, RGB c) {
  int xa = std::max(x0, 0), ya = std::max(y0, 0), xb = std::min(x0 + w, w_), yb = std::min(y0 + h, h_);
  for (int y = ya; y < yb; ++y)
    for (int x = xa; x < xb; ++x) set(x, y, c);
}

void Canvas::rect_outline(int x0, int y0, int w, int h, RGB c) {
  fill_rect(x0, y0, w, 1, c);
  fill_rect(x0, y0 + h - 1, w, 1, c);
  fill_rect(x0, y0, 1, h, c);
  fill_rect(x0 + w - 1, y0, 1, h, c);
}

void Canvas::line(int x0, int y0, int x1, int y1, RGB c, int thickness) {
  // Bresenham; thickness drawn as a small square brush.
  int dx = std::abs(x1 - x0), sx = x0 < x1 ? 1 : -1, dy = -std::abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
  int err = dx + dy, lo = -(thickness - 1) / 2;
  for (;;) {
    fill_rect(x0 + lo, y0 + lo, thickness, thickness, c);
    if (x0 == x1 && y0 == y1) break;
    int e2 = 2 * err;
    if (e2 >= dy) err += dy, x0 += sx;
    if (e2 <= dx) err += dx, y0 += sy;
  }
}

namespace {
// Calls f(k, glyph) for each glyph of a UTF-8 string (multi-byte -> '?').
template <class F> void each_glyph(const std::string& s, F&& f) {
  int k = 0;
  for (unsigned char ch : s) {
    if ((ch & 0xC0) == 0x80) continue;
    unsigned char g = ch < 0x80 ? ch : '?';
    f(k++, glyph(g), glyph_drop(g));
  }
}
}  // namespace

void Canvas::text(int x, int y, const std::string& s, RGB c, int scale) {
  each_glyph(s, [&](int k, const uint8_t* g, int drop) {
    for (int r = 0; r < kGlyphH; ++r)
      for (int col = 0; col < kGlyphW; ++col)
        if (g[r] & (0x10 >> col))
          fill_rect(x + (k * kAdvance + col) * scale, y + (r + drop) * scale, scale, scale, c);
  });
}

void Canvas::text_up(int x, int y, const std::string& s, RGB c, int scale) {
  each_glyph(s, [&](int k, const uint8_t* g, int drop) {
    for (int r = 0; r < kGlyphH; ++r)
      for (int col = 0; col < kGlyphW; ++col)
        if (g[r] & (0x10 >> col)) fill_rect(x + (r + drop) * scale, y - (k * kAdvance + col + 1) * scale, scale, scale, c);
  });
}

namespace {
RGB lerp_stops(const RGB* stops, int n, double t) {
  if (!(t >= 0)) t = 0;  // also catches NaN
  if (t > 1) t = 1;
  double p = t * (n - 1);
  int i = std::min(static_cast<int>(p), n - 2);
  double f = p - i;
  auto mix = [&](uint8_t a, uint8_t b) { return static_cast<uint8_t>(std::lround(a + (b - a) * f)); };
  return {mix(stops[i].r, stops[i + 1].r), mix(stops[i].g, stops[i + 1].g), mix(stops[i].b, stops[i + 1].b)};
}
}  // namespace

RGB viridis(double t) {
  // Approximately matplotlib's viridis sampled at 0, 1/8, ..., 1.
  static const RGB stops[] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
                              {39, 173, 129}, {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
  return lerp_stops(stops, 9, t);
}

RGB diverging(double t) {
  static const RGB stops[] = {{5, 48, 97}, {67, 147, 195}, {247, 247, 247}, {214, 96, 77}, {103, 0, 31}};
  return lerp_stops(stops, 5, t);
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  double raw = (hi - lo) / std::max(target, 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> out;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    out.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

std::string format_tick(double v, double step) {
  char buf[32];
  double a = std::fabs(v);
  if (a != 0 && (a >= 1e6 || a < 1e-4)) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  } else {
    int dec = step > 0 ? std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9))) : 2;
    std::snprintf(buf, sizeof buf, "%.*f", std::min(dec, 6), v);
  }
  return buf;
}

std::string svg_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') out += ' ';
        else out += c;
    }
  }
  return out;
}

}  // namespace qkv::viz::detail
