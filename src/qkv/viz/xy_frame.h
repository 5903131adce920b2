// Internal to viz/: the frame of x–y charts (line plots, loss curves,
// scatters): axis ranges with round ticks, margins sized to the tick labels,
// an optional second y axis on the right, grid, labels and a legend.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "qkv/viz/figure.h"

namespace qkv::viz::detail {

struct Range {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  double step = 1;
};
// [lo, hi] widened when empty, padded by 5% when `pad`; about `target` ticks.
Range make_range(double lo, double hi, bool pad, int target);

struct Titles {
  std::string title, x_label, y_label, y2_label;
};

struct XYFrame {
  double width = 0, height = 0;
  double left = 0, top = 0, right = 0, bottom = 0;  // the plot area
  Range x, y;
  std::optional<Range> y2;  // the right-hand axis
  double px(double v) const { return left + (v - x.lo) / (x.hi - x.lo) * (right - left); }
  double py(double v) const { return bottom - (v - y.lo) / (y.hi - y.lo) * (bottom - top); }
  double py2(double v) const { return bottom - (v - y2->lo) / (y2->hi - y2->lo) * (bottom - top); }
};

XYFrame make_frame(double width, double height, const Range& x, const Range& y, const std::optional<Range>& y2,
                   const Titles& t);
// Grid lines, ticks, tick labels, the frame and the titles.
void draw_frame(Figure& f, const XYFrame& fr, const Titles& t);

struct LegendEntry {
  std::string name;
  RGB color;
  enum class Mark { Line, Dashed, Dot, Square } mark = Mark::Line;
};
// A boxed legend in the plot area's top-right corner.
void draw_legend(Figure& f, const XYFrame& fr, const std::vector<LegendEntry>& entries);

}  // namespace qkv::viz::detail
