// Regression tests for the crashes of the hardening issue (#15) that are fixed:
// absurd thread counts (libgomp crashed), --print-every 0 (SIGFPE), and
// model sizes that cannot fit (wrapped allocations, a billion layers being
// built) — each now a clear error before any work, with a non-zero exit.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"
#include "qkv/models/gpt_config.h"
#include "qkv/models/llama_config.h"
#include "qkv/models/transformer_config.h"
#include "support/shell.h"

namespace fs = std::filesystem;

TEST(Hardening, AbsurdThreadCountsAreRefused) {
  for (const std::string cmd : {"info --threads 100000", "demo xor --threads 100000"})
    qkv::testing::expect_failure(qkv::testing::qkv_cli(cmd), "--threads 100000 is more than");
  EXPECT_EQ(qkv::testing::qkv_cli("info --threads 3").code, 0);  // oversubscribing a little is allowed
}

TEST(Hardening, DemoPrintEveryZeroIsAnErrorNotSigfpe) {
  const auto r = qkv::testing::qkv_cli("demo xor --print-every 0");
  EXPECT_EQ(r.code, 1) << r.out;  // 136 was SIGFPE
  EXPECT_NE(r.out.find("--print-every must be >= 1, got 0"), std::string::npos) << r.out;
}

TEST(Hardening, ModelsThatCannotFitFailBeforeAllocating) {
  auto expect_too_big = [](auto f, const std::string& who) {
    try {
      f();
      ADD_FAILURE() << who << ": no error";
    } catch (const qkv::ValueError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(who), std::string::npos) << m;
      EXPECT_NE(m.find("do not fit in this machine's"), std::string::npos) << m;
    }
  };
  expect_too_big([] { qkv::models::GPTConfig::from_json({{"n_layer", 1000000000}}); }, "GPT config");
  expect_too_big([] { qkv::models::GPTConfig::from_json({{"n_embd", 2305843009213693952LL}, {"n_head", 1}}); },
                 "GPT config");
  expect_too_big([] { qkv::models::LlamaConfig::from_json({{"num_hidden_layers", 1000000000}}); }, "Llama config");
  expect_too_big([] { qkv::models::Seq2SeqConfig::from_json({{"n_encoder_layers", 1000000000}}); },
                 "Transformer config");
  // The same through the command line: an error naming the size, no run directory.
  const std::string dir = (fs::temp_directory_path() / ("qkv_hard_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  {
    std::ofstream f(dir + "/c.txt");
    for (int i = 0; i < 20; ++i) f << "to be or not to be, that is the question\n";
  }
  const auto r = qkv::testing::qkv_cli("train gpt --data " + dir + "/c.txt --out " + dir + "/run --n-layer 1000000000");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("parameters"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir + "/run/model.safetensors"));
  fs::remove_all(dir);
}

// A model that passes the size check but not a memory cap (ulimit -v): the
// allocation that fails is a clear error and a non-zero exit — never
// std::terminate from an allocation while unwinding — and no run directory.
// Not under ASan, whose shadow memory does not fit such a cap.
TEST(Hardening, OutOfMemoryUnderACapIsAClearError) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan reserves more address space than the cap";
#else
  const std::string dir = (fs::temp_directory_path() / ("qkv_oom_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  {
    std::ofstream f(dir + "/c.txt");
    for (int i = 0; i < 20; ++i) f << "to be or not to be, that is the question\n";
  }
  const auto r = qkv::testing::shell("ulimit -v 1000000; " + std::string(QKV_CLI_PATH) + " train gpt --data " + dir +
                                     "/c.txt --out " + dir + "/run --n-layer 24 --n-head 8 --n-embd 1024 --threads 1");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("qkv: error: out of memory allocating"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("terminate"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir + "/run"));
  fs::remove_all(dir);
#endif
}

TEST(Hardening, DeeplyNestedJsonIsRefusedNotAStackOverflow) {
  const std::string dir = (fs::temp_directory_path() / ("qkv_deep_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir + "/model");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string deep_obj;
  for (int i = 0; i < 100000; ++i) deep_obj += "{\"a\":";
  deep_obj += "1" + std::string(100000, '}');
  std::ofstream(dir + "/model/config.json") << deep_obj;  // `qkv info` crashed (SIGSEGV) on this
  std::ofstream(dir + "/deep.json") << deep;
  std::ofstream(dir + "/c.txt") << "to be or not to be\n";
  auto r = qkv::testing::qkv_cli("info " + dir + "/model");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("nested deeper than 256 levels"), std::string::npos) << r.out;
  r = qkv::testing::qkv_cli("train gpt --data " + dir + "/c.txt --out " + dir + "/run --config " + dir + "/deep.json");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("deep.json: JSON nested deeper than 256 levels"), std::string::npos) << r.out;
  r = qkv::testing::qkv_cli("tokenize --tokenizer " + dir + "/deep.json < /dev/null");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("nested deeper than 256 levels"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

// A field's bad value is quoted in the message cut to 80 bytes with its
// size, never whole: a megabyte string or array does not make a megabyte
// error (json_excerpt).
TEST(Hardening, AHugeBadValueIsQuotedShort) {
  const std::string dir = (fs::temp_directory_path() / ("qkv_huge_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir + "/model");
  std::ofstream(dir + "/model/config.json") << "{\"model_type\": \"gpt\", \"n_layer\": \"" << std::string(1 << 20, 'x')
                                            << "\"}";
  auto r = qkv::testing::qkv_cli("info " + dir + "/model");
  EXPECT_EQ(r.code, 1) << r.out.substr(0, 300);
  EXPECT_NE(r.out.find("n_layer"), std::string::npos) << r.out.substr(0, 300);
  EXPECT_NE(r.out.find("… (1048578 bytes)"), std::string::npos) << r.out.substr(0, 300);
  EXPECT_LT(r.out.size(), 400u) << r.out.substr(0, 300);
  // nlohmann's own parse errors quote the token they read: cut the same way.
  std::ofstream(dir + "/model/config.json") << "{\"n_layer\": " << std::string(1 << 20, '1') << "}";
  r = qkv::testing::qkv_cli("info " + dir + "/model");
  EXPECT_EQ(r.code, 1) << r.out.substr(0, 300);
  EXPECT_NE(r.out.find("config.json: invalid JSON: number overflow"), std::string::npos) << r.out.substr(0, 300);
  EXPECT_LT(r.out.size(), 400u) << r.out.substr(0, 300);
  EXPECT_EQ(qkv::json_excerpt(nlohmann::json("é" + std::string(100, 'x')), 2), "\"… (104 bytes)");  // not inside é
  EXPECT_EQ(qkv::json_excerpt(nlohmann::json::array({1, 2})), "[1,2]");
  fs::remove_all(dir);
}

TEST(Hardening, FifosAndDirectoriesAreRefusedByWhatTheyAre) {
  const std::string dir = (fs::temp_directory_path() / ("qkv_fifo_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir + "/adir");
  const std::string fifo = dir + "/pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::ofstream(dir + "/c.txt") << "to be or not to be, that is the question\n";
  const std::string train = "train gpt --out " + dir + "/run --max-iters 1 ";
  // Each used to block forever on the FIFO (the harness would time out) or say "no such file".
  struct Case {
    std::string args, needle;
  };
  for (const Case& c : std::vector<Case>{
           {train + "--data " + fifo, "pipe: is a FIFO (named pipe), not a regular file"},
           {train + "--data " + dir + "/adir", "adir: is a directory, not a regular file"},
           {train + "--data " + dir + "/c.txt --config " + fifo, "is a FIFO (named pipe)"},
           {train + "--data " + dir + "/c.txt --tokenizer " + fifo, "is a FIFO (named pipe)"},
           {"train-tokenizer --type char " + fifo + " --out " + dir + "/tok", "is a FIFO (named pipe)"},
       }) {
    const auto r = qkv::testing::shell("timeout 20 " + std::string(QKV_CLI_PATH) + " " + c.args);  // 124: it hung
    EXPECT_EQ(r.code, 1) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.needle), std::string::npos) << c.args << "\n" << r.out;
  }
  EXPECT_FALSE(fs::exists(dir + "/run/model.safetensors"));
  fs::remove_all(dir);
}

TEST(Hardening, TrainTokenizerFlagsAreTakenAsWritten) {
  const std::string dir = (fs::temp_directory_path() / ("qkv_tt_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  std::ofstream(dir + "/c.txt") << "the cat sat on the mat\nthe dog sat on the log\n";
  const std::string c = dir + "/c.txt";
  // "[UNK]" was read as a one-element list and stored as "UNK".
  auto r = qkv::testing::qkv_cli("train-tokenizer --type wordpiece --vocab-size 60 --special '[UNK]' --special '[PAD]' " +
                                 c + " --out " + dir + "/wp");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string tj = [&] {
    std::ifstream f(dir + "/wp/tokenizer.json");
    return std::string(std::istreambuf_iterator<char>(f), {});
  }();
  EXPECT_NE(tj.find("\"[UNK]\""), std::string::npos);
  EXPECT_NE(tj.find("\"[PAD]\""), std::string::npos);
  qkv::testing::expect_failure(qkv::testing::qkv_cli("train-tokenizer --vocab-size -5 " + c + " --out " + dir + "/a"),
                               "--vocab-size must be between 1 and 16777216, got -5");
  qkv::testing::expect_failure(
      qkv::testing::qkv_cli("train-tokenizer --special x --special x " + c + " --out " + dir + "/b"), "given twice");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("train-tokenizer --special '' " + c + " --out " + dir + "/c"),
                               "empty token");
  qkv::testing::expect_failure(qkv::testing::qkv_cli("train-tokenizer " + dir + " --out " + dir + "/d"),
                               "is a directory");
  for (const char* d : {"a", "b", "c", "d"}) EXPECT_FALSE(fs::exists(dir + "/" + d)) << d << " was created";
  fs::remove_all(dir);
}

TEST(Hardening, ANewRunNeverOverwritesAModelDirectory) {
  const std::string dir = (fs::temp_directory_path() / ("qkv_out_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir + "/run/best");
  {
    std::ofstream f(dir + "/c.txt");
    for (int i = 0; i < 20; ++i) f << "to be or not to be, that is the question\n";
  }
  std::ofstream(dir + "/run/best/config.json") << "{\"model_type\": \"gpt\"}";  // a model directory, no trainer_state.json
  const std::string flags = " --n-layer 1 --n-head 2 --n-embd 16 --block-size 8 --max-iters 1 --eval-interval 1 --eval-iters 1";
  for (const std::string cmd : {"train gpt --data " + dir + "/c.txt" + flags,
                                "finetune " + dir + "/run/best --data " + dir + "/c.txt --max-iters 1"}) {
    const auto r = qkv::testing::qkv_cli(cmd + " --out " + dir + "/run/best");
    EXPECT_EQ(r.code, 1) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("is not empty (config.json) and is not a training run"), std::string::npos) << r.out;
  }
  // A file is not a directory.
  qkv::testing::expect_failure(qkv::testing::qkv_cli("train gpt --data " + dir + "/c.txt" + flags + " --out " + dir + "/c.txt"),
                               "exists and is not a directory");
  // An empty directory is fine.
  fs::create_directories(dir + "/empty");
  EXPECT_EQ(qkv::testing::qkv_cli("train gpt --data " + dir + "/c.txt" + flags + " --out " + dir + "/empty --threads 1").code, 0);
  fs::remove_all(dir);
}

// A full disk at the first checkpoint (simulated by a file-size limit, with
// SIGXFSZ ignored so the write fails with EFBIG): a clear error, the staging
// files removed, and the same command then starts over in the directory
// instead of refusing it as "not a training run". A run that has committed
// a checkpoint is never erased that way.
TEST(Hardening, AFullDiskAtTheFirstCheckpointLeavesADirectoryToStartOver) {
  const std::string dir = (fs::temp_directory_path() / ("qkv_full_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream f(dir + "/c.txt");
    for (int i = 0; i < 20; ++i) f << "to be or not to be, that is the question\n";
  }
  const std::string train = std::string(QKV_CLI_PATH) + " train gpt --data " + dir + "/c.txt --out " + dir +
                            "/run --n-layer 2 --n-head 2 --n-embd 64 --block-size 8 --max-iters 2 --eval-interval 1"
                            " --eval-iters 1 --threads 1";
  const auto full = qkv::testing::shell("trap '' XFSZ; ulimit -f 16; " + train);  // 16 KiB per file
  EXPECT_EQ(full.code, 1) << full.out;
  EXPECT_NE(full.out.find("write failed: File too large"), std::string::npos) << full.out;
  EXPECT_FALSE(fs::exists(dir + "/run/.checkpoint.new"));
  EXPECT_FALSE(fs::exists(dir + "/run/trainer_state.json"));
  const auto again = qkv::testing::shell(train);
  EXPECT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("stopped before its first checkpoint (log.jsonl); starting over"), std::string::npos)
      << again.out;
  EXPECT_TRUE(fs::exists(dir + "/run/trainer_state.json"));
  EXPECT_FALSE(fs::exists(dir + "/run/.unfinished-run"));  // gone once a checkpoint commits
  std::ofstream(dir + "/run/.unfinished-run").flush();  // even beside a marker, a committed run stays
  qkv::testing::expect_failure(qkv::testing::shell(train), "already holds a training run");
  EXPECT_TRUE(fs::exists(dir + "/run/model.safetensors"));
  fs::remove_all(dir);
}

TEST(Hardening, AtomicWritesReplaceOnlyRegularFiles) {
  // `plot pe -o /dev/null` (as root) replaced the device node with a file; a FIFO is refused the same way.
  const std::string dir = (fs::temp_directory_path() / ("qkv_dev_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  const std::string fifo = dir + "/out.png";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto r = qkv::testing::qkv_cli("plot pe --len 8 --dim 8 -o " + fifo);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("is a FIFO (named pipe); only a regular file is replaced"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_fifo(fifo));
  fs::remove_all(dir);
}

TEST(Hardening, TokenizerIdsAreBounded) {
  const std::string dir = (fs::temp_directory_path() / ("qkv_ids_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  std::ofstream(dir + "/c.txt") << "the cat sat on the mat\n";
  ASSERT_EQ(qkv::testing::qkv_cli("train-tokenizer --type wordpiece --vocab-size 40 --special '[CLS]' --special '[SEP]' " +
                                  dir + "/c.txt --out " + dir + "/wp")
                .code,
            0);
  std::string tj;
  {
    std::ifstream f(dir + "/wp/tokenizer.json");
    tj.assign(std::istreambuf_iterator<char>(f), {});
  }
  auto write_variant = [&](const std::string& name, const std::string& from, const std::string& to) {
    std::string t = tj;
    const auto at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) t.replace(at, from.size(), to);
    std::ofstream(dir + "/" + name) << t;
    return dir + "/" + name;
  };
  // An added token at id 2^30 asked for a 2^30-row vocabulary (34 GB of embedding).
  const std::string big = write_variant("big.json", "\"added_tokens\": [",
                                        "\"added_tokens\": [{\"id\": 1073741824, \"content\": \"<big>\", \"special\": true},");
  auto r = qkv::testing::qkv_cli("tokenize --tokenizer " + big + " < " + dir + "/c.txt");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("is not below 16777216"), std::string::npos) << r.out;
  // A post-processor id outside the vocabulary was printed as is (id -7).
  const std::string neg = write_variant("neg.json", "\"ids\": [\n          0\n        ]", "\"ids\": [\n          -7\n        ]");
  r = qkv::testing::qkv_cli("tokenize --tokenizer " + neg + " < " + dir + "/c.txt");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("post_processor.special_tokens['[CLS]']"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("id -7 is outside the vocabulary"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(Hardening, AWrongTypeInTrainerStateNamesTheFileAndField) {
  const std::string dir = (fs::temp_directory_path() / ("qkv_ts_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  {
    std::ofstream f(dir + "/c.txt");
    for (int i = 0; i < 20; ++i) f << "to be or not to be, that is the question\n";
  }
  const std::string run = "train gpt --data " + dir + "/c.txt --out " + dir + "/run --n-layer 1 --n-head 2 --n-embd 16"
                          " --block-size 8 --eval-interval 1 --eval-iters 1 --threads 1 --max-iters ";
  ASSERT_EQ(qkv::testing::qkv_cli(run + "2").code, 0);
  const std::string st = dir + "/run/trainer_state.json";
  std::string text;
  {
    std::ifstream f(st);
    text.assign(std::istreambuf_iterator<char>(f), {});
  }
  const auto at = text.find("\"step\": 2");
  ASSERT_NE(at, std::string::npos) << text;
  std::string bad = text;
  bad.replace(at, 9, "\"step\": \"abc\"");
  std::ofstream(st) << bad;
  auto r = qkv::testing::qkv_cli(run + "4 --resume");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("trainer_state.json: field \"step\" must be an integer, got string"), std::string::npos) << r.out;
  // Deeper fields (the data cursor) are named by file at least, never a bare "[json.exception…]".
  bad = text;
  const auto cur = bad.find("\"data_cursor\": {");
  ASSERT_NE(cur, std::string::npos);
  bad.replace(cur, 16, "\"data_cursor\": [], \"x\": {");
  std::ofstream(st) << bad;
  r = qkv::testing::qkv_cli(run + "4 --resume");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("trainer_state.json"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("[json.exception"), std::string::npos) << r.out;
  fs::remove_all(dir);
}
