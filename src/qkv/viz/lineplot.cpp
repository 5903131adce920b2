// Line plots (loss curves): shared layout, rendered to a raster (PNG) or SVG.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "qkv/core/error.h"
#include "qkv/io/file.h"
#include "qkv/viz/canvas.h"
#include "qkv/viz/plot.h"
#include "qkv/viz/png.h"

namespace qkv::viz {

using detail::RGB;
using detail::text_width;

namespace {

constexpr RGB kInk{40, 40, 40}, kGrid{225, 225, 225};
constexpr RGB kPalette[] = {{31, 119, 180}, {255, 127, 14},  {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
                            {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
constexpr int kW = 800, kH = 500, kPad = 10, kFontH = detail::kGlyphH;

struct Axis {
  double lo, hi;
  std::vector<double> ticks;
  double step;
};

struct Layout {
  Axis x, y;
  int left, top, right, bottom;  // plot area in pixels
  std::vector<std::string> xl, yl;
  double px(double v) const { return left + (v - x.lo) / (x.hi - x.lo) * (right - left); }
  double py(double v) const { return bottom - (v - y.lo) / (y.hi - y.lo) * (bottom - top); }
};

Axis make_axis(double lo, double hi, bool pad, int target) {
  if (hi <= lo) {
    double d = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= d, hi += d;
  } else if (pad) {
    double d = (hi - lo) * 0.05;
    lo -= d, hi += d;
  }
  Axis a{lo, hi, detail::nice_ticks(lo, hi, target), 1};
  a.step = a.ticks.size() > 1 ? a.ticks[1] - a.ticks[0] : (hi - lo);
  return a;
}

Layout make_layout(const std::vector<Series>& series, const std::string& title, const std::string& x_label,
                   const std::string& y_label, const char* fn) {
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (const Series& s : series) {
    if (s.x.size() != s.y.size())
      throw ValueError(std::string(fn) + ": series '" + s.name + "' has " + std::to_string(s.x.size()) +
                       " x values and " + std::to_string(s.y.size()) + " y values");
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      xmin = std::min(xmin, s.x[i]), xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, s.y[i]), ymax = std::max(ymax, s.y[i]);
    }
  }
  if (xmin > xmax) throw ValueError(std::string(fn) + ": no series has a finite point to plot");
  Layout L;
  L.x = make_axis(xmin, xmax, false, 8);
  L.y = make_axis(ymin, ymax, true, 6);
  int ytw = 0;
  for (double t : L.y.ticks) {
    L.yl.push_back(detail::format_tick(t, L.y.step));
    ytw = std::max(ytw, text_width(L.yl.back()));
  }
  for (double t : L.x.ticks) L.xl.push_back(detail::format_tick(t, L.x.step));
  L.top = kPad + (title.empty() ? 0 : 2 * kFontH + kPad) + 4;
  L.left = kPad + (y_label.empty() ? 0 : kFontH + 8) + ytw + 6;
  L.right = kW - kPad - 10;
  L.bottom = kH - kPad - (x_label.empty() ? 0 : kFontH + 8) - kFontH - 6;
  return L;
}

// Consecutive finite points of a series, split where a point is not finite.
template <class F> void each_run(const Series& s, F&& f) {
  std::vector<std::pair<double, double>> run;
  for (size_t i = 0; i <= s.x.size(); ++i) {
    bool ok = i < s.x.size() && std::isfinite(s.x[i]) && std::isfinite(s.y[i]);
    if (ok) run.emplace_back(s.x[i], s.y[i]);
    if (!ok && !run.empty()) {
      f(run);
      run.clear();
    }
  }
}

}  // namespace

void line_plot_png(const std::string& path, const std::vector<Series>& series, const std::string& title,
                   const std::string& x_label, const std::string& y_label) {
  Layout L = make_layout(series, title, x_label, y_label, "line_plot_png");
  detail::Canvas c(kW, kH);
  for (size_t k = 0; k < L.x.ticks.size(); ++k) {
    int x = static_cast<int>(std::lround(L.px(L.x.ticks[k])));
    c.fill_rect(x, L.top, 1, L.bottom - L.top, kGrid);
    c.fill_rect(x, L.bottom, 1, 4, kInk);
    c.text(x - text_width(L.xl[k]) / 2, L.bottom + 6, L.xl[k], kInk);
  }
  for (size_t k = 0; k < L.y.ticks.size(); ++k) {
    int y = static_cast<int>(std::lround(L.py(L.y.ticks[k])));
    c.fill_rect(L.left, y, L.right - L.left, 1, kGrid);
    c.fill_rect(L.left - 4, y, 4, 1, kInk);
    c.text(L.left - 6 - text_width(L.yl[k]), y - kFontH / 2, L.yl[k], kInk);
  }
  c.rect_outline(L.left, L.top, L.right - L.left + 1, L.bottom - L.top + 1, kInk);
  for (size_t si = 0; si < series.size(); ++si) {
    RGB col = kPalette[si % 10];
    each_run(series[si], [&](const auto& run) {
      if (run.size() == 1) {
        c.fill_rect(static_cast<int>(L.px(run[0].first)) - 2, static_cast<int>(L.py(run[0].second)) - 2, 5, 5, col);
        return;
      }
      for (size_t i = 1; i < run.size(); ++i)
        c.line(static_cast<int>(std::lround(L.px(run[i - 1].first))),
               static_cast<int>(std::lround(L.py(run[i - 1].second))),
               static_cast<int>(std::lround(L.px(run[i].first))), static_cast<int>(std::lround(L.py(run[i].second))),
               col, 2);
    });
  }
  // Legend, top right inside the plot area.
  int lw = 0;
  for (const Series& s : series) lw = std::max(lw, text_width(s.name));
  if (lw > 0) {
    int bw = lw + 34, bh = static_cast<int>(series.size()) * 12 + 6, bx = L.right - bw - 6, by = L.top + 6;
    c.fill_rect(bx, by, bw, bh, {255, 255, 255});
    c.rect_outline(bx, by, bw, bh, {180, 180, 180});
    for (size_t si = 0; si < series.size(); ++si) {
      int y = by + 6 + static_cast<int>(si) * 12;
      c.fill_rect(bx + 6, y + 2, 16, 3, kPalette[si % 10]);
      c.text(bx + 28, y, series[si].name, kInk);
    }
  }
  if (!title.empty()) c.text((kW - text_width(title, 2)) / 2, kPad, title, kInk, 2);
  if (!x_label.empty()) c.text((L.left + L.right - text_width(x_label)) / 2, kH - kPad - kFontH, x_label, kInk);
  if (!y_label.empty()) c.text_up(kPad, (L.top + L.bottom + text_width(y_label)) / 2, y_label, kInk);
  write_png(path, kW, kH, c.pixels());
}

void line_plot_svg(const std::string& path, const std::vector<Series>& series, const std::string& title,
                   const std::string& x_label, const std::string& y_label) {
  Layout L = make_layout(series, title, x_label, y_label, "line_plot_svg");
  using detail::svg_escape;
  auto hex = [](RGB c) {
    char b[8];
    std::snprintf(b, sizeof b, "#%02x%02x%02x", c.r, c.g, c.b);
    return std::string(b);
  };
  std::ostringstream s;
  s.precision(6);
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kW << "\" height=\"" << kH << "\" viewBox=\"0 0 "
    << kW << " " << kH << "\" font-family=\"monospace\" font-size=\"10\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (size_t k = 0; k < L.x.ticks.size(); ++k) {
    double x = L.px(L.x.ticks[k]);
    s << "<line x1=\"" << x << "\" y1=\"" << L.top << "\" x2=\"" << x << "\" y2=\"" << L.bottom + 4
      << "\" stroke=\"" << hex(kGrid) << "\"/><text x=\"" << x << "\" y=\"" << L.bottom + 6 + kFontH + 2
      << "\" text-anchor=\"middle\">" << L.xl[k] << "</text>\n";
  }
  for (size_t k = 0; k < L.y.ticks.size(); ++k) {
    double y = L.py(L.y.ticks[k]);
    s << "<line x1=\"" << L.left - 4 << "\" y1=\"" << y << "\" x2=\"" << L.right << "\" y2=\"" << y
      << "\" stroke=\"" << hex(kGrid) << "\"/><text x=\"" << L.left - 6 << "\" y=\"" << y + 3
      << "\" text-anchor=\"end\">" << L.yl[k] << "</text>\n";
  }
  s << "<rect x=\"" << L.left << "\" y=\"" << L.top << "\" width=\"" << L.right - L.left << "\" height=\""
    << L.bottom - L.top << "\" fill=\"none\" stroke=\"#282828\"/>\n";
  for (size_t si = 0; si < series.size(); ++si) {
    std::string col = hex(kPalette[si % 10]);
    each_run(series[si], [&](const auto& run) {
      if (run.size() == 1) {
        s << "<circle cx=\"" << L.px(run[0].first) << "\" cy=\"" << L.py(run[0].second) << "\" r=\"2.5\" fill=\""
          << col << "\"/>\n";
        return;
      }
      s << "<polyline fill=\"none\" stroke=\"" << col << "\" stroke-width=\"1.5\" points=\"";
      for (const auto& [x, y] : run) s << L.px(x) << "," << L.py(y) << " ";
      s << "\"><title>" << svg_escape(series[si].name) << "</title></polyline>\n";
    });
  }
  int lw = 0;
  for (const Series& se : series) lw = std::max(lw, text_width(se.name));
  if (lw > 0) {
    int bw = lw + 40, bh = static_cast<int>(series.size()) * 14 + 6, bx = L.right - bw - 6, by = L.top + 6;
    s << "<rect x=\"" << bx << "\" y=\"" << by << "\" width=\"" << bw << "\" height=\"" << bh
      << "\" fill=\"white\" stroke=\"#b4b4b4\"/>\n";
    for (size_t si = 0; si < series.size(); ++si) {
      int y = by + 10 + static_cast<int>(si) * 14;
      s << "<line x1=\"" << bx + 6 << "\" y1=\"" << y << "\" x2=\"" << bx + 24 << "\" y2=\"" << y << "\" stroke=\""
        << hex(kPalette[si % 10]) << "\" stroke-width=\"2\"/><text x=\"" << bx + 30 << "\" y=\"" << y + 3 << "\">"
        << svg_escape(series[si].name) << "</text>\n";
    }
  }
  if (!title.empty())
    s << "<text x=\"" << kW / 2 << "\" y=\"" << kPad + 13 << "\" text-anchor=\"middle\" font-size=\"16\">"
      << svg_escape(title) << "</text>\n";
  if (!x_label.empty())
    s << "<text x=\"" << (L.left + L.right) / 2 << "\" y=\"" << kH - kPad << "\" text-anchor=\"middle\" font-size=\"11\">"
      << svg_escape(x_label) << "</text>\n";
  if (!y_label.empty())
    s << "<text transform=\"translate(" << kPad + 8 << "," << (L.top + L.bottom) / 2
      << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"11\">" << svg_escape(y_label) << "</text>\n";
  s << "</svg>\n";
  io::write_file_atomic(path, s.str());
}

}  // namespace qkv::viz
