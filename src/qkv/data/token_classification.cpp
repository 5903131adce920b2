// Word labels ↔ sub-word tokens (qkv/data/token_classification.h).
#include "qkv/data/token_classification.h"

#include "qkv/core/error.h"

namespace qkv::data {

TokenFeatures tokenize_and_align_labels(const tokenizers::Tokenizer& tok, const std::vector<std::string>& words,
                                        const std::vector<int64_t>& word_labels, size_t max_length) {
  if (!word_labels.empty() && word_labels.size() != words.size())
    throw ValueError("tokenize_and_align_labels: " + std::to_string(words.size()) + " words but " +
                     std::to_string(word_labels.size()) + " labels");
  const tokenizers::PostProcessor* post = tok.post_processor ? &*tok.post_processor : nullptr;
  const size_t added = post ? post->added_tokens(false) : 0;
  if (max_length <= added)
    throw ValueError("tokenize_and_align_labels: max_length " + std::to_string(max_length) +
                     " leaves no room beside the " + std::to_string(added) + " special tokens");
  // the words one by one (is_split_into_words), remembering whose token is whose
  tokenizers::Encoding all;
  std::vector<int64_t> word_of;
  for (size_t w = 0; w < words.size() && all.size() < max_length - added; ++w) {
    tokenizers::Encoding e = tok.encode(words[w]);
    all.ids.insert(all.ids.end(), e.ids.begin(), e.ids.end());
    all.tokens.insert(all.tokens.end(), e.tokens.begin(), e.tokens.end());
    all.offsets.insert(all.offsets.end(), e.offsets.begin(), e.offsets.end());
    word_of.insert(word_of.end(), e.size(), int64_t(w));
  }
  tokenizers::truncate_pair(all, nullptr, {.max_length = max_length}, added);
  word_of.resize(all.size());
  tokenizers::Encoding enc = tokenizers::post_process(post, std::move(all), nullptr, true);

  TokenFeatures f;
  std::vector<int64_t> labels;
  size_t next = 0;
  for (size_t t = 0; t < enc.size(); ++t) {
    if (enc.sequence_ids[t] < 0) {
      f.word_ids.push_back(-1);
      labels.push_back(kIgnoreIndex);
      continue;
    }
    const int64_t w = word_of[next++];
    const bool first = f.word_ids.empty() || f.word_ids.back() != w;
    f.word_ids.push_back(w);
    labels.push_back(first && !word_labels.empty() ? word_labels[size_t(w)] : kIgnoreIndex);
  }
  f.example.fields["input_ids"] = std::move(enc.ids);
  f.example.fields["token_type_ids"] = std::move(enc.type_ids);
  if (!word_labels.empty()) f.example.fields["labels"] = std::move(labels);
  return f;
}

std::vector<int64_t> word_predictions(const std::vector<int64_t>& word_ids,
                                      const std::vector<int64_t>& token_predictions, size_t num_words,
                                      int64_t missing) {
  if (word_ids.size() != token_predictions.size())
    throw ValueError("word_predictions: " + std::to_string(word_ids.size()) + " word ids but " +
                     std::to_string(token_predictions.size()) + " token predictions");
  std::vector<int64_t> out(num_words, missing);
  std::vector<bool> seen(num_words, false);
  for (size_t t = 0; t < word_ids.size(); ++t) {
    const int64_t w = word_ids[t];
    if (w < 0) continue;
    if (size_t(w) >= num_words)
      throw ValueError("word_predictions: token " + std::to_string(t) + " has word id " + std::to_string(w) +
                       " but there are " + std::to_string(num_words) + " words");
    if (!seen[size_t(w)]) out[size_t(w)] = token_predictions[t];
    seen[size_t(w)] = true;
  }
  return out;
}

}  // namespace qkv::data
