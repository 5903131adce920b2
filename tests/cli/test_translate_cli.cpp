// `qkv translate` end to end on a tiny model directory made here: a random
// encoder–decoder Transformer and a byte-level BPE with <pad> <s> </s> at
// ids 0, 1, 2. The translations are nonsense; the promises are about lines,
// fields and errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qkv/generate/beam.h"
#include "qkv/models/registry.h"
#include "qkv/models/transformer.h"
#include "qkv/tokenizers/trainers.h"
#include "support/shell.h"

namespace fs = std::filesystem;
using namespace qkv;

namespace {

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) {
      out.push_back(s.substr(pos));
      break;
    }
    out.push_back(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

class TranslateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (fs::temp_directory_path() / ("qkv_translate_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    fs::remove_all(dir);
    model = dir + "/model";
    fs::create_directories(model);
    const std::vector<std::string> text{"the cat sat on the mat", "a dog ran in the park", "der Hund lief im Park",
                                        "die Katze sass auf der Matte"};
    tokenizers::Tokenizer tok =
        tokenizers::train_byte_level_bpe(text, {.vocab_size = 300, .min_frequency = 1,
                                                .special_tokens = {"<pad>", "<s>", "</s>"}});
    tok.save(model + "/tokenizer.json");
    models::Seq2SeqConfig c;
    c.vocab_size = tok.vocab_size(), c.d_model = 16, c.n_heads = 2, c.d_ff = 32;
    c.n_encoder_layers = 1, c.n_decoder_layers = 1, c.max_len = 24;
    c.pad_id = 0, c.bos_id = 1, c.eos_id = 2;
    Generator gen(3);
    models::Transformer m(c, gen);
    models::save_model(model, m, 0);
  }
  void TearDown() override { fs::remove_all(dir); }

  // Runs translate with `input` on stdin; stdout apart from stderr.
  qkv::testing::ShellRun run(const std::string& args, const std::string& input, std::string* out) {
    const std::string in = dir + "/in.txt", o = dir + "/out.txt";
    std::ofstream(in, std::ios::binary) << input;
    qkv::testing::ShellRun r = qkv::testing::shell("{ " + std::string(QKV_CLI_PATH) + " translate " + args + " --threads 1 < " +
                                         in + " > " + o + "; }");
    std::ifstream f(o, std::ios::binary);
    *out = std::string(std::istreambuf_iterator<char>(f), {});
    return r;
  }
  std::string dir, model;
};

}  // namespace

TEST_F(TranslateCli, OneLineOutPerLineInEmptyLinesIncluded) {
  std::string out;
  const auto r = run(model + " --beam 3 --batch-size 2", "the cat sat\n\na dog\r\nder Hund lief im Park\n\n", &out);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto lines = split_lines(out);
  ASSERT_EQ(lines.size(), 5u) << out;
  EXPECT_EQ(lines[1], "");  // empty in, empty out
  EXPECT_EQ(lines[4], "");
  // Batching and sorting by length do not change a line's translation.
  std::string alone;
  ASSERT_EQ(run(model + " --beam 3", "a dog\n", &alone).code, 0);
  EXPECT_EQ(alone, lines[2] + "\n");
}

TEST_F(TranslateCli, JsonlHasTheFieldsAndNBest) {
  std::string out;
  const auto r = run(model + " --beam 3 --n-best 2 --jsonl", "the cat\n\ndie Katze\n", &out);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto lines = split_lines(out);
  ASSERT_EQ(lines.size(), 3u) << out;
  for (size_t i = 0; i < 3; ++i) {
    const auto j = nlohmann::json::parse(lines[i]);
    EXPECT_EQ(j["line"], i + 1);
    ASSERT_TRUE(j["source"].is_string());
    ASSERT_TRUE(j["hypotheses"].is_array());
    if (i == 1) {
      EXPECT_EQ(j["source"], "");
      EXPECT_TRUE(j["hypotheses"].empty());
      continue;
    }
    ASSERT_EQ(j["hypotheses"].size(), 2u) << lines[i];
    for (const auto& h : j["hypotheses"]) {
      EXPECT_TRUE(h["text"].is_string());
      EXPECT_TRUE(h["score"].is_number());
      EXPECT_TRUE(h["tokens"].is_number_integer());
    }
    EXPECT_GE(j["hypotheses"][0]["score"].get<double>(), j["hypotheses"][1]["score"].get<double>());
  }
}

TEST_F(TranslateCli, LongSourceIsTruncatedWithAWarning) {
  std::string out, line;
  for (int i = 0; i < 20; ++i) line += "the cat sat on the mat ";
  const auto r = run(model + " --beam 2", "a dog\n" + line + "\n", &out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(split_lines(out).size(), 2u);
  EXPECT_NE(r.out.find("stdin:2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("truncated"), std::string::npos) << r.out;
}

TEST_F(TranslateCli, BadInputGivesClearErrors) {
  std::string out;
  auto r = run(model, "ok\n\xff\xfe bad\n", &out);
  qkv::testing::expect_failure(r, "stdin:2: invalid UTF-8");
  r = run(model + " --beam 2 --n-best 3", "x\n", &out);
  qkv::testing::expect_failure(r, "--n-best");
  r = run(model + " --beam 0", "x\n", &out);
  qkv::testing::expect_failure(r, "--beam");
  r = run(dir + "/nothing", "x\n", &out);
  qkv::testing::expect_failure(r, "no such directory");

  fs::remove(model + "/tokenizer.json");
  r = run(model, "x\n", &out);
  qkv::testing::expect_failure(r, "missing tokenizer.json");

  // A GPT directory is not a translation model.
  const std::string gpt = dir + "/gpt";
  fs::create_directories(gpt);
  std::ofstream(gpt + "/config.json")
      << R"({"model_type": "gpt", "vocab_size": 300, "n_layer": 1, "n_head": 2, "n_embd": 16, "block_size": 8})";
  tokenizers::train_byte_level_bpe({"ab"}, {.vocab_size = 260, .min_frequency = 1}).save(gpt + "/tokenizer.json");
  {
    nlohmann::json cfg = nlohmann::json::parse(std::ifstream(gpt + "/config.json"));
    Generator gen(1);
    auto m = models::create_model(cfg, gen);
    models::save_model(gpt, *m, 0);
  }
  r = run(gpt, "x\n", &out);
  qkv::testing::expect_failure(r, "which qkv translate cannot use");

  fs::remove(model + "/config.json");
  std::ofstream(model + "/tokenizer.json") << "{}";
  r = run(model, "x\n", &out);
  qkv::testing::expect_failure(r, "config.json");
}

TEST_F(TranslateCli, HelpShowsTheOptionsAndDefaults) {
  const auto r = qkv::testing::qkv_cli("translate --help");
  EXPECT_EQ(r.code, 0) << r.out;
  for (const char* s : {"--beam", "--alpha", "--n-best", "--batch-size", "--max-len-a", "--max-len-b", "--jsonl",
                        "--threads", "0.6", "1.5"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << " missing in:\n" << r.out;
}

// `qkv plot attention` on a translation model: the cross-attention of a
// decoder layer, target tokens × source tokens, for a head or their mean.
TEST_F(TranslateCli, PlotAttentionDrawsTheCrossAttention) {
  auto r = qkv::testing::qkv_cli("plot attention " + model + " --source \"der Hund\" --target \"the dog\" --head mean -o " +
                                 dir + "/cross.svg");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("wrote " + dir + "/cross.svg ("), std::string::npos) << r.out;
  std::ifstream f(dir + "/cross.svg");
  const std::string svg((std::istreambuf_iterator<char>(f)), {});
  EXPECT_NE(svg.find("cross-attention, decoder layer 0, mean of heads"), std::string::npos);
  EXPECT_NE(svg.find("&lt;/s&gt;"), std::string::npos) << "the last row is the step that ends the sentence";
  // Without --target the model's own translation is drawn (and printed).
  r = qkv::testing::qkv_cli("plot attention " + model + " --source \"der Hund\" --head 1 -o " + dir + "/own.png");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("target: "), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir + "/own.png"));
  auto fails = [&](const std::string& args, const std::string& needle) {
    auto e = qkv::testing::qkv_cli("plot attention " + model + " " + args);
    EXPECT_NE(e.code, 0) << e.out;
    EXPECT_NE(e.out.find(needle), std::string::npos) << "expected '" << needle << "' in:\n" << e.out;
  };
  fails("--text \"der Hund\" -o " + dir + "/x.svg", "a translation model needs --source TEXT");
  fails("--source \"der Hund\" --layer 1 -o " + dir + "/x.svg", "--layer 1 out of range: the model has 1 layers");
  fails("--source \"der Hund\" --head 2 -o " + dir + "/x.svg", "--head 2: expected \"mean\" or a head index 0 … 1");
  fails("--source \"der Hund\" --head avg -o " + dir + "/x.svg", "--head avg");
  fails("--source \"der Hund\" -o " + dir + "/x.jpg", ".jpg");
  EXPECT_FALSE(fs::exists(dir + "/x.svg"));
}

// docs/TRANSLATION.md §5, as written there (on the tiny model).
TEST_F(TranslateCli, TutorialCppSnippetRuns) {
  auto m = models::load_model_as<models::Transformer>(model);
  auto tok = tokenizers::Tokenizer::from_path(model + "/tokenizer.json");
  generate::BeamOptions opt{.beam_size = 4, .length_penalty = 0.6f, .eos = m->config.eos_id};
  auto hyps = generate::beam_search_sources(*m, {tok.encode("der Hund").ids}, opt,
                                            {.pad_id = m->config.pad_id, .bos_id = m->config.bos_id});
  ASSERT_EQ(hyps.size(), 1u);
  ASSERT_EQ(hyps[0].size(), 1u);
  EXPECT_NO_THROW(tok.decode(hyps[0][0].tokens));
}
