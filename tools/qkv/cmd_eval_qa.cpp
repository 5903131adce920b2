// `qkv eval qa --pred PRED.json --gold SQUAD.json [--na-prob F]`: SQuAD exact
// match and F1 as the official evaluate-v1.1.py / evaluate-v2.0.py
// (metrics/squad.h). The gold file's "version" picks the script ("1.1" or
// "v2.0"; without one, v2.0 if some question has no answer), --squad-version
// overrides it. --json prints the official script's keys.
#include <cstdio>
#include <set>

#include "commands.h"
#include "eval_files.h"
#include "qkv/core/error.h"
#include "qkv/metrics/squad.h"

namespace qkv::cli {
namespace {

struct Args {
  std::string pred, gold, na_prob, version = "auto";
  double na_prob_thresh = 1.0;
  bool json = false;
};

bool use_v2(const Args& a, const SquadFile& gold) {
  if (a.version == "1.1") return false;
  if (a.version == "2.0") return true;
  if (a.version != "auto") throw ValueError("--squad-version must be auto, 1.1 or 2.0, got '" + a.version + "'");
  if (gold.version == "1.1" || gold.version == "v1.1") return false;
  if (gold.version == "2.0" || gold.version == "v2.0") return true;
  for (const auto& q : gold.questions)
    if (q.answers.empty()) return true;
  return false;
}

std::string v1_report(const metrics::SquadV1Result& r, bool json) {
  if (json) {
    nlohmann::ordered_json j{{"exact_match", r.exact_match}, {"f1", r.f1}, {"total", r.total}, {"missing", r.missing.size()}};
    return j.dump(1) + "\n";
  }
  char buf[256];
  std::snprintf(buf, sizeof buf, "SQuAD v1.1: %lld questions\nexact_match = %.2f\nf1 = %.2f\n", (long long)r.total,
                r.exact_match, r.f1);
  return buf;
}

std::string v2_report(const metrics::SquadV2Result& r, bool json) {
  nlohmann::ordered_json j{{"exact", r.all.exact}, {"f1", r.all.f1}, {"total", r.all.total}};
  for (const auto& [prefix, s] : {std::pair{"HasAns", r.has_ans}, std::pair{"NoAns", r.no_ans}})
    if (s) {
      j[std::string(prefix) + "_exact"] = s->exact;
      j[std::string(prefix) + "_f1"] = s->f1;
      j[std::string(prefix) + "_total"] = s->total;
    }
  if (r.has_best) {
    j["best_exact"] = r.best_exact;
    j["best_exact_thresh"] = r.best_exact_thresh;
    j["best_f1"] = r.best_f1;
    j["best_f1_thresh"] = r.best_f1_thresh;
  }
  if (json) return j.dump(1) + "\n";
  char buf[256];
  std::snprintf(buf, sizeof buf, "SQuAD v2.0: %lld questions\nexact = %.2f\nf1 = %.2f\n", (long long)r.all.total,
                r.all.exact, r.all.f1);
  std::string out = buf;
  for (const auto& [prefix, s] : {std::pair{"HasAns", r.has_ans}, std::pair{"NoAns", r.no_ans}})
    if (s) {
      std::snprintf(buf, sizeof buf, "%s_exact = %.2f, %s_f1 = %.2f (%lld questions)\n", prefix, s->exact, prefix,
                    s->f1, (long long)s->total);
      out += buf;
    }
  if (r.has_best) {
    std::snprintf(buf, sizeof buf, "best_exact = %.2f (threshold %.6g)\nbest_f1 = %.2f (threshold %.6g)\n",
                  r.best_exact, r.best_exact_thresh, r.best_f1, r.best_f1_thresh);
    out += buf;
  }
  return out;
}

void run(const Args& a) {
  const SquadFile gold = read_squad(a.gold);
  const metrics::SquadPredictions preds = read_squad_predictions(a.pred);
  const bool v2 = use_v2(a, gold);
  if (!v2 && !a.na_prob.empty()) throw ValueError("--na-prob is for SQuAD 2.0 evaluation (" + a.gold + " is scored as v1.1)");
  std::string text;
  if (v2) {
    metrics::SquadV2Options o;
    o.na_prob_thresh = a.na_prob_thresh;
    std::set<std::string> with_prob;
    if (!a.na_prob.empty()) {
      o.na_probs = read_na_probs(a.na_prob);
      for (const auto& [id, _] : *o.na_probs) with_prob.insert(id);
    }
    for (const auto& q : gold.questions) {
      if (!preds.count(q.id))
        throw ValueError(a.pred + ": no prediction for question \"" + q.id + "\" of " + a.gold +
                         " (SQuAD 2.0 needs one per question; \"\" = no answer)");
      if (o.na_probs && !with_prob.count(q.id))
        throw ValueError(a.na_prob + ": no no-answer probability for question \"" + q.id + "\" of " + a.gold);
    }
    text = v2_report(metrics::squad_v2_evaluate(gold.questions, preds, o), a.json);
  } else {
    const metrics::SquadV1Result r = metrics::squad_v1_evaluate(gold.questions, preds);
    if (!r.missing.empty())
      std::fprintf(stderr, "qkv: warning: %s has no prediction for %zu of %lld questions (scored 0), first: \"%s\"\n",
                   a.pred.c_str(), r.missing.size(), (long long)r.total, r.missing.front().c_str());
    text = v1_report(r, a.json);
  }
  size_t unknown = 0;
  std::set<std::string> ids;
  for (const auto& q : gold.questions) ids.insert(q.id);
  for (const auto& [id, _] : preds) unknown += !ids.count(id);
  if (unknown > 0)
    std::fprintf(stderr, "qkv: warning: %zu predictions in %s are for questions not in %s (ignored)\n", unknown,
                 a.pred.c_str(), a.gold.c_str());
  std::fwrite(text.data(), 1, text.size(), stdout);
}

void add_eval_qa_command(CLI::App& eval) {
  static Args a;
  auto* c = eval.add_subcommand("qa", "SQuAD v1.1 / v2.0 exact match and F1 (the official evaluation scripts)");
  c->add_option("--pred", a.pred, "Predictions JSON: {question id: answer text}")->required();
  c->add_option("--gold", a.gold, "Gold SQuAD JSON (v1.1 or v2.0 layout)")->required();
  c->add_option("--na-prob", a.na_prob, "SQuAD 2.0: JSON {question id: no-answer probability}; adds best thresholds")
      ->default_str("none");
  c->add_option("--na-prob-thresh", a.na_prob_thresh, "SQuAD 2.0: predict no answer when the probability exceeds this")
      ->capture_default_str();
  c->add_option("--squad-version", a.version, "auto (from the gold file), 1.1 or 2.0")->capture_default_str();
  c->add_flag("--json", a.json, "Print the official script's JSON keys");
  c->callback([] { run(a); });
}

}  // namespace

QKV_REGISTER_SUBCOMMAND("eval", "qa", 30, add_eval_qa_command);

}  // namespace qkv::cli
