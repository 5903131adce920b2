// BERT directories in Hugging Face's form (models/hf.h, hf_bert.cpp): the
// PyTorch fixture's weights (tests/fixtures/bert) stored as the Hub stores
// them — transformers' config keys, the tied decoder written out, the
// position_ids buffer, heads the architecture does not use, a BertModel
// without the "bert." prefix — load through models::load_model and give the
// fixture's outputs; export writes a directory that loads back tensor for
// tensor; and configs qkv cannot honour fail naming the field.
#include <gtest/gtest.h>

#include <filesystem>

#include "io/io_test_util.h"
#include "qkv/autograd/autograd.h"
#include "qkv/io/json.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/bert.h"
#include "qkv/models/hf.h"
#include "qkv/models/registry.h"
#include "qkv/ops/ops.h"
#include "support/compare.h"

using namespace qkv;
using qkv::testing::expect_error;
using qkv::testing::max_abs_diff;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kFixture = std::string(QKV_TEST_FIXTURES) + "/bert/bert_tiny_pretraining.safetensors";

struct Fixture {
  io::NamedTensors fx = io::load_safetensors(kFixture);
  json config = json::parse(fx.metadata.at("config"));
  models::BertInputs in{fx.at("input.input_ids"), fx.at("input.token_type_ids"), fx.at("input.attention_mask")};
  std::vector<std::pair<std::string, Tensor>> params() const {
    std::vector<std::pair<std::string, Tensor>> out;
    for (const auto& [name, t] : fx.tensors)
      if (name.rfind("param.", 0) == 0) out.emplace_back(name.substr(6), t);
    return out;
  }
};

// config.json with the keys transformers writes besides the model's.
json hub_config(json c, const std::string& architecture) {
  c["architectures"] = {architecture};
  c["transformers_version"] = "4.46.0";
  c["torch_dtype"] = "float32";
  c["_name_or_path"] = "tiny-bert";
  c["gradient_checkpointing"] = false;
  c["position_embedding_type"] = "absolute";
  c["use_cache"] = true;
  c["classifier_dropout"] = nullptr;
  c["id2label"] = {{"0", "LABEL_0"}, {"1", "LABEL_1"}};  // HF writes these for every head
  return c;
}

void write_dir(const std::string& dir, const json& config, const std::vector<std::pair<std::string, Tensor>>& tensors) {
  fs::create_directories(dir);
  io::write_json_atomic(dir + "/config.json", config);
  io::save_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
}

// The fixture's parameters plus what a Hub checkpoint carries on top.
std::vector<std::pair<std::string, Tensor>> hub_tensors(const Fixture& f) {
  auto t = f.params();
  t.emplace_back("cls.predictions.decoder.weight", f.fx.at("param.bert.embeddings.word_embeddings.weight"));
  t.emplace_back("cls.predictions.decoder.bias", f.fx.at("param.cls.predictions.bias"));
  t.emplace_back("bert.embeddings.position_ids", arange(16).reshape({1, 16}));
  return t;
}

}  // namespace

TEST(HfBert, PreTrainingDirectoryLoadsAsItIs) {
  qkv::testing::ScratchDir dir;
  Fixture f;
  write_dir(dir.path + "/m", hub_config(f.config, "BertForPreTraining"), hub_tensors(f));
  auto m = models::load_model_as<models::Bert>(dir.path + "/m");
  NoGradGuard ng;
  Generator gen(0);
  Tensor h = m->hidden(f.in, gen);
  EXPECT_LE(max_abs_diff(m->mlm_logits(h), f.fx.at("output.mlm_logits")), 1e-5f);
  EXPECT_LE(max_abs_diff(m->nsp_logits(m->pooled(h)), f.fx.at("output.nsp_logits")), 1e-5f);
}

TEST(HfBert, HeadsTheArchitectureLacksAreIgnored) {
  qkv::testing::ScratchDir dir;
  Fixture f;
  // bert-base-uncased's layout: a BertForMaskedLM whose file also has the pooler and NSP head.
  write_dir(dir.path + "/mlm", hub_config(f.config, "BertForMaskedLM"), hub_tensors(f));
  auto mlm = models::load_model_as<models::Bert>(dir.path + "/mlm");
  EXPECT_EQ(mlm->config.head, models::BertHead::MaskedLM);
  EXPECT_EQ(mlm->bert->pooler, nullptr);
  NoGradGuard ng;
  Generator gen(0);
  EXPECT_LE(max_abs_diff(mlm->mlm_logits(mlm->hidden(f.in, gen)), f.fx.at("output.mlm_logits")), 1e-5f);
  // A BertModel: names without "bert.", the MLM head ignored.
  std::vector<std::pair<std::string, Tensor>> base;
  for (auto& [name, t] : hub_tensors(f)) base.emplace_back(name.rfind("bert.", 0) == 0 ? name.substr(5) : name, t);
  write_dir(dir.path + "/base", hub_config(f.config, "BertModel"), base);
  auto enc = models::load_model_as<models::Bert>(dir.path + "/base");
  EXPECT_LE(max_abs_diff(enc->hidden(f.in, gen), mlm->hidden(f.in, gen)), 0.0f);
}

TEST(HfBert, ExportLoadsBackTensorForTensor) {
  qkv::testing::ScratchDir dir;
  for (auto head : {models::BertHead::PreTraining, models::BertHead::None, models::BertHead::TokenClassification}) {
    models::BertConfig c;
    c.vocab_size = 30, c.hidden_size = 16, c.num_attention_heads = 2, c.num_hidden_layers = 1;
    c.intermediate_size = 24, c.max_position_embeddings = 12, c.head = head;
    if (head == models::BertHead::TokenClassification) c.labels = {"O", "B-X", "I-X"};
    Generator gen(2);
    models::Bert m(c, gen);
    const std::string out = dir.path + "/" + models::bert_head_name(head);
    models::export_hf(m, out);
    const json written = io::read_json(out + "/config.json");
    EXPECT_EQ(written["architectures"][0], models::bert_head_name(head));
    EXPECT_EQ(written["is_decoder"], false);
    const auto file = io::load_safetensors(out + "/model.safetensors");
    const std::string first = file.tensors.front().first;
    EXPECT_EQ(first.rfind("bert.", 0) == 0, head != models::BertHead::None) << first;  // BertModel: no prefix
    auto back = models::load_model_as<models::Bert>(out);
    EXPECT_EQ(back->config, m.config);
    auto a = m.state_dict(), b = back->state_dict();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(max_abs_diff(a[i].second, b[i].second), 0.0f) << a[i].first;
  }
}

TEST(HfBert, WhatQkvCannotHonourIsRefusedByField) {
  qkv::testing::ScratchDir dir;
  Fixture f;
  auto refuse = [&](const std::string& name, json config, std::vector<std::pair<std::string, Tensor>> tensors,
                    std::initializer_list<std::string> words) {
    write_dir(dir.path + "/" + name, config, tensors);
    expect_error<ValueError>([&] { models::load_model(dir.path + "/" + name); }, words);
  };
  json c = hub_config(f.config, "BertForPreTraining");
  json dec = c;
  dec["is_decoder"] = true;
  refuse("decoder", dec, hub_tensors(f), {"config.json", "is_decoder"});
  json rel = c;
  rel["position_embedding_type"] = "relative_key";
  refuse("relative", rel, hub_tensors(f), {"position_embedding_type", "relative_key"});
  json reg = hub_config(f.config, "BertForSequenceClassification");
  reg["problem_type"] = "regression";
  refuse("regression", reg, hub_tensors(f), {"problem_type", "regression"});
  auto untied = hub_tensors(f);
  for (auto& [name, t] : untied)
    if (name == "cls.predictions.decoder.weight") t = add(t, 1.0f);
  refuse("untied", c, untied, {"cls.predictions.decoder.weight", "differs"});
  auto missing = f.params();
  missing.erase(missing.begin() + 3);
  refuse("missing", c, missing, {"model.safetensors", "missing"});
}
