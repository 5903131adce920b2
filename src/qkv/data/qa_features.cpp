// SQuAD windows and answer positions (qkv/data/qa.h, first half).
#include "qkv/core/error.h"
#include "qkv/data/qa.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::data {
namespace {

using tokenizers::Encoding;
using CharSpan = std::optional<std::pair<size_t, size_t>>;

Encoding slice(const Encoding& e, size_t from, size_t to) {
  Encoding out;
  out.ids.assign(e.ids.begin() + long(from), e.ids.begin() + long(to));
  out.tokens.assign(e.tokens.begin() + long(from), e.tokens.begin() + long(to));
  out.offsets.assign(e.offsets.begin() + long(from), e.offsets.begin() + long(to));
  return out;
}

// [start, end) of each window of `window` tokens over n tokens, sharing
// `stride` tokens (the Rust tokenizers' Encoding::truncate with a stride).
std::vector<std::pair<size_t, size_t>> windows(size_t n, size_t window, size_t stride) {
  if (n <= window) return {{0, n}};
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t start = 0;; start += window - stride) {
    const size_t end = std::min(start + window, n);
    out.push_back({start, end});
    if (end == n) return out;
  }
}

// run_qa's labels: the tokens holding the answer's first and last character,
// or the [CLS] index 0 when the answer is not wholly inside the window.
std::pair<int64_t, int64_t> answer_tokens(const std::vector<CharSpan>& off, const SquadExample& ex) {
  if (ex.is_impossible || ex.answers.empty()) return {0, 0};
  const SquadAnswer& a = ex.answers[0];
  const size_t start_char = size_t(a.answer_start);
  const size_t end_char = start_char + tokenizers::byte_to_char_offsets(a.text).back();
  size_t first = 0, last = off.size() - 1;
  while (first < off.size() && !off[first]) ++first;
  while (last > first && !off[last]) --last;
  if (first == off.size() || !(off[first]->first <= start_char && off[last]->second >= end_char)) return {0, 0};
  size_t s = first;
  while (s <= last && off[s]->first <= start_char) ++s;
  size_t e = last;
  while (e >= first && off[e]->second >= end_char) {
    if (e == first) return {int64_t(s - 1), int64_t(first)};
    --e;
  }
  return {int64_t(s - 1), int64_t(e + 1)};
}

std::string_view lstrip(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || (s.front() >= '\t' && s.front() <= '\r'))) s.remove_prefix(1);
  return s;
}

}  // namespace

std::vector<QaFeature> prepare_qa_features(const tokenizers::Tokenizer& tok, const std::vector<SquadExample>& examples,
                                           const QaFeatureOptions& opt) {
  const tokenizers::PostProcessor* post = tok.post_processor ? &*tok.post_processor : nullptr;
  const size_t added = post ? post->added_tokens(true) : 0;
  std::vector<QaFeature> out;
  for (size_t k = 0; k < examples.size(); ++k) {
    const SquadExample& ex = examples[k];
    const Encoding q = tok.encode(lstrip(ex.question));  // run_qa strips the question's leading spaces
    const Encoding c = tok.encode(ex.context);
    const std::vector<size_t> char_at = tokenizers::byte_to_char_offsets(ex.context);
    const size_t used = q.size() + added;
    if (used + c.size() > opt.max_length) {
      if (used >= opt.max_length)
        throw ValueError("prepare_qa_features: question " + ex.id + " has " + std::to_string(q.size()) +
                         " tokens; with " + std::to_string(added) + " special tokens no room is left for the context in max_length " +
                         std::to_string(opt.max_length));
      if (opt.doc_stride >= opt.max_length - used)
        throw ValueError("prepare_qa_features: question " + ex.id + ": doc_stride " + std::to_string(opt.doc_stride) +
                         " must be below the window of " + std::to_string(opt.max_length - used) +
                         " context tokens that max_length " + std::to_string(opt.max_length) + " leaves");
    }
    for (auto [from, to] : windows(c.size(), opt.max_length > used ? opt.max_length - used : 0, opt.doc_stride)) {
      Encoding w = slice(c, from, to);
      Encoding e = tokenizers::post_process(post, q, &w, true);
      QaFeature f;
      f.example_index = k;
      for (size_t t = 0; t < e.size(); ++t) {
        if (e.sequence_ids[t] != 1) {
          f.offsets.push_back(std::nullopt);
          continue;
        }
        f.offsets.push_back(std::pair{char_at[e.offsets[t].first], char_at[e.offsets[t].second]});
      }
      std::tie(f.start_position, f.end_position) = answer_tokens(f.offsets, ex);
      f.example.fields["input_ids"] = std::move(e.ids);
      f.example.fields["token_type_ids"] = std::move(e.type_ids);
      f.example.fields["start_positions"] = {f.start_position};
      f.example.fields["end_positions"] = {f.end_position};
      f.example.fields["labels"] = {f.start_position, f.end_position};
      out.push_back(std::move(f));
    }
  }
  return out;
}

}  // namespace qkv::data
