// Heatmap colour scale and colour bar (see color_scale.h).
#include "qkv/viz/color_scale.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "qkv/core/error.h"

namespace qkv::viz::detail {

namespace {
constexpr double kBarW = 14, kTick = 3, kFont = 10;

std::string fmt3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}
}  // namespace

RGB ColorScale::operator()(double x) const {
  if (!std::isfinite(x)) return {160, 160, 160};
  const double t = hi > lo ? (x - lo) / (hi - lo) : 0.5;
  return diverging ? detail::diverging(t) : viridis(t);
}

ColorScale make_scale(const std::vector<float>& values, const std::string& colormap, const char* fn) {
  if (colormap != "auto" && colormap != "viridis" && colormap != "diverging")
    throw ValueError(std::string(fn) + ": unknown colormap '" + colormap + "' (auto, viridis, diverging)");
  double mn = INFINITY, mx = -INFINITY;
  for (float x : values)
    if (std::isfinite(x)) mn = std::min<double>(mn, x), mx = std::max<double>(mx, x);
  if (mn > mx) mn = mx = 0;  // all NaN
  ColorScale s;
  s.diverging = colormap == "diverging" || (colormap == "auto" && mn < 0 && mx > 0);
  if (s.diverging) {
    const double m = std::max(std::fabs(mn), std::fabs(mx));
    s.lo = -m, s.hi = m;
    s.labels = {{1, fmt3(m)}, {0.5, "0"}, {0, fmt3(-m)}};
  } else {
    s.lo = mn, s.hi = mx;
    s.labels = {{1, fmt3(mx)}, {0.5, fmt3((mn + mx) / 2)}, {0, fmt3(mn)}};
  }
  return s;
}

double colorbar_width(const ColorScale& s) {
  double w = 0;
  for (const auto& [t, label] : s.labels) w = std::max(w, text_size(label, kFont).first);
  return kBarW + kTick + 3 + w;
}

void draw_colorbar(Figure& f, const ColorScale& s, double x, double top, double height) {
  constexpr int kSteps = 256;
  std::vector<uint8_t> rgb;
  for (int i = 0; i < kSteps; ++i) {
    const RGB c = s(s.lo + (1.0 - i / (kSteps - 1.0)) * (s.hi - s.lo));
    rgb.insert(rgb.end(), {c.r, c.g, c.b});
  }
  f.image(x, top, kBarW, height, 1, kSteps, rgb);
  f.stroke_rect(x, top, kBarW, height, kInk, 0.8);
  for (const auto& [t, label] : s.labels) {
    const double y = top + (1 - t) * height;
    f.line(x + kBarW, y, x + kBarW + kTick, y, kInk);
    f.text(x + kBarW + kTick + 3, y, label, {.size = kFont});
  }
}

void draw_cells(Figure& f, const ColorScale& s, const float* v, int64_t R, int64_t C, double x, double y, double cw,
                double ch) {
  std::vector<uint8_t> rgb;
  rgb.reserve(static_cast<size_t>(R * C * 3));
  for (int64_t i = 0; i < R * C; ++i) {
    const RGB c = s(v[i]);
    rgb.insert(rgb.end(), {c.r, c.g, c.b});
  }
  f.image(x, y, C * cw, R * ch, static_cast<int>(C), static_cast<int>(R), rgb);
}

}  // namespace qkv::viz::detail
