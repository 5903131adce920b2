// LMBlockSampler and bucket_batches (qkv/data/sampler.h).
#include "qkv/data/sampler.h"

#include <algorithm>
#include <string>
#include <utility>

namespace qkv::data {
namespace {

// Fisher–Yates with one u64 per swap, from the back (the same draw order
// everywhere in qkv, so shuffles are reproducible from the seed).
template <class T>
void shuffle(std::vector<T>& v, Generator& gen) {
  for (size_t i = v.size(); i-- > 1;) std::swap(v[i], v[gen.next_u64() % (i + 1)]);
}

void check_bucket_args(const std::vector<int64_t>& lengths, const BatchLimit& limit, int64_t bucket_size) {
  if (limit.max_examples < 0 || limit.max_tokens < 0 || (limit.max_examples == 0 && limit.max_tokens == 0))
    throw ValueError("bucket_batches: set max_examples and/or max_tokens to a positive value (got " +
                     std::to_string(limit.max_examples) + " and " + std::to_string(limit.max_tokens) + ")");
  if (bucket_size < 1)
    throw ValueError("bucket_batches: bucket_size must be at least 1, got " + std::to_string(bucket_size));
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] < 0)
      throw ValueError("bucket_batches: example " + std::to_string(i) + " has negative length " +
                       std::to_string(lengths[i]));
    if (limit.max_tokens > 0 && lengths[i] > limit.max_tokens)
      throw ValueError("bucket_batches: example " + std::to_string(i) + " has length " + std::to_string(lengths[i]) +
                       " > max_tokens " + std::to_string(limit.max_tokens) + "; filter or truncate it first");
  }
}

// Greedy batches over `pool` (already sorted by length), appended to `out`.
void fill_batches(const std::vector<int64_t>& pool, const std::vector<int64_t>& lengths, const BatchLimit& limit,
                  std::vector<std::vector<int64_t>>& out) {
  std::vector<int64_t> cur;
  int64_t longest = 0;
  for (int64_t i : pool) {
    const int64_t rows = static_cast<int64_t>(cur.size()) + 1, lg = std::max(longest, lengths[i]);
    const bool too_many = limit.max_examples > 0 && rows > limit.max_examples;
    const bool too_big = limit.max_tokens > 0 && rows * lg > limit.max_tokens;
    if (!cur.empty() && (too_many || too_big)) {
      out.push_back(std::move(cur));
      cur.clear();
      longest = 0;
    }
    cur.push_back(i);
    longest = std::max(longest, lengths[i]);
  }
  if (!cur.empty()) out.push_back(std::move(cur));
}

}  // namespace

LMBlockSampler::LMBlockSampler(std::vector<int64_t> tokens, int64_t block_size)
    : tokens_(std::move(tokens)), block_size_(block_size) {
  if (block_size_ < 1)
    throw ValueError("LMBlockSampler: block_size must be at least 1, got " + std::to_string(block_size_));
  // A block needs T inputs and the T labels one further: N ≥ T + 1.
  if (static_cast<int64_t>(tokens_.size()) < block_size_ + 1)
    throw ValueError("LMBlockSampler: a stream of " + std::to_string(tokens_.size()) +
                     " tokens is too short for blocks of " + std::to_string(block_size_) + " (needs at least " +
                     std::to_string(block_size_ + 1) + ")");
}

Batch LMBlockSampler::sample(int64_t batch_size, Generator& gen) const {
  if (batch_size < 1)
    throw ValueError("LMBlockSampler: batch_size must be at least 1, got " + std::to_string(batch_size));
  const int64_t B = batch_size, T = block_size_;
  const uint64_t span = tokens_.size() - static_cast<uint64_t>(T);  // offsets 0 … N − T − 1
  Batch b;
  b.input_ids = Tensor::empty({B, T}, DType::Int64);
  b.labels = Tensor::empty({B, T}, DType::Int64);
  b.attention_mask = ones({B, T}, DType::Bool);
  int64_t* xp = b.input_ids.data<int64_t>();
  int64_t* yp = b.labels.data<int64_t>();
  for (int64_t r = 0; r < B; ++r) {
    const int64_t o = static_cast<int64_t>(gen.next_u64() % span);
    std::copy(tokens_.begin() + o, tokens_.begin() + o + T, xp + r * T);
    std::copy(tokens_.begin() + o + 1, tokens_.begin() + o + T + 1, yp + r * T);
  }
  return b;
}

std::vector<std::vector<int64_t>> bucket_batches(const std::vector<int64_t>& lengths, const BatchLimit& limit,
                                                 Generator& gen, int64_t bucket_size) {
  check_bucket_args(lengths, limit, bucket_size);
  std::vector<int64_t> order(lengths.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  shuffle(order, gen);
  std::vector<std::vector<int64_t>> batches;
  const size_t pool = static_cast<size_t>(bucket_size);
  for (size_t start = 0; start < order.size(); start += pool) {
    std::vector<int64_t> p(order.begin() + start, order.begin() + std::min(order.size(), start + pool));
    std::stable_sort(p.begin(), p.end(), [&](int64_t a, int64_t b) { return lengths[a] < lengths[b]; });
    fill_batches(p, lengths, limit, batches);
  }
  // Batches of one pool have similar lengths; mixing their order keeps
  // consecutive steps from seeing only short or only long sentences.
  shuffle(batches, gen);
  return batches;
}

}  // namespace qkv::data
