// Horizontal bar charts: the next-token distribution (see plot.h).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "qkv/core/error.h"
#include "qkv/viz/figure.h"
#include "qkv/viz/plot.h"
#include "qkv/viz/xy_frame.h"

namespace qkv::viz {

using namespace detail;

void bar_chart(const std::string& path, const std::vector<std::string>& labels, const std::vector<double>& values,
               const BarOptions& opt) {
  const std::string fn = "bar_chart " + path;
  format_of(path);
  if (labels.size() != values.size())
    throw ValueError(fn + ": " + std::to_string(labels.size()) + " labels for " + std::to_string(values.size()) +
                     " values");
  if (values.empty()) throw ValueError(fn + ": no bars to draw");
  if (values.size() > 200) throw ValueError(fn + ": " + std::to_string(values.size()) + " bars (at most 200)");
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]) || values[i] < 0)
      throw ValueError(fn + ": bar " + std::to_string(i) + " ('" + labels[i] + "') has value " +
                       std::to_string(values[i]) + "; expected a finite value >= 0");
  constexpr double kFont = 12, kRow = 22, kPad = 10;
  double label_w = 0;
  for (const std::string& l : labels) label_w = std::max(label_w, text_size(l, kFont).first);
  const double hi = *std::max_element(values.begin(), values.end());
  const Titles t{opt.title, opt.x_label, "", ""};
  const double width = std::max(700.0, label_w + 520);
  const double height = values.size() * kRow + 110 + (opt.title.empty() ? 0 : 24);
  XYFrame fr = make_frame(width, height, make_range(0, hi > 0 ? hi * 1.12 : 1, false, 6), make_range(0, 1, false, 1), {}, t);
  fr.left = kPad + label_w + 10;  // room for the token labels instead of y ticks
  fr.y.ticks.clear();
  Figure f(path, width, height);
  draw_frame(f, fr, t);
  const double row = (fr.bottom - fr.top) / values.size();
  for (size_t i = 0; i < values.size(); ++i) {
    const double y = fr.top + row * i, x1 = fr.px(values[i]);
    const RGB col = static_cast<int>(i) == opt.highlight ? palette(1) : palette(0);
    f.fill_rect(fr.left, y + row * 0.15, x1 - fr.left, row * 0.7, col);
    f.text(fr.left - 6, y + row / 2, labels[i], {.size = kFont, .h = Align::End});
    char v[32];
    std::snprintf(v, sizeof v, "%.3f", values[i]);
    f.text(x1 + 4, y + row / 2, v, {.size = 10});
  }
  f.write();
}

}  // namespace qkv::viz
