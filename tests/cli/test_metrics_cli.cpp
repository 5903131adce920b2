// End-to-end runs of `qkv bleu`, `qkv chrf` and `qkv rouge`, and their bad input:
// line counts that differ, a missing reference, invalid UTF-8, CRLF, an empty
// hypothesis line, empty stdin.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "support/shell.h"

namespace fs = std::filesystem;
using qkv::testing::ShellRun;

namespace {

// A scratch directory per test with files written from strings.
struct Scratch {
  fs::path dir;
  explicit Scratch(const std::string& name)
      : dir(fs::temp_directory_path() / ("qkv_metrics_cli_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() { fs::remove_all(dir); }
  std::string file(const std::string& name, const std::string& text) const {
    const std::string p = (dir / name).string();
    if (FILE* f = std::fopen(p.c_str(), "wb")) {
      std::fwrite(text.data(), 1, text.size(), f);
      std::fclose(f);
    }
    return p;
  }
};

// `qkv args < hyp_file`, stdout and stderr together.
ShellRun run(const std::string& args, const std::string& hyp_file) {
  return qkv::testing::shell(std::string(QKV_CLI_PATH) + " " + args + " < " + hyp_file);
}

bool has(const ShellRun& r, const std::string& s) { return r.out.find(s) != std::string::npos; }

}  // namespace

TEST(MetricsCli, BleuLineSignatureAndJson) {
  Scratch s("bleu");
  const std::string ref = s.file("ref.txt", "The cat sat on the mat.\nHello world\n");
  const std::string hyp = s.file("hyp.txt", "The cat sat on the mat.\nHello world\n");
  ShellRun r = run("bleu --ref " + ref, hyp);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out,
            "BLEU = 100.00 100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.000 hyp_len = 9 ref_len = 9)\n"
            "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:qkv-0.1.0\n");
  ShellRun j = run("bleu --json --ref " + ref + " --ref " + ref, hyp);
  ASSERT_EQ(j.code, 0) << j.out;
  EXPECT_TRUE(has(j, "\"name\": \"BLEU\"")) << j.out;
  EXPECT_TRUE(has(j, "\"signature\": \"nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:qkv-0.1.0\"")) << j.out;
  EXPECT_TRUE(has(j, "\"counts\": [")) << j.out;
  ShellRun sent = run("bleu --sentence --lowercase --tokenize none --ref " + ref, hyp);
  ASSERT_EQ(sent.code, 0) << sent.out;
  EXPECT_TRUE(has(sent, "BLEU = 100.00 100.0/100.0/100.0/100.0")) << sent.out;
  EXPECT_TRUE(has(sent, "BLEU = 100.00 100.0/100.0/0.0/0.0")) << sent.out;
  EXPECT_TRUE(has(sent, "case:lc|eff:yes|tok:none")) << sent.out;
  ShellRun bad_tok = run("bleu --tokenize intl --ref " + ref, hyp);
  EXPECT_EQ(bad_tok.code, 1);
  EXPECT_TRUE(has(bad_tok, "--tokenize must be 13a or none")) << bad_tok.out;
}

TEST(MetricsCli, ChrfAndRouge) {
  Scratch s("chrf");
  const std::string ref = s.file("ref.txt", "the cat sat\n");
  const std::string hyp = s.file("hyp.txt", "the cat sat\n");
  ShellRun c = run("chrf --ref " + ref, hyp);
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_EQ(c.out, "chrF2 = 100.00\nnrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:qkv-0.1.0\n");
  ShellRun pp = run("chrf --word-order 2 --json --ref " + ref, hyp);
  EXPECT_TRUE(has(pp, "\"name\": \"chrF2++\"")) << pp.out;
  ShellRun r = run("rouge --stem --ref " + ref, hyp);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(has(r, "ROUGE-1 P = 1.0000 R = 1.0000 F = 1.0000\n")) << r.out;
  EXPECT_TRUE(has(r, "ROUGE-L P = 1.0000")) << r.out;
  ShellRun rj = run("rouge --json --ref " + ref, hyp);
  EXPECT_TRUE(has(rj, "\"rougeL\"")) << rj.out;
}

TEST(MetricsCli, LineCountsThatDifferNameBothCountsAndFiles) {
  Scratch s("count");
  const std::string ref = s.file("ref.txt", "a\nb\nc\n");
  const std::string hyp = s.file("hyp.txt", "a\nb\n");
  for (const char* cmd : {"bleu", "chrf", "rouge"}) {
    ShellRun r = run(std::string(cmd) + " --ref " + ref, hyp);
    EXPECT_EQ(r.code, 1) << cmd;
    EXPECT_TRUE(has(r, "qkv: error: the hypotheses (stdin) have 2 lines but the reference " + ref + " has 3"))
        << cmd << ": " << r.out;
  }
}

TEST(MetricsCli, MissingReferenceInvalidUtf8AndEmptyStdin) {
  Scratch s("bad");
  const std::string hyp = s.file("hyp.txt", "a\n");
  ShellRun missing = run("bleu --ref " + (s.dir / "nope.txt").string(), hyp);
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(has(missing, "cannot open " + (s.dir / "nope.txt").string())) << missing.out;
  ShellRun dir = run("chrf --ref " + s.dir.string(), hyp);
  EXPECT_EQ(dir.code, 1);
  EXPECT_TRUE(has(dir, "it is a directory")) << dir.out;
  const std::string bad_ref = s.file("bad_ref.txt", "ok\nbad \xFF byte\n");
  const std::string hyp2 = s.file("hyp2.txt", "ok\nfine\n");
  ShellRun bad = run("bleu --ref " + bad_ref, hyp2);
  EXPECT_EQ(bad.code, 1);
  EXPECT_TRUE(has(bad, bad_ref + ":2: invalid UTF-8")) << bad.out;
  const std::string bad_hyp = s.file("bad_hyp.txt", "ok\n\xC3(\n");
  ShellRun bh = run("rouge --ref " + s.file("ref2.txt", "ok\nok\n"), bad_hyp);
  EXPECT_EQ(bh.code, 1);
  EXPECT_TRUE(has(bh, "stdin:2: invalid UTF-8")) << bh.out;
  const std::string empty = s.file("empty.txt", "");
  ShellRun e = run("bleu --ref " + s.file("ref3.txt", "a\n"), empty);
  EXPECT_EQ(e.code, 1);
  EXPECT_TRUE(has(e, "stdin is empty")) << e.out;
}

TEST(MetricsCli, CrlfIsLfAndEmptyHypothesisLinesAreScored) {
  Scratch s("crlf");
  const std::string ref_lf = s.file("ref_lf.txt", "The cat sat.\nA dog\n");
  const std::string ref_crlf = s.file("ref_crlf.txt", "The cat sat.\r\nA dog\r\n");
  const std::string hyp_crlf = s.file("hyp.txt", "The cat sat.\r\nA dog");  // no final newline either
  ShellRun a = run("bleu --ref " + ref_lf, hyp_crlf);
  ShellRun b = run("bleu --ref " + ref_crlf, hyp_crlf);
  ASSERT_EQ(a.code, 0) << a.out;
  EXPECT_EQ(a.out, b.out);
  EXPECT_TRUE(has(a, "BLEU = 100.00")) << a.out;
  const std::string hyp_empty = s.file("hyp_empty.txt", "The cat sat.\n\n");
  ShellRun e = run("bleu --ref " + ref_lf, hyp_empty);
  ASSERT_EQ(e.code, 0) << e.out;
  EXPECT_TRUE(has(e, "hyp_len = 4 ref_len = 6")) << e.out;
  ShellRun es = run("bleu --sentence --ref " + ref_lf, hyp_empty);
  ASSERT_EQ(es.code, 0) << es.out;
  EXPECT_TRUE(has(es, "BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 0.000 ratio = 0.000 hyp_len = 0 ref_len = 2)")) << es.out;
  EXPECT_EQ(run("chrf --ref " + ref_lf, hyp_empty).code, 0);
  EXPECT_EQ(run("rouge --ref " + ref_lf, hyp_empty).code, 0);
}
