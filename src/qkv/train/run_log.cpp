// Reading a run's log.jsonl and steps.tsv (see qkv/train/run_log.h).
#include "qkv/train/run_log.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <cstdio>
#include <cmath>

#include "qkv/core/error.h"

namespace qkv::train {

namespace {

struct Point {
  double a, b;
};

// steps.tsv → step → (loss, lr); the later of two lines for a step wins.
void read_steps(const std::string& path, std::map<int64_t, Point>& out) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    long long step;
    double loss, lr;
    char end;
    // The header line and a torn last line do not parse and are skipped; scanf reads "nan".
    if (std::sscanf(line.c_str(), "%lld\t%lf\t%lf%c", &step, &loss, &lr, &end) == 3) out[step] = {loss, lr};
  }
}

void read_evals(const std::string& path, std::map<int64_t, nlohmann::json>& out) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json r = nlohmann::json::parse(line, nullptr, false);
    if (r.is_discarded() || !r.is_object()) continue;  // a torn last line
    if (!r.contains("step") || !r["step"].is_number_integer()) continue;
    out[r["step"].get<int64_t>()] = r;
  }
}

}  // namespace

RunLog read_run_log(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    if (fs::exists(dir, ec))  // e.g. RUN/log.jsonl: the run is the folder that holds it
      throw IOError(dir + ": not a run directory but a file; give the run's folder (" +
                    (fs::path(dir).has_parent_path() ? fs::path(dir).parent_path().string() : ".") + ")");
    throw IOError(dir + ": no such run directory");
  }
  const std::string steps = dir + "/steps.tsv", evals = dir + "/log.jsonl";
  if (!fs::exists(steps, ec) && !fs::exists(evals, ec))
    throw IOError(dir + ": not a training run (no log.jsonl or steps.tsv; `qkv train` writes them)");
  std::map<int64_t, Point> s;
  std::map<int64_t, nlohmann::json> e;
  read_steps(steps, s);
  read_evals(evals, e);
  RunLog log;
  for (const auto& [step, p] : s) {
    log.step.push_back(static_cast<double>(step));
    log.loss.push_back(p.a);
    log.lr.push_back(p.b);
  }
  for (const auto& [step, r] : e) {
    auto num = [&r](const char* k) { return r.contains(k) && r[k].is_number() ? r[k].get<double>() : NAN; };
    log.eval_step.push_back(static_cast<double>(step));
    log.eval_train.push_back(num("train_loss"));
    log.eval_val.push_back(num("val_loss"));
    log.evals.push_back(r);
  }
  return log;
}

viz::LossCurve loss_curve(const RunLog& log, const std::string& name) {
  return {name, log.step, log.loss, log.lr, log.eval_step, log.eval_train, log.eval_val};
}

}  // namespace qkv::train
