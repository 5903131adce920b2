// LoRA (models/lora.h, nn::Linear::add_lora): the adapter's formula, frozen
// bases, merge/unmerge, the targets of each family, and PEFT's format both
// ways — an adapter written by PyTorch in PEFT's layout
// (tests/fixtures/hf/make_hf_fixture.py, gpt2_lora/) gives its logits here,
// and the files qkv writes hold the same names and values.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "io/io_test_util.h"
#include "qkv/autograd/autograd.h"
#include "qkv/io/json.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/gpt.h"
#include "qkv/models/llama.h"
#include "qkv/models/lora.h"
#include "qkv/models/registry.h"
#include "qkv/nn/param_groups.h"
#include "qkv/ops/ops.h"
#include "qkv/optim/adam.h"
#include "support/compare.h"

using namespace qkv;
using qkv::testing::expect_error;
using qkv::testing::max_abs_diff;
namespace fs = std::filesystem;

namespace {

const std::string kHf = std::string(QKV_TEST_FIXTURES) + "/hf";

models::GPTConfig tiny_gpt() {
  models::GPTConfig c;
  c.vocab_size = 17, c.n_layer = 2, c.n_head = 2, c.n_embd = 16, c.block_size = 8;
  return c;
}

}  // namespace

TEST(LoraConfig, ParsesTheFlagAndNamesBadParts) {
  const auto c = models::LoraConfig::parse("r=4,alpha=8,targets=q,v,o");
  EXPECT_EQ(c.r, 4);
  EXPECT_FLOAT_EQ(c.alpha, 8.0f);
  EXPECT_EQ(c.targets, (std::vector<std::string>{"q", "v", "o"}));
  EXPECT_EQ(models::LoraConfig::parse("targets=c_attn,r=2").r, 2);
  expect_error<ValueError>([] { models::LoraConfig::parse("r=0"); }, {"r must be >= 1"});
  expect_error<ValueError>([] { models::LoraConfig::parse("r=eight"); }, {"r = \"eight\""});
  expect_error<ValueError>([] { models::LoraConfig::parse("rank=8"); }, {"unknown key \"rank\""});
  expect_error<ValueError>([] { models::LoraConfig::parse("alpha=-1"); }, {"alpha must be > 0"});
  expect_error<ValueError>([] { models::LoraConfig::parse("r=4,q"); }, {"expected key=value"});
}

TEST(LoraLinear, StartsAsTheBaseFollowsTheFormulaAndMerges) {
  Generator gen(3);
  nn::Linear l(6, 5, true, gen);
  const Tensor x = randn({4, 6}, gen);
  const Tensor base = l.forward(x).detach();
  l.add_lora(3, 6.0f, gen);
  EXPECT_EQ(max_abs_diff(l.forward(x), base), 0.0f);  // B = 0: the base model
  NoGradGuard ng;
  l.lora_B->weight.copy_(randn({5, 3}, gen));
  // h = x·Wᵀ + b + (α/r)·x·Aᵀ·Bᵀ, α/r = 2
  const Tensor want = add(base, mul(matmul(matmul(x, l.lora_A->weight.transpose(0, 1)), l.lora_B->weight.transpose(0, 1)), 2.0f));
  EXPECT_LE(max_abs_diff(l.forward(x), want), 1e-5f);
  const Tensor w0 = l.weight.clone();
  l.merge_lora();
  EXPECT_LE(max_abs_diff(l.forward(x), want), 1e-5f);  // one matmul, same output
  EXPECT_GT(max_abs_diff(l.weight, w0), 0.0f);
  expect_error<ValueError>([&] { l.merge_lora(); }, {"merged already"});
  l.unmerge_lora();
  EXPECT_LE(max_abs_diff(l.weight, w0), 1e-6f);
  expect_error<ValueError>([&] { l.add_lora(2, 1.0f, gen); }, {"has a LoRA adapter already"});
}

// PEFT's lora_dropout: h = x·Wᵀ + b + (α/r)·dropout(x)·Aᵀ·Bᵀ in training (the
// base reads x itself), the plain formula in eval; parsed, checked, and kept
// in adapter_config.json.
TEST(LoraLinear, DropoutReadsTheAdaptersInputOnlyAndOnlyInTraining) {
  Generator gen(3);
  nn::Linear l(64, 5, true, gen);
  const Tensor x = randn({8, 64}, gen);
  const Tensor base = l.forward(x).detach();
  l.add_lora(3, 6.0f, gen, 0.5f);
  NoGradGuard ng;
  l.lora_B->weight.copy_(randn({5, 3}, gen));
  auto adapter = [&](const Tensor& in) {
    return mul(matmul(matmul(in, l.lora_A->weight.transpose(0, 1)), l.lora_B->weight.transpose(0, 1)), 2.0f);
  };
  l.eval();
  EXPECT_LE(max_abs_diff(l.forward(x), add(base, adapter(x))), 1e-5f);  // eval: no dropout, gen not needed
  l.train();
  Generator g1(9), g2(9);
  const Tensor got = l.forward(x, &g1);
  const Tensor want = add(base, adapter(dropout(x, 0.5f, true, g2)));  // the same draws
  EXPECT_LE(max_abs_diff(got, want), 1e-5f);
  EXPECT_GT(max_abs_diff(got, add(base, adapter(x))), 1e-3f);  // dropout did act
  expect_error<ValueError>([&] { l.forward(x); }, {"LoRA dropout in training mode needs a generator"});
  nn::Linear other(4, 4, false, gen);
  expect_error<ValueError>([&] { other.add_lora(2, 1.0f, gen, 1.0f); }, {"dropout must be in [0, 1)"});
  const auto c = models::LoraConfig::parse("r=4,dropout=0.05,targets=q");
  EXPECT_FLOAT_EQ(c.dropout, 0.05f);
  expect_error<ValueError>([] { models::LoraConfig::parse("dropout=1.5"); }, {"dropout must be in [0, 1)"});
}

TEST(LoraModel, DropoutIsSavedAndLoadedWithTheAdapter) {
  Generator gen(5);
  models::GPT m(tiny_gpt(), gen);
  const auto cfg = models::LoraConfig::parse("r=2,alpha=4,dropout=0.1,targets=q");
  models::apply_lora(m, cfg, gen);
  const std::string dir = (fs::temp_directory_path() / ("qkv_lora_dropout_" + std::to_string(::getpid()))).string();
  models::save_peft_adapter(dir, m, cfg);
  EXPECT_NEAR(io::read_json(dir + "/adapter_config.json")["lora_dropout"].get<double>(), 0.1, 1e-7);
  models::GPT other(tiny_gpt(), gen);
  EXPECT_FLOAT_EQ(models::load_peft_adapter(dir, other, gen).dropout, 0.1f);
  m.train();
  const Tensor idx = tensor_i64({1, 2, 3, 4, 5, 6, 7, 8}, {1, 8});
  EXPECT_NO_THROW(m.forward(idx, gen));  // the blocks hand their generator to the adapters
  nlohmann::json j = io::read_json(dir + "/adapter_config.json");
  j["lora_dropout"] = 2;
  io::write_json_atomic(dir + "/adapter_config.json", j);
  models::GPT third(tiny_gpt(), gen);
  expect_error<ValueError>([&] { models::load_peft_adapter(dir, third, gen); }, {"lora_dropout", "[0, 1)"});
  fs::remove_all(dir);
}

TEST(LoraModel, AdaptsTheTargetsFreezesTheRestAndTrainsOnlyAdapters) {
  Generator gen(5);
  models::GPT m(tiny_gpt(), gen);
  const auto before = m.state_dict();
  const auto adapted = models::apply_lora(m, models::LoraConfig::parse("r=2,alpha=4,targets=q,v"), gen);
  EXPECT_EQ(adapted, (std::vector<std::string>{"h.0.attn.c_attn", "h.1.attn.c_attn"}));  // q, v: GPT's fused layer
  int64_t trainable = 0;
  for (const auto& [name, p] : m.named_parameters())
    if (p.requires_grad()) trainable += p.numel();
  EXPECT_EQ(trainable, 2 * (2 * 16 + 48 * 2));  // per layer A (r, C) + B (3C, r)
  // A few AdamW steps move only the adapters; the optimizer holds state for them alone.
  optim::AdamW opt(nn::decay_groups(m, 0.1f), 1e-2f);
  m.train();
  const Tensor idx = tensor_i64({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, {2, 8});
  const Tensor tgt = tensor_i64({2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1}, {2, 8});
  float first = 0, last = 0;
  for (int s = 0; s < 20; ++s) {
    opt.zero_grad();
    Tensor loss = models::GPT::loss(m.forward(idx, gen), tgt);
    loss.backward();
    opt.step();
    (s == 0 ? first : last) = loss.item();
  }
  EXPECT_LT(last, first);
  const auto after = m.state_dict();
  for (const auto& [name, t] : before) {
    const auto it = std::find_if(after.begin(), after.end(), [&](const auto& p) { return p.first == name; });
    ASSERT_NE(it, after.end());
    EXPECT_EQ(max_abs_diff(it->second, t), 0.0f) << name << " is frozen but moved";
  }
  int64_t state_numel = 0;
  for (const auto& [name, t] : opt.state())
    if (name.rfind("exp_avg", 0) == 0) {  // exp_avg.<param>, exp_avg_sq.<param>; step_count and lr are scalars
      EXPECT_NE(name.find("lora_"), std::string::npos) << "optimizer state for a frozen parameter: " << name;
      state_numel += t.numel();
    }
  EXPECT_EQ(state_numel, 2 * trainable);  // the paper's point: optimizer state of the adapters only
  expect_error<ValueError>([&] { models::apply_lora(m, models::LoraConfig::parse("targets=gate"), gen); },
                           {"target \"gate\"", "c_attn"});
}

TEST(LoraModel, LlamaShortNamesAreItsProjections) {
  models::LlamaConfig c;
  c.vocab_size = 11, c.hidden_size = 16, c.intermediate_size = 24, c.num_hidden_layers = 1;
  c.num_attention_heads = 4, c.num_key_value_heads = 2, c.max_position_embeddings = 8;
  Generator gen(1);
  models::Llama m(c, gen);
  EXPECT_EQ(models::apply_lora(m, models::LoraConfig::parse("targets=q,v,gate"), gen),
            (std::vector<std::string>{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                                      "model.layers.0.mlp.gate_proj"}));
  // LoRA dropout on every projection: a training forward hands each adapter the generator.
  models::Llama all(c, gen);
  models::apply_lora(all, models::LoraConfig::parse("dropout=0.1,targets=q,k,v,o,up,down,gate"), gen);
  all.train();
  const Tensor ids = tensor_i64({1, 2, 3, 4}, {1, 4});
  EXPECT_NO_THROW(all.lm_logits(ids, gen));
  models::GPT g(tiny_gpt(), gen);
  models::apply_lora(g, models::LoraConfig::parse("dropout=0.1,targets=q,o,up,down"), gen);
  g.train();
  EXPECT_NO_THROW(g.lm_logits(ids, gen));
}

TEST(LoraPeft, APeftAdapterFromPyTorchGivesItsLogits) {
  const io::NamedTensors ref = io::load_safetensors(kHf + "/reference.safetensors");
  auto m = models::load_model_as<models::GPT>(kHf + "/gpt2_f32");
  Generator gen(0);
  const models::LoraConfig c = models::load_peft_adapter(kHf + "/gpt2_lora", *m, gen);
  EXPECT_EQ(c.r, 4);
  EXPECT_EQ(c.targets, std::vector<std::string>{"c_attn"});
  NoGradGuard ng;
  EXPECT_LE(max_abs_diff(m->forward(ref.at("ids"), gen), ref.at("gpt2_f32.lora_logits")), 1e-4f);
  models::merge_lora(*m);
  EXPECT_LE(max_abs_diff(m->forward(ref.at("ids"), gen), ref.at("gpt2_f32.lora_logits")), 1e-4f);
  models::unmerge_lora(*m);

  // Written back: PEFT's names and values, and a config PEFT reads.
  qkv::testing::ScratchDir dir;
  models::save_peft_adapter(dir.path + "/a", *m, c, "tiny-gpt2");
  const io::NamedTensors orig = io::load_safetensors(kHf + "/gpt2_lora/adapter_model.safetensors");
  const io::NamedTensors mine = io::load_safetensors(dir.path + "/a/adapter_model.safetensors");
  ASSERT_EQ(mine.tensors.size(), orig.tensors.size());
  for (const auto& [name, t] : orig.tensors) {
    ASSERT_TRUE(mine.contains(name)) << name;
    EXPECT_EQ(max_abs_diff(mine.at(name), t), 0.0f) << name;
  }
  const auto j = io::read_json(dir.path + "/a/adapter_config.json");
  EXPECT_EQ(j["peft_type"], "LORA");
  EXPECT_EQ(j["target_modules"], nlohmann::json::array({"c_attn"}));
  EXPECT_EQ(j["fan_in_fan_out"], true);
  EXPECT_EQ(j["r"], 4);
  // … and read again onto a fresh base.
  auto m2 = models::load_model_as<models::GPT>(kHf + "/gpt2_f32");
  models::load_peft_adapter(dir.path + "/a", *m2, gen);
  EXPECT_LE(max_abs_diff(m2->forward(ref.at("ids"), gen), ref.at("gpt2_f32.lora_logits")), 1e-4f);
}

TEST(LoraPeft, AdaptersForAnotherBaseOrMethodAreRefused) {
  qkv::testing::ScratchDir dir;
  Generator gen(0);
  auto patched = [&](const std::string& name, const nlohmann::json& patch) {
    const std::string d = dir.path + "/" + name;
    fs::copy(kHf + "/gpt2_lora", d, fs::copy_options::recursive);
    nlohmann::json c = io::read_json(d + "/adapter_config.json");
    c.merge_patch(patch);
    io::write_json_atomic(d + "/adapter_config.json", c);
    return d;
  };
  auto base = [] { return models::load_model_as<models::GPT>(kHf + "/gpt2_f32"); };
  expect_error<ValueError>([&] { models::load_peft_adapter(patched("prefix", {{"peft_type", "PREFIX_TUNING"}}), *base(), gen); },
                           {"adapter_config.json", "peft_type", "PREFIX_TUNING"});
  expect_error<ValueError>([&] { models::load_peft_adapter(patched("rank", {{"r", 8}}), *base(), gen); },
                           {"lora_A [4,32]", "expect [8,32]", "another base"});
  expect_error<ValueError>([&] { models::load_peft_adapter(patched("rs", {{"use_rslora", true}}), *base(), gen); },
                           {"use_rslora"});
  // A base without the adapted layers: a 1-layer model meets h.1's tensors.
  models::GPTConfig one = tiny_gpt();
  one.n_layer = 1, one.n_embd = 32, one.n_head = 4;
  models::GPT small(one, gen);
  expect_error<ValueError>([&] { models::load_peft_adapter(kHf + "/gpt2_lora", small, gen); },
                           {"h.1.attn.c_attn", "does not have"});
  const std::string bin = dir.path + "/bin";
  fs::create_directories(bin);
  fs::copy(kHf + "/gpt2_lora/adapter_config.json", bin + "/adapter_config.json");
  std::ofstream(bin + "/adapter_model.bin") << "pickle";
  expect_error<IOError>([&] { models::load_peft_adapter(bin, *base(), gen); }, {"adapter_model.bin"});
}
