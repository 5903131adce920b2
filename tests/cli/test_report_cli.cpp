// `qkv report` and `--trace` end to end on tiny GPT and Llama runs trained
// here: the page holds every section and draws nothing from the network; a
// real browser (Debian's Chromium, headless) opens it, finds the sections and
// figures, logs no console message and takes a screenshot of ink; bad input
// is a clear error that writes nothing. BERT and translation runs are covered
// in test_bert_cli.cpp and test_train_translate_cli.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "support/shell.h"
#include "viz/image_check.h"

namespace fs = std::filesystem;
using qkv::testing::expect_failure;
using qkv::testing::qkv_cli;
using qkv::testing::shell;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

class ReportCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir = (fs::temp_directory_path() / ("qkv_report_cli_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream corpus(dir + "/corpus.txt");
    for (int i = 0; i < 4; ++i)  // the last 10 % (the val split) must hold a block of 16 + 1
      corpus << "to be or not to be, that is the question.\nwhether tis nobler in the mind to suffer\n"
                "the slings and arrows of outrageous fortune\n";
    corpus.close();
    auto r = qkv_cli("train gpt --out " + dir + "/gpt --n-layer 2 --n-head 2 --n-embd 16 --block-size 16" + common());
    ASSERT_EQ(r.code, 0) << r.out;
  }
  // The trainer flags of the tiny runs (the Llama run is trained by the one test that reads it).
  static std::string common() {
    return " --data " + dir + "/corpus.txt --batch-size 2 --max-iters 6 --eval-interval 3 --eval-iters 1"
           " --warmup-iters 2 --lr-decay-iters 10 --threads 1";
  }
  static void TearDownTestSuite() {
    if (!std::getenv("QKV_KEEP")) fs::remove_all(dir);
  }
  void SetUp() override {
    out = dir + "/out_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(out);
  }
  bool nothing_written() const { return fs::is_empty(out); }
  static inline std::string dir;
  std::string out;
};

}  // namespace

TEST_F(ReportCli, PageHoldsEverySectionAndNeedsNoNetwork) {
  auto r = qkv_cli("report " + dir + "/gpt -o " + out + "/report.html --samples 2 --max-new-tokens 20");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string html = slurp(out + "/report.html");
  for (const char* id : {"config", "loss", "evals", "samples", "attention"})
    EXPECT_NE(html.find("<section id=\"" + std::string(id) + "\">"), std::string::npos) << id;
  EXPECT_EQ(count(html, "<pre class=\"sample\">"), 2u);
  EXPECT_EQ(count(html, "<svg"), 2u) << "the loss curves and the attention grid";
  EXPECT_NE(html.find("n_embd"), std::string::npos);        // the model's config
  EXPECT_NE(html.find("max_iters"), std::string::npos);     // the trainer's
  EXPECT_NE(html.find("tokens_per_sec"), std::string::npos);  // the evaluation table
  // Figures' ids are their own: Cairo's glyph names appear once per figure prefix.
  EXPECT_NE(html.find("id=\"loss-"), std::string::npos);
  EXPECT_NE(html.find("id=\"attn-"), std::string::npos);
  EXPECT_EQ(html.find("id=\"glyph"), std::string::npos);
  // Nothing fetched: every src/href is local (#…) or a data: URI; XML namespaces are names, not requests.
  static const std::regex kLink(R"re((src|href)="([^"#][^"]*)")re");
  for (std::sregex_iterator it(html.begin(), html.end(), kLink), end; it != end; ++it)
    EXPECT_EQ((*it)[2].str().rfind("data:", 0), 0u) << (*it)[0];
  // Nor from the style (url(…), @import): the only web addresses are the figures' XML namespaces.
  static const std::regex kAddress(R"re(https?://[^\s"')]*)re");
  for (std::sregex_iterator it(html.begin(), html.end(), kAddress), end; it != end; ++it)
    EXPECT_TRUE((*it)[0] == "http://www.w3.org/2000/svg" || (*it)[0] == "http://www.w3.org/1999/xlink") << (*it)[0];
  // Fixed seed: the same page twice.
  r = qkv_cli("report " + dir + "/gpt -o " + out + "/again.html --samples 2 --max-new-tokens 20");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(slurp(out + "/again.html"), html);
  // Llama: the same sections (grouped-query attention, 4 heads in the grid).
  r = qkv_cli("train llama --out " + out + "/llama --num-hidden-layers 1 --num-attention-heads 4"
              " --num-key-value-heads 2 --hidden-size 16 --intermediate-size 24 --max-position-embeddings 16" +
              common());
  ASSERT_EQ(r.code, 0) << r.out;
  r = qkv_cli("report " + out + "/llama -o " + out + "/llama.html --samples 1 --max-new-tokens 10");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string llama = slurp(out + "/llama.html");
  EXPECT_NE(llama.find("num_key_value_heads"), std::string::npos);
  EXPECT_EQ(count(llama, "<svg"), 2u);
}

// The page in a real browser: Chromium renders it, the DOM holds the
// sections, tables and SVG figures, the console stays silent, and the
// screenshot is a page of ink. Skips (visibly) where Chromium is not installed.
TEST_F(ReportCli, OpensInChromiumWithoutConsoleErrors) {
  auto r = qkv_cli("report " + dir + "/gpt -o " + out + "/report.html --samples 1 --max-new-tokens 20");
  ASSERT_EQ(r.code, 0) << r.out;
  if (shell("command -v chromium").code != 0)
    GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it): the browser check is skipped";
  const std::string png = out + "/shot.png";
  // One run: the DOM after load on stdout, console messages on stderr (logged as "CONSOLE"). No
  // network: no host name resolves (Chromium's own update and account requests included), and the
  // page must not need one. A browser that hangs is stopped after a minute.
  r = shell("(timeout 60 chromium --headless --disable-gpu --no-sandbox --no-first-run --disable-background-networking"
            " --disable-component-update --host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir=" + out +
            "/profile --enable-logging=stderr --v=0 --window-size=1100,1600 --screenshot=" + png +
            " --dump-dom file://" + out + "/report.html >" + out + "/dom.html 2>" + out + "/console.txt)");
  ASSERT_EQ(r.code, 0) << r.out << slurp(out + "/console.txt");
  const std::string dom = slurp(out + "/dom.html");
  for (const char* id : {"config", "loss", "evals", "samples", "attention"})
    EXPECT_NE(dom.find("<section id=\"" + std::string(id) + "\">"), std::string::npos) << id;
  EXPECT_EQ(count(dom, "<svg"), 2u);
  EXPECT_GE(count(dom, "<tr>"), 4u) << "config rows and three evaluations";
  EXPECT_NE(dom.find("<pre class=\"sample\">"), std::string::npos);
  const std::string console = slurp(out + "/console.txt");
  EXPECT_EQ(console.find("CONSOLE"), std::string::npos) << console;
  const auto shot = qkv::testing::read_png(png);
  EXPECT_EQ(shot.width, 1100);
  EXPECT_EQ(shot.height, 1600);
  EXPECT_GT(shot.ink(0, 0, shot.width, 400), 0.01) << "the title, contents and config tables";
  EXPECT_TRUE(shot.has(0x1f77b4) || shot.ink(0, 400, shot.width, shot.height) > 0.02) << "the loss figure's ink";
}

TEST_F(ReportCli, BadInputIsAClearErrorAndWritesNothing) {
  fs::create_directories(out + "/empty");
  expect_failure(qkv_cli("report " + out + "/nope -o " + out + "/r.html"), "no such run directory");
  expect_failure(qkv_cli("report " + out + "/empty -o " + out + "/r.html"), "not a training run");
  expect_failure(qkv_cli("report " + dir + "/gpt -o " + out + "/missing/r.html"), "no such folder");
  expect_failure(qkv_cli("report " + dir + "/gpt -o " + out + "/r.png"), "name it *.html");
  expect_failure(qkv_cli("report " + dir + "/gpt -o " + out + "/r.html --samples 0"), "--samples");
  fs::remove(out + "/empty");
  EXPECT_TRUE(nothing_written());
}

// generate --trace: the prompt's pass (T = 5 characters), then one cached
// step (T = 1 against S = 6 keys), layer by layer, in the notes' style.
TEST_F(ReportCli, GenerateTracePrintsTwoPassesOfShapes) {
  auto r = qkv_cli("generate " + dir + "/gpt --prompt \"to be\" --max-new-tokens 4 --temperature 0 --trace");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string& o = r.out;
  const size_t pass1 = o.find("pass 1: the prompt, 5 tokens"), pass2 = o.find("pass 2: the new token alone");
  ASSERT_NE(pass1, std::string::npos) << o;
  ASSERT_NE(pass2, std::string::npos) << o;
  const std::string first = o.substr(pass1, pass2 - pass1), second = o.substr(pass2);
  EXPECT_NE(first.find("(B,T,C) → (B,NH,T,hs)"), std::string::npos) << first;
  EXPECT_NE(first.find("(1,5,16) → (1,2,5,8)"), std::string::npos) << first;  // q of the prompt
  EXPECT_NE(first.find("(1,2,5,5)"), std::string::npos) << first;             // its attention
  EXPECT_NE(second.find("(1,1,16) → (1,2,1,8)"), std::string::npos) << second;  // the new token's q
  EXPECT_NE(second.find("(1,6,16) → (1,2,6,8)"), std::string::npos) << second;  // all cached keys
  EXPECT_NE(second.find("(1,2,1,6)"), std::string::npos) << second;
  for (const char* m : {"wte", "wpe", "h.0.ln_1", "h.0.attn", "h.1.mlp", "h.1 ", "ln_f", "(model)"})
    EXPECT_NE(first.find(m), std::string::npos) << m;
  EXPECT_EQ(count(o, "h.0.attn "), 2u * 6u) << "q k v weights heads out, once per pass: the trace then pauses";
  EXPECT_EQ(o.find("nan"), std::string::npos);
  EXPECT_EQ(o.find("inf "), std::string::npos);
  EXPECT_NE(o.find("to be"), std::string::npos) << "the text still prints";
  expect_failure(qkv_cli("generate " + dir + "/gpt --trace --jsonl"), "--trace");
}

// train --trace: one micro-batch forward + backward, then stop; no files.
TEST_F(ReportCli, TrainTraceRunsOneStepAndWritesNothing) {
  for (const std::string family : {"gpt", "llama"}) {
    const std::string flags = family == "gpt" ? " --n-layer 1 --n-head 2 --n-embd 16 --block-size 8"
                                              : " --num-hidden-layers 1 --num-attention-heads 4 --num-key-value-heads 2"
                                                " --hidden-size 16 --intermediate-size 24 --max-position-embeddings 8";
    auto r = qkv_cli("train " + family + " --data " + dir + "/corpus.txt --out " + out + "/run --batch-size 3" + flags +
                     " --threads 1 --trace");
    ASSERT_EQ(r.code, 0) << r.out;
    const std::string& o = r.out;
    EXPECT_NE(o.find("trace: one training step"), std::string::npos) << o;
    if (family == "gpt") {
      EXPECT_NE(o.find("(3,8,16) → (3,2,8,8)"), std::string::npos) << o;  // B=3, T=block_size
      EXPECT_NE(o.find("h.0.attn.c_attn.weight"), std::string::npos) << o;
    } else {
      EXPECT_NE(o.find("(B,S,NKV·hs) → (B,NKV,S,hs)"), std::string::npos) << o;
      EXPECT_NE(o.find("(3,8,8) → (3,2,8,4)"), std::string::npos) << o;  // 2 key/value heads of 4
      EXPECT_NE(o.find("model.layers.0.mlp.gate_proj.weight"), std::string::npos) << o;
    }
    EXPECT_NE(o.find("loss"), std::string::npos);
    EXPECT_NE(o.find("grad"), std::string::npos);
    EXPECT_EQ(o.find("nan"), std::string::npos) << o;
    EXPECT_EQ(o.find("step 0"), std::string::npos) << "no training loop ran: " << o;
    EXPECT_TRUE(nothing_written()) << family;
  }
}
