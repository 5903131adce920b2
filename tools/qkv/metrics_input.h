// Input shared by `qkv bleu`, `qkv chrf` and `qkv rouge`: hypotheses on stdin,
// one reference file per --ref, all line-aligned.
//
// Lines follow data/readers.h's rules (CRLF read as LF, a final line without
// '\n' counts, a UTF-8 BOM is skipped, empty lines are kept and scored);
// invalid UTF-8 is an IOError naming the file (or "stdin") and line; empty
// stdin and line counts that differ are errors naming both counts and files,
// as sacreBLEU refuses streams of different lengths.
#pragma once
#include <string>
#include <vector>

namespace qkv::cli {

struct MetricInput {
  std::vector<std::string> hyps;
  std::vector<std::vector<std::string>> refs;  // refs[k][i]: line i of the k-th --ref file
};

MetricInput read_metric_input(const std::vector<std::string>& ref_paths);

// "qkv-0.1.0": the version field of qkv's metric signatures (qkv's own, not sacreBLEU's).
std::string metric_version();

}  // namespace qkv::cli
