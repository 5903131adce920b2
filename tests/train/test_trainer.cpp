// The trainer: learning, exact resume, checkpoints and their errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "qkv/io/json.h"
#include "qkv/train/checkpoint.h"
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

}  // namespace

TEST(Trainer, LearnsAPeriodicSequence) {
  std::string dir = tmpdir("learn");
  Generator gen(1);
  models::GPT m(cfg(), gen);
  train::TrainConfig tc = tcfg(60);
  tc.lr = 1e-2f;
  tc.min_lr = 1e-3f;
  tc.lr_decay_iters = 60;
  tc.eval_interval = 20;
  train::Trainer t(m, tc, corpus(), dir);
  t.run();
  ASSERT_FALSE(t.evals().empty());
  EXPECT_LT(t.evals().back().val_loss, 0.5f * t.evals().front().val_loss);
  for (const char* f : {"config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json",
                        "log.jsonl", "loss.svg", "best/model.safetensors", "best/config.json"})
    EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
  auto loaded = train::load_model(dir);
  EXPECT_EQ(loaded->config, m.config);
  fs::remove_all(dir);
}

TEST(Trainer, ResumeReproducesTheUninterruptedRun) {
  std::string a = tmpdir("full"), b = tmpdir("split");
  std::vector<float> full;
  {
    Generator gen(1);
    models::GPT m(cfg(), gen);
    train::Trainer t(m, tcfg(20), corpus(), a);
    t.run();
    full = t.step_losses();
  }
  std::vector<float> first, second;
  {
    Generator gen(1);
    models::GPT m(cfg(), gen);
    train::Trainer t(m, tcfg(10), corpus(), b);
    t.run();
    first = t.step_losses();
  }
  {
    Generator gen(99);  // different init: everything must come from the checkpoint
    models::GPT m(cfg(), gen);
    train::Trainer t(m, tcfg(20), corpus(), b);
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
  Generator gen(1);
  models::GPT m(cfg(), gen);
  EXPECT_THROW(train::Trainer(m, tcfg(5), corpus(12), dir), ValueError);  // shorter than block_size + 1
  EXPECT_THROW(train::Trainer(m, tcfg(5), {0, 1, 7, 2}, dir), ValueError);  // id outside the vocabulary
  train::TrainConfig bad = tcfg(5);
  bad.batch_size = 0;
  EXPECT_THROW(train::Trainer(m, bad, corpus(), dir), ValueError);
  EXPECT_FALSE(fs::exists(dir));
}

TEST(Trainer, ResumeRejectsAnotherConfigAndInterruptedSaves) {
  std::string dir = tmpdir("resume_bad");
  {
    Generator gen(1);
    models::GPT m(cfg(), gen);
    train::Trainer t(m, tcfg(5), corpus(), dir);
    t.run();
  }
  {  // another model shape
    models::GPTConfig c2 = cfg();
    c2.n_embd = 32;
    Generator gen(1);
    models::GPT m(c2, gen);
    train::Trainer t(m, tcfg(10), corpus(), dir);
    EXPECT_THROW(t.resume(), ValueError);
  }
  {  // another learning rate
    Generator gen(1);
    models::GPT m(cfg(), gen);
    train::TrainConfig tc = tcfg(10);
    tc.lr = 1e-2f;
    train::Trainer t(m, tc, corpus(), dir);
    EXPECT_THROW(t.resume(), ValueError);
  }
  {  // trainer_state.json claims another step than the safetensors files
    nlohmann::json st = io::read_json(dir + "/trainer_state.json");
    st["step"] = 3;
    io::write_json_atomic(dir + "/trainer_state.json", st);
    Generator gen(1);
    models::GPT m(cfg(), gen);
    train::Trainer t(m, tcfg(10), corpus(), dir);
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
  train::save_model(dir, m, 0);
  EXPECT_NO_THROW(train::load_model(dir));
  {  // config whose shapes disagree with the weights
    nlohmann::json j = m.config.to_json();
    j["n_embd"] = 32;
    io::write_json_atomic(dir + "/config.json", j);
    try {
      train::load_model(dir);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos) << e.what();
    }
    io::write_json_atomic(dir + "/config.json", m.config.to_json());
  }
  {  // truncated weights
    fs::resize_file(dir + "/model.safetensors", fs::file_size(dir + "/model.safetensors") - 10);
    EXPECT_THROW(train::load_model(dir), Error);
  }
  fs::remove(dir + "/model.safetensors");
  try {
    train::load_model(dir);
    ADD_FAILURE();
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("missing model.safetensors"), std::string::npos) << e.what();
  }
  EXPECT_THROW(train::load_model(dir + "/nope"), IOError);
  fs::remove_all(dir);
}

// A stop request (SIGINT/SIGTERM in the CLI) keeps every finished step: the
// checkpoint holds the step reached, and resuming gives the uninterrupted
// run's losses exactly.
TEST(Trainer, StopKeepsTheWorkAndResumesExactly) {
  std::string a = tmpdir("nostop"), b = tmpdir("stopped");
  std::vector<float> full, first, second;
  {
    Generator gen(1);
    models::GPT m(cfg(), gen);
    train::Trainer t(m, tcfg(12), corpus(), a);
    EXPECT_TRUE(t.run());
    full = t.step_losses();
  }
  {
    Generator gen(1);
    models::GPT m(cfg(), gen);
    train::Trainer t(m, tcfg(12), corpus(), b);
    std::atomic<bool> stop{true};  // requested before the first step ends
    t.set_stop_flag(&stop);
    EXPECT_FALSE(t.run());
    EXPECT_EQ(t.step(), 1);
    first = t.step_losses();
  }
  {
    Generator gen(99);
    models::GPT m(cfg(), gen);
    train::Trainer t(m, tcfg(12), corpus(), b);
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
