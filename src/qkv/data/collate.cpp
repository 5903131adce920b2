// Collators (qkv/data/collate.h): Examples → padded Batches.
#include "qkv/data/collate.h"

#include <algorithm>
#include <utility>

#include "qkv/data/padding.h"

namespace qkv::data {
namespace {

// The field of example i, with the collator's name in the error.
const std::vector<int64_t>& field_of(const Example& e, size_t i, const std::string& name, const char* who) {
  if (!e.has(name))
    throw ValueError(std::string(who) + ": example " + std::to_string(i) + " has no field '" + name + "'");
  return e.at(name);
}

void check_len(std::optional<int64_t> n, int64_t min, const char* who, const char* what) {
  if (n && *n < min)
    throw ValueError(std::string(who) + ": " + what + " must be at least " + std::to_string(min) + ", got " +
                     std::to_string(*n));
}

}  // namespace

CausalLMCollator::CausalLMCollator(CausalLMCollatorOptions opt) : opt_(std::move(opt)) {
  check_len(opt_.max_len, 1, "CausalLMCollator", "max_len");
}

Batch CausalLMCollator::collate(const std::vector<Example>& examples, Generator&) {
  std::vector<std::vector<int64_t>> inputs, targets;
  for (size_t i = 0; i < examples.size(); ++i) {
    const auto& ids = field_of(examples[i], i, opt_.field, "CausalLMCollator");
    if (ids.size() < 2)
      throw ValueError("CausalLMCollator: example " + std::to_string(i) + " has " + std::to_string(ids.size()) +
                       " token(s) in '" + opt_.field + "'; next-token prediction needs at least 2");
    inputs.emplace_back(ids.begin(), ids.end() - 1);
    targets.emplace_back(ids.begin() + 1, ids.end());
  }
  Padded p = pad_sequences(inputs, opt_.pad_id, PadSide::Right, opt_.max_len);
  Batch b;
  b.input_ids = p.ids;
  b.attention_mask = p.mask;
  b.labels = pad_values(targets, kIgnoreIndex, PadSide::Right, opt_.max_len);
  return b;
}

Seq2SeqCollator::Seq2SeqCollator(Seq2SeqCollatorOptions opt) : opt_(opt) {
  check_len(opt_.max_source_len, 1, "Seq2SeqCollator", "max_source_len");
  check_len(opt_.max_target_len, 2, "Seq2SeqCollator", "max_target_len");  // BOS/EOS + one token
}

Batch Seq2SeqCollator::collate(const std::vector<Example>& examples, Generator&) {
  std::vector<std::vector<int64_t>> sources, dec_inputs, labels;
  for (size_t i = 0; i < examples.size(); ++i) {
    sources.push_back(field_of(examples[i], i, "input_ids", "Seq2SeqCollator"));
    const auto& tgt = field_of(examples[i], i, "target_ids", "Seq2SeqCollator");
    // Cut the target first so BOS and EOS survive truncation.
    size_t n = tgt.size();
    if (opt_.max_target_len) n = std::min(n, static_cast<size_t>(*opt_.max_target_len - 1));
    std::vector<int64_t> d{opt_.bos_id}, l(tgt.begin(), tgt.begin() + n);
    d.insert(d.end(), tgt.begin(), tgt.begin() + n);
    l.push_back(opt_.eos_id);
    dec_inputs.push_back(std::move(d));
    labels.push_back(std::move(l));
  }
  Padded src = pad_sequences(sources, opt_.pad_id, PadSide::Right, opt_.max_source_len);
  Padded dec = pad_sequences(dec_inputs, opt_.pad_id, PadSide::Right);
  Batch b;
  b.input_ids = src.ids;
  b.attention_mask = src.mask;
  b.extra["decoder_input_ids"] = dec.ids;
  b.extra["decoder_attention_mask"] = dec.mask;
  b.labels = pad_values(labels, kIgnoreIndex, PadSide::Right);
  return b;
}

}  // namespace qkv::data
