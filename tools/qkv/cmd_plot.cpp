// `qkv plot`: figures as PNG, SVG or PDF. This file owns the `plot` group and
// `plot loss`; the other figures register with QKV_REGISTER_SUBCOMMAND("plot",
// …) (cmd_plot_pe.cpp, cmd_plot_attention.cpp, cmd_plot_next_token.cpp, …).
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "qkv/qkv.h"
#include "qkv/train/run_log.h"
#include "qkv/viz/viz.h"

namespace qkv::cli {

void check_plot_path(const std::string& path) {
  try {
    viz::check_output(path);
  } catch (const ValueError& e) {
    throw ValueError(std::string("-o ") + e.what());
  }
}

std::string pad_label(const std::string& label, size_t width) {
  size_t chars = 0;
  for (unsigned char c : label) chars += (c & 0xC0) != 0x80;  // count UTF-8 lead bytes
  return chars >= width ? label : label + std::string(width - chars, ' ');
}

namespace {

struct LossArgs {
  std::vector<std::string> runs;
  std::string out, title = "loss";
  double smoothing = 0.9;
};

void run_loss(const LossArgs& a) {
  check_plot_path(a.out);
  std::vector<viz::LossCurve> curves;
  for (const std::string& run : a.runs) {
    std::string name = std::filesystem::path(run).lexically_normal().filename().string();
    if (name.empty()) name = std::filesystem::path(run).lexically_normal().parent_path().filename().string();
    curves.push_back(train::loss_curve(train::read_run_log(run), name));
    std::printf("%s: %zu steps, %zu evaluations\n", run.c_str(), curves.back().step.size(),
                curves.back().eval_step.size());
  }
  viz::loss_plot(a.out, curves, a.title, a.smoothing);
  std::printf("wrote %s\n", a.out.c_str());
}

void add_plot_command(CLI::App& app) {
  auto* plot = app.add_subcommand("plot", "Draw figures (PNG, SVG or PDF, chosen by the -o extension)");
  // Not require_subcommand(1): CLI11 would say "A subcommand is required"
  // without naming the unknown kind. The kinds register later, so the list is read at parse time.
  plot->require_subcommand(0, 1);
  plot->allow_extras();
  plot->callback([plot] {
    if (!plot->get_subcommands().empty()) return;
    std::string kinds;
    for (const CLI::App* k : plot->get_subcommands({})) kinds += (kinds.empty() ? "" : ", ") + k->get_name();
    const std::vector<std::string> rest = plot->remaining();
    if (rest.empty()) throw ValueError("qkv plot needs a kind: " + kinds);
    throw ValueError("unknown plot kind '" + rest.front() + "' (" + kinds + ")");
  });
}

void add_plot_loss_command(CLI::App& plot) {
  auto* c = plot.add_subcommand(
      "loss", "Training curves of one or more runs: each step's loss (light) and its moving average, the "
              "evaluations (train ●, val ■), the learning rate (dashed, right axis)");
  static LossArgs a;
  c->add_option("runs", a.runs, "Run directories (made by `qkv train …`)")->required();
  c->add_option("-o,--out", a.out, "Output file: .png, .svg or .pdf")->required();
  c->add_option("--smoothing", a.smoothing, "EMA weight of the smoothed line, in [0, 1)")->capture_default_str();
  c->add_option("--title", a.title, "Chart title")->capture_default_str();
  c->callback([] { run_loss(a); });
}

}  // namespace

QKV_REGISTER_COMMAND("plot", 50, add_plot_command);
QKV_REGISTER_SUBCOMMAND("plot", "loss", 5, add_plot_loss_command);

}  // namespace qkv::cli
