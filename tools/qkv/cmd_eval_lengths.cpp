// `qkv eval-lengths RUN… --data FILE --lengths 64,128,…`: each run's loss and
// perplexity on the validation split of FILE at several context lengths (the
// extrapolation study, docs/POSITIONS.md). A table, or JSON lines with --json;
// --plot draws perplexity against length.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "qkv/io/file.h"
#include "qkv/io/json.h"
#include "qkv/models/registry.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/train/eval_lengths.h"
#include "qkv/viz/plot.h"

namespace qkv::cli {
namespace {

struct Args {
  std::vector<std::string> runs;
  std::string data, plot;
  std::vector<int64_t> lengths;
  int64_t batch = 8, max_targets = 0;
  int threads = 0;
  bool json = false;
};

// The run's validation fraction (trainer_state.json's train_config), else 0.1.
double val_fraction_of(const std::string& dir) {
  const std::string path = dir + "/trainer_state.json";
  if (!std::filesystem::exists(path)) return 0.1;
  const nlohmann::json j = io::read_json(path);
  if (j.contains("train_config") && j["train_config"].contains("val_fraction"))
    return j["train_config"]["val_fraction"].get<double>();
  return 0.1;
}

std::string run_name(const std::string& dir) {
  std::filesystem::path p(dir);
  if (!p.has_filename()) p = p.parent_path();
  return p.filename().string();
}

struct Row {
  std::string run;
  train::LengthScore score;
};

std::vector<Row> score_run(const std::string& dir, const std::string& text, const Args& a, int64_t first) {
  if (!std::filesystem::is_directory(dir))
    throw IOError(dir + (std::filesystem::exists(dir) ? ": not a directory" : ": no such directory") +
                  " (expected a run directory made by `qkv train gpt`)");
  auto model = models::load_model_as<models::CausalLM>(dir, "qkv eval-lengths");
  model->eval();
  const tokenizers::TextCodec tok = tokenizers::load_codec(dir);
  const std::vector<int64_t> ids = tok.encode(text);
  const auto n_train = static_cast<size_t>(static_cast<double>(ids.size()) * (1.0 - val_fraction_of(dir)));
  const std::vector<int64_t> val(ids.begin() + static_cast<std::ptrdiff_t>(n_train), ids.end());
  std::vector<Row> rows;
  for (int64_t L : a.lengths) {
    std::fprintf(stderr, "%s: length %ld …\n", dir.c_str(), static_cast<long>(L));
    rows.push_back({run_name(dir), train::score_at_length(*model, val, L,
                                                          {.first = first, .batch = a.batch, .max_targets = a.max_targets})});
  }
  return rows;
}

void print_rows(const std::vector<Row>& rows, bool json) {
  for (const Row& r : rows) {
    const auto& s = r.score;
    if (json) {
      nlohmann::ordered_json j{{"run", r.run}, {"length", s.length}};
      j["loss"] = s.error.empty() ? nlohmann::ordered_json(s.loss) : nlohmann::ordered_json(nullptr);
      j["perplexity"] = s.error.empty() ? nlohmann::ordered_json(s.perplexity()) : nlohmann::ordered_json(nullptr);
      j["targets"] = s.targets;
      if (!s.error.empty()) j["error"] = s.error;
      std::printf("%s\n", compact_json(j).c_str());
    } else if (s.error.empty()) {
      std::printf("%-24s %8ld  loss %.4f  perplexity %8.3f  (%ld targets)\n", r.run.c_str(),
                  static_cast<long>(s.length), s.loss, s.perplexity(), static_cast<long>(s.targets));
    } else {
      std::printf("%-24s %8ld  cannot run: %s\n", r.run.c_str(), static_cast<long>(s.length), s.error.c_str());
    }
  }
}

void plot_rows(const std::vector<Row>& rows, const std::string& path) {
  std::vector<viz::Series> series;
  for (const Row& r : rows) {
    if (series.empty() || series.back().name != r.run) series.push_back({r.run, {}, {}});
    series.back().x.push_back(std::log2(static_cast<double>(r.score.length)));
    series.back().y.push_back(r.score.error.empty() ? r.score.perplexity() : NAN);  // NaN: no point
  }
  const std::string title = "perplexity by context length (same validation targets)";
  viz::line_plot(path, series, {title, "log2 context length", "perplexity"});
}

void run(const Args& a) {
  if (a.lengths.empty()) throw ValueError("--lengths: give at least one length, e.g. 64,128,256");
  for (int64_t L : a.lengths)
    if (L < 2) throw ValueError("--lengths: every length must be >= 2, got " + std::to_string(L));
  if (!a.plot.empty()) check_plot_path(a.plot);  // a bad extension fails before the work
  apply_threads(a.threads);
  const std::string text = io::read_file(a.data);
  const int64_t first = *std::max_element(a.lengths.begin(), a.lengths.end());
  std::vector<Row> rows;
  for (const std::string& dir : a.runs) {
    std::vector<Row> r = score_run(dir, text, a, first);
    print_rows(r, a.json);
    std::fflush(stdout);
    rows.insert(rows.end(), r.begin(), r.end());
  }
  if (!a.plot.empty()) {
    plot_rows(rows, a.plot);
    std::fprintf(stderr, "wrote %s\n", a.plot.c_str());
  }
}

void add_eval_lengths_command(CLI::App& app) {
  auto* c = app.add_subcommand("eval-lengths",
                               "Loss and perplexity of runs at several context lengths (the extrapolation study): "
                               "the same validation targets at every length, sliding windows with stride length/2");
  static Args a;
  c->add_option("runs", a.runs, "Run directories made by `qkv train gpt`")->required();
  c->add_option("--data", a.data, "Text file; its validation split (the run's val_fraction) is scored")->required();
  c->add_option("--lengths", a.lengths, "Context lengths, comma-separated, e.g. 64,128,256,512,1024")
      ->delimiter(',')
      ->required();
  c->add_option("--batch", a.batch, "Windows per forward pass")->capture_default_str();
  c->add_option("--max-targets", a.max_targets, "Score at most this many targets (0 = the whole split)")
      ->capture_default_str();
  c->add_option("--plot", a.plot, "Also draw perplexity against length: .png, .svg or .pdf")->default_str("none");
  c->add_flag("--json", a.json, "JSON lines: {run, length, loss, perplexity, targets[, error]}");
  c->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  c->callback([] { run(a); });
}

}  // namespace

QKV_REGISTER_COMMAND("eval-lengths", 75, add_eval_lengths_command);

}  // namespace qkv::cli
