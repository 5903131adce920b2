// Hypotheses from stdin and references from files for the metric commands
// (metrics_input.h).
#include "metrics_input.h"

#include <cstdio>
#include <iostream>
#include <iterator>
#include <string_view>

#include "qkv/core/error.h"
#include "qkv/data/readers.h"
#include "qkv/tokenizers/utf8.h"
#include "qkv/version.h"

namespace qkv::cli {
namespace {

// stdin split as data::read_lines splits a file.
std::vector<std::string> read_stdin_lines() {
  std::ios::sync_with_stdio(false);
  const std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  std::vector<std::string> lines;
  size_t pos = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos), end = nl == std::string::npos ? text.size() : nl;
    std::string_view line(text.data() + pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (size_t i = 0; i < line.size();) {
      const tokenizers::Utf8Char c = tokenizers::next_char(line, i);
      if (!c.valid)
        throw IOError("stdin:" + std::to_string(lines.size() + 1) + ": invalid UTF-8 at byte " + std::to_string(i + 1) +
                      " of the line");
      i += c.len;
    }
    lines.emplace_back(line);
    pos = end + 1;
  }
  return lines;
}

}  // namespace

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
