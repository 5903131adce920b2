// `qkv plot loss|attention|next-token` and `qkv generate --show-probs` end to
// end: tiny models of every family made here (GPT, Llama, BERT and the
// encoder–decoder Transformer, random weights, a byte-level BPE tokenizer that
// knows Korean), pictures checked by structure (the PNG decodes, the SVG text
// layer holds the token labels), and every bad input a clear error that
// leaves nothing behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "qkv/models/bert.h"
#include "qkv/models/gpt.h"
#include "qkv/models/llama.h"
#include "qkv/models/registry.h"
#include "qkv/models/transformer.h"
#include "qkv/tokenizers/trainers.h"
#include "support/shell.h"
#include "viz/image_check.h"

namespace fs = std::filesystem;
using qkv::testing::expect_failure;
using qkv::testing::qkv_cli;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

bool layer_has(const std::string& svg_path, const std::string& label) {
  for (const std::string& t : qkv::testing::svg_text_layer(slurp(svg_path)))
    if (t == label) return true;
  return false;
}

class PlotCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir = (fs::temp_directory_path() / ("qkv_plot_cli_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::vector<std::string> text{"But the cat sat on the mat", "yes But no But so But", "But a dog ran in the park",
                                        "한국어 문장입니다", "東京 café"};
    tok = qkv::tokenizers::train_byte_level_bpe(
        text, {.vocab_size = 300, .min_frequency = 1, .special_tokens = {"<pad>", "<s>", "</s>"}});
    qkv::Generator gen(3);
    qkv::models::GPTConfig g;
    g.vocab_size = tok.vocab_size(), g.n_layer = 2, g.n_head = 2, g.n_embd = 16, g.block_size = 32;
    save("gpt", qkv::models::GPT(g, gen));
    qkv::models::LlamaConfig l;
    l.vocab_size = tok.vocab_size(), l.hidden_size = 16, l.intermediate_size = 24, l.num_hidden_layers = 1;
    l.num_attention_heads = 4, l.num_key_value_heads = 2, l.max_position_embeddings = 32;
    save("llama", qkv::models::Llama(l, gen));
    qkv::models::BertConfig b;
    b.vocab_size = tok.vocab_size(), b.hidden_size = 16, b.num_hidden_layers = 2, b.num_attention_heads = 2;
    b.intermediate_size = 32, b.max_position_embeddings = 32;
    save("bert", qkv::models::Bert(b, gen));
    qkv::models::Seq2SeqConfig t;
    t.vocab_size = tok.vocab_size(), t.d_model = 16, t.n_heads = 2, t.d_ff = 32;
    t.n_encoder_layers = 1, t.n_decoder_layers = 2, t.max_len = 24, t.pad_id = 0, t.bos_id = 1, t.eos_id = 2;
    save("transformer", qkv::models::Transformer(t, gen));
  }
  static void TearDownTestSuite() { if (!std::getenv("QKV_KEEP")) fs::remove_all(dir); }
  template <class M> static void save(const std::string& name, const M& m) {
    fs::create_directories(dir + "/" + name);
    qkv::models::save_model(dir + "/" + name, m, 0);
    tok.save(dir + "/" + name + "/tokenizer.json");
  }
  // A fresh output folder per test, so "nothing written" is checkable.
  void SetUp() override {
    out = dir + "/out_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(out);
  }
  std::vector<std::string> written() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(out)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  static inline std::string dir;
  static inline qkv::tokenizers::Tokenizer tok;
  std::string out;
};

}  // namespace

TEST_F(PlotCli, AttentionOfEveryFamily) {
  const std::string text = "\" But 한국어\"";
  // GPT: one head, then every layer × head; the labels show the leading space and the Korean.
  auto r = qkv_cli("plot attention " + dir + "/gpt --text " + text + " --layer 1 --head 1 -o " + out + "/gpt.png");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto png = qkv::testing::read_png(out + "/gpt.png");
  EXPECT_GT(png.width, 100);
  EXPECT_GT(png.ink(0, 0, png.width, png.height), 0.2);
  r = qkv_cli("plot attention " + dir + "/gpt --text " + text + " --grid -o " + out + "/gpt.svg");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("2 layers x 2 heads"), std::string::npos) << r.out;
  for (const char* label : {"␣But", "layer 1", "head 1"}) EXPECT_TRUE(layer_has(out + "/gpt.svg", label)) << label;
  // This tokenizer splits 한 (ED 95 9C) but keeps 국 whole: bytes shown as bytes, the syllable as text.
  EXPECT_TRUE(layer_has(out + "/gpt.svg", "국"));
  EXPECT_TRUE(layer_has(out + "/gpt.svg", "&lt;0xED&gt;&lt;0x95&gt;"));
  // Llama (grouped-query: 4 query heads), BERT, and the translation model's three attentions.
  r = qkv_cli("plot attention " + dir + "/llama --text " + text + " --grid -o " + out + "/llama.pdf");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("1 layers x 4 heads"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(out + "/llama.pdf").substr(0, 5), "%PDF-");
  r = qkv_cli("plot attention " + dir + "/bert --text " + text + " --head mean --layer 1 -o " + out + "/bert.svg");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(layer_has(out + "/bert.svg", "␣But"));
  for (const std::string part : {"cross", "encoder", "decoder"}) {
    r = qkv_cli("plot attention " + dir + "/transformer --source \"the cat\" --target \"東京 café\" --part " + part +
                " --grid -o " + out + "/" + part + ".svg");
    ASSERT_EQ(r.code, 0) << part << "\n" << r.out;
    EXPECT_TRUE(layer_has(out + "/" + part + ".svg", part == "decoder" ? "&lt;s&gt;" : "␣c")) << part;
  }
  EXPECT_TRUE(layer_has(out + "/cross.svg", "&lt;/s&gt;"));
  EXPECT_EQ(written(), (std::vector<std::string>{"bert.svg", "cross.svg", "decoder.svg", "encoder.svg", "gpt.png",
                                                 "gpt.svg", "llama.pdf"}));
}

TEST_F(PlotCli, AttentionBadInputWritesNothing) {
  const std::string gpt = "plot attention " + dir + "/gpt --text \"the cat\" ";
  expect_failure(qkv_cli(gpt + "--layer 2 -o " + out + "/a.png"), "--layer 2 out of range: the model has 2 layers");
  expect_failure(qkv_cli(gpt + "--head 2 -o " + out + "/a.png"), "--head 2: expected \"mean\" or a head index 0 … 1");
  expect_failure(qkv_cli(gpt + "-o " + out + "/a.jpg"), "unknown extension '.jpg'");
  expect_failure(qkv_cli(gpt + "-o " + out + "/a"), "unknown extension ''");
  expect_failure(qkv_cli(gpt + "-o " + out + "/missing/a.png"), "no such folder");
  expect_failure(qkv_cli("plot attention " + dir + "/gpt -o " + out + "/a.png"), "needs --text");
  expect_failure(qkv_cli("plot attention " + dir + "/bert --text x --layer 5 -o " + out + "/a.png"), "--layer 5");
  expect_failure(qkv_cli("plot attention " + dir + "/transformer --source x --part encoder --layer 1 -o " + out +
                         "/a.png"),
                 "--layer 1 out of range: the model has 1 layers");
  expect_failure(qkv_cli("plot attention " + dir + "/transformer --source x --part both -o " + out + "/a.png"),
                 "--part both");
  expect_failure(qkv_cli("plot attention " + dir + "/nope --text x -o " + out + "/a.png"), "nope");
  expect_failure(qkv_cli("plot heat " + dir + "/gpt -o " + out + "/a.png"), "unknown plot kind 'heat' (loss, pe, attention");
  expect_failure(qkv_cli("plot"), "qkv plot needs a kind: loss, pe, attention");
  EXPECT_TRUE(written().empty());
}

TEST_F(PlotCli, NextTokenBarsAndShowProbs) {
  auto r = qkv_cli("plot next-token " + dir + "/gpt --prompt \"But the\" -k 5 -o " + out + "/next.svg");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("top 5 of " + std::to_string(tok.vocab_size()) + " tokens"), std::string::npos) << r.out;
  const auto layer = qkv::testing::svg_text_layer(slurp(out + "/next.svg"));
  EXPECT_NE(std::find(layer.begin(), layer.end(), "next token after &quot;But the&quot;"), layer.end());
  r = qkv_cli("plot next-token " + dir + "/llama --prompt \"한국어\" -o " + out + "/next.png");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(qkv::testing::read_png(out + "/next.png").has(0xff7f0e)) << "the most likely token, highlighted";
  expect_failure(qkv_cli("plot next-token " + dir + "/bert --prompt x -o " + out + "/b.png"), "bert");
  expect_failure(qkv_cli("plot next-token " + dir + "/gpt --prompt x -k 0 -o " + out + "/b.png"), "-k must be in 1");
  EXPECT_EQ(written(), (std::vector<std::string>{"next.png", "next.svg"}));

  // generate --show-probs: one line per token, the drawn token and K candidates whose probabilities fall.
  r = qkv_cli("generate " + dir + "/gpt --prompt \"But\" --max-new-tokens 3 --temperature 0 --show-probs 4");
  ASSERT_EQ(r.code, 0) << r.out;
  for (int step = 0; step < 3; ++step) {
    const size_t at = r.out.find("step " + std::to_string(step) + "  ");
    ASSERT_NE(at, std::string::npos) << r.out;
    std::string line = r.out.substr(at, r.out.find('\n', at) - at);
    std::vector<double> p;
    for (size_t i = line.find('|'); (i = line.find(" 0.", i)) != std::string::npos; ++i) p.push_back(std::stod(line.substr(i)));
    ASSERT_EQ(p.size(), 4u) << line;
    EXPECT_TRUE(std::is_sorted(p.rbegin(), p.rend())) << line;
  }
  expect_failure(qkv_cli("generate " + dir + "/gpt --show-probs 3 --num-samples 2"), "--show-probs");
}

TEST_F(PlotCli, LossOfSeveralRuns) {
  const std::string corpus = out + "/corpus.txt";
  std::ofstream(corpus) << "to be or not to be, that is the question.\nwhether tis nobler in the mind to suffer\n";
  const std::string flags = " --n-layer 1 --n-head 2 --n-embd 16 --block-size 8 --batch-size 2 --eval-interval 3"
                            " --eval-iters 1 --warmup-iters 2 --lr-decay-iters 10 --threads 1";
  for (const char* run : {"a", "b"}) {
    auto t = qkv_cli("train gpt --data " + corpus + " --out " + out + "/" + run + flags + " --max-iters " +
                     (run[0] == 'a' ? "6" : "4"));
    ASSERT_EQ(t.code, 0) << t.out;
  }
  // Every step logged once with its loss and learning rate.
  const std::string steps = slurp(out + "/a/steps.tsv");
  EXPECT_EQ(steps.rfind("step\tloss\tlr\n0\t", 0), 0u) << steps;
  EXPECT_EQ(std::count(steps.begin(), steps.end(), '\n'), 7) << steps;
  EXPECT_NE(slurp(out + "/a/loss.svg").find("learning rate"), std::string::npos);
  auto r = qkv_cli("plot loss " + out + "/a " + out + "/b/ -o " + out + "/loss.svg");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("6 steps, 3 evaluations"), std::string::npos) << r.out;
  for (const char* label : {"a train loss (EMA)", "b eval: val", "learning rate"})
    EXPECT_TRUE(layer_has(out + "/loss.svg", label)) << label;
  // A run from before steps.tsv: its evaluations alone.
  fs::remove(out + "/b/steps.tsv");
  r = qkv_cli("plot loss " + out + "/b -o " + out + "/old.png");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(qkv::testing::read_png(out + "/old.png").width, 900);
  // No log, a missing run, bad output paths: clear errors, nothing written.
  fs::create_directories(out + "/empty");
  expect_failure(qkv_cli("plot loss " + out + "/empty -o " + out + "/x.png"), "not a training run");
  expect_failure(qkv_cli("plot loss " + out + "/nope -o " + out + "/x.png"), "no such run directory");
  expect_failure(qkv_cli("plot loss " + out + "/a -o " + out + "/x.bmp"), "unknown extension '.bmp'");
  expect_failure(qkv_cli("plot loss " + out + "/a -o " + out + "/no/x.png"), "no such folder");
  expect_failure(qkv_cli("plot loss " + out + "/a --smoothing 1 -o " + out + "/x.png"), "smoothing");
  EXPECT_FALSE(fs::exists(out + "/x.png"));
}

TEST_F(PlotCli, EmbeddingsScatterAndNeighbors) {
  auto r = qkv_cli("plot embeddings " + dir + "/gpt --tokens cat,dog,park,한국어 -o " + out + "/emb.svg");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* label : {"cat", "dog", "한국어", "PC 1"}) EXPECT_TRUE(layer_has(out + "/emb.svg", label)) << label;
  r = qkv_cli("plot embeddings " + dir + "/transformer --tokens the,cat,mat -o " + out + "/emb.png");
  ASSERT_EQ(r.code, 0) << r.out;
  expect_failure(qkv_cli("plot embeddings " + dir + "/gpt --tokens cat,dog -o " + out + "/e.png"), "3 … 200");
  EXPECT_EQ(written(), (std::vector<std::string>{"emb.png", "emb.svg"}));
  r = qkv_cli("neighbors " + dir + "/bert \" cat\" -k 3");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;
  expect_failure(qkv_cli("neighbors " + dir + "/gpt cat -k 0"), "-k must be >= 1");
}

// Sentences of an encoder model: each line's mean-pooled embedding, as points
// of a PCA; a decoder-only model or a short file is a clear error.
TEST_F(PlotCli, SentenceEmbeddingsOfEncoderModels) {
  std::ofstream(out + "/s.txt") << "the cat sat on the mat\n\na dog ran in the park\n한국어 문장입니다\n東京 café\n"
                                  "But a dog ran in the park, and the cat sat on the mat\n";  // labelled with 40 characters
  for (const std::string family : {"bert", "transformer"}) {
    auto r = qkv_cli("plot embeddings " + dir + "/" + family + " --sentences " + out + "/s.txt -o " + out + "/" +
                     family + ".svg");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("5 sentences, 16-dim embeddings"), std::string::npos) << r.out;
    for (const char* label : {"the cat sat on the mat", "한국어 문장입니다", "But a dog ran in the park, and the cat s…",
                              "sentence embeddings (mean-pooled, PCA)"})
      EXPECT_TRUE(layer_has(out + "/" + family + ".svg", label)) << family << " " << label;
  }
  expect_failure(qkv_cli("plot embeddings " + dir + "/gpt --sentences " + out + "/s.txt -o " + out + "/g.svg"), "gpt");
  std::ofstream(out + "/two.txt") << "one\ntwo\n";
  expect_failure(qkv_cli("plot embeddings " + dir + "/bert --sentences " + out + "/two.txt -o " + out + "/g.svg"),
                 "3 … 200 non-empty lines, got 2");
  expect_failure(qkv_cli("plot embeddings " + dir + "/bert -o " + out + "/g.svg"), "give --tokens WORDS or --sentences");
  EXPECT_EQ(written(), (std::vector<std::string>{"bert.svg", "s.txt", "transformer.svg", "two.txt"}));
}
