// Hypotheses from stdin and references from files for the metric commands
// (metrics_input.h).
#include "metrics_input.h"

#include "commands.h"
#include "qkv/core/error.h"
#include "qkv/data/readers.h"
#include "qkv/version.h"

namespace qkv::cli {

MetricInput read_metric_input(const std::vector<std::string>& ref_paths) {
  if (ref_paths.empty()) throw ValueError("at least one --ref file is needed");
  MetricInput in;
  for (const std::string& p : ref_paths) in.refs.push_back(data::read_lines(p));
  in.hyps = read_stdin_lines();
  if (in.hyps.empty()) throw ValueError("no hypotheses: stdin is empty (one hypothesis per line expected)");
  for (size_t k = 0; k < ref_paths.size(); ++k)
    if (in.refs[k].size() != in.hyps.size())
      throw ValueError("the hypotheses (stdin) have " + std::to_string(in.hyps.size()) + " lines but the reference " +
                       ref_paths[k] + " has " + std::to_string(in.refs[k].size()) +
                       ": system and reference streams must have the same number of lines");
  return in;
}

std::string metric_version() { return std::string("qkv-") + kVersion; }

}  // namespace qkv::cli
