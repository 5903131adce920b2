// The frame of x–y charts (see xy_frame.h).
#include "qkv/viz/xy_frame.h"

#include <algorithm>
#include <cmath>

namespace qkv::viz::detail {

namespace {
constexpr double kPad = 10, kFont = 10, kLabelFont = 12, kTitleFont = 16, kTick = 4;

std::vector<std::string> labels(const Range& r) {
  std::vector<std::string> out;
  for (double t : r.ticks) out.push_back(format_tick(t, r.step));
  return out;
}
double widest(const std::vector<std::string>& s) {
  double w = 0;
  for (const std::string& x : s) w = std::max(w, text_size(x, kFont).first);
  return w;
}
}  // namespace

Range make_range(double lo, double hi, bool pad, int target) {
  if (hi <= lo) {
    const double d = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= d, hi += d;
  } else if (pad) {
    const double d = (hi - lo) * 0.05;
    lo -= d, hi += d;
  }
  Range r{lo, hi, nice_ticks(lo, hi, target), 1};
  r.step = r.ticks.size() > 1 ? r.ticks[1] - r.ticks[0] : (hi - lo);
  return r;
}

XYFrame make_frame(double width, double height, const Range& x, const Range& y, const std::optional<Range>& y2,
                   const Titles& t) {
  XYFrame fr;
  fr.width = width, fr.height = height, fr.x = x, fr.y = y, fr.y2 = y2;
  const double line = text_size("Ag", kLabelFont).second, small = text_size("Ag", kFont).second;
  fr.top = kPad + (t.title.empty() ? 0 : text_size(t.title, kTitleFont, true).second + kPad) + 4;
  fr.left = kPad + (t.y_label.empty() ? 0 : line + 6) + widest(labels(y)) + kTick + 4;
  fr.right = width - kPad - 10;
  if (y2) fr.right = width - kPad - (t.y2_label.empty() ? 0 : line + 6) - widest(labels(*y2)) - kTick - 4;
  fr.bottom = height - kPad - (t.x_label.empty() ? 0 : line + 4) - small - kTick - 4;
  return fr;
}

void draw_frame(Figure& f, const XYFrame& fr, const Titles& t) {
  const auto xl = labels(fr.x), yl = labels(fr.y);
  for (size_t k = 0; k < fr.x.ticks.size(); ++k) {
    const double x = fr.px(fr.x.ticks[k]);
    f.line(x, fr.top, x, fr.bottom, kGrid);
    f.line(x, fr.bottom, x, fr.bottom + kTick, kInk);
    f.text(x, fr.bottom + kTick + 2, xl[k], {.size = kFont, .h = Align::Middle, .v = Align::Start});
  }
  for (size_t k = 0; k < fr.y.ticks.size(); ++k) {
    const double y = fr.py(fr.y.ticks[k]);
    f.line(fr.left, y, fr.right, y, kGrid);
    f.line(fr.left - kTick, y, fr.left, y, kInk);
    f.text(fr.left - kTick - 3, y, yl[k], {.size = kFont, .h = Align::End});
  }
  if (fr.y2) {
    const auto y2l = labels(*fr.y2);
    for (size_t k = 0; k < fr.y2->ticks.size(); ++k) {
      const double y = fr.py2(fr.y2->ticks[k]);
      f.line(fr.right, y, fr.right + kTick, y, kInk);
      f.text(fr.right + kTick + 3, y, y2l[k], {.size = kFont});
    }
  }
  f.stroke_rect(fr.left, fr.top, fr.right - fr.left, fr.bottom - fr.top, kInk, 0.8);
  const double mid_y = (fr.top + fr.bottom) / 2;
  if (!t.title.empty())
    f.text(fr.width / 2, kPad, t.title, {.size = kTitleFont, .h = Align::Middle, .v = Align::Start, .bold = true});
  if (!t.x_label.empty())
    f.text((fr.left + fr.right) / 2, fr.height - kPad, t.x_label, {.size = kLabelFont, .h = Align::Middle, .v = Align::End});
  if (!t.y_label.empty())
    f.text(kPad, mid_y, t.y_label, {.size = kLabelFont, .h = Align::Middle, .v = Align::Start, .up = true});
  if (fr.y2 && !t.y2_label.empty())
    f.text(fr.width - kPad, mid_y, t.y2_label, {.size = kLabelFont, .h = Align::Middle, .v = Align::End, .up = true});
}

void draw_legend(Figure& f, const XYFrame& fr, const std::vector<LegendEntry>& entries) {
  if (entries.empty()) return;
  double w = 0;
  for (const LegendEntry& e : entries) w = std::max(w, text_size(e.name, kFont).first);
  const double row = text_size("Ag", kFont).second + 2;
  const double bw = w + 40, bh = entries.size() * row + 8, bx = fr.right - bw - 6, by = fr.top + 6;
  f.fill_rect(bx, by, bw, bh, kWhite, 0.9);
  f.stroke_rect(bx, by, bw, bh, {180, 180, 180}, 0.8);
  for (size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& e = entries[i];
    const double y = by + 4 + row * (i + 0.5);
    using M = LegendEntry::Mark;
    if (e.mark == M::Dot) f.dot(bx + 15, y, 3, e.color);
    else if (e.mark == M::Square) f.fill_rect(bx + 12, y - 3, 6, 6, e.color);
    else f.polyline({{bx + 6, y}, {bx + 24, y}}, e.color, 2, 1, e.mark == M::Dashed);
    f.text(bx + 30, y, e.name, {.size = kFont});
  }
}

}  // namespace qkv::viz::detail
