// Sentence classification data (qkv/data/classification.h).
#include "qkv/data/classification.h"

#include "qkv/core/error.h"
#include "qkv/data/readers.h"

namespace qkv::data {

ClassificationData read_classification_tsv(const std::string& path, const ClassificationSpec& spec) {
  if (spec.text_columns.empty() || spec.text_columns.size() > 2)
    throw ValueError("read_classification_tsv: " + path + ": give one or two text columns, got " +
                     std::to_string(spec.text_columns.size()));
  std::vector<std::string> cols = spec.text_columns;
  cols.push_back(spec.label_column);
  Table t = read_tsv(path, {.columns = cols});
  const size_t label_col = cols.size() - 1;
  ClassificationData d;
  d.labels = spec.labels.empty() ? LabelSet::infer(t.column(spec.label_column)) : LabelSet(spec.labels);
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const std::string& label = t.rows[i][label_col];
    std::optional<int64_t> id = d.labels.find(label);
    if (!id)
      throw IOError(path + ":" + std::to_string(t.lines[i]) + ": label '" + label + "' in column '" +
                    spec.label_column + "' is not in the label set (" + d.labels.listed() + ")");
    d.text_a.push_back(std::move(t.rows[i][0]));
    if (spec.text_columns.size() == 2) d.text_b.push_back(std::move(t.rows[i][1]));
    d.label_ids.push_back(*id);
  }
  d.lines = std::move(t.lines);
  return d;
}

std::vector<Example> encode_classification(const tokenizers::Tokenizer& tok, const ClassificationData& data,
                                           size_t max_length) {
  using tokenizers::TruncationOptions;
  const size_t added = tok.post_processor ? tok.post_processor->added_tokens(data.is_pair()) : 0;
  if (max_length <= added)
    throw ValueError("encode_classification: max_length " + std::to_string(max_length) +
                     " leaves no room for text beside the " + std::to_string(added) + " special tokens");
  const TruncationOptions trunc{.max_length = max_length, .strategy = TruncationOptions::Strategy::LongestFirst};
  std::vector<tokenizers::Encoding> enc;
  if (data.is_pair()) {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (size_t i = 0; i < data.size(); ++i) pairs.emplace_back(data.text_a[i], data.text_b[i]);
    enc = tok.encode_batch_pairs(pairs, {.add_special_tokens = true}, trunc);
  } else {
    enc = tok.encode_batch(data.text_a, {.add_special_tokens = true}, trunc);
  }
  std::vector<Example> out(enc.size());
  for (size_t i = 0; i < enc.size(); ++i) {
    out[i].fields["input_ids"] = std::move(enc[i].ids);
    out[i].fields["token_type_ids"] = std::move(enc[i].type_ids);
    out[i].fields["labels"] = {data.label_ids[i]};
  }
  return out;
}

}  // namespace qkv::data
