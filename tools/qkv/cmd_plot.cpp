// `qkv plot`: figures as PNG or SVG. This file owns the `plot` group; the
// figures register with QKV_REGISTER_SUBCOMMAND("plot", …) (cmd_plot_pe.cpp,
// cmd_plot_attention.cpp).
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

}  // namespace

QKV_REGISTER_COMMAND("plot", 50, add_plot_command);

}  // namespace qkv::cli
