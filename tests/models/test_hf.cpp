// Hugging Face directories as they are (models/hf.h): tiny GPT-2s stored the
// ways the Hub stores them (tests/fixtures/hf/make_hf_fixture.py: F32 with
// the causal-mask buffers and no prefix; F16 in two shards with a stored tied
// lm_head; BF16) load through models::load_model and give the reference's
// logits and greedy tokens; export writes them back (round trip); and every
// bad directory fails naming the file and field or tensor.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <fstream>
#include <string>

#include "io/io_test_util.h"
#include "qkv/autograd/autograd.h"
#include "qkv/generate/generate.h"
#include "qkv/io/json.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/causal_decoder.h"
#include "qkv/models/gpt.h"
#include "qkv/models/hf.h"
#include "qkv/models/registry.h"
#include "qkv/train/eval_lengths.h"
#include "qkv/ops/ops.h"
#include "support/compare.h"

using namespace qkv;
using qkv::testing::expect_error;
using qkv::testing::max_abs_diff;
namespace fs = std::filesystem;

namespace {

const std::string kFixtures = std::string(QKV_TEST_FIXTURES) + "/hf";

std::vector<int64_t> ids_of(const Tensor& t) {
  std::vector<int64_t> v(static_cast<size_t>(t.numel()));
  const Tensor c = t.contiguous();
  std::copy(c.data<int64_t>(), c.data<int64_t>() + c.numel(), v.begin());
  return v;
}

// A copy of a fixture directory to break.
std::string copy_fixture(const std::string& name, const std::string& to) {
  fs::copy(kFixtures + "/" + name, to, fs::copy_options::recursive);
  return to;
}

class HfGpt2 : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(HfGpt2, LoadsAsItIsAndMatchesTheReference) {
  const io::NamedTensors ref = io::load_safetensors(kFixtures + "/reference.safetensors");
  const std::string d = kFixtures + "/" + GetParam();
  auto m = models::load_model_as<models::GPT>(d);
  EXPECT_EQ(m->config.n_embd, 32);
  EXPECT_EQ(m->config.block_size, 32);
  EXPECT_EQ(m->config.activation, "gelu_tanh");
  NoGradGuard ng;
  Generator gen(0);
  const Tensor logits = m->forward(ref.at("ids"), gen);
  EXPECT_LE(max_abs_diff(logits, ref.at(GetParam() + ".logits")), 1e-4f);
  generate::GenerateOptions opt;
  opt.max_new_tokens = 8;
  opt.sampling.temperature = 0.0f;  // greedy
  const auto out = generate::generate(*m, {ids_of(ref.at("prompt"))}, opt, gen);
  EXPECT_EQ(out.at(0), ids_of(ref.at(GetParam() + ".greedy")));
}

INSTANTIATE_TEST_SUITE_P(Layouts, HfGpt2, ::testing::Values("gpt2_f32", "gpt2_f16_sharded", "gpt2_bf16"));

TEST(HfGpt2Export, RoundTripsTensorForTensor) {
  qkv::testing::ScratchDir dir;
  const std::string out = dir.path + "/exported";
  auto m = models::load_model_as<models::GPT>(kFixtures + "/gpt2_f32");
  models::export_hf(*m, out);
  // The file is Hugging Face's: prefixed names, Conv1D (in, out), no lm_head, format pt.
  const io::NamedTensors orig = io::load_safetensors(kFixtures + "/gpt2_f32/model.safetensors");
  const io::NamedTensors mine = io::load_safetensors(out + "/model.safetensors");
  EXPECT_EQ(mine.metadata.at("format"), "pt");
  size_t compared = 0;
  for (const auto& [name, t] : orig.tensors) {
    if (name.find("attn.bias") != std::string::npos && name.find("c_attn") == std::string::npos) continue;
    if (name.find("masked_bias") != std::string::npos) continue;
    ASSERT_TRUE(mine.contains("transformer." + name)) << name;
    EXPECT_EQ(max_abs_diff(mine.at("transformer." + name), t), 0.0f) << name;
    ++compared;
  }
  EXPECT_EQ(compared, mine.tensors.size());
  EXPECT_FALSE(mine.contains("lm_head.weight"));
  const auto cfg = io::read_json(out + "/config.json");
  EXPECT_EQ(cfg["model_type"], "gpt2");
  EXPECT_EQ(cfg["architectures"][0], "GPT2LMHeadModel");
  EXPECT_EQ(cfg["activation_function"], "gelu_new");
  EXPECT_EQ(cfg["n_positions"], 32);
  // import → export → import: the same model.
  auto back = models::load_model_as<models::GPT>(out);
  const auto a = m->state_dict(), b = back->state_dict();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(max_abs_diff(a[i].second, b[i].second), 0.0f) << a[i].first;
  }
  EXPECT_EQ(back->config, m->config);
}

TEST(HfGpt2Export, ModelsWithoutAHuggingFaceFormWriteNothing) {
  qkv::testing::ScratchDir dir;
  models::GPTConfig c;
  c.pos_encoding = "rope";
  Generator gen(1);
  models::GPT rope(c, gen);
  expect_error<ValueError>([&] { models::export_hf(rope, dir.path + "/rope"); }, {"learned positions", "rope"});
  EXPECT_FALSE(fs::exists(dir.path + "/rope"));
  models::GPT plain(models::GPTConfig{}, gen);
  expect_error<IOError>([&] { models::export_hf(plain, dir.path + "/x", dir.path + "/no_tokenizer.json"); },
                        {"no_tokenizer.json"});
  EXPECT_FALSE(fs::exists(dir.path + "/x"));
}

TEST(HfGpt2Bad, ConfigsQkvCannotHonourAreRefusedByField) {
  qkv::testing::ScratchDir dir;
  auto with = [&](const std::string& name, const nlohmann::json& patch) {
    const std::string d = copy_fixture("gpt2_f32", dir.path + "/" + name);
    nlohmann::json cfg = io::read_json(d + "/config.json");
    cfg.merge_patch(patch);
    io::write_json_atomic(d + "/config.json", cfg);
    return d;
  };
  expect_error<ValueError>([&] { models::load_model(with("t5", {{"model_type", "t5"}})); },
                           {"t5/config.json", "unknown model_type \"t5\""});
  expect_error<ValueError>([&] { models::load_model(with("relu", {{"activation_function", "relu"}})); },
                           {"relu/config.json", "activation_function", "relu"});
  expect_error<ValueError>([&] { models::load_model(with("inner", {{"n_inner", 100}})); },
                           {"n_inner = 100", "4 * n_embd = 128"});
  expect_error<ValueError>([&] { models::load_model(with("eps", {{"layer_norm_epsilon", 1e-6}})); },
                           {"layer_norm_epsilon"});
  expect_error<ValueError>([&] { models::load_model(with("untied", {{"tie_word_embeddings", false}})); },
                           {"tie_word_embeddings"});
  expect_error<ValueError>([&] { models::load_model(with("typed", {{"activation_function", 3}})); },
                           {"typed/config.json", "wrong type"});
  // Sizes that disagree with the tensors: the tensor, the expected and found shape.
  expect_error<ValueError>([&] { models::load_model(with("wide", {{"n_embd", 48}, {"n_head", 4}})); },
                           {"'h.0.attn.c_attn.weight' is [32,96]", "expects [48,144]"});
  expect_error<ValueError>([&] { models::load_model(with("vocab", {{"vocab_size", 65}})); },
                           {"wte.weight: checkpoint [64,32] vs model [65,32]"});
}

// Found by fuzz_model_config: 4 * n_embd overflowed (UBSan) while checking n_inner.
TEST(HfGpt2Bad, HugeNEmbdIsRefusedByTheConfigNotOverflowed) {
  const nlohmann::json hf = {{"model_type", "gpt2"}, {"n_embd", int64_t(1) << 62}, {"n_inner", 5}};
  const nlohmann::json q = models::config_from_hf(hf);
  EXPECT_EQ(q["n_embd"], int64_t(1) << 62);
  expect_error<ValueError>([&] { models::GPTConfig::from_json(q); }, {"GPT config", "do not fit"});
}

TEST(HfGpt2Bad, ShardIndexErrorsNameTheIndexAndTheShard) {
  qkv::testing::ScratchDir dir;
  const std::string d = copy_fixture("gpt2_f16_sharded", dir.path + "/missing");
  fs::remove(d + "/model-00002-of-00002.safetensors");
  expect_error<IOError>([&] { models::load_model(d); },
                        {"model.safetensors.index.json", "model-00002-of-00002.safetensors, which is missing"});

  // One tensor in both shards: the index puts it in one, the other shard holds it too.
  const std::string d2 = copy_fixture("gpt2_f16_sharded", dir.path + "/twice");
  const io::NamedTensors s1 = io::load_safetensors(d2 + "/model-00001-of-00002.safetensors");
  io::NamedTensors s2 = io::load_safetensors(d2 + "/model-00002-of-00002.safetensors");
  s2.tensors.push_back(s1.tensors.front());
  io::save_safetensors(d2 + "/model-00002-of-00002.safetensors", s2.tensors, s2.metadata);
  expect_error<IOError>([&] { models::load_model(d2); }, {"'" + s1.tensors.front().first + "' is in two shards"});

  const std::string d3 = copy_fixture("gpt2_f16_sharded", dir.path + "/escape");
  nlohmann::json index = io::read_json(d3 + "/model.safetensors.index.json");
  index["weight_map"]["transformer.wte.weight"] = "../../etc/passwd";
  io::write_json_atomic(d3 + "/model.safetensors.index.json", index);
  expect_error<IOError>([&] { models::load_model(d3); }, {"is not a file in"});

  const std::string d4 = dir.path + "/none";
  fs::create_directories(d4);
  fs::copy(kFixtures + "/gpt2_f32/config.json", d4 + "/config.json");
  expect_error<IOError>([&] { models::load_model(d4); }, {"missing model.safetensors"});
}

TEST(HfGpt2Bad, AnUntiedLmHeadIsRefused) {
  qkv::testing::ScratchDir dir;
  const std::string d = copy_fixture("gpt2_bf16", dir.path + "/untied");
  io::NamedTensors st = io::load_safetensors(d + "/model.safetensors");
  st.tensors.emplace_back("lm_head.weight", zeros({64, 32}));
  io::save_safetensors(d + "/model.safetensors", st.tensors, st.metadata);
  expect_error<ValueError>([&] { models::load_model(d); }, {"'lm_head.weight' differs from 'wte.weight'"});
}

TEST(HfPerplexity, SlidingWindowsMatchTheTransformersGuidesLoop) {
  // make_hf_fixture.py runs the loop of "Perplexity of fixed-length models"
  // (max_length 10, stride 4) over 40 tokens: [mean nll, tokens scored].
  const io::NamedTensors ref = io::load_safetensors(kFixtures + "/reference.safetensors");
  auto m = models::load_model_as<models::GPT>(kFixtures + "/gpt2_f32");
  const std::vector<float> want = ref.at("gpt2_f32.ppl_nll").to_vector();
  for (int64_t batch : {1, 3, 8}) {
    const train::LengthScore s = train::sliding_window_perplexity(*m, ids_of(ref.at("ppl_ids")), 10, 4, batch);
    ASSERT_TRUE(s.error.empty()) << s.error;
    EXPECT_NEAR(s.loss, want[0], 1e-5) << "batch " << batch;
    EXPECT_EQ(s.targets, static_cast<int64_t>(want[1]));
  }
  // stride = context: each window's first token has no context and is skipped, as in the loop.
  const train::LengthScore s = train::sliding_window_perplexity(*m, ids_of(ref.at("ppl_ids")), 10, 10);
  EXPECT_EQ(s.targets, 40 - 4);
  expect_error<ValueError>([&] { train::sliding_window_perplexity(*m, {1, 2, 3}, 10, 11); }, {"stride", "11"});
  expect_error<ValueError>([&] { train::sliding_window_perplexity(*m, {1}, 10, 5); }, {"at least 2"});
  const train::LengthScore too_long = train::sliding_window_perplexity(*m, std::vector<int64_t>(80, 3), 64, 32);
  EXPECT_NE(too_long.error.find("block_size 32"), std::string::npos) << too_long.error;
}

// A Hugging Face Llama directory made from the Llama parity fixture
// (tests/fixtures/llama: PyTorch's weights in LlamaForCausalLM's names and its
// logits): config.json as transformers writes it, extra keys and all.
TEST(HfLlama, LoadsAsItIsAndMatchesThePyTorchLogits) {
  qkv::testing::ScratchDir dir;
  const io::NamedTensors fx = io::load_safetensors(std::string(QKV_TEST_FIXTURES) + "/llama/llama_tiny_gqa.safetensors");
  nlohmann::json cfg = nlohmann::json::parse(fx.metadata.at("config"));
  cfg.merge_patch({{"architectures", {"LlamaForCausalLM"}}, {"attention_bias", false}, {"attention_dropout", 0.0},
                   {"bos_token_id", 1}, {"eos_token_id", 2}, {"head_dim", cfg["hidden_size"].get<int64_t>() /
                                                                             cfg["num_attention_heads"].get<int64_t>()},
                   {"mlp_bias", false}, {"pretraining_tp", 1}, {"rope_scaling", nullptr}, {"torch_dtype", "float32"},
                   {"transformers_version", "4.44.2"}, {"use_cache", true}, {"model_type", "llama"}});
  const std::string d = dir.path + "/llama";
  std::filesystem::create_directories(d);
  io::write_json_atomic(d + "/config.json", cfg);
  models::TensorList params;
  for (const auto& [name, t] : fx.tensors)
    if (name.rfind("param.", 0) == 0) params.emplace_back(name.substr(6), t);
  io::save_safetensors(d + "/model.safetensors", params, {{"format", "pt"}});
  auto m = models::load_model_as<models::CausalDecoderLM>(d);
  EXPECT_EQ(m->model_type(), "llama");
  NoGradGuard ng;
  Generator gen(0);
  EXPECT_LE(max_abs_diff(m->lm_logits(fx.at("idx"), gen), fx.at("logits")), 1e-5f);

  // Exported and read back: the same config (with transformers' keys) and tensors.
  models::export_hf(*m, dir.path + "/out");
  const auto out_cfg = io::read_json(dir.path + "/out/config.json");
  EXPECT_EQ(out_cfg["architectures"][0], "LlamaForCausalLM");
  EXPECT_EQ(out_cfg["num_key_value_heads"], cfg["num_key_value_heads"]);
  auto back = models::load_model_as<models::CausalDecoderLM>(dir.path + "/out");
  EXPECT_EQ(max_abs_diff(back->lm_logits(fx.at("idx"), gen), m->lm_logits(fx.at("idx"), gen)), 0.0f);

  auto bad = [&](const nlohmann::json& patch, std::initializer_list<std::string> needles) {
    nlohmann::json c = cfg;
    c.merge_patch(patch);
    io::write_json_atomic(d + "/config.json", c);
    expect_error<ValueError>([&] { models::load_model(d); }, needles);
  };
  bad({{"rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}}}}, {"config.json", "rope_scaling", "llama3"});
  bad({{"attention_bias", true}}, {"attention_bias = true"});
  bad({{"head_dim", 4}}, {"head_dim = 4"});
  bad({{"num_key_value_heads", 3}}, {"num_key_value_heads 3"});
  bad({{"hidden_sise", 3}}, {"hidden_sise"});  // a typo is still an error, not a dropped key
}

// load_model holds the weights once: the parameters take the storage of the
// tensors read from the file instead of copying them (and then dropping the
// file's copy), and draws no random initial values first. The loaded model
// equals the saved one exactly, and no two parameters share memory.
TEST(LoadModel, HoldsTheWeightsOnceAndEqualsTheSavedModel) {
  qkv::testing::ScratchDir d;
  Generator gen(3);
  models::GPTConfig c;
  c.n_layer = 4, c.n_head = 4, c.n_embd = 512, c.block_size = 64, c.vocab_size = 512;
  const models::GPT saved(c, gen);
  models::save_model(d.path, saved, 7);
  size_t param_bytes = 0;
  for (const auto& [name, t] : saved.named_parameters()) param_bytes += t.numel() * sizeof(float);
  // Resident memory (pages touched), not allocations: the parameters' own
  // blocks, replaced before anything was written to them, never become
  // resident; a copy would touch them as well as the file's tensors.
  auto resident_bytes = [] {
    std::ifstream f("/proc/self/status");
    for (std::string line; std::getline(f, line);)
      if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    return 0ull;
  };
  const size_t before = resident_bytes();
  const std::unique_ptr<models::Model> loaded = models::load_model(d.path);
#if !defined(__SANITIZE_ADDRESS__)  // ASan's shadow and redzones add their own pages
  EXPECT_LT(resident_bytes() - before, param_bytes * 13 / 10) << "weights held twice? for " << param_bytes << " bytes";
#endif
  const auto mine = saved.named_parameters(), theirs = loaded->named_parameters();
  ASSERT_EQ(mine.size(), theirs.size());
  std::set<const void*> storages;
  for (size_t i = 0; i < mine.size(); ++i) {
    EXPECT_EQ(mine[i].first, theirs[i].first);
    EXPECT_EQ(mine[i].second.to_vector(), theirs[i].second.to_vector()) << mine[i].first;
    EXPECT_TRUE(storages.insert(theirs[i].second.impl().storage.get()).second) << theirs[i].first << " shares memory";
  }
}
