// `qkv train bert` and `qkv finetune classify|ner|qa` end to end on tiny
// files written here (a WordPiece vocabulary, a few sentences): the runs
// finish, resume exactly, write what `qkv eval` reads and score it the same
// way; bad inputs fail naming the file, line or field and leave no run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "qkv/io/file.h"
#include "qkv/io/json.h"
#include "support/shell.h"

namespace fs = std::filesystem;
using nlohmann::json;
using qkv::testing::expect_failure;
using qkv::testing::qkv_cli;

namespace {

class BertCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (fs::temp_directory_path() / ("qkv_bert_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream v(dir + "/vocab.txt");
    for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "dog",
                          "ran", "in", "paris", "a", ".", "good", "bad", "film", "is", "john", "lives", "london",
                          "?", "where", "does", "##s", ",", "very"})
      v << t << "\n";
    v.close();
    std::ofstream c(dir + "/corpus.txt");
    for (int d = 0; d < 6; ++d)
      c << "the cat sat on the mat .\na dog ran in paris .\nthe film is good .\n\n"
        << "john lives in london .\nthe film is very bad .\n\n";
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string pretrain(const std::string& extra = "") {
    const std::string out = dir + "/pre";
    auto r = qkv_cli("train bert --data " + dir + "/corpus.txt --tokenizer " + dir + "/vocab.txt --out " + out +
                     " --hidden-size 16 --num-hidden-layers 1 --num-attention-heads 2 --intermediate-size 32"
                     " --max-position-embeddings 64 --max-seq-length 24 --batch-size 4 --max-iters 6"
                     " --eval-interval 3 --eval-iters 1 --threads 1 " + extra);
    EXPECT_EQ(r.code, 0) << r.out;
    return out;
  }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  }
  std::string dir;
};

}  // namespace

TEST_F(BertCli, PretrainingLogsMlmAndNspAndResumesExactly) {
  const std::string pre = pretrain();
  const json cfg = qkv::io::read_json(pre + "/config.json");
  EXPECT_EQ(cfg["architectures"][0], "BertForPreTraining");
  std::ifstream log(pre + "/log.jsonl");
  std::string last;
  for (std::string l; std::getline(log, l);) last = l;
  const json j = json::parse(last);
  for (const char* k : {"val_mlm_accuracy", "val_mlm_loss", "val_nsp_accuracy", "val_nsp_loss"})
    EXPECT_TRUE(j.contains(k)) << k << " in " << last;
  // Stopped at 6; continued to 8 matches a run straight to 8.
  auto r = qkv_cli("train bert --data " + dir + "/corpus.txt --out " + pre + " --resume --max-iters 8 --threads 1");
  ASSERT_EQ(r.code, 0) << r.out;
  auto straight = qkv_cli("train bert --data " + dir + "/corpus.txt --tokenizer " + dir + "/vocab.txt --out " + dir +
                          "/straight --hidden-size 16 --num-hidden-layers 1 --num-attention-heads 2"
                          " --intermediate-size 32 --max-position-embeddings 64 --max-seq-length 24 --batch-size 4"
                          " --max-iters 8 --eval-interval 3 --eval-iters 1 --threads 1");
  ASSERT_EQ(straight.code, 0) << straight.out;
  EXPECT_EQ(qkv::io::read_file(pre + "/model.safetensors"), qkv::io::read_file(dir + "/straight/model.safetensors"));
  const std::string mlm = dir + "/mlm";
  auto m = qkv_cli("train bert --data " + dir + "/corpus.txt --tokenizer " + dir + "/vocab.txt --out " + mlm +
                   " --no-nsp --whole-word --hidden-size 16 --num-hidden-layers 1 --num-attention-heads 2"
                   " --intermediate-size 32 --max-seq-length 24 --batch-size 4 --max-iters 2 --threads 1");
  ASSERT_EQ(m.code, 0) << m.out;
  EXPECT_EQ(qkv::io::read_json(mlm + "/config.json")["architectures"][0], "BertForMaskedLM");
}

TEST_F(BertCli, FinetuneClassifyNerQaWriteWhatEvalReads) {
  const std::string pre = pretrain();
  const std::string tsv = write("train.tsv", "sentence\tlabel\nthe film is good .\t1\nthe film is bad .\t0\n"
                                             "a good film .\t1\na bad film .\t0\n");
  auto c = qkv_cli("finetune classify --model " + pre + " --train " + tsv + " --dev " + tsv + " --out " + dir +
                   "/cls --epochs 2 --batch-size 2 --threads 1");
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_EQ(qkv::io::read_json(dir + "/cls/config.json")["id2label"]["1"], "1");
  auto e = qkv_cli("eval classify --pred " + dir + "/cls/dev_predictions.tsv --gold " + tsv + " --json");
  ASSERT_EQ(e.code, 0) << e.out;
  const double acc = json::parse(e.out.substr(e.out.find('{')))["accuracy"].get<double>();
  const std::string done = c.out.substr(c.out.find("done: dev "));
  const double logged = json::parse(done.substr(10, done.find('}') - 9))["val_accuracy"].get<double>();
  EXPECT_NEAR(100 * acc, logged, 1e-9);

  const std::string conll = write("ner.txt", "-DOCSTART- -X- O O\n\njohn NNP B-NP B-PER\nlives VBZ B-VP O\n"
                                             "in IN B-PP O\nlondon NNP B-NP B-LOC\n. . O O\n\n"
                                             "the DT B-NP O\ndog NN I-NP O\n. . O O\n");
  auto n = qkv_cli("finetune ner --model " + pre + " --train " + conll + " --dev " + conll + " --out " + dir +
                   "/ner --epochs 1 --batch-size 2 --threads 1");
  ASSERT_EQ(n.code, 0) << n.out;
  EXPECT_EQ(qkv_cli("eval ner --pred " + dir + "/ner/dev_predictions.conll --gold " + conll).code, 0);

  const std::string squad = write(
      "squad.json", R"({"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": "john lives in london .",
        "qas": [{"id": "q1", "question": "where does john live ?", "answers": [{"text": "london", "answer_start": 14}]}]}]}]})");
  auto q = qkv_cli("finetune qa --model " + pre + " --train " + squad + " --dev " + squad + " --out " + dir +
                   "/qa --epochs 1 --batch-size 1 --max-length 32 --doc-stride 8 --threads 1");
  ASSERT_EQ(q.code, 0) << q.out;
  EXPECT_TRUE(qkv::io::read_json(dir + "/qa/dev_predictions.json").contains("q1"));
  EXPECT_EQ(qkv_cli("eval qa --pred " + dir + "/qa/dev_predictions.json --gold " + squad).code, 0);
}

// --test: the checkpoint kept on dev scores the test set once at the end
// (test_results.json agrees with `qkv eval` on test_predictions); a finished
// run given --resume --test scores it again without training.
TEST_F(BertCli, FinetuneTestSetIsScoredByTheBestCheckpoint) {
  const std::string pre = pretrain();
  const std::string train = write("ner.txt", "john NNP B-NP B-PER\nlives VBZ B-VP O\nin IN B-PP O\n"
                                             "london NNP B-NP B-LOC\n. . O O\n\nthe DT B-NP O\ndog NN I-NP O\n. . O O\n");
  const std::string test = write("test.txt", "the NN O\ncat NN O\nlives VBZ O\nin IN O\nparis NNP B-LOC\n. . O\n\n"
                                             "john NNP B-PER\nsat VBD O\n. . O\n");
  auto n = qkv_cli("finetune ner --model " + pre + " --train " + train + " --dev " + train + " --test " + test +
                   " --out " + dir + "/ner --epochs 2 --batch-size 1 --threads 1");
  ASSERT_EQ(n.code, 0) << n.out;
  EXPECT_NE(n.out.find("test ("), std::string::npos) << n.out;
  const json res = qkv::io::read_json(dir + "/ner/test_results.json");
  EXPECT_EQ(res["model"], dir + "/ner/best");
  ASSERT_TRUE(res.contains("test_f1") && res.contains("test_f1_LOC") && res.contains("test_precision")) << res.dump();
  auto e = qkv_cli("eval ner --pred " + dir + "/ner/test_predictions.conll --gold " + test + " --json");
  ASSERT_EQ(e.code, 0) << e.out;
  const json ev = json::parse(e.out.substr(e.out.find('{')));
  EXPECT_NEAR(100 * ev["micro"]["f1"].get<double>(), res["test_f1"].get<double>(), 1e-9) << e.out;
  const std::string weights = qkv::io::read_file(dir + "/ner/model.safetensors");
  fs::remove(dir + "/ner/test_results.json");
  auto again = qkv_cli("finetune ner --train " + train + " --dev " + train + " --test " + test + " --out " + dir +
                       "/ner --resume --threads 1");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_EQ(qkv::io::read_json(dir + "/ner/test_results.json"), res);
  EXPECT_EQ(qkv::io::read_file(dir + "/ner/model.safetensors"), weights);
  // A malformed test file fails before any training.
  expect_failure(qkv_cli("finetune ner --model " + pre + " --train " + train + " --dev " + train + " --test " +
                         write("bad_test.txt", "john B-PER\nlondon\n") + " --out " + dir + "/x --threads 1"),
                 "bad_test.txt:2");
  EXPECT_FALSE(fs::exists(dir + "/x"));
}

TEST_F(BertCli, BadInputsFailClearlyAndLeaveNoRun) {
  const std::string pre = pretrain();
  const std::string train = write("train.tsv", "sentence\tlabel\nthe film is good .\t1\nthe film is bad .\t0\n");
  const std::string dev = write("dev.tsv", "sentence\tlabel\nthe film .\t1\na film .\t2\n");
  expect_failure(qkv_cli("finetune classify --model " + pre + " --train " + train + " --dev " + dev + " --out " + dir +
                         "/x --threads 1"),
                 "dev.tsv:3");
  EXPECT_FALSE(fs::exists(dir + "/x"));
  const std::string notab = write("notab.tsv", "sentence\tlabel\nthe film is good . 1\n");
  expect_failure(qkv_cli("finetune classify --model " + pre + " --train " + notab + " --dev " + train + " --out " +
                         dir + "/x --threads 1"),
                 "notab.tsv:2");
  expect_failure(qkv_cli("finetune classify --train " + train + " --dev " + train + " --out " + dir + "/x"),
                 "--model DIR is required");
  expect_failure(qkv_cli("finetune ner --model " + pre + " --train " + write("bad.conll", "john\n") + " --dev " +
                         train + " --out " + dir + "/x"),
                 "bad.conll:1");
  const std::string squad = write("bad.json", R"({"data": [{"title": "t", "paragraphs": [{"context": "john lives",
        "qas": [{"id": "q1", "question": "who ?", "answers": [{"text": "john", "answer_start": 3}]}]}]}]})");
  expect_failure(qkv_cli("finetune qa --model " + pre + " --train " + squad + " --dev " + squad + " --out " + dir +
                         "/x"),
                 "q1");
  expect_failure(qkv_cli("train bert --data " + dir + "/corpus.txt --tokenizer " + dir + "/vocab.txt --out " + dir +
                         "/y --max-seq-length 600"),
                 "--max-seq-length 600");
  EXPECT_FALSE(fs::exists(dir + "/y"));
  expect_failure(qkv_cli("train bert --data " + dir + "/nothing.txt --tokenizer " + dir + "/vocab.txt --out " + dir +
                         "/y"),
                 "nothing.txt");
  expect_failure(qkv_cli("finetune"), "qkv finetune classify|ner|qa");
}

// --trace: one pre-training step, every encoder layer's shapes and norms, the
// loss and each gradient (q viewed per head: B = --batch-size 4, NH = 2); the
// run folder is never created.
TEST_F(BertCli, TraceRunsOneStepAndWritesNothing) {
  auto r = qkv_cli("train bert --data " + dir + "/corpus.txt --tokenizer " + dir + "/vocab.txt --out " + dir +
                   "/traced --hidden-size 16 --num-hidden-layers 1 --num-attention-heads 2 --intermediate-size 32"
                   " --max-position-embeddings 64 --max-seq-length 24 --batch-size 4 --threads 1 --trace");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* needle : {"trace: one pre-training step of BERT", "bert.embeddings.word_embeddings",
                             "bert.encoder.layer.0.attention.self", "(B,NH,T,S)", "→ (4,2,", "hidden", "(B,T,F)",
                             "loss", "cls.predictions.bias", "grad"})
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle << "\n" << r.out;
  // The masked positions, gathered: rows P, not positions T, and the columns
  // line up even for the longest parameter names.
  std::istringstream lines(r.out);
  int gathered = 0;
  size_t what_column = 0;  // the tensor column starts at the same byte on every line
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("cls.predictions.transform ", 0) == 0 && line.find(" out ") != std::string::npos)
      gathered += line.find("(P,C)") != std::string::npos;
    if (line.rfind("(model) ", 0) == 0 && line.find(" logits ") != std::string::npos)
      gathered += line.find("(P,V)") != std::string::npos;
    EXPECT_FALSE(line.rfind("cls.predictions.transform.dense ", 0) == 0) << line;  // traced as a whole
    if (line.find("‖·‖") == std::string::npos || line[0] == '(') continue;  // a tensor: "module  tensor  axes …"
    const size_t second = line.find_first_not_of(' ', line.find(' '));
    if (what_column == 0) what_column = second;
    EXPECT_EQ(second, what_column) << line;
  }
  EXPECT_EQ(gathered, 2) << r.out;
  EXPECT_FALSE(fs::exists(dir + "/traced"));
}

// qkv report on a BERT run: no samples (it does not generate), the encoder's
// attention over the training data's first line.
TEST_F(BertCli, ReportShowsAttentionOverTheDataAndNoSamples) {
  const std::string pre = pretrain();
  auto r = qkv_cli("report " + pre + " -o " + dir + "/report.html");
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream f(dir + "/report.html");
  const std::string html{std::istreambuf_iterator<char>(f), {}};
  for (const char* needle : {"does not generate", "self-attention of every layer × head over &quot;the cat sat on the mat .",
                             "BertForPreTraining", "val_loss", "<svg"})
    EXPECT_NE(html.find(needle), std::string::npos) << needle;
}
