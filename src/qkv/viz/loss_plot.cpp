// Loss curves: each step's loss light, its EMA solid, evaluation markers,
// the learning rate dashed on the right axis (see plot.h).
#include <algorithm>
#include <cmath>

#include "qkv/core/error.h"
#include "qkv/viz/figure.h"
#include "qkv/viz/plot.h"
#include "qkv/viz/xy_frame.h"

namespace qkv::viz {

using namespace detail;

std::vector<double> smooth_ema(const std::vector<double>& y, double weight) {
  std::vector<double> out(y.size(), NAN);
  double acc = 0, norm = 0;  // norm = 1 − w^t over the finite values seen
  for (size_t i = 0; i < y.size(); ++i) {
    if (std::isfinite(y[i])) {
      acc = weight * acc + (1 - weight) * y[i];
      norm = weight * norm + (1 - weight);
    }
    if (norm > 0) out[i] = acc / norm;
  }
  return out;
}

namespace {
constexpr double kW = 900, kH = 520;

struct Bounds {
  double lo = INFINITY, hi = -INFINITY;
  void add(const std::vector<double>& v) {
    for (double x : v)
      if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  }
  bool empty() const { return lo > hi; }
};

// (x, y) points of the finite pairs, mapped by the frame.
template <class MapY>
std::vector<std::pair<double, double>> points(const XYFrame& fr, const std::vector<double>& x,
                                              const std::vector<double>& y, MapY&& map_y) {
  std::vector<std::pair<double, double>> out;
  for (size_t i = 0; i < std::min(x.size(), y.size()); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) out.emplace_back(fr.px(x[i]), map_y(y[i]));
  return out;
}
}  // namespace

void loss_plot(const std::string& path, const std::vector<LossCurve>& runs, const std::string& title,
               double smoothing) {
  const std::string fn = "loss_plot " + path;
  format_of(path);
  if (!(smoothing >= 0 && smoothing < 1)) throw ValueError(fn + ": smoothing must be in [0, 1)");
  Bounds xs, ys, lrs;
  for (const LossCurve& r : runs) {
    if (r.step.size() != r.loss.size() || (!r.lr.empty() && r.lr.size() != r.step.size()) ||
        r.eval_step.size() != r.eval_train.size() || r.eval_step.size() != r.eval_val.size())
      throw ValueError(fn + ": run '" + r.name + "' has curves of different lengths");
    xs.add(r.step), xs.add(r.eval_step);
    ys.add(r.loss), ys.add(r.eval_train), ys.add(r.eval_val);
    lrs.add(r.lr);
  }
  if (xs.empty() || ys.empty()) throw ValueError(fn + ": no run has a finite loss to plot");
  const bool has_lr = !lrs.empty();
  const Titles t{title, "step", "loss", has_lr ? "learning rate" : ""};
  std::optional<Range> lr_axis;
  if (has_lr) lr_axis = make_range(0, lrs.hi, true, 5);
  const XYFrame fr = make_frame(kW, kH, make_range(xs.lo, xs.hi, false, 8), make_range(ys.lo, ys.hi, true, 6),
                                lr_axis, t);
  Figure f(path, kW, kH);
  draw_frame(f, fr, t);
  std::vector<LegendEntry> legend;
  auto on_y = [&](double v) { return fr.py(v); };
  for (size_t k = 0; k < runs.size(); ++k) {
    const LossCurve& r = runs[k];
    const RGB col = palette(k);
    const std::string name = runs.size() > 1 ? r.name + " " : "";
    f.polyline(points(fr, r.step, r.loss, on_y), col, 1, 0.25);
    f.polyline(points(fr, r.step, smooth_ema(r.loss, smoothing), on_y), col, 2);
    for (const auto& [x, y] : points(fr, r.eval_step, r.eval_train, on_y)) f.dot(x, y, 3.5, col);
    for (const auto& [x, y] : points(fr, r.eval_step, r.eval_val, on_y)) {
      f.fill_rect(x - 3.5, y - 3.5, 7, 7, col);
      f.stroke_rect(x - 3.5, y - 3.5, 7, 7, kInk, 0.6);
    }
    if (has_lr && !r.lr.empty())
      f.polyline(points(fr, r.step, r.lr, [&](double v) { return fr.py2(v); }), col, 1.2, 0.8, true);
    if (!r.step.empty()) legend.push_back({name + "train loss (EMA)", col});
    if (!r.eval_step.empty()) {
      legend.push_back({name + "eval: train", col, LegendEntry::Mark::Dot});
      legend.push_back({name + "eval: val", col, LegendEntry::Mark::Square});
    }
    if (!r.lr.empty()) legend.push_back({name + "learning rate", col, LegendEntry::Mark::Dashed});
  }
  draw_legend(f, fr, legend);
  f.write();
}

}  // namespace qkv::viz
