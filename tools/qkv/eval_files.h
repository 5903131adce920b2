// The files `qkv eval` reads, parsed into plain structs: label files for
// `eval classify`, CoNLL column files for `eval ner`, SQuAD JSON for `eval qa`.
//
// CoNLL files are read by data::read_conll (the one reader, also behind qkv
// finetune ner); the SQuAD gold reader here takes only ids and answer texts
// (the official scripts' view), where data::read_squad also checks each
// answer against its context for training.
// Every problem is an IOError / ValueError naming the file and the line
// (text files) or the JSON path of the field (JSON files).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "qkv/metrics/squad.h"

namespace qkv::cli {

// ---- labels (eval classify)

struct Labels {
  std::vector<std::string> values;
  std::vector<int64_t> lines;  // lines[i]: the file line of values[i]
};

// A TSV with a header row and a column named `column` (data::read_tsv's rules).
Labels read_label_column(const std::string& path, const std::string& column);
// A TSV as above if the first line has a tab-separated field equal to
// `column`; otherwise one label per line (trailing empty lines ignored, an
// empty line before them is an error).
Labels read_labels(const std::string& path, const std::string& column);

// ---- CoNLL (eval ner)
//
// One token per line, columns separated by spaces or tabs, the token first and
// the tag last; every token line of a file has the same number of columns
// (at least 2). A blank line (or one of whitespace) ends a sentence; a line
// whose first column is -DOCSTART- is skipped and ends a sentence too.

struct ConllToken {
  std::string token, tag;
  int64_t line = 0;
};

struct ConllFile {
  std::string path;
  std::vector<std::vector<ConllToken>> sentences;  // none empty
};

ConllFile read_conll(const std::string& path);

// The tags of each sentence of `pred`, after checking that it has the same
// sentences and tokens (first column) as `gold`: ValueError naming the line
// of both files where they part.
void check_aligned(const ConllFile& gold, const ConllFile& pred);

std::vector<std::vector<std::string>> tags_of(const ConllFile& f);

// ---- SQuAD (eval qa)

struct SquadFile {
  std::string version;  // the "version" field ("1.1", "v2.0"), "" when absent
  std::vector<metrics::SquadQuestion> questions;  // in file order
};

// Official SQuAD JSON: {"version"?, "data": [{"paragraphs": [{"qas": [{"id",
// "answers": [{"text"}, …]}, …]}, …]}, …]}. Other fields are ignored.
SquadFile read_squad(const std::string& path);

// {question id: answer text}.
metrics::SquadPredictions read_squad_predictions(const std::string& path);

// {question id: probability}, in file order (a repeated key keeps its first
// place and its last value, as Python's json.load).
std::vector<std::pair<std::string, double>> read_na_probs(const std::string& path);

}  // namespace qkv::cli
