// Internal to viz/: the value → colour scale of heatmaps and its colour bar,
// shared by heatmap() and heatmap_grid() (one scale across a whole grid, so
// two heads' maps compare by colour).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "qkv/viz/figure.h"

namespace qkv::viz::detail {

struct ColorScale {
  double lo = 0, hi = 1;
  bool diverging = false;
  std::vector<std::pair<double, std::string>> labels;  // (t in [0, 1], text) for the bar
  RGB operator()(double v) const;                      // NaN → grey
};

// colormap: "auto" (diverging centred on 0 when values have both signs, else
// viridis), "viridis" or "diverging". `fn` names the caller in errors.
ColorScale make_scale(const std::vector<float>& values, const std::string& colormap, const char* fn);

// Width of the bar with its labels, and the bar itself drawn at (x, top).
double colorbar_width(const ColorScale& s);
void draw_colorbar(Figure& f, const ColorScale& s, double x, double top, double height);

// Rows R × columns C of values (row-major) as one image at (x, y), cw × ch per cell.
void draw_cells(Figure& f, const ColorScale& s, const float* v, int64_t R, int64_t C, double x, double y, double cw,
                double ch);

}  // namespace qkv::viz::detail
