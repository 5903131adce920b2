// BertPretrainingSampler (qkv/data/pretraining_sampler.h).
#include "qkv/data/pretraining_sampler.h"

#include <string>
#include <utility>

#include "qkv/core/error.h"

namespace qkv::data {
namespace {

uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A seed for one stream: which kind (set, order, mask) and its indices.
enum Stream : uint64_t { kSet = 1, kOrder = 2, kMask = 3 };
uint64_t stream_seed(uint64_t seed, Stream kind, int64_t a, int64_t b = 0) {
  uint64_t h = splitmix64(seed ^ (kind * 0x100000001b3ULL));
  h = splitmix64(h ^ static_cast<uint64_t>(a));
  return splitmix64(h ^ static_cast<uint64_t>(b));
}

// Every id must be a row of the model's embedding (and a valid label).
void check_ids(const PretrainingCorpus& c, int64_t vocab_size) {
  for (int64_t d = 0; d < c.num_documents(); ++d)
    for (int64_t s = c.doc_begin(d); s < c.doc_end(d); ++s)
      for (int64_t id : c.sentence(s))
        if (id < 0 || id >= vocab_size)
          throw ValueError("BertPretrainingSampler: token id " + std::to_string(id) + " in the document at " +
                           c.origin(d) + " is outside the vocabulary [0, " + std::to_string(vocab_size) +
                           ") (was the corpus tokenized with another vocabulary?)");
}

}  // namespace

BertPretrainingSampler::BertPretrainingSampler(PretrainingCorpus corpus, MlmVocab vocab, PretrainingOptions opt)
    : corpus_(std::move(corpus)), vocab_(std::move(vocab)), opt_(opt) {
  opt_.instances.validate();
  opt_.masking.validate();
  vocab_.validate();
  if (opt_.dupe_factor < 1)
    throw ValueError("BertPretrainingSampler: dupe_factor must be at least 1, got " + std::to_string(opt_.dupe_factor));
  check_ids(corpus_, vocab_.vocab_size);
  set0_ = get_set(0);  // builds the first set now, so corpus problems surface here
}

std::shared_ptr<const BertPretrainingSampler::Set> BertPretrainingSampler::get_set(int64_t set) {
  if (set == 0 && set0_) return set0_;
  if (set == set_id_ && set_) return set_;
  Generator gen(stream_seed(opt_.seed, kSet, set));
  return std::make_shared<const Set>(create_instances(corpus_, vocab_.cls_id, vocab_.sep_id, opt_.instances, gen));
}

void BertPretrainingSampler::load_epoch(int64_t epoch) {
  if (epoch == epoch_) return;
  if (epoch < 0) throw ValueError("BertPretrainingSampler: epoch must be >= 0, got " + std::to_string(epoch));
  const int64_t set = epoch % opt_.dupe_factor;
  set_ = get_set(set);
  set_id_ = set;
  order_.resize(set_->size());
  for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<int64_t>(i);
  // Fisher–Yates from the back, one u64 per swap (as data/sampler.cpp).
  Generator gen(stream_seed(opt_.seed, kOrder, epoch));
  for (size_t i = order_.size(); i-- > 1;) std::swap(order_[i], order_[gen.next_u64() % (i + 1)]);
  epoch_ = epoch;
}

MlmRow BertPretrainingSampler::row(const Set& set, int64_t set_id, int64_t index, Generator& gen) const {
  const PretrainingInstance& in = set[static_cast<size_t>(index)];
  MaskedTokens m;
  if (opt_.dynamic_masking) {
    m = mask_tokens(in.input_ids, vocab_, opt_.masking, gen);
  } else {
    Generator fixed(stream_seed(opt_.seed, kMask, set_id, index));
    m = mask_tokens(in.input_ids, vocab_, opt_.masking, fixed);
  }
  return MlmRow{std::move(m.input_ids), std::move(m.labels), in.token_type_ids(),
                opt_.instances.next_sentence ? in.next_sentence_label : -1};
}

Batch BertPretrainingSampler::next(int64_t batch_size, DataCursor& cursor, Generator& gen) {
  if (batch_size < 1)
    throw ValueError("BertPretrainingSampler: batch_size must be at least 1, got " + std::to_string(batch_size));
  load_epoch(cursor.epoch);
  if (cursor.position >= static_cast<int64_t>(order_.size())) {  // the epoch is used up: the next one
    cursor.epoch += 1;
    cursor.position = 0;
    load_epoch(cursor.epoch);
  }
  const int64_t end = std::min(cursor.position + batch_size, static_cast<int64_t>(order_.size()));
  std::vector<MlmRow> rows;
  rows.reserve(static_cast<size_t>(end - cursor.position));
  for (int64_t p = cursor.position; p < end; ++p) rows.push_back(row(*set_, set_id_, order_[static_cast<size_t>(p)], gen));
  cursor.position = end;
  return collate_mlm_rows(rows, vocab_.pad_id);
}

Batch BertPretrainingSampler::sample(int64_t batch_size, Generator& gen) {
  if (batch_size < 1)
    throw ValueError("BertPretrainingSampler: batch_size must be at least 1, got " + std::to_string(batch_size));
  std::vector<MlmRow> rows;
  for (int64_t r = 0; r < batch_size; ++r) {
    const int64_t j = static_cast<int64_t>(gen.next_u64() % set0_->size());
    rows.push_back(row(*set0_, 0, j, gen));
  }
  return collate_mlm_rows(rows, vocab_.pad_id);
}

int64_t BertPretrainingSampler::epoch_size(int64_t epoch) {
  load_epoch(epoch);
  return static_cast<int64_t>(order_.size());
}

const std::vector<int64_t>& BertPretrainingSampler::epoch_order(int64_t epoch) {
  load_epoch(epoch);
  return order_;
}

const std::vector<PretrainingInstance>& BertPretrainingSampler::instance_set(int64_t epoch) {
  load_epoch(epoch);
  return *set_;
}

}  // namespace qkv::data
