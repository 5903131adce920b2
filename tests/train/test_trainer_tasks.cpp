// The trainer is model-agnostic: a task that is not a language model trains,
// saves and resumes exactly through the same loop; optimizer state is keyed
// by parameter name (frozen parameters get none); the data fingerprint is
// checked on resume; checkpoints written before these changes still resume.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "qkv/data/fingerprint.h"
#include "qkv/io/json.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/gpt.h"
#include "qkv/models/registry.h"
#include "qkv/nn/layers.h"
#include "qkv/nn/param_groups.h"
#include "qkv/ops/ops.h"
#include "qkv/train/trainer.h"

using namespace qkv;
namespace fs = std::filesystem;

namespace {

std::string tmpdir(const std::string& name) {
  std::string d = (fs::temp_directory_path() / ("qkv_tasks_" + name + "_" + std::to_string(::getpid()))).string();
  fs::remove_all(d);
  return d;
}

// Linear regression y = x·w* as a "model family" of its own.
class Regressor : public models::Model {
 public:
  Regressor(int64_t n, Generator& gen) : n_(n) { lin = register_module("lin", std::make_shared<nn::Linear>(n, 1, true, gen)); }
  std::string model_type() const override { return "test_regressor"; }
  nlohmann::json config_json() const override { return {{"model_type", "test_regressor"}, {"n", n_}}; }
  std::shared_ptr<nn::Linear> lin;

 private:
  int64_t n_;
};

// Random x; labels from fixed weights; an epoch is 5 batches (the cursor
// counts them), to exercise epochs in the cursor.
class RegressionTask : public train::Task {
 public:
  explicit RegressionTask(Regressor& m) : m_(m) {}
  models::Model& model() override { return m_; }
  data::Batch train_batch(int64_t b, data::DataCursor& cursor, Generator& gen) override {
    if (++cursor.position == 5) cursor = {cursor.epoch + 1, 0, cursor.rng_state};
    return make(b, gen);
  }
  data::Batch eval_batch(train::Split, int64_t b, Generator& gen) override { return make(b, gen); }
  Tensor loss(const data::Batch& b, Generator&) override {
    return mse_loss(m_.lin->forward(b.extra.at("x")), b.extra.at("y"));
  }

 private:
  data::Batch make(int64_t b, Generator& gen) const {
    data::Batch out;
    Tensor x = randn({b, 4}, gen);
    out.extra["x"] = x;
    out.extra["y"] = matmul(x, tensor({0.5f, -1.0f, 2.0f, 0.25f}, {4, 1}));
    out.input_ids = Tensor::empty({b, 1}, DType::Int64);
    return out;
  }
  Regressor& m_;
};

train::TrainConfig tcfg(int64_t iters) {
  train::TrainConfig t;
  t.batch_size = 8;
  t.max_iters = iters;
  t.eval_interval = 4;
  t.eval_iters = 2;
  t.warmup_iters = 1;
  t.lr_decay_iters = 40;
  t.lr = 0.1f;
  t.min_lr = 0.01f;
  t.log_interval = 1000;
  return t;
}

struct RegressionRun {
  Generator gen;
  Regressor model;
  RegressionTask task;
  train::Trainer trainer;
  RegressionRun(const train::TrainConfig& tc, const std::string& dir, uint64_t seed = 1)
      : gen(seed), model(4, gen), task(model), trainer(task, tc, dir) {}
};

}  // namespace

TEST(TrainerTasks, AnotherModelFamilyTrainsResumesAndLoadsByModelType) {
  const std::string a = tmpdir("reg_full"), b = tmpdir("reg_split");
  std::vector<float> full, first, second;
  {
    RegressionRun r(tcfg(32), a);
    EXPECT_TRUE(r.trainer.run());
    full = r.trainer.step_losses();
    EXPECT_LT(r.trainer.evals().back().val_loss, 0.1f * r.trainer.evals().front().val_loss);
    EXPECT_EQ(r.trainer.data_cursor().epoch, 6);  // 32 batches, 5 per epoch
    EXPECT_EQ(r.trainer.data_cursor().position, 2);
  }
  {
    RegressionRun r(tcfg(7), b);
    r.trainer.run();
    first = r.trainer.step_losses();
  }
  {
    RegressionRun r(tcfg(32), b, 77);
    r.trainer.resume();
    EXPECT_EQ(r.trainer.data_cursor().epoch, 1);
    EXPECT_EQ(r.trainer.data_cursor().position, 2);
    r.trainer.run();
    second = r.trainer.step_losses();
  }
  ASSERT_EQ(first.size() + second.size(), full.size());
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i], full[i]) << i;
  for (size_t i = 0; i < second.size(); ++i) EXPECT_EQ(second[i], full[first.size() + i]) << first.size() + i;

  // The registry loads it once the family is registered, and names the
  // known ones when it is not.
  try {
    models::load_model(a);
    ADD_FAILURE();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown model_type \"test_regressor\" (known: \"bert\", \"gpt\""), std::string::npos)
        << e.what();
  }
  models::register_model_type("test_regressor", [](const nlohmann::json& j, Generator& g) {
    return std::unique_ptr<models::Model>(new Regressor(j.at("n").get<int64_t>(), g));
  });
  std::unique_ptr<models::Model> m = models::load_model(a);
  EXPECT_EQ(m->model_type(), "test_regressor");
  EXPECT_THROW(models::load_model_as<models::GPT>(a, "qkv generate"), ValueError);
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(TrainerTasks, OptimizerStateIsKeyedByNameAndFrozenParametersHaveNone) {
  const std::string dir = tmpdir("frozen");
  RegressionRun r(tcfg(4), dir);
  r.model.lin->bias.requires_grad_(false);  // frozen
  const std::vector<float> bias = r.model.lin->bias.to_vector();
  // A new trainer sees the frozen flag (its optimizer is built from the model).
  train::Trainer t(r.task, tcfg(4), dir);
  t.run();
  EXPECT_EQ(r.model.lin->bias.to_vector(), bias);
  io::NamedTensors st = io::load_safetensors(dir + "/optimizer.safetensors");
  std::set<std::string> names;
  for (auto& [n, _] : st.tensors) names.insert(n);
  EXPECT_TRUE(names.count("exp_avg.lin.weight"));
  EXPECT_TRUE(names.count("step.lin.weight"));
  EXPECT_FALSE(names.count("exp_avg.lin.bias"));
  fs::remove_all(dir);
}

TEST(TrainerTasks, ResumeChecksTheDataFingerprint) {
  const std::string dir = tmpdir("fp"), data = tmpdir("fp_data.txt"), other = tmpdir("fp_other.txt");
  std::ofstream(data) << "first corpus";
  std::ofstream(other) << "other corpus!";
  {
    RegressionRun r(tcfg(4), dir);
    r.trainer.set_data_fingerprint(data::file_fingerprint(data));
    r.trainer.run();
  }
  auto fp = io::read_json(dir + "/trainer_state.json")["data_fingerprint"];
  EXPECT_EQ(fp["bytes"].get<int64_t>(), 12);
  EXPECT_EQ(fp["fnv1a64"].get<std::string>().size(), 16u);
  {
    RegressionRun r(tcfg(8), dir);
    r.trainer.set_data_fingerprint(data::file_fingerprint(other));
    try {
      r.trainer.resume();
      ADD_FAILURE();
    } catch (const ValueError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("fp_data.txt_" + std::to_string(::getpid()) + " (12 bytes"), std::string::npos) << m;
      EXPECT_NE(m.find("fp_other.txt_" + std::to_string(::getpid()) + " (13 bytes"), std::string::npos) << m;
      EXPECT_NE(m.find("--allow-new-data"), std::string::npos) << m;
    }
    EXPECT_NO_THROW(r.trainer.resume(/*allow_new_data=*/true));
  }
  {  // the same bytes under another name are the same data
    fs::copy_file(data, other, fs::copy_options::overwrite_existing);
    RegressionRun r(tcfg(8), dir);
    r.trainer.set_data_fingerprint(data::file_fingerprint(other));
    EXPECT_NO_THROW(r.trainer.resume());
  }
  EXPECT_THROW(data::file_fingerprint(dir + "/nope.txt"), IOError);
  // A parallel corpus: both files, in order; a change in either is new data.
  const auto pair = data::files_fingerprint({data, other});
  EXPECT_TRUE(data::same_data(pair, data::files_fingerprint({data, other})));
  EXPECT_FALSE(data::same_data(pair, data::files_fingerprint({data})));
  EXPECT_FALSE(data::same_data(pair, data::file_fingerprint(data)));
  std::ofstream(other) << "changed";
  EXPECT_FALSE(data::same_data(pair, data::files_fingerprint({data, other})));
  EXPECT_NE(data::describe_fingerprint(pair).find(" + "), std::string::npos);
  fs::remove_all(dir);
  fs::remove(data);
  fs::remove(other);
}

// A GPT checkpoint in the format written before this change (optimizer
// state keyed by flat index in the old group order, "data_rng" instead of
// "data_cursor", no decay_embeddings in the trainer config) resumes and
// continues exactly as the uninterrupted run.
TEST(TrainerTasks, CheckpointsFromBeforeTheRefactorResumeExactly) {
  models::GPTConfig c;
  c.vocab_size = 5, c.n_layer = 1, c.n_head = 2, c.n_embd = 16, c.block_size = 8;
  std::vector<int64_t> tokens(600);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int64_t>(i % 5);
  train::TrainConfig tc = tcfg(10);
  tc.batch_size = 4;
  tc.decay_embeddings = false;  // what the old trainer did
  auto run = [&](const std::string& dir, int64_t iters, bool resume, uint64_t seed) {
    Generator gen(seed);
    models::GPT m(c, gen);
    train::CausalLMTask task(m, tokens, c.block_size, tc.val_fraction);
    train::TrainConfig t = tc;
    t.max_iters = iters;
    train::Trainer trainer(task, t, dir);
    if (resume) trainer.resume();
    trainer.run();
    return trainer.step_losses();
  };
  const std::string a = tmpdir("old_full"), b = tmpdir("old_split");
  const std::vector<float> full = run(a, 10, false, 1);
  run(b, 5, false, 1);
  {  // rewrite b's checkpoint in the old format
    Generator gen(1);
    models::GPT m(c, gen);
    std::vector<std::string> order;  // the old flat index order
    for (const ParamGroup& g : nn::decay_groups(m, 0.1f, false))
      for (const std::string& n : g.names) order.push_back(n);
    io::NamedTensors st = io::load_safetensors(b + "/optimizer.safetensors");
    for (auto& [name, t] : st.tensors)
      for (size_t i = 0; i < order.size(); ++i)
        for (const char* kind : {"step.", "exp_avg.", "exp_avg_sq."})
          if (name == kind + order[i]) name = kind + std::to_string(i);
    io::save_safetensors(b + "/optimizer.safetensors", st.tensors, st.metadata);
    nlohmann::json s = io::read_json(b + "/trainer_state.json");
    s["data_rng"] = s["data_cursor"]["rng_state"];
    s.erase("data_cursor");
    s["train_config"].erase("decay_embeddings");
    io::write_json_atomic(b + "/trainer_state.json", s);
  }
  const std::vector<float> rest = run(b, 10, true, 5);
  ASSERT_EQ(rest.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(rest[i], full[5 + i]) << "step " << 5 + i;
  fs::remove_all(a);
  fs::remove_all(b);
}
