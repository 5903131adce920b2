// `qkv train llama` end to end: train, resume exactly where it stopped,
// generate through the registry (with the KV cache, without it, quantized),
// and the bad-input cases (heads not divisible by key/value heads, a GPT
// directory resumed as a Llama).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "qkv/io/json.h"
#include "support/shell.h"

namespace fs = std::filesystem;

namespace {

struct Out {
  int code;
  std::string text;
};

Out qkv_run(const std::string& args) {
  qkv::testing::ShellRun r = qkv::testing::qkv_cli(args);
  return {r.code, r.out};
}

void expect_fail(const Out& o, const std::string& needle) {
  EXPECT_NE(o.code, 0) << o.text;
  EXPECT_NE(o.text.find(needle), std::string::npos) << "expected '" << needle << "' in:\n" << o.text;
}

class TrainLlamaCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (fs::temp_directory_path() / ("qkv_llama_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    corpus = dir + "/corpus.txt";
    std::ofstream(corpus) << std::string(40, '\n') + "to be or not to be, that is the question.\n" +
                                 "whether tis nobler in the mind to suffer\n";
  }
  void TearDown() override { fs::remove_all(dir); }
  // Hugging Face's names as flags; 4 query heads over 2 key/value heads.
  std::string tiny(const std::string& out) {
    return "train llama --data " + corpus + " --out " + out +
           " --num-hidden-layers 1 --num-attention-heads 4 --num-key-value-heads 2 --hidden-size 16"
           " --intermediate-size 24 --max-position-embeddings 8 --batch-size 2 --max-iters 3 --eval-interval 2"
           " --eval-iters 1 --warmup-iters 1 --lr-decay-iters 10 --threads 1";
  }
  std::string dir, corpus;
};

}  // namespace

TEST_F(TrainLlamaCli, TrainResumeAndGenerate) {
  const std::string m = dir + "/model";
  Out t = qkv_run(tiny(m));
  ASSERT_EQ(t.code, 0) << t.text;
  EXPECT_NE(t.text.find("num_key_value_heads 2"), std::string::npos) << t.text;
  nlohmann::json cfg = qkv::io::read_json(m + "/config.json");
  EXPECT_EQ(cfg["model_type"], "llama");
  EXPECT_EQ(cfg["num_key_value_heads"], 2);
  EXPECT_EQ(cfg["tie_word_embeddings"], false);
  // Resume continues the run: steps 4 and 5 only.
  Out r = qkv_run(tiny(m) + " --max-iters 5 --resume");
  ASSERT_EQ(r.code, 0) << r.text;
  EXPECT_NE(r.text.find("resuming"), std::string::npos) << r.text;
  EXPECT_EQ(qkv::io::read_json(m + "/trainer_state.json")["step"].get<int64_t>(), 5);
  // Generation through the registry: the cache changes nothing (greedy), past
  // max_position_embeddings 8 too (the context is cropped).
  const std::string gen = "generate " + m + " --prompt \"to be\" --max-new-tokens 12 --temperature 0 2>/dev/null";
  Out cached = qkv_run(gen);
  ASSERT_EQ(cached.code, 0) << cached.text;
  EXPECT_EQ(cached.text.rfind("to be", 0), 0u) << cached.text;
  Out uncached = qkv_run(gen + " --no-cache");
  EXPECT_EQ(cached.text, uncached.text);
  Out q = qkv_run("generate " + m + " --prompt \"to be\" --max-new-tokens 5 --weights int8 --stats");
  EXPECT_EQ(q.code, 0) << q.text;
  EXPECT_NE(q.text.find("int8 weights"), std::string::npos) << q.text;
}

TEST_F(TrainLlamaCli, BadInput) {
  // Issue #11: num_attention_heads not divisible by num_key_value_heads, both named.
  expect_fail(qkv_run(tiny(dir + "/a") + " --num-key-value-heads 3"),
              "num_attention_heads 4 must be divisible by num_key_value_heads 3");
  EXPECT_FALSE(fs::exists(dir + "/a/config.json"));
  expect_fail(qkv_run(tiny(dir + "/b") + " --n_embd 16 --hidden-size 18"), "hidden_size 18");  // one option, last value wins
  // A GPT run cannot be resumed as a Llama.
  const std::string g = dir + "/gpt";
  Out t = qkv_run("train gpt --data " + corpus + " --out " + g +
                  " --n-layer 1 --n-head 2 --n-embd 16 --block-size 8 --batch-size 2 --max-iters 1 --eval-interval 1"
                  " --eval-iters 1 --warmup-iters 1 --lr-decay-iters 10 --threads 1");
  ASSERT_EQ(t.code, 0) << t.text;
  expect_fail(qkv_run(tiny(g) + " --resume"), "\"llama\"");
}

// A Llama on a SentencePiece tokenizer.model (Llama's own tokenizer kind,
// tests/fixtures/sentencepiece/bpe.model): trained from it, the run saves
// tokenizer.model (no tokenizer.json), resumes from it, and generate, info,
// tokenize and export read it; byte-fallback text decodes to its bytes.
TEST_F(TrainLlamaCli, SentencePieceTokenizerEndToEnd) {
  const std::string spm = std::string(QKV_TEST_FIXTURES) + "/sentencepiece/bpe.model";
  const std::string m = dir + "/model";
  std::ofstream(corpus, std::ios::app) << std::string(4, '\n') + "to be or not to be, that is the question.\n" +
                                              "whether tis nobler in the mind to suffer the slings and arrows\n";
  Out t = qkv_run(tiny(m) + " --tokenizer " + spm);
  ASSERT_EQ(t.code, 0) << t.text;
  EXPECT_TRUE(fs::exists(m + "/tokenizer.model"));
  EXPECT_FALSE(fs::exists(m + "/tokenizer.json"));
  EXPECT_EQ(qkv::io::read_json(m + "/config.json")["vocab_size"], 1000);
  Out r = qkv_run(tiny(m) + " --tokenizer " + spm + " --max-iters 4 --resume");
  ASSERT_EQ(r.code, 0) << r.text;
  Out g = qkv_run("generate " + m + " --prompt \"to be ñ\" --max-new-tokens 4 --temperature 0 2>/dev/null");
  ASSERT_EQ(g.code, 0) << g.text;
  EXPECT_EQ(g.text.rfind("to be ñ", 0), 0u) << g.text;  // the prompt's bytes come back (byte fallback)
  Out i = qkv_run("info " + m);
  ASSERT_EQ(i.code, 0) << i.text;
  EXPECT_NE(i.text.find("SentencePiece (tokenizer.model), 1000 tokens; special: <unk> <s> </s>"), std::string::npos)
      << i.text;
  std::ofstream(dir + "/hello.txt") << "Hello world\n";
  Out k = qkv_run("tokenize --ids --tokenizer " + m + " < " + dir + "/hello.txt");
  ASSERT_EQ(k.code, 0) << k.text;
  EXPECT_NE(k.text.find("329 429 944 880"), std::string::npos) << k.text;  // spm_encode's ids
  Out e = qkv_run("export " + m + " --format hf " + dir + "/hf");
  ASSERT_EQ(e.code, 0) << e.text;
  EXPECT_TRUE(fs::exists(dir + "/hf/tokenizer.model"));
  EXPECT_EQ(qkv::io::read_json(dir + "/hf/tokenizer_config.json")["tokenizer_class"], "LlamaTokenizer");
  expect_fail(qkv_run("tokenize --tokenizer " + corpus + ".model < " + corpus), "no such file");
  // A tokenizer_config.json asking for <s> first (as a Hub Llama's): shown by
  // info, not printed back by generate, carried along by export.
  std::ofstream(m + "/tokenizer_config.json") << R"({"add_bos_token": true, "bos_token": "<s>"})";
  Out i2 = qkv_run("info " + m);
  EXPECT_NE(i2.text.find("adds <s> first (tokenizer_config.json)"), std::string::npos) << i2.text;
  Out g2 = qkv_run("generate " + m + " --prompt \"to be\" --max-new-tokens 3 --temperature 0 2>/dev/null");
  ASSERT_EQ(g2.code, 0) << g2.text;
  EXPECT_EQ(g2.text.rfind("to be", 0), 0u) << g2.text;
  Out e2 = qkv_run("export " + m + " --format hf " + dir + "/hf2");
  ASSERT_EQ(e2.code, 0) << e2.text;
  EXPECT_EQ(qkv::io::read_json(dir + "/hf2/tokenizer_config.json")["add_bos_token"], true);
}
