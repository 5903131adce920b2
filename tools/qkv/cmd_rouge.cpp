// `qkv rouge --ref REF [--ref …] [--stem] < hyp`: ROUGE-1/2/L as Google's
// rouge-score (metrics/rouge.h), averaged over lines.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "metrics_input.h"
#include "qkv/metrics/rouge.h"

namespace qkv::cli {
namespace {

struct RougeArgs {
  std::vector<std::string> refs;
  bool stem = false, sentence = false, json = false;
};

nlohmann::ordered_json rouge_json(const metrics::RougeScores& s, bool stem, size_t lines) {
  nlohmann::ordered_json j;
  const std::pair<const char*, const metrics::RougePRF*> types[] = {
      {"rouge1", &s.rouge1}, {"rouge2", &s.rouge2}, {"rougeL", &s.rougeL}};
  for (const auto& [name, prf] : types) j[name] = {{"p", prf->p}, {"r", prf->r}, {"f", prf->f}};
  j["stem"] = stem;
  j["lines"] = lines;
  j["version"] = metric_version();
  return j;
}

void print_text(const metrics::RougeScores& s) {
  const std::pair<const char*, const metrics::RougePRF*> types[] = {
      {"ROUGE-1", &s.rouge1}, {"ROUGE-2", &s.rouge2}, {"ROUGE-L", &s.rougeL}};
  for (const auto& [name, prf] : types)
    std::printf("%s P = %.4f R = %.4f F = %.4f\n", name, prf->p, prf->r, prf->f);
}

void run_rouge(const RougeArgs& a) {
  const MetricInput in = read_metric_input(a.refs);
  const metrics::RougeOptions o{.stem = a.stem};
  if (a.sentence) {
    std::vector<std::string> seg(in.refs.size());
    for (size_t i = 0; i < in.hyps.size(); ++i) {
      for (size_t k = 0; k < seg.size(); ++k) seg[k] = in.refs[k][i];
      const metrics::RougeScores s = metrics::rouge(in.hyps[i], seg, o);
      if (a.json) {
        std::printf("%s\n", compact_json(rouge_json(s, a.stem, 1)).c_str());
      } else {
        std::printf("R1 %.4f R2 %.4f RL %.4f\n", s.rouge1.f, s.rouge2.f, s.rougeL.f);
      }
    }
    return;
  }
  const metrics::RougeScores s = metrics::corpus_rouge(in.hyps, in.refs, o);
  if (a.json) {
    std::printf("%s\n", rouge_json(s, a.stem, in.hyps.size()).dump(1).c_str());
  } else {
    print_text(s);
    std::printf("mean over %zu lines|nrefs:%zu|stem:%s|version:%s\n", in.hyps.size(), a.refs.size(),
                a.stem ? "yes" : "no", metric_version().c_str());
  }
}

void add_rouge_command(CLI::App& app) {
  static RougeArgs a;
  auto* cmd = app.add_subcommand("rouge", "ROUGE-1/2/L of stdin's lines against --ref files, as rouge-score (mean over lines)");
  cmd->add_option("--ref", a.refs, "Reference file, line-aligned with stdin; repeat for several (best F per line)")
      ->required();
  cmd->add_flag("--stem", a.stem, "Porter-stem tokens longer than 3 characters (rouge-score's use_stemmer)");
  cmd->add_flag("--sentence", a.sentence, "One line of F-scores per input line");
  cmd->add_flag("--json", a.json, "Print JSON (one object per line with --sentence)");
  cmd->callback([] { run_rouge(a); });
}

}  // namespace

QKV_REGISTER_COMMAND("rouge", 82, add_rouge_command);

}  // namespace qkv::cli
