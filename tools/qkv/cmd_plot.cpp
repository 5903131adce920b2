// `qkv plot`: figures as PNG or SVG. This file owns the `plot` group and
// `plot pe`; other files register siblings with
// QKV_REGISTER_SUBCOMMAND("plot", …) (cmd_plot_attention.cpp).
#include <algorithm>
#include <cctype>
#include <cstdio>

#include "commands.h"
#include "qkv/qkv.h"
#include "qkv/viz/viz.h"

namespace qkv::cli {

PlotFormat plot_format(const std::string& path) {
  size_t dot = path.rfind('.');
  size_t slash = path.rfind('/');
  std::string ext = dot == std::string::npos || (slash != std::string::npos && dot < slash) ? "" : path.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png") return PlotFormat::Png;
  if (ext == ".svg") return PlotFormat::Svg;
  throw ValueError("-o " + path + ": unknown extension '" + ext + "' (use .png or .svg)");
}

namespace {

void add_plot_command(CLI::App& app) {
  auto* plot = app.add_subcommand("plot", "Draw figures (PNG or SVG, chosen by the -o extension)");
  plot->require_subcommand(1);
}

void add_plot_pe_command(CLI::App& plot) {
  auto* pe = plot.add_subcommand(
      "pe", "Heatmap of the sinusoidal positional encoding PE(pos,2i)=sin(pos/10000^(2i/d)), PE(pos,2i+1)=cos(...)");
  static int64_t len = 100, dim = 512;
  static std::string out;
  pe->add_option("--len", len, "Positions (rows, drawn top to bottom)")->capture_default_str();
  pe->add_option("--dim", dim, "Model width d (columns)")->capture_default_str();
  pe->add_option("-o,--out", out, "Output file: .png or .svg")->required();
  pe->callback([] {
    if (len <= 0) throw ValueError("--len must be positive, got " + std::to_string(len));
    if (dim <= 0) throw ValueError("--dim must be positive, got " + std::to_string(dim));
    if (len > 8192 || dim > 8192)
      throw ValueError("--len and --dim must be at most 8192, got " + std::to_string(len) + " and " +
                       std::to_string(dim));
    PlotFormat fmt = plot_format(out);
    Tensor table = viz::sinusoidal_table(len, dim);  // (T, C)
    viz::HeatmapOptions opt;
    opt.title = "Sinusoidal positional encoding (" + std::to_string(len) + " x " + std::to_string(dim) + ")";
    opt.x_label = "dimension i";
    opt.y_label = "position";
    if (fmt == PlotFormat::Png) viz::heatmap_png(out, table, opt);
    else viz::heatmap_svg(out, table, opt);
    std::printf("wrote %s (%lld positions x %lld dimensions)\n", out.c_str(), static_cast<long long>(len),
                static_cast<long long>(dim));
  });
}

}  // namespace

QKV_REGISTER_COMMAND("plot", 50, add_plot_command);
QKV_REGISTER_SUBCOMMAND("plot", "pe", 10, add_plot_pe_command);

}  // namespace qkv::cli
