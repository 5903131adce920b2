// `qkv info DIR`, `qkv export DIR --format hf OUT` and `qkv perplexity DIR`
// end to end: on a Hugging Face fixture as it is and on a tiny qkv run, with
// their bad-input cases.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "qkv/io/json.h"
#include "support/shell.h"

namespace fs = std::filesystem;

namespace {

const std::string kFixtures = std::string(QKV_TEST_FIXTURES) + "/hf";

class HfCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (fs::temp_directory_path() / ("qkv_hf_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    corpus = dir + "/corpus.txt";
    std::ofstream out(corpus);
    for (int i = 0; i < 4; ++i)
      out << "to be or not to be, that is the question.\nwhether tis nobler in the mind to suffer\n"
             "the slings and arrows of outrageous fortune\n";
  }
  void TearDown() override { fs::remove_all(dir); }
  // A tiny character-level GPT run (learned positions, biases: GPT-2's shape).
  std::string train_run() {
    const std::string run = dir + "/run";
    auto r = qkv::testing::qkv_cli("train gpt --data " + corpus + " --out " + run +
                                   " --n-layer 1 --n-head 2 --n-embd 16 --block-size 16 --batch-size 2 --max-iters 3"
                                   " --eval-interval 2 --eval-iters 1 --warmup-iters 1 --lr-decay-iters 10 --threads 1");
    EXPECT_EQ(r.code, 0) << r.out;
    return run;
  }
  std::string dir, corpus;
};

void expect_has(const qkv::testing::ShellRun& r, const std::string& needle) {
  EXPECT_NE(r.out.find(needle), std::string::npos) << "expected '" << needle << "' in:\n" << r.out;
}

}  // namespace

TEST_F(HfCli, InfoDescribesAHuggingFaceDirectory) {
  auto r = qkv::testing::qkv_cli("info " + kFixtures + "/gpt2_f16_sharded");
  ASSERT_EQ(r.code, 0) << r.out;
  expect_has(r, "Hugging Face model_type \"gpt2\"");
  expect_has(r, "F16 ×");
  expect_has(r, "sharded");
  expect_has(r, "context:    32 tokens");
  expect_has(r, "parameters: 28544");  // wte 64·32 + wpe 32·32 + 2 blocks of 12,704 + ln_f 64
  expect_has(r, "tokenizer:  none");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("info " + dir + "/nothing"), "no such model directory");
}

TEST_F(HfCli, ExportedRunGeneratesAsTheOriginal) {
  const std::string run = train_run();
  const std::string out = dir + "/hf";
  auto r = qkv::testing::qkv_cli("export " + run + " --format hf " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  EXPECT_EQ(qkv::io::read_json(out + "/config.json")["model_type"], "gpt2");
  const std::string gen = " --prompt 'to be' --max-new-tokens 12 --temperature 0 --threads 1";
  auto a = qkv::testing::qkv_cli("generate " + run + gen), b = qkv::testing::qkv_cli("generate " + out + gen);
  ASSERT_EQ(a.code, 0) << a.out;
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_EQ(a.out, b.out);
  // The exported directory's perplexity is the run's.
  const std::string ppl = " --data " + corpus + " --context 16 --stride 8 --json --threads 1";
  auto pa = qkv::testing::qkv_cli("perplexity " + run + ppl), pb = qkv::testing::qkv_cli("perplexity " + out + ppl);
  ASSERT_EQ(pa.code, 0) << pa.out;
  EXPECT_EQ(pa.out, pb.out);
  const auto j = nlohmann::json::parse(pa.out);
  EXPECT_GT(j["perplexity"].get<double>(), 1.0);
  EXPECT_NEAR(std::exp(j["nll"].get<double>()), j["perplexity"].get<double>(), 1e-9);
  // Every token but the first is scored once (one token per character).
  EXPECT_EQ(j["tokens"], static_cast<int64_t>(fs::file_size(corpus)) - 1);
}

TEST_F(HfCli, BadInputFailsClearlyAndWritesNothing) {
  const std::string run = train_run();
  qkv::testing::expect_failure(qkv::testing::qkv_cli("export " + run + " --format onnx " + dir + "/o1"),
                               "--format must be hf");
  EXPECT_FALSE(fs::exists(dir + "/o1"));
  fs::create_directories(dir + "/full");
  std::ofstream(dir + "/full/keep.txt") << "x";
  qkv::testing::expect_failure(qkv::testing::qkv_cli("export " + run + " " + dir + "/full"), "not empty");
  // A GPT with rotary positions has no Hugging Face GPT-2 form.
  const std::string rope = dir + "/rope";
  auto r = qkv::testing::qkv_cli("train gpt --data " + corpus + " --out " + rope +
                                 " --n-layer 1 --n-head 2 --n-embd 16 --block-size 8 --batch-size 2 --max-iters 1"
                                 " --eval-interval 1 --eval-iters 1 --warmup-iters 1 --pos-encoding rope --threads 1");
  ASSERT_EQ(r.code, 0) << r.out;
  qkv::testing::expect_failure(qkv::testing::qkv_cli("export " + rope + " " + dir + "/o2"), "learned positions");
  EXPECT_FALSE(fs::exists(dir + "/o2"));
  // perplexity: a context past the learned table, a missing file, a bad stride.
  qkv::testing::expect_failure(qkv::testing::qkv_cli("perplexity " + run + " --data " + corpus + " --context 64"),
                               "longer than the model's context length 16");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("perplexity " + run + " --data " + dir + "/none.txt"),
                               "none.txt");
  qkv::testing::expect_failure(
      qkv::testing::qkv_cli("perplexity " + run + " --data " + corpus + " --context 8 --stride 9"), "stride");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("perplexity " + kFixtures + "/gpt2_f32 --data " + corpus),
                               "tokenizer");
}

TEST_F(HfCli, FinetuneWithLoraWritesAPeftAdapterAndResumes) {
  const std::string base = train_run();
  const std::string ft = dir + "/ft";
  const std::string common = " --data " + corpus + " --block-size 16 --batch-size 2 --eval-iters 1 --eval-interval 2"
                             " --warmup-iters 1 --lr-decay-iters 6 --threads 1";
  auto r = qkv::testing::qkv_cli("finetune " + base + " --out " + ft + " --lora r=2,alpha=4,targets=q,v --max-iters 4" +
                                 common);
  ASSERT_EQ(r.code, 0) << r.out;
  expect_has(r, "LoRA r=2 alpha=4 dropout=0 on 1 layers (h.0.attn.c_attn");
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "adapter_config.json",
                        "adapter_model.safetensors", "best/adapter_config.json"})
    EXPECT_TRUE(fs::exists(ft + "/" + f)) << f;
  EXPECT_EQ(qkv::io::read_json(ft + "/adapter_config.json")["target_modules"], nlohmann::json::array({"c_attn"}));
  // The run directory is a model directory: generate and export (merged) read it.
  auto g = qkv::testing::qkv_cli("generate " + ft + " --prompt 'to' --max-new-tokens 5 --temperature 0 --threads 1");
  EXPECT_EQ(g.code, 0) << g.out;
  // The base with the PEFT adapter alone (--adapter) generates as the run does.
  auto ga = qkv::testing::qkv_cli("generate " + base + " --adapter " + ft +
                                  " --prompt 'to' --max-new-tokens 5 --temperature 0 --threads 1");
  EXPECT_EQ(ga.out, g.out);
  qkv::testing::expect_failure(qkv::testing::qkv_cli("generate " + base + " --adapter " + dir + " --prompt to"),
                               "missing adapter_config.json");
  auto e = qkv::testing::qkv_cli("export " + ft + " " + dir + "/ft-hf");
  ASSERT_EQ(e.code, 0) << e.out;
  expect_has(e, "merged the LoRA adapters of 1 layers");
  auto g2 = qkv::testing::qkv_cli("generate " + dir + "/ft-hf --prompt 'to' --max-new-tokens 5 --temperature 0 --threads 1");
  EXPECT_EQ(g2.out, g.out);  // the merged export generates as base + adapter
  // Resume continues with the saved adapter; --lora then is refused.
  qkv::testing::expect_failure(
      qkv::testing::qkv_cli("finetune " + base + " --out " + ft + " --resume --lora r=4 --max-iters 6" + common),
      "keeps its adapter");
  r = qkv::testing::qkv_cli("finetune " + base + " --out " + ft + " --resume --max-iters 6" + common);
  ASSERT_EQ(r.code, 0) << r.out;
  expect_has(r, "resuming " + ft + " at step 4");
  EXPECT_EQ(qkv::io::read_json(ft + "/trainer_state.json")["step"], 6);
  // perplexity of base + adapter (merged) = perplexity of the run (adapters unmerged), to rounding.
  const std::string ppl = " --data " + corpus + " --context 16 --stride 8 --json --threads 1";
  const auto pm = nlohmann::json::parse(qkv::testing::qkv_cli("perplexity " + base + " --adapter " + ft + ppl).out);
  const auto pu = nlohmann::json::parse(qkv::testing::qkv_cli("perplexity " + ft + ppl).out);
  EXPECT_NEAR(pm["nll"].get<double>(), pu["nll"].get<double>(), 1e-5);
  EXPECT_EQ(pm["tokens"], pu["tokens"]);
  // A LoRA run is not a base for another fine-tuning (its adapters would stay frozen).
  qkv::testing::expect_failure(qkv::testing::qkv_cli("finetune " + ft + " --out " + dir + "/again --max-iters 1" + common),
                               "holds LoRA adapters");
  // Full fine-tuning too.
  r = qkv::testing::qkv_cli("finetune " + base + " --out " + dir + "/full --max-iters 2" + common);
  ASSERT_EQ(r.code, 0) << r.out;
  expect_has(r, "full fine-tuning");
  EXPECT_FALSE(fs::exists(dir + "/full/adapter_config.json"));
  // Bad input.
  qkv::testing::expect_failure(qkv::testing::qkv_cli("finetune " + base + " --out " + dir + "/b1 --lora rank=2" + common),
                               "unknown key \"rank\"");
  qkv::testing::expect_failure(
      qkv::testing::qkv_cli("finetune " + base + " --out " + dir + "/b2 --lora targets=gate" + common),
      "target \"gate\"");
  qkv::testing::expect_failure(
      qkv::testing::qkv_cli("finetune " + base + " --out " + dir + "/b3 --data " + corpus + " --block-size 999"),
      "--block-size 999");
  EXPECT_FALSE(fs::exists(dir + "/b1/model.safetensors"));
  EXPECT_FALSE(fs::exists(dir + "/b2/model.safetensors"));
}

TEST_F(HfCli, GenerateFollowsGenerationConfigUnlessFlagsSayOtherwise) {
  const std::string run = train_run();
  // The char vocabulary puts "\n" at id 0: stop there, and greedy (do_sample false).
  std::ofstream(run + "/generation_config.json") << R"({"eos_token_id": [0], "do_sample": false, "max_length": 20})";
  const std::string gen = "generate " + run + " --prompt 'to' --max-new-tokens 60 --threads 1 --jsonl";
  auto r = qkv::testing::qkv_cli(gen);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  const auto ids = j["ids"].get<std::vector<int64_t>>();
  ASSERT_FALSE(ids.empty());
  if (ids.size() < 60) EXPECT_EQ(ids.back(), 0) << r.out;  // stopped at the eos
  for (size_t i = 0; i + 1 < ids.size(); ++i) EXPECT_NE(ids[i], 0) << "went past the eos";
  // Greedy: the same as --temperature 0 (which overrides the file's sampling, not its eos).
  auto g0 = qkv::testing::qkv_cli(gen + " --temperature 0");
  EXPECT_EQ(nlohmann::json::parse(g0.out)["ids"], j["ids"]);
  std::ofstream(run + "/generation_config.json") << R"({"eos_token_id": "x"})";
  qkv::testing::expect_failure(qkv::testing::qkv_cli(gen), "generation_config.json: eos_token_id must be a token id");
}
