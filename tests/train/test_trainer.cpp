// The trainer: learning, exact resume, checkpoints and their errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "qkv/io/json.h"
#include "qkv/models/gpt.h"
#include "qkv/models/registry.h"
#include "qkv/train/trainer.h"

using namespace qkv;
namespace fs = std::filesystem;

namespace {

models::GPTConfig cfg() {
  models::GPTConfig c;
  c.vocab_size = 5;
  c.n_layer = 1;
  c.n_head = 2;
  c.n_embd = 16;
  c.block_size = 8;
  return c;
}

train::TrainConfig tcfg(int64_t iters) {
  train::TrainConfig t;
  t.batch_size = 4;
  t.max_iters = iters;
  t.eval_interval = 5;
  t.eval_iters = 2;
  t.warmup_iters = 2;
  t.lr_decay_iters = 40;
  t.lr = 3e-3f;
  t.min_lr = 3e-4f;
  t.log_interval = 1000;
  return t;
}

void expect_value_error(const std::function<void()>& f, std::initializer_list<const char*> needles) {
  try {
    f();
    ADD_FAILURE() << "no ValueError";
  } catch (const ValueError& e) {
    for (const char* n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << n << " in: " << e.what();
  }
}

// A periodic stream 0 1 2 3 4 0 1 … : perfectly predictable.
std::vector<int64_t> corpus(size_t n = 600) {
  std::vector<int64_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<int64_t>(i % 5);
  return v;
}

std::string tmpdir(const std::string& name) {
  std::string d = (fs::temp_directory_path() / ("qkv_test_" + name + "_" + std::to_string(::getpid()))).string();
  fs::remove_all(d);
  return d;
}

// A GPT (initialised from `seed`), its causal-LM task over `tokens`, and a
// trainer writing to `dir`, in construction order.
struct GptRun {
  Generator gen;
  models::GPT model;
  train::CausalLMTask task;
  train::Trainer trainer;
  GptRun(const train::TrainConfig& tc, const std::string& dir, const models::GPTConfig& c = cfg(),
        const std::vector<int64_t>& tokens = corpus(), uint64_t seed = 1)
      : gen(seed), model(c, gen), task(model, tokens, c.block_size, tc.val_fraction), trainer(task, tc, dir) {}
};

}  // namespace

TEST(Trainer, LearnsAPeriodicSequence) {
  std::string dir = tmpdir("learn");
  train::TrainConfig tc = tcfg(60);
  tc.lr = 1e-2f;
  tc.min_lr = 1e-3f;
  tc.lr_decay_iters = 60;
  tc.eval_interval = 20;
  GptRun s(tc, dir);
  train::Trainer& t = s.trainer;
  t.run();
  ASSERT_FALSE(t.evals().empty());
  EXPECT_LT(t.evals().back().val_loss, 0.5f * t.evals().front().val_loss);
  for (const char* f : {"config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json",
                        "log.jsonl", "loss.svg", "best/model.safetensors", "best/config.json"})
    EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
  auto loaded = models::load_model_as<models::GPT>(dir);
  EXPECT_EQ(loaded->config, s.model.config);
  fs::remove_all(dir);
}

TEST(Trainer, ResumeReproducesTheUninterruptedRun) {
  std::string a = tmpdir("full"), b = tmpdir("split");
  std::vector<float> full;
  {
    GptRun s(tcfg(20), a);
    train::Trainer& t = s.trainer;
    t.run();
    full = t.step_losses();
  }
  std::vector<float> first, second;
  {
    GptRun s(tcfg(10), b);
    train::Trainer& t = s.trainer;
    t.run();
    first = t.step_losses();
  }
  {
    GptRun s(tcfg(20), b, cfg(), corpus(), 99);  // different init: everything must come from the checkpoint
    train::Trainer& t = s.trainer;
    t.resume();
    EXPECT_EQ(t.step(), 10);
    t.run();
    second = t.step_losses();
  }
  ASSERT_EQ(full.size(), 20u);
  ASSERT_EQ(first.size() + second.size(), 20u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(first[i], full[i]) << "step " << i;
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(second[i], full[10 + i]) << "step " << 10 + i;
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(Trainer, BadInputIsRejectedBeforeAnythingIsWritten) {
  std::string dir = tmpdir("bad");
  EXPECT_THROW(GptRun(tcfg(5), dir, cfg(), corpus(12)), ValueError);  // shorter than block_size + 1
  EXPECT_THROW(GptRun(tcfg(5), dir, cfg(), {0, 1, 7, 2}), ValueError);  // id outside the vocabulary
  train::TrainConfig bad = tcfg(5);
  bad.batch_size = 0;
  EXPECT_THROW(GptRun(bad, dir), ValueError);
  EXPECT_FALSE(fs::exists(dir));
}

TEST(Trainer, ResumeRejectsAnotherConfigAndInterruptedSaves) {
  std::string dir = tmpdir("resume_bad");
  {
    GptRun s(tcfg(5), dir);
    train::Trainer& t = s.trainer;
    t.run();
  }
  {  // another model shape
    models::GPTConfig c2 = cfg();
    c2.n_embd = 32;
    GptRun s(tcfg(10), dir, c2);
    expect_value_error([&] { s.trainer.resume(); }, {"cannot resume", "n_embd 16 → 32", "checkpoint → this run"});
  }
  {  // another learning rate and batch size: each named with both values
    train::TrainConfig tc = tcfg(10);
    tc.lr = 1e-2f;
    tc.batch_size = 3;
    GptRun s(tc, dir);
    expect_value_error([&] { s.trainer.resume(); }, {"batch_size 4 → 3", "lr 0.003 → 0.01"});
  }
  {  // other data: refused unless allowed
    GptRun s(tcfg(10), dir);
    s.trainer.set_data_fingerprint({{"path", "other.txt"}, {"bytes", 7}, {"fnv1a64", "00000000000000aa"}});
    EXPECT_NO_THROW(s.trainer.resume());  // the first run recorded no fingerprint: nothing to compare
  }
  {  // trainer_state.json claims another step than the safetensors files
    nlohmann::json st = io::read_json(dir + "/trainer_state.json");
    st["step"] = 3;
    io::write_json_atomic(dir + "/trainer_state.json", st);
    GptRun s(tcfg(10), dir);
    train::Trainer& t = s.trainer;
    try {
      t.resume();
      ADD_FAILURE() << "resumed an inconsistent checkpoint";
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("interrupted"), std::string::npos) << e.what();
    }
  }
  fs::remove_all(dir);
}

TEST(Checkpoint, LoadModelNamesTheFileAtFault) {
  std::string dir = tmpdir("ckpt");
  Generator gen(1);
  models::GPT m(cfg(), gen);
  models::save_model(dir, m, 0);
  EXPECT_NO_THROW(models::load_model(dir));
  {  // config whose shapes disagree with the weights
    nlohmann::json j = m.config.to_json();
    j["n_embd"] = 32;
    io::write_json_atomic(dir + "/config.json", j);
    try {
      models::load_model(dir);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos) << e.what();
    }
    io::write_json_atomic(dir + "/config.json", m.config.to_json());
  }
  {  // truncated weights
    fs::resize_file(dir + "/model.safetensors", fs::file_size(dir + "/model.safetensors") - 10);
    EXPECT_THROW(models::load_model(dir), Error);
  }
  fs::remove(dir + "/model.safetensors");
  try {
    models::load_model(dir);
    ADD_FAILURE();
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("missing model.safetensors"), std::string::npos) << e.what();
  }
  EXPECT_THROW(models::load_model(dir + "/nope"), IOError);
  fs::remove_all(dir);
}

// A stop request (SIGINT/SIGTERM in the CLI) keeps every finished step: the
// checkpoint holds the step reached, and resuming gives the uninterrupted
// run's losses exactly.
TEST(Trainer, StopKeepsTheWorkAndResumesExactly) {
  std::string a = tmpdir("nostop"), b = tmpdir("stopped");
  std::vector<float> full, first, second;
  {
    GptRun s(tcfg(12), a);
    train::Trainer& t = s.trainer;
    EXPECT_TRUE(t.run());
    full = t.step_losses();
  }
  {
    GptRun s(tcfg(12), b);
    train::Trainer& t = s.trainer;
    std::atomic<bool> stop{true};  // requested before the first step ends
    t.set_stop_flag(&stop);
    EXPECT_FALSE(t.run());
    EXPECT_EQ(t.step(), 1);
    first = t.step_losses();
  }
  {
    GptRun s(tcfg(12), b, cfg(), corpus(), 99);
    train::Trainer& t = s.trainer;
    t.resume();
    EXPECT_EQ(t.step(), 1);
    EXPECT_TRUE(t.run());
    second = t.step_losses();
  }
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 11u);
  EXPECT_EQ(first[0], full[0]);
  for (size_t i = 0; i < 11; ++i) EXPECT_EQ(second[i], full[1 + i]) << "step " << 1 + i;
  fs::remove_all(a);
  fs::remove_all(b);
}

// A kill during a save, at each of its phases: the staged checkpoint is
// thrown away before it is complete and moved in the rest of the way after;
// either way the run resumes at one consistent step. Log lines past the
// resumed step and stale temp files go.
TEST(Checkpoint, AKilledSaveIsUndoneOrFinishedOnResume) {
  const std::string ahead = tmpdir("kill_ahead"), dir = tmpdir("kill_run");
  {
    GptRun a(tcfg(10), ahead);  // checkpoints at 5 and 10
    a.trainer.run();
    GptRun b(tcfg(5), dir);     // checkpoint at 5
    b.trainer.run();
  }
  auto int_field = [](const std::string& path, const char* k) { return io::read_json(path)[k].get<int64_t>(); };
  const std::string staging = dir + "/.checkpoint.new";
  {  // killed while writing the staged files: no COMPLETE marker
    fs::create_directories(staging);
    std::ofstream(staging + "/model.safetensors") << "half a file";
    std::ofstream(dir + "/.optimizer.safetensors.tmp-999-0") << "a torn temp file";
    GptRun s(tcfg(10), dir);
    ASSERT_NO_THROW(s.trainer.resume());
    EXPECT_EQ(s.trainer.step(), 5);
    EXPECT_FALSE(fs::exists(staging));
    EXPECT_FALSE(fs::exists(dir + "/.optimizer.safetensors.tmp-999-0"));
  }
  {  // killed while moving a complete checkpoint in: model already moved, the rest not
    fs::create_directories(staging);
    for (const char* f : {"optimizer.safetensors", "config.json", "trainer_state.json"})
      fs::copy_file(ahead + "/" + f, staging + "/" + f);
    fs::copy_file(ahead + "/model.safetensors", dir + "/model.safetensors", fs::copy_options::overwrite_existing);
    std::ofstream(staging + "/COMPLETE") << "10\n";
    // The killed run had also logged step 10 (and a torn line) before dying.
    std::ofstream(dir + "/log.jsonl", std::ios::app) << "{\"step\": 10, \"train_loss\": 1}\n{\"step\": 1";
    GptRun s(tcfg(10), dir);
    ASSERT_NO_THROW(s.trainer.resume());
    EXPECT_EQ(s.trainer.step(), 10);
    EXPECT_FALSE(fs::exists(staging));
    EXPECT_EQ(int_field(dir + "/trainer_state.json", "step"), 10);
  }
  {  // a checkpoint at step 5 with a log that ran to 10: the lines past 5 leave the file
    fs::remove_all(dir);
    GptRun b(tcfg(5), dir);
    b.trainer.run();
    fs::copy_file(ahead + "/log.jsonl", dir + "/log.jsonl", fs::copy_options::overwrite_existing);
    GptRun s(tcfg(10), dir);
    s.trainer.resume();
    std::ifstream log(dir + "/log.jsonl");
    int lines = 0;
    for (std::string line; std::getline(log, line);) {
      ++lines;
      EXPECT_LE(nlohmann::json::parse(line)["step"].get<int64_t>(), 5) << line;
    }
    EXPECT_EQ(lines, 2);  // steps 0 and 5
    s.trainer.run();
    std::ifstream again(dir + "/log.jsonl");
    std::vector<int64_t> steps;
    for (std::string line; std::getline(again, line);) steps.push_back(nlohmann::json::parse(line)["step"]);
    EXPECT_EQ(steps, (std::vector<int64_t>{0, 5, 10})) << "no step logged twice";
  }
  fs::remove_all(ahead);
  fs::remove_all(dir);
}
