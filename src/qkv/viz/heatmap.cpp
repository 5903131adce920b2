// Heatmaps: cells as one nearest-neighbour image, token or index ticks on
// both axes, a colour bar (see plot.h).
#include <algorithm>
#include <cmath>

#include "qkv/core/error.h"
#include "qkv/viz/color_scale.h"
#include "qkv/viz/figure.h"
#include "qkv/viz/heatmap_axes.h"
#include "qkv/viz/plot.h"

namespace qkv::viz {

namespace detail {

std::vector<Tick> make_ticks(int64_t n, double cell, const std::vector<std::string>& labels, double min_gap) {
  std::vector<Tick> out;
  if (!labels.empty()) {
    const int64_t every = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(min_gap / cell)));
    for (int64_t i = 0; i < n; i += every) out.push_back({i * cell + cell / 2, labels[static_cast<size_t>(i)]});
    return out;
  }
  const int target = std::max(2, static_cast<int>(n * cell / 60));
  auto ticks = nice_ticks(0, static_cast<double>(n - 1), target);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  if (step < 1) ticks = nice_ticks(0, static_cast<double>(n - 1), static_cast<int>(n - 1));
  for (double t : ticks) {
    if (t != std::floor(t) || t < 0 || t > n - 1) continue;
    out.push_back({t * cell + cell / 2, std::to_string(static_cast<int64_t>(t))});
  }
  return out;
}

AxisTicks axis_ticks(int64_t rows, int64_t cols, double cw, double ch, const std::vector<std::string>& x_labels,
                     const std::vector<std::string>& y_labels, double font) {
  AxisTicks a;
  const double line = text_size("Ag", font).second;
  a.y = make_ticks(rows, ch, y_labels, line);
  for (const Tick& t : a.y) a.y_width = std::max(a.y_width, text_size(t.label, font).first);
  double max_xw = 0;
  for (const Tick& t : make_ticks(cols, cw, x_labels, 1)) max_xw = std::max(max_xw, text_size(t.label, font).first);
  // Horizontal x labels when they fit side by side, else rotated (tokens).
  a.x = make_ticks(cols, cw, x_labels, max_xw + 4);
  if (!x_labels.empty() && cw < max_xw + 4) {
    a.x_up = true;
    a.x = make_ticks(cols, cw, x_labels, line);
  }
  a.x_height = a.x_up ? max_xw : line;
  return a;
}

void draw_ticks(Figure& f, const AxisTicks& a, double left, double top, double map_w, double map_h, double font) {
  constexpr double kTick = 3;
  for (const Tick& t : a.y) {
    f.line(left - kTick, top + t.pos, left, top + t.pos, kInk);
    f.text(left - kTick - 3, top + t.pos, t.label, {.size = font, .h = Align::End});
  }
  const double xb = top + map_h;
  for (const Tick& t : a.x) {
    f.line(left + t.pos, xb, left + t.pos, xb + kTick, kInk);
    if (a.x_up) f.text(left + t.pos, xb + kTick + 3, t.label, {.size = font, .h = Align::End, .up = true});
    else f.text(left + t.pos, xb + kTick + 3, t.label, {.size = font, .h = Align::Middle, .v = Align::Start});
  }
  f.stroke_rect(left, top, map_w, map_h, kInk, 0.8);
}

}  // namespace detail

using namespace detail;

namespace {
constexpr double kPad = 10, kFont = 10, kLabelFont = 12, kTitleFont = 16;
}  // namespace

void heatmap(const std::string& path, const Tensor& values, const HeatmapOptions& opt) {
  const std::string fn = "heatmap " + path;
  format_of(path);
  if (!values.defined()) throw ValueError(fn + ": undefined tensor");
  if (values.dim() != 2) throw ShapeError(fn + ": values must be 2-D (R, C), got " + values.str());
  const int64_t R = values.size(0), C = values.size(1);
  if (R == 0 || C == 0) throw ValueError(fn + ": values " + values.str() + " are empty");
  if (!opt.x_ticks.empty() && static_cast<int64_t>(opt.x_ticks.size()) != C)
    throw ValueError(fn + ": " + std::to_string(opt.x_ticks.size()) + " x_ticks for " + std::to_string(C) + " columns");
  if (!opt.y_ticks.empty() && static_cast<int64_t>(opt.y_ticks.size()) != R)
    throw ValueError(fn + ": " + std::to_string(opt.y_ticks.size()) + " y_ticks for " + std::to_string(R) + " rows");
  if (opt.cell_px < 0 || opt.cell_px > 200)
    throw ValueError(fn + ": cell_px " + std::to_string(opt.cell_px) + " must be in 0..200");
  if (R > 8192 || C > 8192) throw ValueError(fn + ": values " + values.str() + " exceed 8192 rows/columns");
  const std::vector<float> v = values.to_vector();
  const ColorScale scale = make_scale(v, opt.colormap, fn.c_str());

  // Cell size: square cells fitting ~800×600 px, each axis stretched to ≥ 300 px.
  double cw, ch;
  if (opt.cell_px > 0) {
    cw = ch = opt.cell_px;
  } else {
    cw = ch = static_cast<double>(std::clamp<int64_t>(std::min(800 / C, 600 / R), 1, 40));
    if (C * cw < 300) cw = std::min(40.0, std::ceil(300.0 / C));
    if (R * ch < 300) ch = std::min(40.0, std::ceil(300.0 / R));
  }
  const double map_w = C * cw, map_h = R * ch;
  const AxisTicks ax = axis_ticks(R, C, cw, ch, opt.x_ticks, opt.y_ticks, kFont);
  const double title_h = opt.title.empty() ? 0 : text_size(opt.title, kTitleFont, true).second + kPad;
  const double label_h = text_size("Ag", kLabelFont).second;
  const double top = kPad + title_h;
  const double left = kPad + (opt.y_label.empty() ? 0 : label_h + 6) + ax.y_width + 6;
  double right = left + map_w;
  const double bar_x = right + 12;
  if (opt.colorbar) right = bar_x + colorbar_width(scale);
  double width = std::max(right + kPad, text_size(opt.title, kTitleFont, true).first + 2 * kPad);
  width = std::max(width, left + text_size(opt.x_label, kLabelFont).first + kPad);
  const double xb = top + map_h + 6 + ax.x_height;
  double height = xb + (opt.x_label.empty() ? 0 : 6 + label_h) + kPad;
  height = std::max(height, top + text_size(opt.y_label, kLabelFont).first + kPad);

  Figure f(path, width, height);
  draw_cells(f, scale, v.data(), R, C, left, top, cw, ch);
  draw_ticks(f, ax, left, top, map_w, map_h, kFont);
  if (!opt.title.empty())
    f.text(width / 2, kPad, opt.title, {.size = kTitleFont, .h = Align::Middle, .v = Align::Start, .bold = true});
  if (!opt.x_label.empty())
    f.text(left + map_w / 2, xb + 6, opt.x_label, {.size = kLabelFont, .h = Align::Middle, .v = Align::Start});
  if (!opt.y_label.empty())
    f.text(kPad, top + map_h / 2, opt.y_label, {.size = kLabelFont, .h = Align::Middle, .v = Align::Start, .up = true});
  if (opt.colorbar) draw_colorbar(f, scale, bar_x, top, map_h);
  f.write();
}

}  // namespace qkv::viz
