// qkv/data/classification.h — sentence (or sentence-pair) classification data
// from a TSV file, GLUE style (SST-2: "sentence<TAB>label"; MRPC/RTE: two text
// columns), and its encoding for a BERT-style classifier.
//
//   auto train = read_classification_tsv("sst2/train.tsv");            // labels inferred: {"0", "1"}
//   auto dev = read_classification_tsv("sst2/dev.tsv", {.labels = train.labels.names});
//   auto ex = encode_classification(bert, dev, 128);
//   // ex[i].at("input_ids") = [CLS] tokens [SEP], "token_type_ids", "labels" = {label id}
//
// The file rules are read_tsv's (readers.h: a header line naming the columns,
// fields split on '\t' only, empty lines skipped). A row with too few fields
// (no tab) or a label outside the label set raises IOError
// "<path>:<line>: …" quoting the value.
#pragma once
#include <string>
#include <vector>

#include "qkv/data/batch.h"
#include "qkv/data/labels.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::data {

struct ClassificationSpec {
  // One column (a sentence) or two (a pair, e.g. {"question", "sentence"}).
  std::vector<std::string> text_columns = {"sentence"};
  std::string label_column = "label";
  // The label set in id order. Empty: inferred from this file (LabelSet::infer,
  // sorted), which is right for a training file; pass the training file's
  // labels when reading its dev file so the ids agree.
  std::vector<std::string> labels;
};

struct ClassificationData {
  std::vector<std::string> text_a;
  std::vector<std::string> text_b;  // empty unless the spec named two text columns
  std::vector<int64_t> label_ids;   // label_ids[i] indexes labels.names
  LabelSet labels;
  std::vector<int64_t> lines;  // lines[i]: the file line of example i

  size_t size() const { return text_a.size(); }
  bool is_pair() const { return !text_b.empty(); }
};

ClassificationData read_classification_tsv(const std::string& path, const ClassificationSpec& spec = {});

// One Example per row: "input_ids" and "token_type_ids" from the tokenizer's
// template with special tokens ([CLS] a [SEP] or [CLS] a [SEP] b [SEP]),
// "labels" = {label id}. Sequences longer than max_length (special tokens
// included) are truncated: a single text keeps its first tokens, a pair is cut
// "longest_first" (Hugging Face's rule, see TruncationOptions in
// tokenizers/tokenizer.h: the longer text loses tokens first; when both must
// be cut each keeps about half). No padding: the collator pads.
std::vector<Example> encode_classification(const tokenizers::Tokenizer& tok, const ClassificationData& data,
                                           size_t max_length = 512);

}  // namespace qkv::data
