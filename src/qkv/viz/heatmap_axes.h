// Internal to viz/: the token/index ticks around a heatmap, shared by
// heatmap() and heatmap_grid().
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "qkv/viz/figure.h"

namespace qkv::viz::detail {

struct Tick {
  double pos;  // centre along the axis, from the map's edge
  std::string label;
};

// Ticks along an axis of n cells of `cell` px: the given labels (thinned so
// neighbours stay `min_gap` apart) or round index numbers.
std::vector<Tick> make_ticks(int64_t n, double cell, const std::vector<std::string>& labels, double min_gap);

struct AxisTicks {
  std::vector<Tick> x, y;
  bool x_up = false;  // x labels rotated (they would collide side by side)
  double x_height = 0, y_width = 0;
};

AxisTicks axis_ticks(int64_t rows, int64_t cols, double cw, double ch, const std::vector<std::string>& x_labels,
                     const std::vector<std::string>& y_labels, double font);
// Tick marks and labels left of and below the map at (left, top), and its frame.
void draw_ticks(Figure& f, const AxisTicks& a, double left, double top, double map_w, double map_h, double font);

}  // namespace qkv::viz::detail
