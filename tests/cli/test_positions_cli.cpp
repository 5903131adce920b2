// Positions from the command line: `train gpt --pos-encoding …`, `eval-lengths`
// and `plot pe --run`, with the bad-input cases of the positions issue.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "qkv/io/json.h"
#include "support/shell.h"

namespace fs = std::filesystem;

namespace {

using Out = qkv::testing::ShellRun;
using qkv::testing::qkv_cli;
constexpr auto qkv_run = qkv_cli;
constexpr auto expect_fail = qkv::testing::expect_failure;

class PositionsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (fs::temp_directory_path() / ("qkv_pos_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    corpus = dir + "/corpus.txt";
    std::ofstream f(corpus);
    for (int i = 0; i < 12; ++i) f << "to be or not to be, that is the question. whether tis nobler in the mind\n";
  }
  void TearDown() override { fs::remove_all(dir); }
  Out train(const std::string& out, const std::string& extra) {
    return qkv_run("train gpt --data " + corpus + " --out " + out +
                   " --n-layer 1 --n-head 2 --n-embd 16 --block-size 8 --batch-size 2 --max-iters 2 --eval-interval 2"
                   " --eval-iters 1 --warmup-iters 1 --lr-decay-iters 10 --threads 1 " + extra);
  }
  std::string dir, corpus;
};

}  // namespace

TEST_F(PositionsCli, TrainEvalLengthsAndPlotEveryKind) {
  for (const char* kind : {"learned", "rope", "alibi", "t5", "relative"}) {
    const std::string run = dir + "/" + kind;
    Out t = train(run, std::string("--pos-encoding ") + kind);
    ASSERT_EQ(t.code, 0) << t.out;
    EXPECT_EQ(qkv::io::read_json(run + "/config.json")["pos_encoding"], kind);
    Out g = qkv_run("generate " + run + " --prompt \"to be\" --max-new-tokens 12 --seed 1");
    EXPECT_EQ(g.code, 0) << g.out;
    Out a = qkv_run("plot attention " + run + " --text \"to be or\" --layer 0 --head 1 -o " + run + "/att.svg");
    EXPECT_EQ(a.code, 0) << a.out;
  }
  const std::string json = dir + "/lengths.jsonl", svg = dir + "/lengths.svg";
  // stdout alone into the file (the shell helper merges stderr into what it captures)
  qkv::testing::ShellRun e = qkv::testing::shell("{ " + std::string(QKV_CLI_PATH) + " eval-lengths " + dir +
                                                 "/learned " + dir + "/rope --data " + corpus +
                                                 " --lengths 8,16 --json --plot " + svg + " > " + json + "; }");
  ASSERT_EQ(e.code, 0) << e.out;
  std::ifstream in(json);
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 4u);  // 2 runs × 2 lengths
  for (const auto& r : rows)
    for (const char* k : {"run", "length", "loss", "perplexity", "targets"}) EXPECT_TRUE(r.contains(k)) << r.dump();
  EXPECT_EQ(rows[0]["run"], "learned");
  EXPECT_TRUE(rows[0]["loss"].is_number());
  EXPECT_TRUE(rows[1]["loss"].is_null());  // 16 > block_size 8: the table cannot run
  EXPECT_NE(rows[1]["error"].get<std::string>().find("block_size 8"), std::string::npos);
  EXPECT_TRUE(rows[3]["perplexity"].is_number());  // rope runs past its training length
  EXPECT_EQ(rows[2]["targets"], rows[3]["targets"]);  // the same targets at every length
  EXPECT_TRUE(fs::exists(svg));
  Out table = qkv_run("eval-lengths " + dir + "/rope --data " + corpus + " --lengths 8");
  EXPECT_EQ(table.code, 0) << table.out;
  EXPECT_NE(table.out.find("perplexity"), std::string::npos) << table.out;
  for (const char* kind : {"learned", "rope", "alibi", "t5", "relative"}) {
    Out p = qkv_run("plot pe --run " + dir + "/" + kind + " --view similarity -o " + dir + "/" + kind + ".png");
    EXPECT_EQ(p.code, 0) << p.out;
  }
  Out t = qkv_run("plot pe --run " + dir + "/learned -o " + dir + "/table.png");  // the trained table
  EXPECT_EQ(t.code, 0) << t.out;
  expect_fail(qkv_run("plot pe --run " + dir + "/rope --kind alibi -o " + dir + "/x.png"), "uses rope positions");
  // relative: the run's key vectors w^K (table and similarity), the index matrix without a run
  Out rt = qkv_run("plot pe --run " + dir + "/relative --view table --layer 0 -o " + dir + "/rel_table.svg");
  EXPECT_EQ(rt.code, 0) << rt.out;
  EXPECT_NE(rt.out.find("relative table, 33 x 8"), std::string::npos) << rt.out;  // 2k+1 = 33 rows, head size 8
  Out ri = qkv_run("plot pe --kind relative --max-distance 4 --len 12 -o " + dir + "/rel_index.png");
  EXPECT_EQ(ri.code, 0) << ri.out;
  expect_fail(qkv_run("plot pe --run " + dir + "/relative --layer 3 -o " + dir + "/x.png"), "--layer 3");
  expect_fail(qkv_run("plot pe --kind relative --view table -o " + dir + "/x.png"), "--run");
  expect_fail(qkv_run("plot pe --kind relative --max-distance 0 -o " + dir + "/x.png"), "--max-distance");
  Out rl = qkv_run("eval-lengths " + dir + "/relative --data " + corpus + " --lengths 8,16");  // runs past block_size
  EXPECT_EQ(rl.code, 0) << rl.out;
}

TEST_F(PositionsCli, BadInput) {
  expect_fail(train(dir + "/a", "--pos-encoding xpos"), "pos_encoding");
  expect_fail(train(dir + "/b", "--pos-encoding rope --rope-dim 3"), "rope_dim 3");
  expect_fail(train(dir + "/c", "--pos-encoding rope --rope-dim 16"), "at most the head size 8");
  expect_fail(train(dir + "/d", "--pos-encoding relative --relative-max-distance 0"), "relative_max_distance");
  expect_fail(train(dir + "/e", "--pos-encoding relative --relative-max-distance -4"), "relative_max_distance");
  EXPECT_FALSE(fs::exists(dir + "/a"));
  // A run directory whose config names a kind this build does not know.
  const std::string run = dir + "/run";
  ASSERT_EQ(train(run, "--pos-encoding alibi").code, 0);
  nlohmann::json cfg = qkv::io::read_json(run + "/config.json");
  cfg["pos_encoding"] = "xpos";
  std::ofstream(run + "/config.json") << cfg.dump();
  expect_fail(qkv_run("generate " + run + " --max-new-tokens 2"), "pos_encoding");
  expect_fail(qkv_run("eval-lengths " + run + " --data " + corpus + " --lengths 8"), "xpos");
  // eval-lengths' own arguments.
  expect_fail(qkv_run("eval-lengths " + dir + "/missing --data " + corpus + " --lengths 8"), "no such directory");
  expect_fail(qkv_run("eval-lengths " + run + " --data " + dir + "/none.txt --lengths 8"), "none.txt");
  expect_fail(qkv_run("eval-lengths " + run + " --data " + corpus + " --lengths 1"), "every length must be >= 2");
  expect_fail(qkv_run("eval-lengths " + run + " --data " + corpus + " --lengths 8 --plot " + dir + "/p.jpg"),
              "unknown extension");
  expect_fail(qkv_run("eval-lengths " + run + " --data " + corpus), "--lengths");
  EXPECT_FALSE(fs::exists(dir + "/p.jpg"));
}
