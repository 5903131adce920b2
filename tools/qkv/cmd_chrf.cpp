// `qkv chrf --ref REF [--ref …] [--word-order 2] < hyp`: sacreBLEU's chrF2 /
// chrF++ (metrics/chrf.h).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "metrics_input.h"
#include "qkv/core/error.h"
#include "qkv/metrics/chrf.h"

namespace qkv::cli {
namespace {

struct ChrfArgs {
  std::vector<std::string> refs;
  metrics::ChrfOptions opts;
  bool sentence = false, json = false;
};

nlohmann::ordered_json chrf_json(const metrics::ChrfScore& s, const metrics::ChrfOptions& o, int nrefs) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", s.score);
  nlohmann::ordered_json j;
  j["name"] = metrics::chrf_name(o);
  j["score"] = std::stod(buf);
  j["signature"] = metrics::chrf_signature(o, nrefs, metric_version());
  j["nrefs"] = std::to_string(nrefs);
  j["case"] = o.lowercase ? "lc" : "mixed";
  j["eff"] = "yes";
  j["nc"] = std::to_string(o.char_order);
  j["nw"] = std::to_string(o.word_order);
  j["space"] = o.whitespace ? "yes" : "no";
  j["version"] = metric_version();
  j["exact_score"] = s.score;
  j["stats"] = s.stats;
  return j;
}

std::string chrf_line(const metrics::ChrfScore& s, const metrics::ChrfOptions& o) {
  char buf[64];
  std::snprintf(buf, sizeof buf, " = %.2f", s.score);
  return metrics::chrf_name(o) + buf;
}

void print_line(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
}

void run_chrf(const ChrfArgs& a) {
  const metrics::ChrfOptions& o = a.opts;
  if (o.char_order < 0 || o.word_order < 0 || o.char_order + o.word_order == 0)
    throw ValueError("--char-order and --word-order must be >= 0 and not both 0");
  if (o.beta < 0) throw ValueError("--beta must be >= 0, got " + std::to_string(o.beta));
  const MetricInput in = read_metric_input(a.refs);
  const int nrefs = static_cast<int>(a.refs.size());
  if (a.sentence) {
    std::vector<std::string> seg(in.refs.size());
    for (size_t i = 0; i < in.hyps.size(); ++i) {
      for (size_t k = 0; k < seg.size(); ++k) seg[k] = in.refs[k][i];
      const metrics::ChrfScore s = metrics::sentence_chrf(in.hyps[i], seg, o);
      print_line(a.json ? compact_json(chrf_json(s, o, nrefs)) : chrf_line(s, o));
    }
    if (!a.json) std::fprintf(stderr, "%s\n", metrics::chrf_signature(o, nrefs, metric_version()).c_str());
    return;
  }
  const metrics::ChrfScore s = metrics::corpus_chrf(in.hyps, in.refs, o);
  if (a.json) {
    print_line(chrf_json(s, o, nrefs).dump(1));
  } else {
    print_line(chrf_line(s, o));
    print_line(metrics::chrf_signature(o, nrefs, metric_version()));
  }
}

void add_chrf_command(CLI::App& app) {
  static ChrfArgs a;
  auto* cmd = app.add_subcommand("chrf", "Corpus chrF (chrF++ with --word-order 2) of stdin's lines, as sacreBLEU");
  cmd->add_option("--ref", a.refs, "Reference file, line-aligned with stdin; repeat for several references")
      ->required();
  cmd->add_option("--char-order", a.opts.char_order, "Character n-gram order")->capture_default_str();
  cmd->add_option("--word-order", a.opts.word_order, "Word n-gram order (2 = chrF++)")->capture_default_str();
  cmd->add_option("--beta", a.opts.beta, "Recall weighs beta times precision")->capture_default_str();
  cmd->add_flag("--lowercase", a.opts.lowercase, "Lowercase hypotheses and references first");
  cmd->add_flag("--whitespace", a.opts.whitespace, "Keep whitespace inside character n-grams");
  cmd->add_flag("--sentence", a.sentence, "One score per line");
  cmd->add_flag("--json", a.json, "Print sacreBLEU-style JSON (one object per line with --sentence)");
  cmd->callback([] { run_chrf(a); });
}

}  // namespace

QKV_REGISTER_COMMAND("chrf", 81, add_chrf_command);

}  // namespace qkv::cli
