// Line plots and labelled scatters on the x–y frame (see plot.h).
#include <algorithm>
#include <cmath>

#include "qkv/core/error.h"
#include "qkv/viz/figure.h"
#include "qkv/viz/plot.h"
#include "qkv/viz/xy_frame.h"

namespace qkv::viz {

using namespace detail;

namespace {
constexpr double kW = 800, kH = 500;

// Consecutive finite points of a series, split where a point is not finite.
template <class F> void each_run(const Series& s, F&& f) {
  std::vector<std::pair<double, double>> run;
  for (size_t i = 0; i <= s.x.size(); ++i) {
    const bool ok = i < s.x.size() && std::isfinite(s.x[i]) && std::isfinite(s.y[i]);
    if (ok) run.emplace_back(s.x[i], s.y[i]);
    if (!ok && !run.empty()) {
      f(run);
      run.clear();
    }
  }
}
struct Box {
  double x0, y0, x1, y1;
  double area() const { return (x1 - x0) * (y1 - y0); }
  double overlap(const Box& o) const {
    return std::max(0.0, std::min(x1, o.x1) - std::max(x0, o.x0)) * std::max(0.0, std::min(y1, o.y1) - std::max(y0, o.y0));
  }
};

struct LabelSpot {
  double x, y;
  Align h, v;
};

// Where a scatter point's label goes: the first of right-above, left-above,
// right-below, left-below, above, below (then the four corners one line
// farther out) that stays inside the frame and
// covers no dot or earlier label; else the one covering least (cropped area
// counts as covered). The chosen box joins `taken`.
LabelSpot place_label(double px, double py, std::pair<double, double> size, const XYFrame& fr,
                      std::vector<Box>& taken) {
  const auto [w, h] = size;
  const LabelSpot spots[] = {{px + 6, py - 2, Align::Start, Align::End},      {px - 6, py - 2, Align::End, Align::End},
                             {px + 6, py + 2, Align::Start, Align::Start},    {px - 6, py + 2, Align::End, Align::Start},
                             {px, py - 6, Align::Middle, Align::End},          {px, py + 6, Align::Middle, Align::Start},
                             {px + 6, py - 2 - h, Align::Start, Align::End},  {px - 6, py - 2 - h, Align::End, Align::End},
                             {px + 6, py + 2 + h, Align::Start, Align::Start}, {px - 6, py + 2 + h, Align::End, Align::Start}};
  auto box_of = [&](const LabelSpot& s) {
    const double x0 = s.h == Align::Start ? s.x : s.h == Align::End ? s.x - w : s.x - w / 2;
    const double y0 = s.v == Align::End ? s.y - h : s.y;
    return Box{x0, y0 + 0.1 * h, x0 + w, y0 + 0.9 * h};  // the glyphs, without the line's leading
  };
  const Box frame{fr.left, fr.top, fr.right, fr.bottom};
  double best_cost = INFINITY;
  size_t best = 0;
  for (size_t k = 0; k < std::size(spots); ++k) {
    const Box b = box_of(spots[k]);
    double cost = b.area() - b.overlap(frame);  // the part outside the frame
    for (const Box& o : taken) cost += b.overlap(o);
    if (cost < best_cost) best_cost = cost, best = k;
    if (cost <= 0) break;
  }
  taken.push_back(box_of(spots[best]));
  return spots[best];
}

}  // namespace

void line_plot(const std::string& path, const std::vector<Series>& series, const LineOptions& opt) {
  const std::string fn = "line_plot " + path;
  format_of(path);
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (const Series& s : series) {
    if (s.x.size() != s.y.size())
      throw ValueError(fn + ": series '" + s.name + "' has " + std::to_string(s.x.size()) + " x values and " +
                       std::to_string(s.y.size()) + " y values");
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      xmin = std::min(xmin, s.x[i]), xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, s.y[i]), ymax = std::max(ymax, s.y[i]);
    }
  }
  if (xmin > xmax) throw ValueError(fn + ": no series has a finite point to plot");
  const Titles t{opt.title, opt.x_label, opt.y_label, ""};
  const XYFrame fr = make_frame(kW, kH, make_range(xmin, xmax, false, 8), make_range(ymin, ymax, true, 6), {}, t);
  Figure f(path, kW, kH);
  draw_frame(f, fr, t);
  std::vector<LegendEntry> legend;
  for (size_t si = 0; si < series.size(); ++si) {
    const RGB col = palette(si);
    each_run(series[si], [&](const auto& run) {
      if (run.size() == 1) return f.dot(fr.px(run[0].first), fr.py(run[0].second), 2.5, col);
      std::vector<std::pair<double, double>> pts;
      for (const auto& [x, y] : run) pts.emplace_back(fr.px(x), fr.py(y));
      f.polyline(pts, col, 1.8);
    });
    if (!series[si].name.empty()) legend.push_back({series[si].name, col});
  }
  draw_legend(f, fr, legend);
  f.write();
}

void scatter(const std::string& path, const std::vector<double>& x, const std::vector<double>& y,
             const std::vector<std::string>& labels, const LineOptions& opt) {
  const std::string fn = "scatter " + path;
  format_of(path);
  if (x.size() != y.size() || x.size() != labels.size())
    throw ValueError(fn + ": " + std::to_string(x.size()) + " x, " + std::to_string(y.size()) + " y and " +
                     std::to_string(labels.size()) + " labels");
  if (x.empty()) throw ValueError(fn + ": no points to plot");
  for (size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i]) || !std::isfinite(y[i]))
      throw ValueError(fn + ": point " + std::to_string(i) + " ('" + labels[i] + "') is not finite");
  const auto [x0, x1] = std::minmax_element(x.begin(), x.end());
  const auto [y0, y1] = std::minmax_element(y.begin(), y.end());
  const double dx = (*x1 - *x0) * 0.08, dy = (*y1 - *y0) * 0.08;  // room for the labels
  const Titles t{opt.title, opt.x_label, opt.y_label, ""};
  const double side = 600;
  const XYFrame fr =
      make_frame(side, side, make_range(*x0 - dx, *x1 + dx, false, 6), make_range(*y0 - dy, *y1 + dy, false, 6), {}, t);
  Figure f(path, side, side);
  draw_frame(f, fr, t);
  std::vector<Box> taken;  // the dots, then each label as it is placed
  for (size_t i = 0; i < x.size(); ++i) {
    const double px = fr.px(x[i]), py = fr.py(y[i]);
    f.dot(px, py, 4, palette(0));
    taken.push_back({px - 4, py - 4, px + 4, py + 4});
  }
  for (size_t i = 0; i < x.size(); ++i) {
    const LabelSpot spot = place_label(fr.px(x[i]), fr.py(y[i]), text_size(labels[i], 12), fr, taken);
    f.text(spot.x, spot.y, labels[i], {.size = 12, .h = spot.h, .v = spot.v});
  }
  f.write();
}

}  // namespace qkv::viz
