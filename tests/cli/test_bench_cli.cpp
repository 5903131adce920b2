// `qkv bench` end to end: the rows it prints (one per test × format × thread
// count, llama-bench's fields), the bytes a step reads per weight format, the
// encoder–decoder form, and its bad inputs; plus `qkv perplexity --weights`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "qkv/io/json.h"
#include "support/shell.h"

namespace fs = std::filesystem;

namespace {

class BenchCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (fs::temp_directory_path() / ("qkv_bench_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  // A GPT whose Linears take the prefill GEMM kernels at a 40-token prompt
  // (more than 32 rows); widths are multiples of 64, so quantized rows carry
  // no padding and bf16 reads exactly half of a Linear's f32 bytes.
  std::string gpt_config() {
    return write("gpt.json", R"({"model_type": "gpt", "vocab_size": 300, "n_layer": 2, "n_head": 4, "n_embd": 128,
                                "block_size": 64, "dropout": 0.0, "bias": true})");
  }
  std::string dir;
};

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> rows;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') rows.push_back(nlohmann::json::parse(line));
  return rows;
}

}  // namespace

TEST_F(BenchCli, OneRowPerTestFormatAndThreadCountWithLlamaBenchFields) {
  auto r = qkv::testing::qkv_cli("bench --config " + gpt_config() +
                                 " -p 8,40 -n 5 -t 1 --weights f32,bf16,int8 -r 2 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rows = json_lines(r.out);
  ASSERT_EQ(rows.size(), 9u) << r.out;  // 3 formats × (pp8, pp40, tg5)
  std::map<std::string, double> read_bytes;
  for (const auto& j : rows) {
    EXPECT_EQ(j["model_type"], "gpt");
    EXPECT_EQ(j["n_threads"], 1);
    EXPECT_EQ(j["samples_ns"].size(), 2u);
    EXPECT_GT(j["avg_ts"].get<double>(), 0.0);
    EXPECT_GE(j["stddev_ts"].get<double>(), 0.0);
    const std::string test = j["test"];
    if (test == "tg5") {
      EXPECT_EQ(j["n_gen"], 5);
      EXPECT_EQ(j["n_prompt"], 0);
      read_bytes[j["weights"]] = j["bytes_per_token"].get<double>();
      EXPECT_GT(j["gbps"].get<double>(), 0.0);
    } else {
      EXPECT_TRUE(test == "pp8" || test == "pp40") << test;
      EXPECT_FALSE(j.contains("gbps"));
    }
  }
  // f32: every parameter once except the embedding tables (one row of each),
  // plus the tied head (300·128) once more. Per layer: qkv, proj, fc, fc2
  // weights and biases, two LayerNorms.
  ASSERT_EQ(read_bytes.size(), 3u);
  const double linear_w = 128 * 384 + 128 * 128 + 128 * 512 + 512 * 128, head = 300 * 128;
  const double small = 384 + 128 + 512 + 128 + 4 * 128;  // biases and LayerNorms of a layer
  EXPECT_EQ(read_bytes["f32"], 4 * (2 * (linear_w + small) + 2 * 128 + 128 + 128 + head));
  // bf16: Linear weights and the head at 2 bytes, the rest stays f32.
  EXPECT_EQ(read_bytes["bf16"], 2 * (2 * linear_w + head) + 4 * (2 * small + 2 * 128 + 128 + 128));
  // int8: a byte per weight plus a 64-byte line of block scales per row group.
  EXPECT_LT(read_bytes["int8"], 0.8 * read_bytes["bf16"]);
  EXPECT_GT(read_bytes["int8"], 0.5 * read_bytes["bf16"]);
}

TEST_F(BenchCli, TablePrintsAndAModelDirectoryWorks) {
  const std::string corpus = write("corpus.txt", std::string(400, 'a') + "to be or not to be\n");
  const std::string run = dir + "/run";
  auto t = qkv::testing::qkv_cli("train gpt --data " + corpus + " --out " + run +
                                 " --n-layer 1 --n-head 2 --n-embd 16 --block-size 16 --batch-size 2 --max-iters 1"
                                 " --eval-interval 1 --eval-iters 1 --warmup-iters 1 --threads 1");
  ASSERT_EQ(t.code, 0) << t.out;
  auto r = qkv::testing::qkv_cli("bench " + run + " -p 4 -n 3 -r 1 -t 1");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* s : {"| model", "read/tok", " pp4 |", " tg3 |", "f32", "| run "})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << " in:\n" << r.out;
}

TEST_F(BenchCli, EncoderDecoderModelsTimeTheirEncoderAndDecoder) {
  const std::string cfg = write("t.json", R"({"model_type": "transformer", "vocab_size": 50, "d_model": 16,
      "n_heads": 2, "d_ff": 32, "n_encoder_layers": 1, "n_decoder_layers": 1, "dropout": 0.0, "max_len": 32})");
  auto r = qkv::testing::qkv_cli("bench --config " + cfg + " -p 12 -n 4 -r 1 -t 1 --source-len 6 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rows = json_lines(r.out);
  ASSERT_EQ(rows.size(), 2u) << r.out;
  EXPECT_EQ(rows[0]["test"], "pp12");
  EXPECT_EQ(rows[1]["test"], "tg4");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("bench --config " + cfg + " --weights int8 -r 1"),
                               "f32 weights only");
}

TEST_F(BenchCli, BadInputFailsClearly) {
  const std::string cfg = gpt_config();
  qkv::testing::expect_failure(qkv::testing::qkv_cli("bench"), "give a model directory or --config");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("bench --config gpt9"), "gpt2-124m");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("bench --config " + cfg + " -p 65"),
                               "prompts are 1 … 64 tokens");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("bench --config " + cfg + " --weights int4"), "--weights");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("bench --config " + cfg + " -r 0"), "-r must be >= 1");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("bench --config " + cfg + " -t 0"), "thread counts");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("bench --config " + write("bad.json", "{\"model_type\": 3")),
                               "bad.json");
  const std::string bert = write("bert.json", R"({"model_type": "bert", "vocab_size": 40, "hidden_size": 16,
      "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 16})");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("bench --config " + bert), "does not generate tokens");
}

TEST_F(BenchCli, PerplexityWithQuantizedWeightsIsCloseToF32) {
  std::string text;
  for (int i = 0; i < 30; ++i) text += "the quick brown fox jumps over the lazy dog. ";
  const std::string corpus = write("corpus.txt", text);
  const std::string run = dir + "/run";
  auto t = qkv::testing::qkv_cli("train gpt --data " + corpus + " --out " + run +
                                 " --n-layer 1 --n-head 2 --n-embd 64 --block-size 48 --batch-size 4 --max-iters 30"
                                 " --eval-interval 30 --eval-iters 1 --warmup-iters 2 --lr 3e-3 --threads 1");
  ASSERT_EQ(t.code, 0) << t.out;
  std::map<std::string, double> nll;
  for (const char* w : {"f32", "bf16", "int8"}) {  // context 48 > 32 rows: the prefill GEMM kernels
    auto r = qkv::testing::qkv_cli("perplexity " + run + " --data " + corpus + " --context 48 --json --threads 1 --weights " + w);
    ASSERT_EQ(r.code, 0) << r.out;
    nll[w] = nlohmann::json::parse(r.out)["nll"].get<double>();
  }
  EXPECT_LT(nll["f32"], 2.5);  // learned something
  EXPECT_NEAR(nll["bf16"], nll["f32"], 0.02);
  EXPECT_NEAR(nll["int8"], nll["f32"], 0.02);
  qkv::testing::expect_failure(qkv::testing::qkv_cli("perplexity " + run + " --data " + corpus + " --weights int4"),
                               "--weights");
}
