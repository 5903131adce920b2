// `qkv train translate` end to end on a few tiny parallel lines: the model
// directory it writes (config, weights, joint tokenizer, log with BLEU), the
// length filter's report, resume, and every bad-input case of the issue.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <fstream>
#include <string>

#include "qkv/io/json.h"
#include "qkv/tokenizers/tokenizer.h"
#include "support/shell.h"

namespace fs = std::filesystem;

namespace {

class TrainTranslateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (fs::temp_directory_path() / ("qkv_tt_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    write("src.txt", "ein Haus .\r\nzwei Hunde laufen .\r\nder Mann liest ein Buch .\r\n\r\nguten Morgen\r\n");
    write("tgt.txt", "a house .\ntwo dogs run .\nthe man reads a book .\nempty source\ngood morning\n");
    write("vsrc.txt", "ein Hund .\nder Mann .\n");
    write("vtgt.txt", "a dog .\nthe man .\n");
  }
  void TearDown() override { fs::remove_all(dir); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir + "/" + name, std::ios::binary) << text;
  }
  std::string p(const std::string& name) const { return dir + "/" + name; }
  std::string tiny(const std::string& out, const std::string& iters = "4") const {
    return "train translate --src " + p("src.txt") + " --tgt " + p("tgt.txt") + " --valid-src " + p("vsrc.txt") +
           " --valid-tgt " + p("vtgt.txt") + " --out " + out +
           " --vocab-size 300 --d-model 16 --n-heads 2 --d-ff 32 --n-encoder-layers 1 --n-decoder-layers 1"
           " --max-len 32 --max-tokens 64 --max-iters " + iters + " --eval-interval 2 --warmup-iters 2 --threads 1";
  }
  std::string dir;
};

void expect_fail(const qkv::testing::ShellRun& r, const std::string& needle) {
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(needle), std::string::npos) << "expected '" << needle << "' in:\n" << r.out;
}

}  // namespace

TEST_F(TrainTranslateCli, TrainsAModelDirectoryFromRawTextAndResumes) {
  const std::string out = p("run");
  auto r = qkv::testing::qkv_cli(tiny(out));
  ASSERT_EQ(r.code, 0) << r.out;
  // The empty source line is dropped and said so; CRLF ends are not text.
  EXPECT_NE(r.out.find("train: 5 pairs, kept 4 (dropped 1 with an empty side, 0 longer than --max-len 32)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("val_bleu"), std::string::npos) << r.out;
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "trainer_state.json", "log.jsonl",
                        "best/tokenizer.json", "best/config.json"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  const auto cfg = qkv::io::read_json(out + "/config.json");
  EXPECT_EQ(cfg["model_type"], "transformer");
  EXPECT_EQ(cfg["d_model"], 16);
  const auto tok = qkv::tokenizers::Tokenizer::from_path(out + "/tokenizer.json");
  EXPECT_EQ(cfg["vocab_size"], tok.vocab_size());
  EXPECT_EQ(tok.token_to_id("<pad>"), cfg["pad_id"].get<int64_t>());
  EXPECT_EQ(tok.token_to_id("</s>"), cfg["eos_id"].get<int64_t>());
  EXPECT_EQ(tok.decode(tok.encode("zwei Hunde").ids), "zwei Hunde");  // no '\r' learned
  // Translation defaults are the paper's.
  const auto st = qkv::io::read_json(out + "/trainer_state.json");
  EXPECT_EQ(st["train_config"]["lr_schedule"], "noam");
  EXPECT_FLOAT_EQ(st["train_config"]["beta2"].get<float>(), 0.98f);
  EXPECT_EQ(st["step"], 4);
  // A second run into the same directory must say --resume; --resume continues.
  expect_fail(qkv::testing::qkv_cli(tiny(out)), "already holds a training run; pass --resume");
  r = qkv::testing::qkv_cli(tiny(out, "6") + " --resume");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("resuming " + out + " at step 4"), std::string::npos) << r.out;
  EXPECT_EQ(qkv::io::read_json(out + "/trainer_state.json")["step"], 6);
}

TEST_F(TrainTranslateCli, BadInputFailsClearlyAndWritesNothing) {
  const std::string out = p("bad");
  write("short.txt", "a house .\n");
  auto cmd = tiny(out);
  auto with = [&](const std::string& flag, const std::string& file, std::string base = "") {
    if (base.empty()) base = cmd;
    const auto at = base.find(flag + " ");
    const auto end = base.find(' ', at + flag.size() + 1);
    return base.substr(0, at) + flag + " " + file + base.substr(end);
  };
  expect_fail(qkv::testing::qkv_cli(with("--tgt", p("short.txt"))), "src.txt has 5 lines but " + p("short.txt") + " has 1");
  write("empty.txt", "");
  expect_fail(qkv::testing::qkv_cli(with("--valid-tgt", p("empty.txt"), with("--valid-src", p("empty.txt")))),
              "the valid corpus is empty");
  write("bad_utf8.txt", "a house .\ntwo \xff dogs .\nx\ny\nz\n");
  expect_fail(qkv::testing::qkv_cli(with("--tgt", p("bad_utf8.txt"))), "bad_utf8.txt:2");
  expect_fail(qkv::testing::qkv_cli(with("--src", p("missing.txt"))), "missing.txt: no such file");
  expect_fail(qkv::testing::qkv_cli(cmd + " --lr-schedule cubic"), "--lr-schedule");
  expect_fail(qkv::testing::qkv_cli(cmd + " --max-tokens 8"), "--max-tokens (8) must be at least --max-len (32)");
  write("notok.json", "{}");
  expect_fail(qkv::testing::qkv_cli(cmd + " --tokenizer " + p("notok.json")), "notok.json");
  EXPECT_FALSE(fs::exists(out + "/model.safetensors"));
  expect_fail(qkv::testing::qkv_cli(cmd + " --resume"), "cannot --resume");
}

TEST_F(TrainTranslateCli, PositionMethodIsAFlagAndTheRunKeepsIt) {
  // Shaw et al.'s relative positions (their paper's own setting: translation)
  // and T5's bias, chosen on the command line, saved in config.json, and used
  // again by `qkv translate`.
  for (const std::string kind : {"relative", "t5"}) {
    const std::string out = p("run_" + kind);
    auto r = qkv::testing::qkv_cli(tiny(out) + " --pos-encoding " + kind);
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(qkv::io::read_json(out + "/config.json")["pos_encoding"], kind);
    write("in.txt", "ein Haus .\n");
    r = qkv::testing::shell("{ " + std::string(QKV_CLI_PATH) + " translate " + out + " --threads 1 < " + p("in.txt") +
                            " > " + p("out.txt") + "; }");
    EXPECT_EQ(r.code, 0) << r.out;
    std::ifstream f(p("out.txt"));
    const std::string line((std::istreambuf_iterator<char>(f)), {});
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;  // one line out per line in
  }
  auto r = qkv::testing::qkv_cli(tiny(p("bad")) + " --pos-encoding xpos");
  expect_fail(r, "pos_encoding must be");
  EXPECT_EQ(r.out.find("tokenizer: training"), std::string::npos) << "the flags are checked before the BPE:\n" << r.out;
  expect_fail(qkv::testing::qkv_cli(tiny(p("bad")) + " --pos-encoding rope --rope-dim 3"), "rope_dim 3");
  EXPECT_FALSE(fs::exists(p("bad") + "/model.safetensors"));
}

// --trace: one step of the encoder–decoder, every layer's shapes (the
// cross-attention's keys span the source), the loss and gradients; nothing written.
TEST_F(TrainTranslateCli, TraceRunsOneStepAndWritesNothing) {
  const std::string out = p("traced");
  auto r = qkv::testing::qkv_cli(tiny(out) + " --trace");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* needle : {"trace: one training step of the translation model", "encoder.layers.0.attn",
                             "decoder.layers.0.crossattention", "(B,NH,T,S)", "(B,T,C) → (B,NH,T,hs)", "logits",
                             "(B,T,V)", "loss", "shared.weight", "grad"})
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle << "\n" << r.out;
  EXPECT_EQ(r.out.find("nan"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out + "/config.json"));
  EXPECT_FALSE(fs::exists(out + "/log.jsonl"));
}

// qkv report on a translation run: greedy translations of the training data's
// first source lines, and the first one's cross-attention.
TEST_F(TrainTranslateCli, ReportTranslatesTheFirstSourceLines) {
  const std::string out = p("run");
  ASSERT_EQ(qkv::testing::qkv_cli(tiny(out)).code, 0);
  auto r = qkv::testing::qkv_cli("report " + out + " -o " + p("report.html") + " --samples 2");
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream f(p("report.html"));
  const std::string html{std::istreambuf_iterator<char>(f), {}};
  for (const char* needle : {"<section id=\"samples\">", "ein Haus .", "zwei Hunde laufen .", "greedy translations",
                             "cross-attention (target × source)", "val_bleu", "<svg"})
    EXPECT_NE(html.find(needle), std::string::npos) << needle;
}
