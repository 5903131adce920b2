// `qkv bleu --ref REF [--ref REF2 …] < hyp`: sacreBLEU's BLEU (metrics/bleu.h),
// its printed line and a signature in its style (with qkv's version).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "metrics_input.h"
#include "qkv/core/error.h"
#include "qkv/metrics/bleu.h"

namespace qkv::cli {
namespace {

struct BleuArgs {
  std::vector<std::string> refs;
  bool lowercase = false, sentence = false, json = false;
  std::string tokenize = "13a";
};

// sacreBLEU's JSON fields (score rounded to the printed width, fields of the
// signature as strings) plus the exact statistics for machines.
nlohmann::ordered_json bleu_json(const metrics::BleuScore& s, const metrics::BleuOptions& o, int nrefs) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", s.score);
  nlohmann::ordered_json j;
  j["name"] = "BLEU";
  j["score"] = std::stod(buf);
  j["signature"] = metrics::bleu_signature(o, nrefs, metric_version());
  j["verbose_score"] = metrics::bleu_verbose(s);
  j["nrefs"] = std::to_string(nrefs);
  j["case"] = o.lowercase ? "lc" : "mixed";
  j["eff"] = o.effective_order ? "yes" : "no";
  j["tok"] = o.tokenize == metrics::BleuTokenize::k13a ? "13a" : "none";
  j["smooth"] = "exp";
  j["version"] = metric_version();
  j["exact_score"] = s.score;
  j["counts"] = s.counts;
  j["totals"] = s.totals;
  j["precisions"] = s.precisions;
  j["bp"] = s.bp;
  j["ratio"] = s.ratio();
  j["sys_len"] = s.sys_len;
  j["ref_len"] = s.ref_len;
  return j;
}

void print_line(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
}

void run_bleu(const BleuArgs& a) {
  if (a.tokenize != "13a" && a.tokenize != "none")
    throw ValueError("--tokenize must be 13a or none, got '" + a.tokenize + "'");
  const MetricInput in = read_metric_input(a.refs);
  metrics::BleuOptions o = a.sentence ? metrics::sentence_bleu_defaults() : metrics::BleuOptions{};
  o.lowercase = a.lowercase;
  o.tokenize = a.tokenize == "13a" ? metrics::BleuTokenize::k13a : metrics::BleuTokenize::None;
  const int nrefs = static_cast<int>(a.refs.size());
  if (a.sentence) {
    std::vector<std::string> seg(in.refs.size());
    for (size_t i = 0; i < in.hyps.size(); ++i) {
      for (size_t k = 0; k < seg.size(); ++k) seg[k] = in.refs[k][i];
      const metrics::BleuScore s = metrics::sentence_bleu(in.hyps[i], seg, o);
      print_line(a.json ? compact_json(bleu_json(s, o, nrefs)) : metrics::format_bleu(s));
    }
    if (!a.json) std::fprintf(stderr, "%s\n", metrics::bleu_signature(o, nrefs, metric_version()).c_str());
    return;
  }
  const metrics::BleuScore s = metrics::corpus_bleu(in.hyps, in.refs, o);
  if (a.json) {
    print_line(bleu_json(s, o, nrefs).dump(1));
  } else {
    print_line(metrics::format_bleu(s));
    print_line(metrics::bleu_signature(o, nrefs, metric_version()));
  }
}

void add_bleu_command(CLI::App& app) {
  static BleuArgs a;
  auto* cmd = app.add_subcommand("bleu", "Corpus BLEU of stdin's lines against --ref files, as sacreBLEU computes it");
  cmd->add_option("--ref", a.refs, "Reference file, line-aligned with stdin; repeat for several references")
      ->required();
  cmd->add_flag("--lowercase", a.lowercase, "Lowercase hypotheses and references first (signature case:lc)");
  cmd->add_option("--tokenize", a.tokenize, "13a (mteval-v13a, sacreBLEU's default) or none (split on spaces)")
      ->capture_default_str();
  cmd->add_flag("--sentence", a.sentence,
                "One score per line, with sacrebleu.sentence_bleu's defaults (exp smoothing, effective order)");
  cmd->add_flag("--json", a.json, "Print sacreBLEU-style JSON (one object per line with --sentence)");
  cmd->callback([] { run_bleu(a); });
}

}  // namespace

QKV_REGISTER_COMMAND("bleu", 80, add_bleu_command);

}  // namespace qkv::cli
