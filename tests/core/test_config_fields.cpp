// config::Table (qkv/core/config_fields.h) on a toy config, then on the two
// real ones: GPTConfig and TrainConfig keep their keys, defaults and errors.
#include <gtest/gtest.h>

#include <string>

#include "qkv/core/config_fields.h"
#include "qkv/models/gpt_config.h"
#include "qkv/train/train_config.h"

using namespace qkv;
using nlohmann::json;

namespace {

struct Toy {
  int64_t n_layer = 4;
  uint64_t seed = 7;
  float lr = 0.5f;
  bool bias = true;
  std::string act = "gelu";
};

const config::Table<Toy>& toy() {
  using config::field;
  static const config::Table<Toy> t("toy config", {
      field("n_layer", &Toy::n_layer, "Blocks").above(0),
      field("seed", &Toy::seed, "Seed"),
      field("lr", &Toy::lr, "Learning rate").above(0).at_most(1).alias("learning_rate"),
      field("bias", &Toy::bias, "Biases"),
      field("act", &Toy::act, "Activation").one_of({"gelu", "relu", "silu"}),
  });
  return t;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ValueError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(ConfigFields, RoundTripsThroughJson) {
  Toy a;
  a.n_layer = 9;
  a.seed = 1ull << 40;
  a.lr = 0.25f;
  a.bias = false;
  a.act = "silu";
  const json j = toy().to_json(a);
  EXPECT_EQ(j["n_layer"], 9);
  EXPECT_EQ(j["act"], "silu");
  const Toy b = toy().from_json(j);
  EXPECT_TRUE(toy().diff(a, b).empty());
  // Missing keys keep their defaults; aliases are accepted; 1000.0 is an integer.
  const Toy c = toy().from_json(json{{"learning_rate", 0.125}, {"n_layer", 1000.0}});
  EXPECT_EQ(c.lr, 0.125f);
  EXPECT_EQ(c.n_layer, 1000);
  EXPECT_EQ(c.seed, 7u);
}

TEST(ConfigFields, ErrorsNameTheFieldAndSuggest) {
  EXPECT_EQ(error_of([] { toy().from_json(json{{"n_layers", 2}}); }),
            "toy config: unknown field \"n_layers\" (did you mean \"n_layer\"?)");
  // An alias' misspelling suggests the canonical key.
  EXPECT_EQ(error_of([] { toy().from_json(json{{"learning_rat", 2}}); }),
            "toy config: unknown field \"learning_rat\" (did you mean \"lr\"?)");
  EXPECT_EQ(error_of([] { toy().from_json(json{{"zzzzzzzz", 2}}); }), "toy config: unknown field \"zzzzzzzz\"");
  EXPECT_EQ(error_of([] { toy().from_json(json{{"n_layer", 2.5}}); }),
            "toy config: field \"n_layer\" must be an integer, got 2.5");
  EXPECT_EQ(error_of([] { toy().from_json(json{{"seed", -1}}); }),
            "toy config: field \"seed\" must be a non-negative integer, got -1");
  EXPECT_EQ(error_of([] { toy().from_json(json{{"bias", 1}}); }), "toy config: field \"bias\" must be true or false, got 1");
  EXPECT_EQ(error_of([] { toy().from_json(json{{"lr", "x"}}); }), "toy config: field \"lr\" must be a number, got \"x\"");
  EXPECT_EQ(error_of([] { toy().from_json(json{{"lr", 0.1}, {"learning_rate", 0.2}}); }),
            "toy config: field \"lr\" given twice (as \"learning_rate\" and \"lr\")");
  EXPECT_EQ(error_of([] { toy().from_json(json::array()); }), "toy config: expected a JSON object");
}

TEST(ConfigFields, ValidatesBoundsAndChoices) {
  Toy t;
  EXPECT_NO_THROW(toy().validate(t));
  t.n_layer = 0;
  EXPECT_EQ(error_of([&] { toy().validate(t); }), "toy config: n_layer must be > 0, got 0");
  t = Toy{};
  t.lr = 2;
  EXPECT_EQ(error_of([&] { toy().validate(t); }), "toy config: lr must be in (0, 1], got 2");
  t.lr = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(error_of([&] { toy().validate(t); }).find("lr must be a finite number"), std::string::npos);
  t = Toy{};
  t.act = "tanh";
  EXPECT_EQ(error_of([&] { toy().validate(t); }),
            "toy config: act must be \"gelu\", \"relu\" or \"silu\", got \"tanh\"");
}

TEST(ConfigFields, DiffListsFieldsWithBothValues) {
  Toy a, b;
  b.lr = 0.25f;
  b.act = "relu";
  auto d = toy().diff(a, b);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].key, "lr");
  EXPECT_EQ(d[0].a, "0.5");
  EXPECT_EQ(d[0].b, "0.25");
  EXPECT_EQ(config::describe(d), "lr 0.5 → 0.25, act gelu → relu");
}

TEST(ConfigFields, GPTConfigKeepsItsKeysAndErrors) {
  const json j = models::GPTConfig{}.to_json();
  for (const char* k : {"model_type", "vocab_size", "n_layer", "n_head", "n_embd", "block_size", "dropout", "bias",
                        "activation", "pos_encoding", "sinusoidal_base", "rope_theta", "rope_dim", "rope_layout",
                        "rope_scaling", "rope_scaling_factor", "t5_num_buckets", "t5_max_distance",
                        "relative_max_distance"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j.size(), 19u);
  EXPECT_EQ(models::GPTConfig::from_json(j), models::GPTConfig{});
  EXPECT_NE(error_of([] { models::GPTConfig::from_json(json{{"n_layers", 2}}); }).find("did you mean \"n_layer\""),
            std::string::npos);
  EXPECT_NE(error_of([] { models::GPTConfig::from_json(json{{"model_type", "bert"}}); }).find("model_type"),
            std::string::npos);
  EXPECT_NE(error_of([] { models::GPTConfig::from_json(json{{"n_head", 3}}); }).find("divisible"), std::string::npos);
  EXPECT_NE(error_of([] { models::GPTConfig::from_json(json{{"dropout", 1.5}}); }).find("dropout must be in [0, 1)"),
            std::string::npos);
}

TEST(ConfigFields, TrainConfigKeepsItsKeysFlagNamesAndAliases) {
  const json j = train::TrainConfig{}.to_json();
  EXPECT_EQ(j.size(), 21u);
  EXPECT_EQ(train::TrainConfig::from_json(j), train::TrainConfig{});
  EXPECT_EQ(j["lr_schedule"], "cosine");
  EXPECT_EQ(error_of([] { train::TrainConfig::from_json(json{{"lr_schedule", "cubic"}}).validate(); }),
            "--lr-schedule must be \"cosine\", \"linear\" or \"noam\", got \"cubic\"");
  train::TrainConfig c = train::TrainConfig::from_json(json{{"learning_rate", 6e-4}, {"gradient_accumulation_steps", 5}});
  EXPECT_EQ(c.lr, 6e-4f);
  EXPECT_EQ(c.grad_accum, 5);
  c.batch_size = 0;
  EXPECT_EQ(error_of([&] { c.validate(); }), "--batch-size must be > 0, got 0");
  c = train::TrainConfig{};
  c.min_lr = 1;
  EXPECT_NE(error_of([&] { c.validate(); }).find("--min-lr"), std::string::npos);
  c = train::TrainConfig{};
  c.lr_schedule = "noam";
  c.warmup_iters = 0;
  EXPECT_EQ(error_of([&] { c.validate(); }), "--warmup-iters must be >= 1 with --lr-schedule noam, got 0");
  c.warmup_iters = 100, c.lr_decay_iters = 10;  // noam has no decay end
  EXPECT_NO_THROW(c.validate());
  c = train::TrainConfig{};
  c.lr_decay_iters = 10;
  EXPECT_NE(error_of([&] { c.validate(); }).find("--lr-decay-iters"), std::string::npos);
  auto d = train::TrainConfig::fields().diff(train::TrainConfig{}, c);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(config::describe(d), "lr_decay_iters 2000 → 10");
}
