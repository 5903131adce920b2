// Internal to viz/: colours (colormaps, the series palette) and the axis-tick
// helpers shared by every plot.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qkv::viz::detail {

struct RGB {
  uint8_t r, g, b;
};

constexpr RGB kInk{40, 40, 40}, kGrid{225, 225, 225}, kWhite{255, 255, 255};
// matplotlib's "tab10": distinct, colour-blind-tolerable series colours.
constexpr RGB kPalette[] = {{31, 119, 180}, {255, 127, 14},  {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
                            {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
inline RGB palette(size_t i) { return kPalette[i % 10]; }

// t in [0, 1] -> colour.
RGB viridis(double t);
RGB diverging(double t);  // 0 blue, 0.5 white, 1 red

// Round-number tick positions covering [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target);
std::string format_tick(double v, double step);
// Text for XML: & < > " ' escaped, control characters (but tab) as spaces.
std::string svg_escape(const std::string& s);

}  // namespace qkv::viz::detail
