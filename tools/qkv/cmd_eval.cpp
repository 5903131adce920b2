// `qkv eval`: score a prediction file against gold for a fine-tuning task.
// This file owns the `eval` group; the tasks register with
// QKV_REGISTER_SUBCOMMAND("eval", …) (cmd_eval_classify.cpp, cmd_eval_ner.cpp,
// cmd_eval_qa.cpp). Each reads and checks every input before printing
// anything, so a bad input leaves no partial report.
#include "commands.h"

namespace qkv::cli {
namespace {

void add_eval_command(CLI::App& app) {
  auto* eval = app.add_subcommand("eval", "Score predictions against gold: classification, NER entities, SQuAD");
  eval->require_subcommand(1);
}

}  // namespace

QKV_REGISTER_COMMAND("eval", 74, add_eval_command);

}  // namespace qkv::cli
