// qkv/data/mlm.h — BERT's masked-language-model corruption (Devlin et al.
// 2019, §3.1 "Task #1: Masked LM") and the collator that applies it.
//
// Of the positions that are not special tokens ([CLS], [SEP], [PAD], [UNK],
// [MASK]: every special added token of the tokenizer, as Hugging Face's
// get_special_tokens_mask), each is chosen with probability mlm_probability
// (one Bernoulli draw per position, as HF's DataCollatorForLanguageModeling;
// BERT's create_pretraining_data.py picks a fixed round(n·p) instead). A
// chosen position gets label = its original id and its input becomes
//   [MASK]                                   with probability mask_replace_prob   (0.8)
//   a uniform random id in [0, vocab_size)   with probability random_replace_prob (0.1)
//   itself                                   otherwise                            (0.1)
// Every other position (special tokens, padding) has label kIgnoreIndex.
//
// Whole-word masking (BERT's README, "Whole Word Masking"; HF's
// DataCollatorForWholeWordMask): a word is a non-special token and the "##"
// continuation pieces right after it. Words are chosen, each with probability
// mlm_probability (so a token is still chosen with that probability), and all
// pieces of a chosen word share one replacement decision: all [MASK], all
// random (a fresh random id per piece), or all kept — as the README's example
// "[MASK] [MASK] [MASK] ' s head". (BERT's and HF's code draw the 80/10/10
// per piece; qkv keeps a word's fate whole.)
//
// Draw order, so a Generator reproduces a mask exactly: per position (or
// word) in order, one uniform() for "chosen"; if chosen, one uniform() for
// the replacement kind, then one next_u64() per random id.
//
//   MlmVocab v = MlmVocab::from_tokenizer(bert);
//   MaskedTokens m = mask_tokens(ids, v, {}, gen);   // m.input_ids, m.labels, m.actions
#pragma once
#include <cstdint>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/data/batch.h"
#include "qkv/data/collate.h"

namespace qkv::tokenizers {
class Tokenizer;
}

namespace qkv::data {

// The ids masking and BERT's instance layout need, read from a tokenizer.
struct MlmVocab {
  int64_t vocab_size = 0;  // random replacements are drawn from [0, vocab_size)
  int64_t pad_id = 0, cls_id = 0, sep_id = 0, mask_id = 0;
  std::vector<uint8_t> special;       // special[id] != 0: never chosen
  std::vector<uint8_t> continuation;  // continuation[id] != 0: a "##" piece (whole-word masking)

  // [PAD], [CLS], [SEP] and [MASK] must be in the vocabulary (ValueError
  // naming the missing tokens); special = the tokenizer's special added
  // tokens; continuation = tokens starting with the WordPiece prefix ("##").
  static MlmVocab from_tokenizer(const tokenizers::Tokenizer& tok);
  bool is_special(int64_t id) const { return special[static_cast<size_t>(id)] != 0; }
  bool is_continuation(int64_t id) const { return continuation[static_cast<size_t>(id)] != 0; }
  // ValueError unless the four ids are in [0, vocab_size) and both flag
  // tables have vocab_size entries (for vocabularies built by hand).
  void validate() const;
};

// Option names follow HF's DataCollatorForLanguageModeling.
struct MlmOptions {
  double mlm_probability = 0.15;     // in (0, 1)
  double mask_replace_prob = 0.8;    // of the chosen: → [MASK]
  double random_replace_prob = 0.1;  // of the chosen: → a random id; the rest stay
  bool whole_word = false;
  // ValueError naming the field: mlm_probability outside (0, 1), a
  // replacement probability outside [0, 1] or the two summing above 1.
  void validate() const;
};

// What happened at a position (for tests and inspection).
enum class MaskAction : uint8_t { None, Mask, Random, Keep };

struct MaskedTokens {
  std::vector<int64_t> input_ids;  // the corrupted sequence
  std::vector<int64_t> labels;     // original id where chosen, kIgnoreIndex elsewhere
  std::vector<MaskAction> actions;
};

// Corrupts one sequence (specials included, e.g. [CLS] A [SEP] B [SEP]).
// ValueError naming the position for an id outside [0, vocab_size).
MaskedTokens mask_tokens(const std::vector<int64_t>& ids, const MlmVocab& vocab, const MlmOptions& opt,
                         Generator& gen);

// One row of a masked-LM batch before padding.
struct MlmRow {
  std::vector<int64_t> input_ids, labels;
  std::vector<int64_t> token_type_ids;  // empty = all 0
  int64_t next_sentence_label = -1;     // 0 IsNext, 1 NotNext (HF); -1 = no NSP
};

// Right-pads rows to the longest (batch.h conventions):
//   input_ids (B,T) int64 (pad_id), attention_mask (B,T) bool, labels (B,T) int64 (kIgnoreIndex),
//   extra["token_type_ids"] (B,T) int64 (0), extra["next_sentence_label"] (B) int64 when the rows have one.
// ValueError for rows whose fields differ in length, or when some rows have
// a next_sentence_label and others not.
Batch collate_mlm_rows(const std::vector<MlmRow>& rows, int64_t pad_id);

// The Collator for masked LM: masks each example's "input_ids" with the
// Generator given to collate() (a fresh mask at every call: RoBERTa's dynamic
// masking), keeps "token_type_ids" and a one-element "next_sentence_label"
// when present, and pads with collate_mlm_rows.
class MlmCollator : public Collator {
 public:
  // ValueError from MlmVocab::validate or MlmOptions::validate.
  MlmCollator(MlmVocab vocab, MlmOptions opt = {});
  Batch collate(const std::vector<Example>& examples, Generator& gen) override;
  const MlmVocab& vocab() const { return vocab_; }

 private:
  MlmVocab vocab_;
  MlmOptions opt_;
};

}  // namespace qkv::data
