// `qkv pipeline TASK DIR` end to end on tiny BERT directories written here
// (random weights, a WordPiece vocabulary of 18 tokens): the JSON shapes of
// Hugging Face's pipelines, JSON-object input lines, and the bad inputs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "qkv/models/bert.h"
#include "qkv/models/registry.h"
#include "qkv/tokenizers/tokenizer.h"
#include "support/shell.h"

using namespace qkv;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class PipelineCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (fs::temp_directory_path() / ("qkv_pipe_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream v(dir + "/vocab.txt");
    for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "dog",
                          "ran", "black", "##burn", "in", "paris", "a", "."})
      v << t << "\n";
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string model_dir(models::BertHead head, std::vector<std::string> labels = {}) {
    models::BertConfig c;
    c.vocab_size = 18, c.hidden_size = 16, c.num_attention_heads = 2, c.num_hidden_layers = 1;
    c.intermediate_size = 32, c.max_position_embeddings = 16, c.head = head, c.labels = std::move(labels);
    Generator gen(1);
    models::Bert m(c, gen);
    const std::string out = dir + "/" + models::bert_head_name(head);
    models::save_model(out, m, 0);
    tokenizers::Tokenizer::bert(dir + "/vocab.txt", true).save(out + "/tokenizer.json");
    return out;
  }
  // Runs the pipeline on `input` (stdin) and parses each output line.
  std::vector<json> run(const std::string& args, const std::string& input) {
    std::ofstream(dir + "/in.txt") << input;
    auto r = qkv::testing::qkv_cli("pipeline " + args + " < " + dir + "/in.txt");
    EXPECT_EQ(r.code, 0) << r.out;
    std::vector<json> out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) out.push_back(json::parse(line));
    return out;
  }
  std::string dir;
};

}  // namespace

TEST_F(PipelineCli, FillMaskPrintsHuggingFaceShapes) {
  const std::string m = model_dir(models::BertHead::MaskedLM);
  auto out = run("fill-mask " + m + " --top-k 2", "the [MASK] sat\n{\"text\": \"[MASK] cat [MASK]\"}\n");
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(out[0].size(), 2u);  // one mask: a list of predictions
  for (const char* k : {"score", "token", "token_str", "sequence"}) EXPECT_TRUE(out[0][0].contains(k)) << k;
  EXPECT_GE(out[0][0]["score"].get<double>(), out[0][1]["score"].get<double>());
  ASSERT_EQ(out[1].size(), 2u);  // two masks: a list per mask
  EXPECT_TRUE(out[1][0].is_array());
}

TEST_F(PipelineCli, ClassificationAndTokensAndFeatures) {
  const std::string s = model_dir(models::BertHead::SequenceClassification, {"neg", "pos"});
  auto one = run("text-classification " + s, "the cat sat\n");
  ASSERT_EQ(one.at(0).size(), 1u);
  EXPECT_TRUE(one[0][0]["label"] == "neg" || one[0][0]["label"] == "pos");
  auto both = run("text-classification " + s + " --top-k 0", "{\"text\": \"the cat\", \"text_pair\": \"sat\"}\n");
  ASSERT_EQ(both.at(0).size(), 2u);
  EXPECT_NEAR(both[0][0]["score"].get<double>() + both[0][1]["score"].get<double>(), 1.0, 1e-6);

  const std::string t = model_dir(models::BertHead::TokenClassification, {"O", "B-PER", "I-PER"});
  auto tokens = run("token-classification " + t, "blackburn in paris\n");
  for (const auto& e : tokens.at(0))
    for (const char* k : {"entity", "score", "index", "word", "start", "end"}) EXPECT_TRUE(e.contains(k)) << k;
  auto groups = run("token-classification " + t + " --aggregation simple", "blackburn in paris\n");
  for (const auto& e : groups.at(0)) EXPECT_TRUE(e.contains("entity_group"));

  auto feats = run("feature-extraction " + t, "the cat\n");
  ASSERT_EQ(feats.at(0).size(), 1u);
  EXPECT_EQ(feats[0][0].size(), 4u);      // [CLS] the cat [SEP]
  EXPECT_EQ(feats[0][0][0].size(), 16u);  // C
}

TEST_F(PipelineCli, BadInputsFailClearly) {
  const std::string m = model_dir(models::BertHead::MaskedLM);
  std::ofstream(dir + "/in.txt") << "the cat sat\n";
  qkv::testing::expect_failure(qkv::testing::qkv_cli("pipeline fill-mask " + m + " < " + dir + "/in.txt"),
                               "no [MASK]");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("pipeline translation " + m + " < " + dir + "/in.txt"),
                               "unknown pipeline task \"translation\"");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("pipeline text-classification " + m + " < " + dir + "/in.txt"),
                               "BertForSequenceClassification");
  std::ofstream(dir + "/in.txt") << "{\"txt\": 1}\n";
  qkv::testing::expect_failure(qkv::testing::qkv_cli("pipeline fill-mask " + m + " < " + dir + "/in.txt"),
                               "stdin:1");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("pipeline fill-mask " + dir + "/nothing < " + dir + "/in.txt"),
                               "nothing");
}

TEST_F(PipelineCli, EmbedThenSearchFindsTheSameText) {
  const std::string m = model_dir(models::BertHead::None);
  std::ofstream(dir + "/docs.jsonl") << "{\"id\": \"cats\", \"text\": \"the cat sat on the mat.\"}\n"
                                     << "{\"id\": \"dogs\", \"text\": \"a dog ran in paris.\"}\n"
                                     << "the black ##burn\n";
  auto e = qkv::testing::qkv_cli("embed " + m + " --input " + dir + "/docs.jsonl --out " + dir + "/index.safetensors");
  ASSERT_EQ(e.code, 0) << e.out;
  EXPECT_NE(e.out.find("embedded 3 chunks of 3 documents"), std::string::npos) << e.out;
  auto s = qkv::testing::qkv_cli("search " + m + " --index " + dir + "/index.safetensors --top-k 2 --query " +
                                 "'a dog ran in paris.'");
  ASSERT_EQ(s.code, 0) << s.out;
  json r = json::parse(s.out);
  ASSERT_EQ(r["hits"].size(), 2u);
  EXPECT_EQ(r["hits"][0]["id"], "dogs");
  EXPECT_NEAR(r["hits"][0]["score"].get<double>(), 1.0, 1e-5);
  EXPECT_EQ(r["hits"][0]["text"], "a dog ran in paris.");
  EXPECT_EQ(r["hits"][0]["start"], 0);
  EXPECT_LT(r["hits"][1]["score"].get<double>(), 1.0);
  // Chunks of 3 tokens with stride 2 overlap and cover each document.
  auto c = qkv::testing::qkv_cli("embed " + m + " --input " + dir + "/docs.jsonl --chunk-tokens 3 --stride 2 --out " +
                                 dir + "/chunks.jsonl");
  ASSERT_EQ(c.code, 0) << c.out;
  std::ifstream in(dir + "/chunks.jsonl");
  int n = 0;
  for (std::string line; std::getline(in, line); ++n) EXPECT_EQ(json::parse(line)["embedding"].size(), 16u);
  EXPECT_GT(n, 3);
}

TEST_F(PipelineCli, EmbedAndSearchRefuseBadInput) {
  const std::string m = model_dir(models::BertHead::None);
  std::ofstream(dir + "/docs.txt") << "the cat\n{\"id\": 3}\n";
  qkv::testing::expect_failure(
      qkv::testing::qkv_cli("embed " + m + " --input " + dir + "/docs.txt --out " + dir + "/i.safetensors"),
      "docs.txt:2");
  EXPECT_FALSE(fs::exists(dir + "/i.safetensors"));
  std::ofstream(dir + "/docs.txt") << "the cat\n";
  qkv::testing::expect_failure(
      qkv::testing::qkv_cli("embed " + m + " --input " + dir + "/docs.txt --out " + dir + "/i.npy"), ".safetensors or .jsonl");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("embed " + m + " --input " + dir + "/docs.txt --chunk-tokens 99 --out " +
                                                     dir + "/i.safetensors"),
                               "longer than the model reads (14 tokens");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("embed " + m + " --input " + dir + "/docs.txt --pooling max --out " +
                                                     dir + "/i.safetensors"),
                               "cls or mean");
  // An index that is not one: a model checkpoint.
  qkv::testing::expect_failure(
      qkv::testing::qkv_cli("search " + m + " --index " + m + "/model.safetensors --query cat"), "not a qkv embed index");
}
