// qkv/viz/plot.h — the pictures qkv draws: heatmaps (attention, positional
// encodings), grids of heatmaps (every layer × head), line plots, loss curves,
// bar charts (next-token probabilities) and labelled scatters (embeddings).
//
// Every function writes one file whose format is its extension — .png, .svg
// or .pdf, from the same drawing code (Cairo, with text set by Pango through
// fontconfig, so any script renders: "␣But", "é", "東京", "한국어"). SVG files
// also carry their labels as invisible <text> elements (a searchable text
// layer: Cairo draws glyphs as paths). Every file is written atomically: on any
// error — a bad extension, a missing folder, bad values — nothing is written.
//
//   Tensor pe = qkv::nn::SinusoidalPositionalEncoding(128).forward(64);   // (T, C)
//   qkv::viz::heatmap("pe.png", pe, {.title = "Positional encoding",
//                                    .x_label = "dimension", .y_label = "position"});
//   qkv::viz::line_plot("len.svg", {{"rope", x, ppl}}, {.title = "perplexity", .x_label = "log2 T"});
#pragma once
#include <string>
#include <vector>

#include "qkv/core/tensor.h"

namespace qkv::viz {

enum class Format { Png, Svg, Pdf };

// The format of `path` by its extension (case-insensitive). ValueError naming
// the path and the extension otherwise.
Format format_of(const std::string& path);
// format_of, plus: the folder `path` goes in exists (IOError "cannot write
// PATH: no such folder DIR"). Commands call it before any slow work.
void check_output(const std::string& path);

struct HeatmapOptions {
  std::string title, x_label, y_label;
  // One label per column / row (e.g. tokens for attention), or empty for
  // numeric index ticks at round intervals.
  std::vector<std::string> x_ticks, y_ticks;
  int cell_px = 0;       // px per cell; 0 = auto
  bool colorbar = true;  // a value scale to the right of the map
  // "auto": diverging blue–white–red centred on 0 when values have both
  // signs, else viridis; or force "viridis" / "diverging".
  std::string colormap = "auto";
};

// values is (R, C), any float-convertible dtype; row 0 is drawn at the top.
// ShapeError if not 2-D; ValueError for an empty tensor, tick lists of the
// wrong length or an unknown colormap; IOError if the file cannot be written.
void heatmap(const std::string& path, const Tensor& values, const HeatmapOptions& opt);

// A grid of small heatmaps sharing one colour scale: values (R, C, T, S), cell
// (r, c) is the (T, S) map values[r][c] — attention of every layer (rows) ×
// head (columns). x_ticks/y_ticks label every map's columns/rows (tokens);
// row_names/col_names (R / C entries, or empty for "0", "1", …) head the grid.
struct GridOptions {
  std::string title, x_label, y_label;
  std::vector<std::string> x_ticks, y_ticks, row_names, col_names;
};
void heatmap_grid(const std::string& path, const Tensor& values, const GridOptions& opt);

// One curve. Non-finite points are skipped (a NaN loss does not hide the rest).
struct Series {
  std::string name;
  std::vector<double> x, y;
};

struct LineOptions {
  std::string title, x_label, y_label;
};

// Line plots with axes, round-number ticks and a legend. ValueError when x
// and y differ in length or no series has a finite point.
void line_plot(const std::string& path, const std::vector<Series>& series, const LineOptions& opt);

// One training run's curves: every step's training loss and learning rate,
// and the evaluations (train and val loss at eval steps).
struct LossCurve {
  std::string name;                  // the legend's run name
  std::vector<double> step, loss, lr;  // per step (lr may be empty)
  std::vector<double> eval_step, eval_train, eval_val;
};

// Loss curves of one or more runs: each step's loss drawn light, its EMA
// (smooth_ema with `smoothing`) solid, evaluation points as markers (train ●,
// val ■), the learning rate dashed on a second axis at the right. ValueError
// when no run has a finite point or smoothing is outside [0, 1).
void loss_plot(const std::string& path, const std::vector<LossCurve>& runs, const std::string& title,
               double smoothing = 0.9);

// Exponential moving average with start-up bias correction (as TensorBoard's
// smoothing): s_t = w·s_{t−1} + (1−w)·y_t, divided by 1 − w^t. Non-finite
// inputs are skipped (their output is the previous value, NaN before any).
std::vector<double> smooth_ema(const std::vector<double>& y, double weight);

// Horizontal bars, one per label, top to bottom — the next-token
// distribution. ValueError for mismatched sizes, no bars, or a non-finite
// or negative value.
struct BarOptions {
  std::string title, x_label;
  int highlight = -1;  // index of a bar drawn in the accent colour (the chosen token), or -1
};
void bar_chart(const std::string& path, const std::vector<std::string>& labels, const std::vector<double>& values,
               const BarOptions& opt);

// Labelled points (embeddings after PCA); a label that would cross the
// frame's right edge sits left of its point. ValueError for mismatched sizes, no
// points, or a non-finite coordinate.
void scatter(const std::string& path, const std::vector<double>& x, const std::vector<double>& y,
             const std::vector<std::string>& labels, const LineOptions& opt);

}  // namespace qkv::viz
