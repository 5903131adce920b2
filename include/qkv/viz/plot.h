// qkv/viz/plot.h — heatmaps (attention weights, positional encodings) and line
// plots (loss curves) as PNG or SVG, drawn without any plotting library.
//
// PNG output is rasterised here with a built-in 5×7 bitmap font for ASCII
// titles, labels and ticks (other characters show as '?'); SVG output uses
// <rect>, <polyline> and <text>. Every file is written atomically.
//
//   Tensor pe = qkv::nn::SinusoidalPositionalEncoding(128).forward(64);   // (T, C)
//   qkv::viz::heatmap_png("pe.png", pe, {.title = "Positional encoding",
//                                         .x_label = "dimension", .y_label = "position"});
//   qkv::viz::line_plot_svg("loss.svg", {{"train", steps, train}, {"val", steps, val}},
//                           "loss", "step", "loss");
#pragma once
#include <string>
#include <vector>

#include "qkv/core/tensor.h"

namespace qkv::viz {

struct HeatmapOptions {
  std::string title, x_label, y_label;
  // One label per column / row (e.g. tokens for attention), or empty for
  // numeric index ticks at round intervals.
  std::vector<std::string> x_ticks, y_ticks;
  int cell_px = 0;       // pixels per cell (PNG) / user units (SVG); 0 = auto
  bool colorbar = true;  // a value scale to the right of the map
  // "auto": diverging blue–white–red centred on 0 when values have both
  // signs, else viridis-like; or force "viridis" / "diverging".
  std::string colormap = "auto";
};

// values is (R, C), any float-convertible dtype; row 0 is drawn at the top.
// ShapeError if not 2-D; ValueError for an empty tensor, tick lists of the
// wrong length or an unknown colormap; IOError if the file cannot be written.
void heatmap_png(const std::string& path, const Tensor& values, const HeatmapOptions& opt);
void heatmap_svg(const std::string& path, const Tensor& values, const HeatmapOptions& opt);

// One curve. Non-finite points are skipped (a NaN loss does not hide the rest).
struct Series {
  std::string name;
  std::vector<double> x, y;
};

// Line plots with axes, round-number ticks and a legend. ValueError when x
// and y differ in length or no series has a finite point.
void line_plot_svg(const std::string& path, const std::vector<Series>& series, const std::string& title,
                   const std::string& x_label, const std::string& y_label);
void line_plot_png(const std::string& path, const std::vector<Series>& series, const std::string& title,
                   const std::string& x_label, const std::string& y_label);


}  // namespace qkv::viz
