// qkv/data/collate.h — collators: a list of Examples → one padded Batch.
//
// A task picks a collator; the trainer only sees Batches. Each collator reads
// the Example fields it needs (qkv/data/batch.h) and follows its mask and
// label conventions. collate() receives a Generator so collators that draw
// randomness (BERT's masked LM: choose 15 % of positions, replace 80/10/10)
// plug into the same interface and stay reproducible; the ones here ignore it.
//
//   qkv::data::Seq2SeqCollatorOptions opt;
//   opt.pad_id = 1, opt.bos_id = 2, opt.eos_id = 3;
//   qkv::data::Seq2SeqCollator c(opt);
//   Batch b = c.collate({{{"input_ids", {7, 8, 9}}, {"target_ids", {4, 5}}}}, gen);
//   // b.input_ids [[7,8,9]]   b.get("decoder_input_ids") [[2,4,5]]   b.labels [[4,5,3]]
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/data/batch.h"

namespace qkv::data {

class Collator {
 public:
  virtual ~Collator() = default;
  // ValueError naming the example index and field for missing or unusable fields.
  virtual Batch collate(const std::vector<Example>& examples, Generator& gen) = 0;
};

// Next-token prediction on whole sequences (a document, a dialogue turn):
// each example's field `field` (default "input_ids") of L ≥ 2 tokens gives
// input_ids = ids[0, L−1) and labels = ids[1, L) (already shifted, batch.h),
// right-padded with pad_id / kIgnoreIndex. max_len truncates the inputs (and
// so the labels) to max_len positions.
struct CausalLMCollatorOptions {
  int64_t pad_id = 0;
  std::optional<int64_t> max_len;
  std::string field = "input_ids";
};
class CausalLMCollator : public Collator {
 public:
  explicit CausalLMCollator(CausalLMCollatorOptions opt = {});
  // input_ids (B,T), attention_mask (B,T), labels (B,T).
  Batch collate(const std::vector<Example>& examples, Generator& gen) override;

 private:
  CausalLMCollatorOptions opt_;
};

// Translation and other encoder–decoder tasks (Vaswani et al. 2017). Per
// example, "input_ids" is the source and "target_ids" the target without
// BOS/EOS:
//   input_ids (B,S), attention_mask (B,S)     ← source, right-padded with pad_id
//   extra["decoder_input_ids"] (B,T)          ← BOS + target, padded with pad_id
//   extra["decoder_attention_mask"] (B,T)     ← true on BOS + target
//   labels (B,T)                              ← target + EOS, padded with kIgnoreIndex
// so the decoder reads BOS y1 … yn and is trained to emit y1 … yn EOS (teacher
// forcing). max_source_len keeps the first tokens of the source; max_target_len
// bounds T (the target keeps its first max_target_len − 1 tokens).
struct Seq2SeqCollatorOptions {
  int64_t pad_id = 0;
  int64_t bos_id = 1;
  int64_t eos_id = 2;
  std::optional<int64_t> max_source_len;
  std::optional<int64_t> max_target_len;  // ≥ 2 when set
};
class Seq2SeqCollator : public Collator {
 public:
  explicit Seq2SeqCollator(Seq2SeqCollatorOptions opt);
  Batch collate(const std::vector<Example>& examples, Generator& gen) override;

 private:
  Seq2SeqCollatorOptions opt_;
};

}  // namespace qkv::data
