// End-to-end runs of `qkv eval classify|ner|qa` and their bad input: a
// missing file, a malformed CoNLL line, tokens that do not line up, an
// unknown tag, SQuAD JSON without a field, predictions that are not an
// object, counts that differ — each a non-zero exit whose only output is one
// error naming the file and the line or field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/shell.h"

namespace fs = std::filesystem;
using qkv::testing::ShellRun;

namespace {

struct Scratch {
  fs::path dir;
  explicit Scratch(const std::string& name)
      : dir(fs::temp_directory_path() / ("qkv_eval_cli_" + name + "_" + std::to_string(::getpid()))) {
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

ShellRun eval(const std::string& args) { return qkv::testing::qkv_cli("eval " + args); }
bool has(const ShellRun& r, const std::string& s) { return r.out.find(s) != std::string::npos; }

// A failure: exit 1 and the whole output is one "qkv: error: …" line holding every part (nothing printed before it).
void expect_clean_error(const ShellRun& r, std::initializer_list<std::string> parts) {
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out.rfind("qkv: error: ", 0), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  for (const std::string& p : parts) EXPECT_TRUE(has(r, p)) << "expected '" << p << "' in:\n" << r.out;
}

const char* kGoldConll =
    "-DOCSTART- -X- -X- O\n"
    "\n"
    "John NNP B-NP B-PER\n"
    "lives VBZ B-VP O\n"
    "in IN B-PP O\n"
    "New NNP B-NP B-LOC\n"
    "York NNP I-NP I-LOC\n"
    "\n"
    "Acme NNP B-NP B-ORG\n"
    "Corp NNP I-NP I-ORG\n"
    "\n";

}  // namespace

TEST(EvalCli, ClassifyTableJsonAndTsvPredictions) {
  Scratch s("classify");
  const std::string gold = s.file("gold.tsv", "sentence\tlabel\ngood\t1\nbad\t0\nfine\t1\n");
  const std::string pred = s.file("pred.txt", "1\n1\n1\n");
  // label 0: P 0 (never predicted) R 0; label 1: P 2/3, R 1, F .8; accuracy 2/3
  ShellRun r = eval("classify --pred " + pred + " --gold " + gold);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(has(r, "           1     0.6667    1.0000    0.8000         2\n")) << r.out;
  EXPECT_TRUE(has(r, "    accuracy                         0.6667         3\n")) << r.out;
  EXPECT_TRUE(has(r, "   macro avg     0.3333    0.5000    0.4000         3\n")) << r.out;
  EXPECT_TRUE(has(r, "accuracy = 0.6667 (2 of 3)\nmcc = 0.0000\n")) << r.out;
  const std::string pred_tsv = s.file("pred.tsv", "id\tlabel\n1\t1\n2\t0\n3\t1\n");
  ShellRun j = eval("classify --json --pred " + pred_tsv + " --gold " + gold);
  ASSERT_EQ(j.code, 0) << j.out;
  const auto js = nlohmann::json::parse(j.out);
  EXPECT_EQ(js["accuracy"].get<double>(), 1.0);
  EXPECT_EQ(js["mcc"].get<double>(), 1.0);
  EXPECT_EQ(js["labels"][0]["label"], "0");
  const std::string gold2 = s.file("gold2.tsv", "text\ty\na\tpos\nb\tneg\n");
  ShellRun c = eval("classify --label-column y --labels pos --pred " + s.file("p2.txt", "pos\npos\n") + " --gold " + gold2);
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_TRUE(has(c, "   micro avg     0.5000    1.0000    0.6667         1\n")) << c.out;  // pos only
}

TEST(EvalCli, ClassifyBadInput) {
  Scratch s("classify_bad");
  const std::string gold = s.file("gold.tsv", "sentence\tlabel\ngood\t1\nbad\t0\nfine\t1\n");
  const std::string short_pred = s.file("short.txt", "1\n0\n");
  expect_clean_error(eval("classify --pred " + short_pred + " --gold " + gold),
                     {short_pred + " has 2 labels but " + gold + " has 3"});
  expect_clean_error(eval("classify --pred " + (s.dir / "none.txt").string() + " --gold " + gold),
                     {"cannot open " + (s.dir / "none.txt").string()});
  expect_clean_error(eval("classify --pred " + short_pred + " --gold " + gold + " --label-column y"),
                     {gold + ":1: no column 'y'"});
  const std::string gap = s.file("gap.txt", "1\n\n1\n");
  expect_clean_error(eval("classify --pred " + gap + " --gold " + gold), {gap + ":2: empty line"});
  const std::string ragged = s.file("ragged.tsv", "sentence\tlabel\ngood\t1\nbad\n");
  expect_clean_error(eval("classify --pred " + short_pred + " --gold " + ragged), {ragged + ":3:"});
}

TEST(EvalCli, NerConllevalReportBothPredictionLayoutsAndModes) {
  Scratch s("ner");
  const std::string gold = s.file("gold.txt", kGoldConll);
  // same layout; "New" starts with I-LOC (after O): one LOC in the default mode, none in strict mode
  const std::string pred = s.file("pred.txt",
                                  "John B-PER\nlives O\nin O\nNew I-LOC\nYork I-LOC\n\nAcme B-ORG\nCorp O\n");
  ShellRun r = eval("ner --pred " + pred + " --gold " + gold);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(has(r, "processed 7 tokens with 3 phrases; found: 3 phrases; correct: 2.\n"
                     "accuracy:  71.43%; precision:  66.67%; recall:  66.67%; FB1:  66.67\n"
                     "              LOC: precision: 100.00%; recall: 100.00%; FB1: 100.00  1\n"))
      << r.out;
  EXPECT_TRUE(has(r, "         ORG     0.0000    0.0000    0.0000         1\n")) << r.out;
  ShellRun st = eval("ner --mode strict --json --pred " + pred + " --gold " + gold);
  ASSERT_EQ(st.code, 0) << st.out;
  const auto j = nlohmann::json::parse(st.out);
  EXPECT_EQ(j["predicted_entities"], 2);
  EXPECT_EQ(j["correct_entities"], 1);
  EXPECT_EQ(j["mode"], "strict");
  // conlleval's layout: TOKEN … GOLD PRED (the predicted tag is still the last column)
  const std::string conlleval = s.file("conlleval.txt",
                                       "John B-PER B-PER\nlives O O\nin O O\nNew B-LOC I-LOC\nYork I-LOC I-LOC\n\n"
                                       "Acme B-ORG B-ORG\nCorp I-ORG O\n");
  ShellRun c = eval("ner --pred " + conlleval + " --gold " + gold);
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_EQ(c.out, r.out);
}

TEST(EvalCli, NerBadInput) {
  Scratch s("ner_bad");
  const std::string gold = s.file("gold.txt", kGoldConll);
  const std::string one_col = s.file("one.txt", "John B-PER\nlives\n");
  expect_clean_error(eval("ner --pred " + one_col + " --gold " + gold), {one_col + ":2: malformed line 'lives'"});
  const std::string widths = s.file("widths.txt", "John NNP B-PER\nlives O\n");
  expect_clean_error(eval("ner --pred " + widths + " --gold " + gold), {widths + ":2: malformed line 'lives O': expected 3 columns"});
  const std::string mismatch = s.file("mismatch.txt", "John B-PER\nlived O\n");
  expect_clean_error(eval("ner --pred " + mismatch + " --gold " + gold),
                     {mismatch + ":2: token 'lived' does not match " + gold + ":4 'lives'"});
  const std::string unknown = s.file("unknown.txt",
                                     "John B-PER\nlives O\nin O\nNew B-CITY\nYork X-LOC\n\nAcme B-ORG\nCorp I-ORG\n");
  expect_clean_error(eval("ner --pred " + unknown + " --gold " + gold), {unknown + ":5: invalid tag 'X-LOC'"});
  const std::string iobes = s.file("iobes.txt",
                                   "John S-PER\nlives O\nin O\nNew B-LOC\nYork E-LOC\n\nAcme B-ORG\nCorp E-ORG\n");
  EXPECT_EQ(eval("ner --pred " + iobes + " --gold " + gold).code, 0);
  expect_clean_error(eval("ner --mode strict --pred " + iobes + " --gold " + gold),
                     {iobes + ":1: invalid tag 'S-PER'", "strict IOB2"});
  const std::string short_sent = s.file("short.txt", "John B-PER\nlives O\nin O\nNew B-LOC\n\nAcme B-ORG\nCorp O\n");
  expect_clean_error(eval("ner --pred " + short_sent + " --gold " + gold),
                     {short_sent + ":1: sentence 1 has 4 tokens but in " + gold + ":3 it has 5"});
  const std::string fewer = s.file("fewer.txt", "John B-PER\nlives O\nin O\nNew B-LOC\nYork I-LOC\n");
  expect_clean_error(eval("ner --pred " + fewer + " --gold " + gold), {fewer + " has 1 sentences but " + gold + " has 2"});
  expect_clean_error(eval("ner --pred " + (s.dir / "no.txt").string() + " --gold " + gold), {"cannot open"});
  expect_clean_error(eval("ner --mode iob --pred " + gold + " --gold " + gold), {"--mode must be default"});
  const std::string bad_utf8 = s.file("utf8.txt", "John B-PER\nl\xFFves O\n");
  expect_clean_error(eval("ner --pred " + bad_utf8 + " --gold " + gold), {bad_utf8 + ":2: invalid UTF-8"});
}

namespace {

const char* kSquadV1 =
    R"({"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [)"
    R"({"id": "q1", "question": "?", "answers": [{"text": "Paris", "answer_start": 0}, {"text": "the city of Paris", "answer_start": 0}]},)"
    R"({"id": "q2", "question": "?", "answers": [{"text": "blue whale", "answer_start": 0}]}]}]}]})";

const char* kSquadV2 =
    R"({"version": "v2.0", "data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [)"
    R"({"id": "q1", "question": "?", "answers": [{"text": "Paris", "answer_start": 0}], "is_impossible": false},)"
    R"({"id": "q2", "question": "?", "answers": [], "plausible_answers": [{"text": "x", "answer_start": 0}], "is_impossible": true},)"
    R"({"id": "q3", "question": "?", "answers": [], "is_impossible": true}]}]}]})";

}  // namespace

TEST(EvalCli, QaV1AndV2) {
  Scratch s("qa");
  const std::string gold1 = s.file("v1.json", kSquadV1);
  // q1 exact; q2 "whale" vs "blue whale": F1 2/3 → EM 50, F1 83.33
  ShellRun r = eval("qa --pred " + s.file("p1.json", R"({"q1": "paris.", "q2": "whale"})") + " --gold " + gold1);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "SQuAD v1.1: 2 questions\nexact_match = 50.00\nf1 = 83.33\n");
  ShellRun miss = eval("qa --json --pred " + s.file("p1m.json", R"({"q1": "Paris", "zz": "?"})") + " --gold " + gold1);
  ASSERT_EQ(miss.code, 0) << miss.out;
  EXPECT_TRUE(has(miss, "warning: " + (s.dir / "p1m.json").string() + " has no prediction for 1 of 2 questions"))
      << miss.out;
  EXPECT_TRUE(has(miss, "1 predictions in")) << miss.out;
  EXPECT_TRUE(has(miss, "\"exact_match\": 50.0")) << miss.out;
  const std::string gold2 = s.file("v2.json", kSquadV2);
  const std::string p2 = s.file("p2.json", R"({"q1": "Paris", "q2": "", "q3": "London"})");
  ShellRun v2 = eval("qa --json --pred " + p2 + " --gold " + gold2);
  ASSERT_EQ(v2.code, 0) << v2.out;
  const auto j = nlohmann::json::parse(v2.out);
  EXPECT_DOUBLE_EQ(j["exact"].get<double>(), 200.0 / 3);
  EXPECT_EQ(j["HasAns_total"], 1);
  EXPECT_EQ(j["NoAns_exact"], 50.0);
  EXPECT_FALSE(j.contains("best_exact"));
  // q3's no-answer probability .9 > .5: it becomes "no answer" and right; best threshold: start 2,
  // q1 (.1) +1 → 3, q2 (.2) +0, q3 (.9) −1 → best 3 of 3 at .1
  const std::string na = s.file("na.json", R"({"q3": 0.9, "q1": 0.1, "q2": 0.2})");
  ShellRun t = eval("qa --pred " + p2 + " --gold " + gold2 + " --na-prob " + na + " --na-prob-thresh 0.5");
  ASSERT_EQ(t.code, 0) << t.out;
  EXPECT_EQ(t.out,
            "SQuAD v2.0: 3 questions\nexact = 100.00\nf1 = 100.00\n"
            "HasAns_exact = 100.00, HasAns_f1 = 100.00 (1 questions)\n"
            "NoAns_exact = 100.00, NoAns_f1 = 100.00 (2 questions)\n"
            "best_exact = 100.00 (threshold 0.1)\nbest_f1 = 100.00 (threshold 0.1)\n");
}

TEST(EvalCli, QaBadInput) {
  Scratch s("qa_bad");
  const std::string gold1 = s.file("v1.json", kSquadV1);
  const std::string pred = s.file("p.json", R"({"q1": "Paris", "q2": "whale"})");
  const std::string no_id = s.file("noid.json", R"({"data": [{"paragraphs": [{"qas": [{"answers": []}]}]}]})");
  expect_clean_error(eval("qa --pred " + pred + " --gold " + no_id),
                     {no_id + ": data[0].paragraphs[0].qas[0]: missing field 'id'"});
  const std::string no_data = s.file("nodata.json", R"({"version": "1.1"})");
  expect_clean_error(eval("qa --pred " + pred + " --gold " + no_data), {no_data + ": top level: missing field 'data'"});
  const std::string bad_text =
      s.file("badtext.json", R"({"data": [{"paragraphs": [{"qas": [{"id": "q", "answers": [{"text": 5}]}]}]}]})");
  expect_clean_error(eval("qa --pred " + pred + " --gold " + bad_text),
                     {bad_text + ": data[0].paragraphs[0].qas[0].answers[0].text: expected a string, got number"});
  const std::string arr = s.file("arr.json", R"(["Paris", "whale"])");
  expect_clean_error(eval("qa --pred " + arr + " --gold " + gold1), {arr + ": expected a JSON object", "got array"});
  const std::string num = s.file("num.json", R"({"q1": 3})");
  expect_clean_error(eval("qa --pred " + num + " --gold " + gold1), {num + ": the answer for \"q1\" is number"});
  const std::string broken = s.file("broken.json", R"({"q1": "Paris",)");
  expect_clean_error(eval("qa --pred " + broken + " --gold " + gold1), {broken + ": invalid JSON"});
  expect_clean_error(eval("qa --pred " + (s.dir / "none.json").string() + " --gold " + gold1), {"cannot open"});
  const std::string gold2 = s.file("v2.json", kSquadV2);
  expect_clean_error(eval("qa --pred " + s.file("p2.json", R"({"q1": "Paris", "q2": ""})") + " --gold " + gold2),
                     {"no prediction for question \"q3\""});
  expect_clean_error(eval("qa --pred " + pred + " --gold " + gold1 + " --na-prob " + pred), {"--na-prob is for SQuAD 2.0"});
  const std::string p2 = s.file("p2full.json", R"({"q1": "Paris", "q2": "", "q3": ""})");
  const std::string na_bad = s.file("nabad.json", R"({"q1": "high"})");
  expect_clean_error(eval("qa --pred " + p2 + " --gold " + gold2 + " --na-prob " + na_bad),
                     {na_bad + ": the no-answer probability for \"q1\" is string"});
  const std::string na_short = s.file("nashort.json", R"({"q1": 0.5})");
  expect_clean_error(eval("qa --pred " + p2 + " --gold " + gold2 + " --na-prob " + na_short),
                     {na_short + ": no no-answer probability for question \"q2\" of " + gold2});
}
