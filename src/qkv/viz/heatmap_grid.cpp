// A grid of heatmaps with one colour scale: every layer × head of attention
// (see plot.h). Token labels go left of the first column and below the last
// row only, so the maps stay close enough to compare.
#include <algorithm>
#include <cmath>

#include "qkv/core/error.h"
#include "qkv/viz/color_scale.h"
#include "qkv/viz/figure.h"
#include "qkv/viz/heatmap_axes.h"
#include "qkv/viz/plot.h"

namespace qkv::viz {

using namespace detail;

namespace {
constexpr double kPad = 10, kGap = 8, kFont = 9, kLabelFont = 12, kTitleFont = 16;

std::vector<std::string> names(const std::vector<std::string>& given, int64_t n, const char* what,
                               const std::string& fn) {
  if (given.empty()) {
    std::vector<std::string> out;
    for (int64_t i = 0; i < n; ++i) out.push_back(std::to_string(i));
    return out;
  }
  if (static_cast<int64_t>(given.size()) != n)
    throw ValueError(fn + ": " + std::to_string(given.size()) + " " + what + " for " + std::to_string(n));
  return given;
}
}  // namespace

void heatmap_grid(const std::string& path, const Tensor& values, const GridOptions& opt) {
  const std::string fn = "heatmap_grid " + path;
  format_of(path);
  if (!values.defined() || values.dim() != 4)
    throw ShapeError(fn + ": values must be 4-D (R, C, T, S), got " + (values.defined() ? values.str() : "undefined"));
  const int64_t R = values.size(0), C = values.size(1), T = values.size(2), S = values.size(3);
  if (values.numel() == 0) throw ValueError(fn + ": values " + values.str() + " are empty");
  if (R * C > 1024 || T > 512 || S > 512)
    throw ValueError(fn + ": values " + values.str() + " exceed 1024 maps of 512 x 512");
  if (!opt.x_ticks.empty() && static_cast<int64_t>(opt.x_ticks.size()) != S)
    throw ValueError(fn + ": " + std::to_string(opt.x_ticks.size()) + " x_ticks for " + std::to_string(S) + " columns");
  if (!opt.y_ticks.empty() && static_cast<int64_t>(opt.y_ticks.size()) != T)
    throw ValueError(fn + ": " + std::to_string(opt.y_ticks.size()) + " y_ticks for " + std::to_string(T) + " rows");
  const std::vector<std::string> rows = names(opt.row_names, R, "row_names", fn);
  const std::vector<std::string> cols = names(opt.col_names, C, "col_names", fn);
  const std::vector<float> v = values.to_vector();
  const ColorScale scale = make_scale(v, "viridis", fn.c_str());

  // Maps about 160 px wide (at least 4 px a cell, at most 24), the whole grid under ~4000 px.
  const double cell = std::clamp(std::floor(std::min(160.0 / std::max(T, S), 4000.0 / (C * std::max(T, S)))), 2.0, 24.0);
  const double mw = S * cell, mh = T * cell;
  const AxisTicks ax = axis_ticks(T, S, cell, cell, opt.x_ticks, opt.y_ticks, kFont);
  double row_w = 0;
  for (const std::string& r : rows) row_w = std::max(row_w, text_size(r, kLabelFont).first);
  const double line = text_size("Ag", kLabelFont).second;
  const double title_h = opt.title.empty() ? 0 : text_size(opt.title, kTitleFont, true).second + kPad;
  const double top = kPad + title_h + line + 4;  // column names above the maps
  const double left = kPad + (opt.y_label.empty() ? 0 : line + 6) + row_w + 8 + ax.y_width + 6;
  const double grid_w = C * mw + (C - 1) * kGap, grid_h = R * mh + (R - 1) * kGap;
  const double bar_x = left + grid_w + 12;
  const double xb = top + grid_h + 6 + ax.x_height;
  const double width =
      std::max(bar_x + colorbar_width(scale) + kPad, text_size(opt.title, kTitleFont, true).first + 2 * kPad);
  const double height = xb + (opt.x_label.empty() ? 0 : 6 + line) + kPad;

  Figure f(path, width, height);
  for (int64_t r = 0; r < R; ++r) {
    const double y = top + r * (mh + kGap);
    f.text(left - ax.y_width - 12, y + mh / 2, rows[r], {.size = kLabelFont, .h = Align::End});
    for (int64_t c = 0; c < C; ++c) {
      const double x = left + c * (mw + kGap);
      draw_cells(f, scale, v.data() + (r * C + c) * T * S, T, S, x, y, cell, cell);
      AxisTicks only = ax;  // tokens on the outer edges only
      if (c > 0) only.y.clear();
      if (r + 1 < R) only.x.clear();
      draw_ticks(f, only, x, y, mw, mh, kFont);
      if (r == 0) f.text(x + mw / 2, top - 4, cols[c], {.size = kLabelFont, .h = Align::Middle, .v = Align::End});
    }
  }
  if (!opt.title.empty())
    f.text(width / 2, kPad, opt.title, {.size = kTitleFont, .h = Align::Middle, .v = Align::Start, .bold = true});
  if (!opt.x_label.empty())
    f.text(left + grid_w / 2, xb + 6, opt.x_label, {.size = kLabelFont, .h = Align::Middle, .v = Align::Start});
  if (!opt.y_label.empty())
    f.text(kPad, top + grid_h / 2, opt.y_label, {.size = kLabelFont, .h = Align::Middle, .v = Align::Start, .up = true});
  draw_colorbar(f, scale, bar_x, top, std::min(grid_h, 300.0));
  f.write();
}

}  // namespace qkv::viz
