// `qkv eval ner --pred P --gold G [--mode default|strict]`: entity-level
// precision / recall / F1 per type as conlleval and seqeval compute them
// (metrics/seqeval.h), from CoNLL column files (eval_files.h).
//
// The gold tag is the last column of --gold; the predicted tag is the last
// column of --pred, whose first column must repeat the gold tokens. So --pred
// may be the gold layout with the tag replaced, or conlleval's input layout
// (TOKEN … GOLD PRED): its gold column is then ignored.
#include <algorithm>
#include <cstdio>

#include "commands.h"
#include "eval_files.h"
#include "qkv/core/error.h"
#include "qkv/metrics/seqeval.h"

namespace qkv::cli {
namespace {

struct Args {
  std::string pred, gold, mode = "default";
  bool json = false;
};

void check_tags(const ConllFile& f, metrics::SpanMode mode) {
  for (const auto& sentence : f.sentences)
    for (const ConllToken& t : sentence)
      if (std::string problem = metrics::tag_problem(t.tag, mode); !problem.empty())
        throw ValueError(f.path + ":" + std::to_string(t.line) + ": " + problem);
}

// seqeval's classification_report layout under conlleval's lines.
std::string report_text(const metrics::EntityReport& r) {
  std::string out = metrics::format_conlleval(r) + "\n";
  size_t width = 12;  // "weighted avg"
  for (const auto& t : r.per_type) width = std::max(width, t.type.size());
  char buf[128];
  auto row = [&](const std::string& name, double p, double rc, double f, long long n) {
    out += std::string(width - std::min(width, name.size()), ' ') + name;
    std::snprintf(buf, sizeof buf, "  %9.4f %9.4f %9.4f %9lld\n", p, rc, f, n);
    out += buf;
  };
  out += std::string(width, ' ');
  std::snprintf(buf, sizeof buf, "  %9s %9s %9s %9s\n\n", "precision", "recall", "f1-score", "support");
  out += buf;
  for (const auto& t : r.per_type) row(t.type, t.precision, t.recall, t.f1, t.support);
  out += "\n";
  row("micro avg", r.micro.precision, r.micro.recall, r.micro.f1, r.support);
  row("macro avg", r.macro.precision, r.macro.recall, r.macro.f1, r.support);
  row("weighted avg", r.weighted.precision, r.weighted.recall, r.weighted.f1, r.support);
  return out;
}

nlohmann::ordered_json report_json(const metrics::EntityReport& r, const std::string& mode) {
  auto avg = [](const metrics::EntityAverage& a) {
    return nlohmann::ordered_json{{"precision", a.precision}, {"recall", a.recall}, {"f1", a.f1}};
  };
  nlohmann::ordered_json j;
  j["mode"] = mode;
  j["tokens"] = r.tokens;
  j["token_accuracy"] = r.token_accuracy;
  j["gold_entities"] = r.support;
  j["predicted_entities"] = r.predicted;
  j["correct_entities"] = r.correct;
  j["micro"] = avg(r.micro);
  j["macro"] = avg(r.macro);
  j["weighted"] = avg(r.weighted);
  j["types"] = nlohmann::ordered_json::array();
  for (const auto& t : r.per_type)
    j["types"].push_back({{"type", t.type}, {"precision", t.precision}, {"recall", t.recall}, {"f1", t.f1},
                          {"support", t.support}, {"predicted", t.predicted}, {"correct", t.correct}});
  return j;
}

void run(const Args& a) {
  if (a.mode != "default" && a.mode != "strict")
    throw ValueError("--mode must be default (conlleval) or strict (seqeval strict IOB2), got '" + a.mode + "'");
  const metrics::SpanMode mode = a.mode == "strict" ? metrics::SpanMode::StrictIob2 : metrics::SpanMode::Default;
  const ConllFile gold = read_conll(a.gold);
  const ConllFile pred = read_conll(a.pred);
  if (gold.sentences.empty()) throw ValueError(a.gold + ": no sentences");
  check_aligned(gold, pred);
  check_tags(gold, mode);
  check_tags(pred, mode);
  const metrics::EntityReport r = metrics::entity_scores(tags_of(gold), tags_of(pred), mode);
  const std::string text = a.json ? report_json(r, a.mode).dump(1) + "\n" : report_text(r);
  std::fwrite(text.data(), 1, text.size(), stdout);
}

void add_eval_ner_command(CLI::App& eval) {
  static Args a;
  auto* c = eval.add_subcommand("ner", "Entity-level P/R/F1 per type of CoNLL tag files (conlleval / seqeval)");
  c->add_option("--pred", a.pred,
                "Predicted tags: CoNLL file, TOKEN first and the tag last (conlleval's TOKEN … GOLD PRED works)")
      ->required();
  c->add_option("--gold", a.gold, "Gold CoNLL file: TOKEN … TAG per line, blank lines between sentences")->required();
  c->add_option("--mode", a.mode, "default (conlleval/seqeval lenient spans, IOB/IOBES) or strict (IOB2)")
      ->capture_default_str();
  c->add_flag("--json", a.json, "Print JSON instead of the report");
  c->callback([] { run(a); });
}

}  // namespace

QKV_REGISTER_SUBCOMMAND("eval", "ner", 20, add_eval_ner_command);

}  // namespace qkv::cli
