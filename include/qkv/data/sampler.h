// qkv/data/sampler.h — which examples go into which batch.
//
// LMBlockSampler is GPT's (nanoGPT's) training sampler: random contiguous
// blocks of a token stream. bucket_batches groups variable-length examples of
// similar length (translation, classification) so little of a batch is padding.
// Both draw only from the Generator they are given: the same seed and call
// sequence give the same batches on any machine and thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/data/batch.h"

namespace qkv::data {

// Random (block_size)-token windows of a stream: for each of B rows,
//   o = gen.next_u64() % (N − T),  input_ids = tokens[o, o+T), labels = tokens[o+1, o+T+1)
// (N tokens, T = block_size: every offset whose label window fits, as
// nanoGPT's torch.randint(len(data) − block_size)). attention_mask is all true
// (no padding). One u64 is drawn per row, in row order, and reduced modulo
// N − T (its tiny bias kept on purpose): batches are bit-identical to those of
// the trainer's former Trainer::get_batch, so resumed runs and recorded losses
// stay valid.
class LMBlockSampler {
 public:
  // ValueError when block_size < 1 or the stream has fewer than block_size + 1
  // tokens (the message gives both numbers).
  LMBlockSampler(std::vector<int64_t> tokens, int64_t block_size);

  // input_ids (B,T) int64, labels (B,T) int64, attention_mask (B,T) bool.
  Batch sample(int64_t batch_size, Generator& gen) const;

  int64_t block_size() const { return block_size_; }
  const std::vector<int64_t>& tokens() const { return tokens_; }

 private:
  std::vector<int64_t> tokens_;
  int64_t block_size_;
};

// How big a batch may be; at least one limit must be set (> 0).
struct BatchLimit {
  int64_t max_examples = 0;  // rows per batch (0 = unlimited)
  int64_t max_tokens = 0;    // rows × longest length per batch, i.e. the padded size (0 = unlimited)
};

// Length-bucketed batches (fairseq / torchtext BucketIterator):
//  1. shuffle all indices with `gen`;
//  2. cut the shuffled list into pools of `bucket_size` and sort each pool by
//     length (stable: equal lengths keep their shuffled order);
//  3. fill batches greedily within each pool up to `limit`;
//  4. shuffle the order of all batches with `gen`.
// Returns lists of indices into `lengths`; every index appears exactly once.
// Large pools pad less, small pools keep more randomness (a few hundred
// examples per pool is typical). ValueError for a negative length,
// bucket_size < 1, no limit, or an example longer than max_tokens (it names
// the index and the length).
std::vector<std::vector<int64_t>> bucket_batches(const std::vector<int64_t>& lengths, const BatchLimit& limit,
                                                 Generator& gen, int64_t bucket_size);

}  // namespace qkv::data
