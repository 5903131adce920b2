// train/run_log.h: a run's curves read back from log.jsonl and steps.tsv —
// torn last lines skipped, a step logged twice (a resumed run) keeps the later
// line, old runs without steps.tsv readable, a folder without logs an error.
#include <gtest/gtest.h>

#include <cmath>

#include "io/io_test_util.h"
#include "qkv/core/error.h"
#include "qkv/train/run_log.h"

using qkv::testing::expect_error;
using qkv::testing::ScratchDir;
using qkv::testing::write_bytes;

TEST(RunLog, ReadsStepsAndEvaluations) {
  ScratchDir d;
  write_bytes(d.file("steps.tsv"), "step\tloss\tlr\n0\t4.5\t0.001\n1\t4.25\t0.002\n2\t9.0\t0.003\n"
                                   "2\t4.0\t0.003\n3\tnan\t0.003\n4\t3.");  // resumed at 2; NaN kept; torn end
  write_bytes(d.file("log.jsonl"), "{\"step\": 0, \"train_loss\": 4.6, \"val_loss\": 4.7, \"lr\": 0}\n"
                                   "{\"step\": 2, \"train_loss\": 4.1, \"val_loss\": 4.3, \"lr\": 0.003, \"val_bleu\": 1}\n"
                                   "{\"step\": 4, \"train_lo");
  const qkv::train::RunLog log = qkv::train::read_run_log(d.path);
  EXPECT_EQ(log.step, (std::vector<double>{0, 1, 2, 3}));
  EXPECT_EQ(log.loss[2], 4.0) << "the later line of a repeated step";
  EXPECT_TRUE(std::isnan(log.loss[3]));
  EXPECT_EQ(log.lr[1], 0.002);
  EXPECT_EQ(log.eval_step, (std::vector<double>{0, 2}));
  EXPECT_EQ(log.eval_val[1], 4.3);
  const qkv::viz::LossCurve c = qkv::train::loss_curve(log, "run");
  EXPECT_EQ(c.name, "run");
  EXPECT_EQ(c.eval_train, (std::vector<double>{4.6, 4.1}));
}

TEST(RunLog, OldRunsAndMissingLogs) {
  ScratchDir d;
  write_bytes(d.file("log.jsonl"), "{\"step\": 0, \"train_loss\": 4.6, \"val_loss\": 4.7}\n");
  const qkv::train::RunLog old = qkv::train::read_run_log(d.path);
  EXPECT_TRUE(old.step.empty());
  EXPECT_EQ(old.eval_step.size(), 1u);
  std::filesystem::create_directories(d.file("empty"));
  expect_error<qkv::IOError>([&] { qkv::train::read_run_log(d.file("empty")); }, {"empty", "not a training run"});
  expect_error<qkv::IOError>([&] { qkv::train::read_run_log(d.file("nope")); }, {"nope", "no such run directory"});
  // The log file given for its run: say which folder to give instead.
  expect_error<qkv::IOError>([&] { qkv::train::read_run_log(d.file("log.jsonl")); },
                             {"log.jsonl: not a run directory but a file; give the run's folder (" + d.path + ")"});
}
