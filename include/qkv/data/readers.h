// qkv/data/readers.h — text corpora from disk: plain lines, TSV, JSONL and
// line-aligned parallel files (translation).
//
// All readers share one line splitter: '\n' ends a line, a '\r' before it is
// dropped (CRLF files), a last line without '\n' still counts, a UTF-8 BOM at
// the start of the file is skipped, and every line must be valid UTF-8.
// Problems raise IOError "<path>:<line>: <what>" (line numbers from 1), or
// "cannot open <path>: <reason>"; no input makes a reader crash.
//
//   auto t = qkv::data::read_tsv("sst2/dev.tsv", {.columns = {"sentence", "label"}});
//   for (size_t i = 0; i < t.rows.size(); ++i) use(t.rows[i][0], t.rows[i][1]);
//   auto pc = qkv::data::read_parallel("multi30k/val.de", "multi30k/val.en");
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "qkv/core/error.h"  // IOError, ValueError

namespace qkv::data {

// Every line of the file (empty lines included, so line i+1 is element i).
std::vector<std::string> read_lines(const std::string& path);
// The same rules on text already read (stdin): errors name `name` ("stdin:2: …").
std::vector<std::string> split_lines(std::string_view text, const std::string& name);

// How to find a TSV's columns. With header = true the first line names the
// columns and `columns`, if given, selects (and orders) some of them by name;
// with header = false `columns` names every column of the file. Fields are
// split on '\t' only (no quoting, as GLUE's files); each row must have as many
// fields as the file has columns. Empty lines are skipped.
struct TsvSpec {
  bool header = true;
  std::vector<std::string> columns;
};

// Rows of strings with the file line each came from (for later errors, such
// as a label that is not a number).
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // rows[i][c] is column c
  std::vector<int64_t> lines;                  // lines[i]: rows[i]'s line number
  // Index of column `name`, or ValueError listing the columns.
  size_t column_index(const std::string& name) const;
  // All values of one column.
  std::vector<std::string> column(const std::string& name) const;
};

Table read_tsv(const std::string& path, const TsvSpec& spec = {});

// JSON Lines: one JSON object per line; empty lines are skipped. With
// `fields`, every object must have them all and rows keep only those; without,
// rows are the whole objects.
struct JsonRecords {
  std::vector<nlohmann::json> rows;
  std::vector<int64_t> lines;  // lines[i]: rows[i]'s line number
};
JsonRecords read_jsonl(const std::string& path, const std::vector<std::string>& fields = {});

// A line-aligned parallel corpus (line i of one file translates line i of the
// other). IOError naming both files and both line counts when they differ.
struct ParallelCorpus {
  std::vector<std::string> source, target;
  size_t size() const { return source.size(); }
};
ParallelCorpus read_parallel(const std::string& source_path, const std::string& target_path);

}  // namespace qkv::data
