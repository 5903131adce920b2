// The trainer's checkpoint: save, and resume with its checks (see
// qkv/train/trainer.h for the directory's files).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "qkv/core/json_parse.h"
#include "qkv/core/config_fields.h"
#include "qkv/data/fingerprint.h"
#include "qkv/io/file.h"
#include "qkv/io/json.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/registry.h"
#include "qkv/autograd/autograd.h"
#include "qkv/ops/ops.h"
#include "qkv/train/saved_state.h"
#include "qkv/train/trainer.h"


namespace qkv::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Settings that may change between a run and its resume.
constexpr const char* kChangeable[] = {"max_iters", "eval_interval", "eval_iters", "log_interval"};

}  // namespace

namespace {

// A checkpoint is written whole into DIR/.checkpoint.new, marked complete,
// then its files are moved into DIR one rename at a time (trainer_state.json
// last). A kill can stop either phase: an unmarked staging directory is
// thrown away (DIR still holds the previous checkpoint, untouched); a marked
// one is moved in the rest of the way (roll forward). Either way the next
// start finds one consistent checkpoint.
constexpr const char* kStaging = ".checkpoint.new";
constexpr const char* kComplete = "COMPLETE";

void commit_staged(const fs::path& dir) {
  const fs::path staging = dir / kStaging;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(staging)) {
    const std::string name = e.path().filename().string();
    if (name != kComplete && name != "trainer_state.json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  files.push_back(staging / "trainer_state.json");  // the commit point
  for (const fs::path& f : files) {
    if (!fs::exists(f)) continue;  // moved before a kill
    const fs::path target = dir / f.filename();
    if (fs::is_directory(f)) fs::remove_all(target);  // a directory does not rename over a full one
    fs::rename(f, target);
  }
  fs::remove(staging / kComplete);
  fs::remove(staging);
}

// Hidden temp files of io::write_file_atomic ("." NAME ".tmp-PID-N") that a
// killed process left in `dir`.
void remove_stale_temp_files(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 1 && name[0] == '.' && name.find(".tmp-") != std::string::npos && e.is_regular_file())
      fs::remove(e.path());
  }
}

}  // namespace

void recover_checkpoint(const std::string& dir) {
  if (!fs::is_directory(dir)) return;
  const fs::path staging = fs::path(dir) / kStaging;
  if (fs::exists(staging)) {
    if (fs::exists(staging / kComplete)) commit_staged(dir);
    else fs::remove_all(staging);
  }
  remove_stale_temp_files(dir);
}

void Trainer::make_dir() const {
  fs::create_directories(dir_);
  const std::string marker = dir_ + "/" + kUnfinishedRunMarker;
  if (fs::exists(dir_ + "/trainer_state.json") || fs::exists(marker)) return;
  if (!std::ofstream(marker)) throw IOError("cannot write " + marker + ": " + std::strerror(errno));
}

void Trainer::save(const ExtraFiles& extra, bool best) {
  make_dir();
  flush_steps();  // before the commit: a resumed run's steps.tsv covers its checkpoint
  const std::string staging = dir_ + "/" + kStaging;
  fs::remove_all(staging);
  try {
    write_staged(staging, extra);
  } catch (...) {  // a full disk: the half-written staging is useless, give its space back
    std::error_code ec;
    fs::remove_all(staging, ec);
    throw;
  }
  commit_staged(dir_);
  fs::remove(dir_ + "/" + kUnfinishedRunMarker);
  if (best) save_best(extra);
}

void Trainer::write_staged(const std::string& staging, const ExtraFiles& extra) const {
  fs::create_directories(staging);
  io::save_safetensors(staging + "/optimizer.safetensors", opt_->state(), {{"step", std::to_string(step_)}});
  models::save_model(staging, task_.model(), step_);
  if (extra) extra(staging);
  json st = {{"step", step_},
             {"best_val_loss", best_val_},
             {"best_score", best_score_},
             {"data_cursor", data::DataCursor::capture(cursor_.epoch, cursor_.position, data_gen_).to_json()},
             {"dropout_rng", dropout_gen_.state_hex()},
             {"train_config", cfg_.to_json()},
             {"model_config", task_.model().config_json()}};
  if (!fingerprint_.is_null()) st["data_fingerprint"] = fingerprint_;
  io::write_json_atomic(staging + "/trainer_state.json", st);
  io::write_file_atomic(staging + "/" + kComplete, std::to_string(step_) + "\n");
}

void Trainer::save_best(const ExtraFiles& extra) const {
  // The best model as a whole directory: written beside, then swapped in.
  const std::string tmp = dir_ + "/.best.tmp", old = dir_ + "/.best.old", target = dir_ + "/best";
  fs::remove_all(tmp);
  models::save_model(tmp, task_.model(), step_);
  if (extra) extra(tmp);
  fs::remove_all(old);
  if (fs::exists(target)) fs::rename(target, old);
  fs::rename(tmp, target);
  fs::remove_all(old);
}

namespace {

// DIR/checkpoints/step_<step>.safetensors, sorted by step.
std::vector<std::pair<int64_t, std::string>> kept_checkpoints(const std::string& dir) {
  std::vector<std::pair<int64_t, std::string>> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("step_", 0) != 0 || e.path().extension() != ".safetensors") continue;
    try {
      out.emplace_back(std::stoll(name.substr(5)), e.path().string());
    } catch (const std::exception&) {
      // not one of ours
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void Trainer::keep_for_average() const {
  const std::string dir = dir_ + "/checkpoints";
  fs::create_directories(dir);
  io::save_safetensors(dir + "/step_" + std::to_string(step_) + ".safetensors", task_.model().state_dict(),
                       {{"step", std::to_string(step_)}});
  auto kept = kept_checkpoints(dir);
  // Only checkpoints up to this step count: a resumed run overwrites later ones.
  std::erase_if(kept, [&](const auto& c) {
    if (c.first <= step_) return false;
    fs::remove(c.second);
    return true;
  });
  for (size_t i = 0; i + static_cast<size_t>(cfg_.average_last) < kept.size(); ++i) fs::remove(kept[i].second);
}

void Trainer::write_average(const ExtraFiles& extra) const {
  // Element-wise mean of the kept weights (Vaswani et al. 2017 §6.1), loaded
  // into a copy of the model's state so the trained weights stay as they are.
  const auto kept = kept_checkpoints(dir_ + "/checkpoints");
  if (kept.empty()) return;
  nn::NamedTensors sum;  // in the first file's order
  std::map<std::string, size_t> index;
  for (const auto& [step, path] : kept) {
    const io::NamedTensors t = io::load_safetensors(path);
    for (const auto& [name, w] : t.tensors) {
      auto it = index.find(name);
      if (it == index.end()) {
        index.emplace(name, sum.size());
        sum.emplace_back(name, w.contiguous().clone());
      } else if (w.dtype() == DType::Float32) {
        sum[it->second].second = add(sum[it->second].second, w);
      } else {
        sum[it->second].second = w.clone();  // integer buffers: the last one's
      }
    }
  }
  for (auto& [name, w] : sum)
    if (w.dtype() == DType::Float32) w = mul(w, 1.0f / static_cast<float>(kept.size()));
  nn::NamedTensors trained = task_.model().state_dict();  // handles to the live tensors: copy them
  for (auto& [name, w] : trained) w = w.clone();
  NoGradGuard ng;
  task_.model().load_state_dict(sum, true);
  const std::string tmp = dir_ + "/.averaged.tmp", target = dir_ + "/averaged";
  fs::remove_all(tmp);
  models::save_model(tmp, task_.model(), step_);
  if (extra) extra(tmp);
  io::write_json_atomic(tmp + "/averaged_from.json",
                        {{"steps", [&] {
                            std::vector<int64_t> s;
                            for (const auto& c : kept) s.push_back(c.first);
                            return s;
                          }()}});
  fs::remove_all(target);
  fs::rename(tmp, target);
  task_.model().load_state_dict(trained, true);
}

void Trainer::check_resumable(const SavedState& st, bool allow_new_data) const {
  // A key the checkpoint lacks was added to the config after it was written
  // (the run used that key's default): not a difference.
  std::vector<config::FieldDiff> model_diff;
  for (const config::FieldDiff& d : config::diff_json(st.model_config, task_.model().config_json()))
    if (d.a != "(absent)") model_diff.push_back(d);
  if (!model_diff.empty())
    throw ValueError("cannot resume " + dir_ + ": the model differs from its checkpoint: " +
                     config::describe(model_diff) + " (checkpoint → this run)");
  std::vector<config::FieldDiff> train_diff;
  for (const config::FieldDiff& d : TrainConfig::fields().diff(st.train_config, cfg_))
    if (std::find(std::begin(kChangeable), std::end(kChangeable), d.key) == std::end(kChangeable))
      train_diff.push_back(d);
  if (!train_diff.empty())
    throw ValueError("cannot resume " + dir_ + ": the trainer settings differ from its checkpoint: " +
                     config::describe(train_diff) +
                     " (checkpoint → this run; only max_iters, eval_interval, eval_iters and log_interval may change)");
  if (!st.data_fingerprint.is_null() && !fingerprint_.is_null() && !allow_new_data &&
      !data::same_data(st.data_fingerprint, fingerprint_))
    throw ValueError("cannot resume " + dir_ + ": it was trained on " +
                     data::describe_fingerprint(st.data_fingerprint) + ", this run reads " +
                     data::describe_fingerprint(fingerprint_) +
                     "; pass --allow-new-data to continue on the new data");
}

void Trainer::check_same_save(int64_t step, const io::NamedTensors& model, const io::NamedTensors& optimizer) const {
  const int64_t ms = models::safetensors_step(model, dir_ + "/model.safetensors");
  const int64_t os = models::safetensors_step(optimizer, dir_ + "/optimizer.safetensors");
  if (ms != step || os != step)
    throw ValueError("cannot resume " + dir_ + ": it is inconsistent (trainer_state.json step " + std::to_string(step) +
                     ", model.safetensors step " + std::to_string(ms) + ", optimizer.safetensors step " +
                     std::to_string(os) + "): a save was interrupted");
}

void Trainer::resume(bool allow_new_data) {
  recover_checkpoint(dir_);  // a save a kill interrupted: finished or undone
  for (const char* f : {"trainer_state.json", "optimizer.safetensors", "model.safetensors", "config.json"})
    if (!fs::exists(dir_ + "/" + f))
      throw IOError(dir_ + ": cannot resume: missing " + f + " (was this directory made by `qkv train`?)");
  resume_from(dir_ + "/trainer_state.json", allow_new_data);
}

void Trainer::resume_from(const std::string& path, bool allow_new_data) {
  const SavedState st = parse_saved_state(io::read_json(path), path);
  check_resumable(st, allow_new_data);
  // Each file is read once: its step metadata is checked, then its tensors loaded.
  const io::NamedTensors model = io::load_safetensors(dir_ + "/model.safetensors");
  const io::NamedTensors optimizer = io::load_safetensors(dir_ + "/optimizer.safetensors");
  check_same_save(st.step, model, optimizer);
  task_.model().load_state_dict(model.tensors, true);
  opt_->load_state(optimizer.tensors);
  dropout_gen_ = st.dropout;
  st.cursor.restore(data_gen_);
  cursor_ = st.cursor;
  best_val_ = st.best_val_loss;
  best_score_ = st.best_score;
  step_ = st.step;
  load_evals();
}

void Trainer::load_evals() {
  // Earlier evaluations, for the loss plot and to skip re-evaluating this
  // step. Lines past the resumed step (logged after the last checkpoint, by
  // the run that was killed) and torn lines are dropped from the file too,
  // so the continued run does not log a step twice.
  const std::string path = dir_ + "/log.jsonl";
  std::ifstream log(path);
  std::string line, kept;
  bool dropped = false;
  while (std::getline(log, line)) {
    try {
      json r = parse_json(line, path);
      if (r["step"].get<int64_t>() > step_) {
        dropped = true;
        continue;
      }
      kept += line + "\n";
      EvalRecord e{r["step"].get<int64_t>(), r["train_loss"].get<float>(), r["val_loss"].get<float>(),
                   r["lr"].get<float>(), r["ms_per_iter"].get<double>(), r["tokens_per_sec"].get<double>()};
      for (const char* k : {"step", "train_loss", "val_loss", "lr", "ms_per_iter", "tokens_per_sec"}) r.erase(k);
      e.metrics = r;
      evals_.push_back(e);
    } catch (const std::exception&) {
      dropped = true;  // a torn last line from an interrupted run
    }
  }
  log.close();
  if (dropped) io::write_file_atomic(path, kept);
}

}  // namespace qkv::train
