// qkv/data/batch.h — what the data layer hands a model: a Batch of padded
// id tensors, and the Example a collator builds it from.
//
// The mask convention (the one place it is written down; docs/ARCHITECTURE.md
// "Masks" points here):
// - every mask is a bool tensor and true means KEEP: a real token in an
//   attention_mask, a key that may be attended in an attention mask (the same
//   sense as AttentionOptions::mask in qkv/ops/ops.h), so a padding mask can be
//   passed to attention after an unsqueeze, with no inversion anywhere;
// - labels use kIgnoreIndex (-100, PyTorch's cross_entropy default and
//   CrossEntropyOptions::ignore_index) wherever no loss is taken: padding,
//   tokens that are only context;
// - labels are aligned with the model's positions: the loss at (b, t) compares
//   the logits at (b, t) with labels[b, t]. For a causal LM that means labels
//   are already shifted by one (nanoGPT's y = x shifted), not shifted again
//   inside the model as Hugging Face does.
//
// Shape letters (docs/GLOSSARY.md): B batch, T (target/decoder) sequence
// length, S source length.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "qkv/core/tensor.h"

namespace qkv::data {

// Label value that cross_entropy skips.
inline constexpr int64_t kIgnoreIndex = -100;

// One padded batch. A collator fills what its task needs; tensors it does not
// produce stay undefined (e.g. labels when encoding text for inference).
struct Batch {
  Tensor input_ids;       // (B,T) int64; for seq2seq the source, (B,S)
  Tensor attention_mask;  // (B,T) bool, true = real token (false = padding)
  Tensor labels;          // (B,T) int64, kIgnoreIndex where no loss is taken
  // Further named tensors, e.g. "token_type_ids" (B,T) int64,
  // "decoder_input_ids" (B,T) int64, "decoder_attention_mask" (B,T) bool,
  // "next_sentence_label" (B) int64 (BERT's NSP: 0 IsNext, 1 NotNext; mlm.h).
  std::map<std::string, Tensor> extra;

  int64_t batch_size() const { return input_ids.defined() ? input_ids.size(0) : 0; }
  // extra[name], or ValueError naming the field and the ones present.
  const Tensor& get(const std::string& name) const;
};

// One example before collation: named id sequences. Field names follow
// Hugging Face: "input_ids" (the text, or the source sentence),
// "token_type_ids" (segments A/B), "target_ids" (a seq2seq target, without
// BOS/EOS: the collator adds them), "labels" (per-token or one class id).
// A masked-LM collator needs only "input_ids" (+ "token_type_ids") and the
// Generator passed to Collator::collate.
struct Example {
  std::map<std::string, std::vector<int64_t>> fields;

  Example() = default;
  Example(std::initializer_list<std::pair<const std::string, std::vector<int64_t>>> f) : fields(f) {}
  bool has(const std::string& name) const { return fields.count(name) != 0; }
  // fields[name], or ValueError naming the field and the ones present.
  const std::vector<int64_t>& at(const std::string& name) const;
};

}  // namespace qkv::data
