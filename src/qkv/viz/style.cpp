// Colormaps, the series palette and axis ticks shared by every plot.
#include "qkv/viz/style.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace qkv::viz::detail {

namespace {
RGB lerp_stops(const RGB* stops, int n, double t) {
  if (!(t >= 0)) t = 0;  // also catches NaN
  if (t > 1) t = 1;
  double p = t * (n - 1);
  int i = std::min(static_cast<int>(p), n - 2);
  double f = p - i;
  auto mix = [&](uint8_t a, uint8_t b) { return static_cast<uint8_t>(std::lround(a + (b - a) * f)); };
  return {mix(stops[i].r, stops[i + 1].r), mix(stops[i].g, stops[i + 1].g), mix(stops[i].b, stops[i + 1].b)};
}
}  // namespace

RGB viridis(double t) {
  // Approximately matplotlib's viridis sampled at 0, 1/8, ..., 1.
  static const RGB stops[] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
                              {39, 173, 129}, {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
  return lerp_stops(stops, 9, t);
}

RGB diverging(double t) {
  static const RGB stops[] = {{5, 48, 97}, {67, 147, 195}, {247, 247, 247}, {214, 96, 77}, {103, 0, 31}};
  return lerp_stops(stops, 5, t);
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  double raw = (hi - lo) / std::max(target, 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> out;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    out.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

std::string format_tick(double v, double step) {
  char buf[32];
  double a = std::fabs(v);
  if (a != 0 && (a >= 1e6 || a < 1e-4)) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  } else {
    int dec = step > 0 ? std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9))) : 2;
    std::snprintf(buf, sizeof buf, "%.*f", std::min(dec, 6), v);
  }
  return buf;
}

std::string svg_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') out += ' ';
        else out += c;
    }
  }
  return out;
}

}  // namespace qkv::viz::detail
