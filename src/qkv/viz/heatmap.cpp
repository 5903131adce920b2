// Heatmaps: one layout computed once, rendered to a raster (PNG) or to SVG.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string_view>

#include "qkv/core/error.h"
#include "qkv/io/file.h"
#include "qkv/viz/plot.h"
#include "qkv/viz/png.h"
#include "qkv/viz/canvas.h"

namespace qkv::viz {

using detail::Canvas;
using detail::RGB;
using detail::text_width;

namespace {

constexpr RGB kInk{40, 40, 40}, kNaN{160, 160, 160};
constexpr int kPad = 10, kTick = 3, kFontH = detail::kGlyphH, kTitleScale = 2;

struct Tick {
  int pos;  // pixel centre along the axis, relative to the map's origin
  std::string label;
};

struct Layout {
  int64_t R = 0, C = 0;
  std::vector<float> v;
  double lo = 0, hi = 1;
  bool div = false;
  int cw = 1, ch = 1;
  int left = 0, top = 0, width = 0, height = 0;
  std::vector<Tick> xt, yt;
  bool x_vertical = false;
  int xt_h = 0, yt_w = 0;
  int bar_x = 0, bar_lbl_w = 0;
  std::vector<std::pair<double, std::string>> bar_labels;  // (t in [0,1], text)

  RGB color(double x) const {
    if (!std::isfinite(x)) return kNaN;
    double t = hi > lo ? (x - lo) / (hi - lo) : 0.5;
    return div ? detail::diverging(t) : detail::viridis(t);
  }
};

// Ticks along an axis of n cells of `cell` px: the given labels (thinned so
// neighbours do not collide, `min_gap` px apart) or round index numbers.
std::vector<Tick> make_ticks(int64_t n, int cell, const std::vector<std::string>& labels, int min_gap) {
  std::vector<Tick> out;
  if (!labels.empty()) {
    int64_t every = std::max<int64_t>(1, (min_gap + cell - 1) / cell);
    for (int64_t i = 0; i < n; i += every) out.push_back({static_cast<int>(i * cell + cell / 2), labels[i]});
    return out;
  }
  int target = std::max(2, static_cast<int>(n * cell / 60));
  auto ticks = detail::nice_ticks(0, static_cast<double>(n - 1), target);
  double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  if (step < 1) ticks = detail::nice_ticks(0, static_cast<double>(n - 1), static_cast<int>(n - 1));
  for (double t : ticks) {
    if (t != std::floor(t) || t < 0 || t > n - 1) continue;
    int64_t i = static_cast<int64_t>(t);
    out.push_back({static_cast<int>(i * cell + cell / 2), std::to_string(i)});
  }
  return out;
}

std::string fmt3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

Layout make_layout(const Tensor& values, const HeatmapOptions& opt, const char* fn) {
  if (!values.defined()) throw ValueError(std::string(fn) + ": undefined tensor");
  if (values.dim() != 2)
    throw ShapeError(std::string(fn) + ": values must be 2-D (R, C), got " + values.str());
  Layout L;
  L.R = values.size(0);
  L.C = values.size(1);
  if (L.R == 0 || L.C == 0) throw ValueError(std::string(fn) + ": values " + values.str() + " are empty");
  if (!opt.x_ticks.empty() && static_cast<int64_t>(opt.x_ticks.size()) != L.C)
    throw ValueError(std::string(fn) + ": " + std::to_string(opt.x_ticks.size()) + " x_ticks for " +
                     std::to_string(L.C) + " columns");
  if (!opt.y_ticks.empty() && static_cast<int64_t>(opt.y_ticks.size()) != L.R)
    throw ValueError(std::string(fn) + ": " + std::to_string(opt.y_ticks.size()) + " y_ticks for " +
                     std::to_string(L.R) + " rows");
  if (opt.colormap != "auto" && opt.colormap != "viridis" && opt.colormap != "diverging")
    throw ValueError(std::string(fn) + ": unknown colormap '" + opt.colormap + "' (auto, viridis, diverging)");
  if (opt.cell_px < 0 || opt.cell_px > 200)
    throw ValueError(std::string(fn) + ": cell_px " + std::to_string(opt.cell_px) + " must be in 0..200");
  if (L.R > 8192 || L.C > 8192)
    throw ValueError(std::string(fn) + ": values " + values.str() + " exceed 8192 rows/columns");
  L.v = values.to_vector();

  double mn = INFINITY, mx = -INFINITY;
  for (float x : L.v)
    if (std::isfinite(x)) mn = std::min<double>(mn, x), mx = std::max<double>(mx, x);
  if (mn > mx) mn = mx = 0;  // all NaN
  L.div = opt.colormap == "diverging" || (opt.colormap == "auto" && mn < 0 && mx > 0);
  if (L.div) {
    double m = std::max(std::fabs(mn), std::fabs(mx));
    L.lo = -m, L.hi = m;
    L.bar_labels = {{1, fmt3(m)}, {0.5, "0"}, {0, fmt3(-m)}};
  } else {
    L.lo = mn, L.hi = mx;
    L.bar_labels = {{1, fmt3(mx)}, {0.5, fmt3((mn + mx) / 2)}, {0, fmt3(mn)}};
  }

  // Cell size: square cells fitting ~800×600, each axis stretched to >= 300 px.
  if (opt.cell_px > 0) {
    L.cw = L.ch = opt.cell_px;
  } else {
    int s = static_cast<int>(std::clamp<int64_t>(std::min(800 / L.C, 600 / L.R), 1, 40));
    L.cw = L.ch = s;
    if (L.C * L.cw < 300) L.cw = static_cast<int>(std::min<int64_t>(40, (300 + L.C - 1) / L.C));
    if (L.R * L.ch < 300) L.ch = static_cast<int>(std::min<int64_t>(40, (300 + L.R - 1) / L.R));
  }
  const int map_w = static_cast<int>(L.C * L.cw), map_h = static_cast<int>(L.R * L.ch);

  L.yt = make_ticks(L.R, L.ch, opt.y_ticks, kFontH + 2);
  for (const Tick& t : L.yt) L.yt_w = std::max(L.yt_w, text_width(t.label));
  int max_xw = 0;
  for (const Tick& t : make_ticks(L.C, L.cw, opt.x_ticks, 1)) max_xw = std::max(max_xw, text_width(t.label));
  // Horizontal x labels if they fit between ticks, else vertical (token labels).
  L.xt = make_ticks(L.C, L.cw, opt.x_ticks, max_xw + 4);
  if (!opt.x_ticks.empty() && L.xt.size() < static_cast<size_t>(L.C) && L.cw < max_xw + 4) {
    L.x_vertical = true;
    L.xt = make_ticks(L.C, L.cw, opt.x_ticks, kFontH + 2);
  }
  L.xt_h = L.x_vertical ? max_xw : kFontH;

  L.top = kPad + (opt.title.empty() ? 0 : kFontH * kTitleScale + kPad);
  L.left = kPad + (opt.y_label.empty() ? 0 : kFontH + 8) + L.yt_w + kTick + 3;
  int right = L.left + map_w;
  if (opt.colorbar) {
    L.bar_x = right + 12;
    for (auto& [t, s] : L.bar_labels) L.bar_lbl_w = std::max(L.bar_lbl_w, text_width(s));
    right = L.bar_x + 14 + kTick + 3 + L.bar_lbl_w;
  }
  L.width = std::max(right + kPad, text_width(opt.title, kTitleScale) + 2 * kPad);
  L.width = std::max(L.width, L.left + text_width(opt.x_label) + kPad);
  L.height = L.top + map_h + kTick + 3 + L.xt_h + (opt.x_label.empty() ? 0 : 8 + kFontH) + kPad;
  L.height = std::max(L.height, L.top + text_width(opt.y_label) + kPad);
  return L;
}

}  // namespace

void heatmap_png(const std::string& path, const Tensor& values, const HeatmapOptions& opt) {
  Layout L = make_layout(values, opt, "heatmap_png");
  Canvas c(L.width, L.height);
  const int map_w = static_cast<int>(L.C * L.cw), map_h = static_cast<int>(L.R * L.ch);
  for (int64_t i = 0; i < L.R; ++i)
    for (int64_t j = 0; j < L.C; ++j)
      c.fill_rect(L.left + static_cast<int>(j * L.cw), L.top + static_cast<int>(i * L.ch), L.cw, L.ch,
                  L.color(L.v[i * L.C + j]));
  c.rect_outline(L.left - 1, L.top - 1, map_w + 2, map_h + 2, kInk);
  if (!opt.title.empty())
    c.text((L.width - text_width(opt.title, kTitleScale)) / 2, kPad, opt.title, kInk, kTitleScale);
  for (const Tick& t : L.yt) {
    int y = L.top + t.pos;
    c.fill_rect(L.left - 1 - kTick, y, kTick, 1, kInk);
    c.text(L.left - 1 - kTick - 3 - text_width(t.label), y - kFontH / 2, t.label, kInk);
  }
  const int xb = L.top + map_h + 1;
  for (const Tick& t : L.xt) {
    int x = L.left + t.pos;
    c.fill_rect(x, xb, 1, kTick, kInk);
    if (L.x_vertical) c.text_up(x - kFontH / 2, xb + kTick + 3 + text_width(t.label), t.label, kInk);
    else c.text(x - text_width(t.label) / 2, xb + kTick + 3, t.label, kInk);
  }
  if (!opt.x_label.empty())
    c.text(L.left + (map_w - text_width(opt.x_label)) / 2, xb + kTick + 3 + L.xt_h + 8, opt.x_label, kInk);
  if (!opt.y_label.empty())
    c.text_up(kPad, L.top + (map_h + text_width(opt.y_label)) / 2, opt.y_label, kInk);
  if (opt.colorbar) {
    for (int y = 0; y < map_h; ++y) {
      double t = map_h > 1 ? 1.0 - static_cast<double>(y) / (map_h - 1) : 0.5;
      c.fill_rect(L.bar_x, L.top + y, 14, 1, L.color(L.lo + t * (L.hi - L.lo)));
    }
    c.rect_outline(L.bar_x - 1, L.top - 1, 16, map_h + 2, kInk);
    for (auto& [t, s] : L.bar_labels) {
      int y = L.top + static_cast<int>(std::lround((1 - t) * (map_h - 1)));
      c.fill_rect(L.bar_x + 15, y, kTick, 1, kInk);
      c.text(L.bar_x + 15 + kTick + 3, std::clamp(y - kFontH / 2, 0, L.height - kFontH), s, kInk);
    }
  }
  write_png(path, c.width(), c.height(), c.pixels());
}

void heatmap_svg(const std::string& path, const Tensor& values, const HeatmapOptions& opt) {
  Layout L = make_layout(values, opt, "heatmap_svg");
  using detail::svg_escape;
  const int map_w = static_cast<int>(L.C * L.cw), map_h = static_cast<int>(L.R * L.ch);
  std::ostringstream s;
  auto hex = [](RGB c) {
    char b[8];
    std::snprintf(b, sizeof b, "#%02x%02x%02x", c.r, c.g, c.b);
    return std::string(b);
  };
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << L.width << "\" height=\"" << L.height
    << "\" viewBox=\"0 0 " << L.width << " " << L.height << "\" font-family=\"monospace\" font-size=\"9\">\n";
  s << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (!opt.title.empty())
    s << "<text x=\"" << L.width / 2 << "\" y=\"" << kPad + 12 << "\" text-anchor=\"middle\" font-size=\"16\">"
      << svg_escape(opt.title) << "</text>\n";
  s << "<g shape-rendering=\"crispEdges\">\n";
  for (int64_t i = 0; i < L.R; ++i)
    for (int64_t j = 0; j < L.C; ++j) {
      float x = L.v[i * L.C + j];
      s << "<rect x=\"" << L.left + j * L.cw << "\" y=\"" << L.top + i * L.ch << "\" width=\"" << L.cw
        << "\" height=\"" << L.ch << "\" fill=\"" << hex(L.color(x)) << "\"><title>[" << i << "," << j
        << "] " << x << "</title></rect>\n";
    }
  s << "</g>\n<rect x=\"" << L.left - 0.5 << "\" y=\"" << L.top - 0.5 << "\" width=\"" << map_w + 1 << "\" height=\""
    << map_h + 1 << "\" fill=\"none\" stroke=\"#282828\"/>\n";
  for (const Tick& t : L.yt)
    s << "<text x=\"" << L.left - kTick - 3 << "\" y=\"" << L.top + t.pos + 3 << "\" text-anchor=\"end\">"
      << svg_escape(t.label) << "</text>\n";
  const int xb = L.top + map_h + 1;
  for (const Tick& t : L.xt) {
    int x = L.left + t.pos;
    if (L.x_vertical)
      s << "<text transform=\"translate(" << x + 3 << "," << xb + kTick + 3 << ") rotate(-90)\" text-anchor=\"end\">"
        << svg_escape(t.label) << "</text>\n";
    else
      s << "<text x=\"" << x << "\" y=\"" << xb + kTick + 3 + kFontH << "\" text-anchor=\"middle\">"
        << svg_escape(t.label) << "</text>\n";
  }
  if (!opt.x_label.empty())
    s << "<text x=\"" << L.left + map_w / 2 << "\" y=\"" << xb + kTick + 3 + L.xt_h + 8 + kFontH
      << "\" text-anchor=\"middle\" font-size=\"11\">" << svg_escape(opt.x_label) << "</text>\n";
  if (!opt.y_label.empty())
    s << "<text transform=\"translate(" << kPad + kFontH << "," << L.top + map_h / 2
      << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"11\">" << svg_escape(opt.y_label) << "</text>\n";
  if (opt.colorbar) {
    s << "<defs><linearGradient id=\"cbar\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
    for (int k = 0; k <= 8; ++k)
      s << "<stop offset=\"" << k / 8.0 << "\" stop-color=\"" << hex(L.color(L.lo + k / 8.0 * (L.hi - L.lo)))
        << "\"/>";
    s << "</linearGradient></defs>\n<rect x=\"" << L.bar_x << "\" y=\"" << L.top << "\" width=\"14\" height=\""
      << map_h << "\" fill=\"url(#cbar)\" stroke=\"#282828\"/>\n";
    for (auto& [t, lbl] : L.bar_labels)
      s << "<text x=\"" << L.bar_x + 15 + kTick + 3 << "\" y=\"" << L.top + (1 - t) * map_h + 3 << "\">"
        << svg_escape(lbl) << "</text>\n";
  }
  s << "</svg>\n";
  io::write_file_atomic(path, s.str());
}

}  // namespace qkv::viz
