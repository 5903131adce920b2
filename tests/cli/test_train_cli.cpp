// `qkv train gpt`, `qkv generate` and `qkv plot attention` end to end, with
// every bad-input case of the GPT issue.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
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

class TrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (fs::temp_directory_path() / ("qkv_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    corpus = dir + "/corpus.txt";
    std::ofstream(corpus) << std::string(40, '\n') + "to be or not to be, that is the question.\n" +
                                 "whether tis nobler in the mind to suffer\n";
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string tiny(const std::string& out) {
    return "train gpt --data " + corpus + " --out " + out +
           " --n-layer 1 --n-head 2 --n-embd 16 --block-size 8 --batch-size 2 --max-iters 3 --eval-interval 2"
           " --eval-iters 1 --warmup-iters 1 --lr-decay-iters 10 --threads 1";
  }
  std::string dir, corpus;
};

void expect_fail(const Out& o, const std::string& needle) {
  EXPECT_NE(o.code, 0) << o.text;
  EXPECT_NE(o.text.find(needle), std::string::npos) << "expected '" << needle << "' in:\n" << o.text;
}

}  // namespace

TEST_F(TrainCli, TrainGenerateResumeAndPlot) {
  const std::string m = dir + "/model";
  Out t = qkv_run(tiny(m));
  ASSERT_EQ(t.code, 0) << t.text;
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "optimizer.safetensors",
                        "trainer_state.json", "log.jsonl", "loss.svg", "best/model.safetensors"})
    EXPECT_TRUE(fs::exists(m + "/" + f)) << f;
  Out g = qkv_run("generate " + m + " --prompt \"to be\" --max-new-tokens 10 --seed 1 --num-samples 2");
  ASSERT_EQ(g.code, 0) << g.text;
  EXPECT_EQ(g.text.rfind("to be", 0), 0u) << g.text;
  // One sample streams as it goes; the text is the same as when printed at the end.
  Out one = qkv_run("generate " + m + " --prompt \"to be\" --max-new-tokens 10 --temperature 0 2>/dev/null");
  Out two = qkv_run("generate " + m + " --prompt \"to be\" --max-new-tokens 10 --temperature 0 --num-samples 2 2>/dev/null");
  ASSERT_EQ(one.code, 0) << one.text;
  EXPECT_EQ(two.text.rfind(one.text, 0), 0u) << one.text << " vs " << two.text;
  Out r = qkv_run(tiny(m) + " --max-iters 5 --resume");
  EXPECT_EQ(r.code, 0) << r.text;
  EXPECT_NE(r.text.find("resuming"), std::string::npos) << r.text;
  EXPECT_EQ(qkv::io::read_json(m + "/trainer_state.json")["step"].get<int64_t>(), 5);
  Out p = qkv_run("plot attention " + m + " --text \"to be\" --layer 0 --head 1 -o " + dir + "/a.png");
  EXPECT_EQ(p.code, 0) << p.text;
  EXPECT_TRUE(fs::exists(dir + "/a.png"));
  expect_fail(qkv_run("plot attention " + m + " --text \"to be\" --layer 3 -o " + dir + "/b.png"), "--layer 3");
  expect_fail(qkv_run("plot attention " + m + " --text \"to be\" --head 9 -o " + dir + "/b.png"), "--head 9");
}

TEST_F(TrainCli, BadCorporaLeaveNothingBehind) {
  const std::string m = dir + "/model";
  std::ofstream(dir + "/empty.txt").close();
  std::ofstream(dir + "/short.txt") << "abc";
  expect_fail(qkv_run(tiny(m) + " --data " + dir + "/missing.txt"), "missing.txt: no such file");
  expect_fail(qkv_run(tiny(m) + " --data " + dir + "/empty.txt"), "empty.txt: the corpus is empty");
  expect_fail(qkv_run(tiny(m) + " --data " + dir + "/short.txt"), "fewer than block_size + 1");
  EXPECT_FALSE(fs::exists(m)) << "a failed run left " << m;
}

TEST_F(TrainCli, BadFlags) {
  const std::string m = dir + "/model";
  expect_fail(qkv_run(tiny(m) + " --n-layer abc"), "--n-layer");
  expect_fail(qkv_run(tiny(m) + " --n-head 3"), "divisible");
  expect_fail(qkv_run(tiny(m) + " --lr -1"), "--lr");
  expect_fail(qkv_run(tiny(m) + " --dropout 2"), "dropout");
  expect_fail(qkv_run(tiny(m) + " --batch-size 0"), "--batch-size");
  expect_fail(qkv_run(tiny(m) + " --threads -1"), "--threads");
  std::ofstream(dir + "/cfg.json") << "{\"n_layers\": 2}";
  expect_fail(qkv_run(tiny(m) + " --config " + dir + "/cfg.json"), "unknown field \"n_layers\"");
  std::ofstream(dir + "/bad.json") << "{not json";
  expect_fail(qkv_run(tiny(m) + " --config " + dir + "/bad.json"), "bad.json");
  EXPECT_FALSE(fs::exists(m));
}

TEST_F(TrainCli, ResumeAndReuseErrors) {
  const std::string m = dir + "/model";
  ASSERT_EQ(qkv_run(tiny(m)).code, 0);
  expect_fail(qkv_run(tiny(m)), "pass --resume");
  expect_fail(qkv_run(tiny(m) + " --resume --n-embd 32"), "n_embd 16 → 32 (checkpoint → this run)");
  expect_fail(qkv_run(tiny(m) + " --resume --lr 0.5"), "lr 0.001 → 0.5");
  expect_fail(qkv_run(tiny(dir + "/other") + " --resume"), "cannot --resume");
  expect_fail(qkv_run(tiny(m) + " --allow-new-data"), "--allow-new-data applies only with --resume");
  // Another corpus (same characters, other order): refused, then allowed.
  const std::string other = dir + "/other.txt";
  std::ofstream(other) << "whether tis nobler in the mind to suffer\n" + std::string(40, '\n') +
                              "to be or not to be, that is the question.\n";
  std::string with_other = tiny(m);
  with_other.replace(with_other.find(corpus), corpus.size(), other);
  expect_fail(qkv_run(with_other + " --resume --max-iters 5"), "pass --allow-new-data");
  Out r = qkv_run(with_other + " --resume --max-iters 5 --allow-new-data");
  EXPECT_EQ(r.code, 0) << r.text;
  EXPECT_EQ(qkv::io::read_json(m + "/trainer_state.json")["data_fingerprint"]["path"].get<std::string>(), other);
}

TEST_F(TrainCli, BrokenModelDirectories) {
  const std::string m = dir + "/model";
  ASSERT_EQ(qkv_run(tiny(m)).code, 0);
  expect_fail(qkv_run("generate " + m + " --prompt \"Zzz#\""), "--prompt");
  expect_fail(qkv_run("generate " + m + " --temperature -1"), "temperature");
  expect_fail(qkv_run("generate " + m + " --top-p 0"), "top_p");
  expect_fail(qkv_run("generate " + dir + "/nope"), dir + "/nope: no such directory");
  expect_fail(qkv_run("generate " + corpus), "corpus.txt: not a directory");
  // config whose shapes disagree with the weights
  auto cfg = qkv::io::read_json(m + "/config.json");
  auto bad = cfg;
  bad["n_embd"] = 32;
  qkv::io::write_json_atomic(m + "/config.json", bad);
  expect_fail(qkv_run("generate " + m), "model.safetensors");
  qkv::io::write_json_atomic(m + "/config.json", cfg);
  // truncated weights
  fs::resize_file(m + "/model.safetensors", fs::file_size(m + "/model.safetensors") / 2);
  expect_fail(qkv_run("generate " + m), "model.safetensors");
  // missing file
  fs::remove(m + "/model.safetensors");
  expect_fail(qkv_run("generate " + m), "missing model.safetensors");
  fs::remove(m + "/tokenizer.json");
  expect_fail(qkv_run("generate " + m), "missing tokenizer.json");
}

TEST_F(TrainCli, GenerateWithQuantizedWeights) {
  const std::string m = dir + "/model";
  ASSERT_EQ(qkv_run(tiny(m)).code, 0);
  for (const char* w : {"f32", "bf16", "int8"}) {
    Out g = qkv_run("generate " + m + " --prompt \"to be\" --max-new-tokens 8 --temperature 0 --stats --weights " + w);
    ASSERT_EQ(g.code, 0) << w << ":\n" << g.text;
    EXPECT_NE(g.text.find("to be"), std::string::npos) << g.text;  // stdout after --stats' stderr line
    EXPECT_NE(g.text.find(std::string(w) + " weights)"), std::string::npos) << g.text;
  }
  for (const char* bad : {"int4", "F32", "\"\""})
    expect_fail(qkv_run("generate " + m + " --weights " + bad), "qkv: error: --weights: weight format must be f32, bf16 or int8");
  Out h = qkv_run("generate --help");
  EXPECT_EQ(h.code, 0) << h.text;
  EXPECT_NE(h.text.find("--weights"), std::string::npos) << h.text;
}

TEST_F(TrainCli, TrainsWithATrainedBpeTokenizer) {
  Out tk = qkv_run("train-tokenizer --type bpe --vocab-size 300 --out " + dir + "/tok " + corpus);
  ASSERT_EQ(tk.code, 0) << tk.text;
  const std::string m = dir + "/bpe_model";
  Out t = qkv_run(tiny(m) + " --tokenizer " + dir + "/tok --block-size 4");
  ASSERT_EQ(t.code, 0) << t.text;
  const int64_t vocab = qkv::io::read_json(m + "/config.json")["vocab_size"].get<int64_t>();
  EXPECT_GT(vocab, 256);  // the byte alphabet plus merges learned from the corpus
  EXPECT_LE(vocab, 300);
  Out g = qkv_run("generate " + m + " --prompt \"to be\" --max-new-tokens 5 --temperature 0");
  EXPECT_EQ(g.code, 0) << g.text;
  EXPECT_EQ(g.text.rfind("to be", 0), 0u) << g.text;
  expect_fail(qkv_run(tiny(dir + "/x") + " --tokenizer " + dir + "/no_such_tok"), "no_such_tok");
}

// Ctrl-C during training: the finished steps are saved, the message says
// where it stopped and how to continue, the exit is non-zero, and --resume
// carries on from that step.
TEST_F(TrainCli, InterruptSavesTheStepAndResumes) {
  const std::string m = dir + "/interrupted";
  const std::string run = tiny(m) + " --max-iters 100000000 --lr-decay-iters 200000000 --eval-interval 100000000";
  Out t = qkv_run(run.substr(0, 0) + "--version");  // the binary starts
  ASSERT_EQ(t.code, 0);
  qkv::testing::ShellRun r = qkv::testing::shell("timeout -s INT 3 " + std::string(QKV_CLI_PATH) + " " + run);
  EXPECT_NE(r.code, 0) << r.out;
  const size_t at = r.out.find("interrupted at step ");
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("continue with --resume"), std::string::npos) << r.out;
  const long step = std::stol(r.out.substr(at + 20));
  EXPECT_GT(step, 0);
  EXPECT_EQ(qkv::io::read_json(m + "/trainer_state.json")["step"].get<long>(), step);
  Out resumed = qkv_run(run + " --resume --max-iters " + std::to_string(step + 2));
  EXPECT_EQ(resumed.code, 0) << resumed.text;
  EXPECT_NE(resumed.text.find("resuming " + m + " at step " + std::to_string(step)), std::string::npos) << resumed.text;
}

// nanoGPT's spellings (flags and --config keys), and the precedence
// defaults < --config < explicit flags.
TEST_F(TrainCli, NanoGptSpellingsAndPrecedence) {
  const std::string m = dir + "/model";
  std::ofstream(dir + "/cfg.json") << R"({"learning_rate": 0.002, "n_layer": 2, "n_embd": 32, "gradient_accumulation_steps": 2})";
  Out t = qkv_run(tiny(m) + " --config " + dir + "/cfg.json --n_head=4 --min_lr 0.0001 --beta2=0.95");
  ASSERT_EQ(t.code, 0) << t.text;
  auto cfg = qkv::io::read_json(m + "/config.json");
  EXPECT_EQ(cfg["n_layer"].get<int64_t>(), 1);  // the explicit --n-layer 1 of tiny() beats the file's 2
  EXPECT_EQ(cfg["n_embd"].get<int64_t>(), 16);
  EXPECT_EQ(cfg["n_head"].get<int64_t>(), 4);   // --n_head=4
  auto st = qkv::io::read_json(m + "/trainer_state.json")["train_config"];
  EXPECT_FLOAT_EQ(st["lr"].get<float>(), 0.002f);  // learning_rate from the file
  EXPECT_EQ(st["grad_accum"].get<int64_t>(), 2);
  EXPECT_FLOAT_EQ(st["beta2"].get<float>(), 0.95f);
  std::ofstream(dir + "/typo.json") << R"({"learning_rat": 0.002})";
  expect_fail(qkv_run(tiny(dir + "/x") + " --config " + dir + "/typo.json"),
              "typo.json: unknown field \"learning_rat\" (did you mean \"lr\"?)");
  std::ofstream(dir + "/type.json") << R"({"bias": "yes"})";
  expect_fail(qkv_run(tiny(dir + "/x") + " --config " + dir + "/type.json"),
              "field \"bias\" must be true or false, got \"yes\"");
  EXPECT_FALSE(fs::exists(dir + "/x"));
  Out h = qkv_run("train gpt --help");
  EXPECT_EQ(h.code, 0) << h.text;
  for (const char* s : {"--n-layer,--n_layer INT=4", "--lr,--learning_rate FLOAT=0.001", "--dropout FLOAT=0",
                        "--activation TEXT=gelu", "--bias BOOLEAN=true", "--seed UINT=1337"})
    EXPECT_NE(h.text.find(s), std::string::npos) << s << " missing in:\n" << h.text;
}
