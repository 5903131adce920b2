// qkv/data/pretraining_instances.h — BERT's training sequences from a
// corpus: [CLS] A [SEP] B [SEP] with a next-sentence label, as
// create_instances_from_document in google-research/bert's
// create_pretraining_data.py (Devlin et al. 2019, §3.1 "Task #2: NSP"), or
// RoBERTa's FULL-SENTENCES packing without NSP (Liu et al. 2019, §4.2).
//
// With NSP, per document (in corpus order):
//  1. max_num_tokens = max_seq_length − 3; the target length is max_num_tokens,
//     or with probability short_seq_prob a uniform integer in [2, max_num_tokens]
//     (one target per document, as the reference);
//  2. sentences are gathered into a chunk until the chunk holds ≥ target tokens
//     or the document ends; A = the chunk's first a_end sentences, a_end uniform
//     in [1, n−1] (1 when the chunk has n = 1 sentence);
//  3. B is the rest of the chunk (IsNext, label 0) with probability 1/2, or
//     always when n = 1 (the reference forces NotNext there): sentences from a
//     uniformly chosen *other* document (NotNext, label 1), from a uniform start
//     sentence onwards until B holds ≥ target − |A| tokens; the chunk's unused
//     sentences are put back and start the next chunk. (The reference tries 10
//     random documents and may keep its own; qkv draws among the others.)
//  4. truncate_seq_pair cuts the pair to max_num_tokens, longest first.
// Without NSP (FULL-SENTENCES): sentences in corpus order are packed into
// [CLS] … [SEP] of at most max_seq_length, crossing documents with a [SEP]
// between them; a sentence longer than max_seq_length − 2 is cut into pieces.
// No randomness is drawn and short_seq_prob is not used (RoBERTa has none).
//
// Draws, in order: per document one uniform_double() (short target) and, if
// short, one next_u64(); per chunk of n ≥ 2 one next_u64() (a_end), then one
// uniform_double() (IsNext?); for NotNext two next_u64() (document, start);
// per removed token one uniform_double() (front or back). randint(lo, hi) is
// lo + next_u64() % (hi − lo + 1).
#pragma once
#include <cstdint>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/data/pretraining_corpus.h"

namespace qkv::data {

struct InstanceOptions {
  int64_t max_seq_length = 128;  // ≥ 5 with NSP ([CLS] A [SEP] B [SEP], A and B non-empty), ≥ 3 without
  double short_seq_prob = 0.1;   // in [0, 1]
  bool next_sentence = true;     // false: RoBERTa FULL-SENTENCES, no NSP label
  // ValueError naming the field.
  void validate() const;
};

struct PretrainingInstance {
  std::vector<int64_t> input_ids;    // [CLS] A [SEP] B [SEP], or [CLS] A [SEP] without NSP
  int64_t b_start = 0;               // first position of B (token_type_ids 1 from here); = size() without B
  int64_t next_sentence_label = -1;  // 0 IsNext, 1 NotNext (HF's convention); -1 without NSP
  // Provenance, for tests and inspection: the sentences [a_first, a_end) and
  // [b_first, b_end) (corpus numbering, before truncation) the segments came
  // from, the sentences in the chunk, and the document's target length.
  int64_t a_first = 0, a_end = 0, b_first = 0, b_end = 0;
  int64_t chunk_sentences = 0, target_length = 0;

  std::vector<int64_t> token_type_ids() const;
};

// All instances of one pass over the corpus, in corpus order. ValueError from
// InstanceOptions::validate, for an empty corpus, or for NSP on a corpus of
// fewer than 2 documents (NotNext needs another document) or with no document
// of 2 sentences (every pair would be a forced NotNext: DocumentRule::Line).
std::vector<PretrainingInstance> create_instances(const PretrainingCorpus& corpus, int64_t cls_id, int64_t sep_id,
                                                  const InstanceOptions& opt, Generator& gen);

// Reference truncate_seq_pair: while |a| + |b| > max_num_tokens, remove one
// token from the longer (b on a tie), from its front or back with probability
// 1/2 each. ValueError for max_num_tokens < 0.
void truncate_seq_pair(std::vector<int64_t>& a, std::vector<int64_t>& b, int64_t max_num_tokens, Generator& gen);

}  // namespace qkv::data
