// TranslationTask (see qkv/train/translation_task.h): token-budget batches
// of parallel sentences, label-smoothed teacher forcing, BLEU at evaluation.
#include "qkv/train/translation_task.h"

#include <algorithm>
#include <string>

#include "qkv/autograd/autograd.h"
#include "qkv/data/sampler.h"
#include "qkv/generate/beam.h"
#include "qkv/metrics/bleu.h"
#include "qkv/ops/ops.h"

namespace qkv::train {
namespace {

// splitmix64 of (seed, epoch): each epoch's order from its own stream.
uint64_t epoch_seed(uint64_t seed, int64_t epoch) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(epoch) + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void check_data(const TranslationData& d, const std::string& what, int64_t vocab, bool may_be_empty) {
  if (d.source.size() != d.target.size())
    throw ValueError(what + ": " + std::to_string(d.source.size()) + " sources but " +
                     std::to_string(d.target.size()) + " targets");
  if (d.size() == 0 && !may_be_empty) throw ValueError(what + ": no sentence pairs");
  for (size_t i = 0; i < d.size(); ++i)
    for (const auto* side : {&d.source[i], &d.target[i]}) {
      if (side == &d.source[i] && side->empty())
        throw ValueError(what + ": pair " + std::to_string(i + 1) + " has an empty source");
      for (int64_t id : *side)
        if (id < 0 || id >= vocab)
          throw ValueError(what + ": pair " + std::to_string(i + 1) + " has token id " + std::to_string(id) +
                           " outside the model's vocabulary of " + std::to_string(vocab));
    }
}

}  // namespace

TranslationTask::TranslationTask(models::Seq2SeqLM& model, TranslationData train, TranslationData valid,
                                 TranslationOptions opt)
    : model_(model), train_(std::move(train)), valid_(std::move(valid)), opt_(std::move(opt)), collator_(opt_.collate) {
  check_data(train_, "training data", model_.vocab_size(), false);
  check_data(valid_, "validation data", model_.vocab_size(), false);
  if (opt_.max_tokens < 0) throw ValueError("max_tokens must be >= 0, got " + std::to_string(opt_.max_tokens));
  if (opt_.bleu_beam < 1 || opt_.decode_batch < 1 || opt_.bleu_sentences < 0)
    throw ValueError("bleu_beam and decode_batch must be >= 1 and bleu_sentences >= 0");
  if (opt_.detokenize && opt_.valid_references.size() != valid_.size())
    throw ValueError("validation references: " + std::to_string(opt_.valid_references.size()) +
                     " lines for " + std::to_string(valid_.size()) + " validation pairs");
  // A pair's padded cost: its source, or its decoder input / labels (target + 1).
  auto lengths = [&](const TranslationData& d) {
    std::vector<int64_t> out(d.size());
    for (size_t i = 0; i < d.size(); ++i) {
      int64_t s = static_cast<int64_t>(d.source[i].size()), t = static_cast<int64_t>(d.target[i].size()) + 1;
      if (opt_.collate.max_source_len) s = std::min(s, *opt_.collate.max_source_len);
      if (opt_.collate.max_target_len) t = std::min(t, *opt_.collate.max_target_len);
      out[i] = std::max(s, t);
    }
    return out;
  };
  train_lengths_ = lengths(train_);
  valid_lengths_ = lengths(valid_);
  if (opt_.max_tokens > 0)
    for (const auto* l : {&train_lengths_, &valid_lengths_})
      for (size_t i = 0; i < l->size(); ++i)
        if ((*l)[i] > opt_.max_tokens)
          throw ValueError(std::string(l == &train_lengths_ ? "training" : "validation") + " pair " +
                           std::to_string(i + 1) + " is " + std::to_string((*l)[i]) +
                           " tokens long, more than max_tokens " + std::to_string(opt_.max_tokens) +
                           " (filter long pairs or raise --max-tokens)");
}

data::Batch TranslationTask::collate(const TranslationData& d, const std::vector<int64_t>& rows) {
  std::vector<data::Example> ex;
  ex.reserve(rows.size());
  for (int64_t r : rows) ex.push_back({{"input_ids", d.source[r]}, {"target_ids", d.target[r]}});
  Generator unused(0);  // the seq2seq collator draws nothing
  return collator_.collate(ex, unused);
}

std::vector<std::vector<int64_t>> TranslationTask::batches_of(const TranslationData& d, Generator& gen,
                                                              int64_t batch_size) const {
  const auto& lengths = &d == &train_ ? train_lengths_ : valid_lengths_;
  data::BatchLimit limit;
  if (opt_.max_tokens > 0) limit.max_tokens = opt_.max_tokens;
  else limit.max_examples = batch_size;
  const int64_t pool = opt_.bucket_size > 0 ? opt_.bucket_size : static_cast<int64_t>(d.size());
  return data::bucket_batches(lengths, limit, gen, pool);
}

std::vector<std::vector<int64_t>> TranslationTask::epoch_batches(int64_t epoch, int64_t batch_size) const {
  Generator gen(epoch_seed(opt_.seed, epoch));
  return batches_of(train_, gen, batch_size);
}

data::Batch TranslationTask::train_batch(int64_t batch_size, data::DataCursor& cursor, Generator& /*gen*/) {
  if (cached_epoch_ != cursor.epoch) {
    epoch_ = epoch_batches(cursor.epoch, batch_size);
    cached_epoch_ = cursor.epoch;
  }
  if (cursor.position >= static_cast<int64_t>(epoch_.size())) {  // the epoch is used up: the next one
    cursor.epoch += 1;
    cursor.position = 0;
    epoch_ = epoch_batches(cursor.epoch, batch_size);
    cached_epoch_ = cursor.epoch;
  }
  return collate(train_, epoch_[cursor.position++]);
}

data::Batch TranslationTask::eval_batch(Split split, int64_t batch_size, Generator& gen) {
  const TranslationData& d = split == Split::Train ? train_ : valid_;
  std::vector<int64_t> rows(static_cast<size_t>(std::min<int64_t>(batch_size, static_cast<int64_t>(d.size()))));
  for (auto& r : rows) r = static_cast<int64_t>(gen.next_u64() % d.size());
  return collate(d, rows);
}

Tensor TranslationTask::loss(const data::Batch& b, Generator& dropout) {
  const Tensor logits = model_.seq2seq_logits(b.input_ids, b.attention_mask, b.get("decoder_input_ids"),
                                              b.get("decoder_attention_mask"), dropout);
  CrossEntropyOptions ce;
  ce.label_smoothing = opt_.label_smoothing;
  return cross_entropy(logits, b.labels, ce);
}

int64_t TranslationTask::tokens(const data::Batch& b) const {
  int64_t n = 0;
  for (int64_t v : b.labels.to_int_vector()) n += v != data::kIgnoreIndex;
  return n;
}

std::optional<double> TranslationTask::split_loss(Split split, int64_t batch_size) {
  if (split == Split::Train) return std::nullopt;
  // Every validation pair once, in length-sorted batches (the order does not
  // change the token-weighted mean).
  Generator gen(0);
  double total = 0;
  int64_t count = 0;
  for (const auto& rows : batches_of(valid_, gen, batch_size)) {
    const data::Batch b = collate(valid_, rows);
    const int64_t n = tokens(b);
    total += loss(b, gen).item() * static_cast<double>(n);
    count += n;
  }
  return count ? total / static_cast<double>(count) : 0.0;
}

std::vector<std::vector<int64_t>> TranslationTask::translate(const std::vector<std::vector<int64_t>>& sources) {
  generate::BeamOptions bo;
  bo.beam_size = opt_.bleu_beam;
  bo.eos = opt_.collate.eos_id;
  bo.max_new_tokens = opt_.max_new_tokens > 0 ? opt_.max_new_tokens : opt_.collate.max_target_len.value_or(256);
  std::vector<std::vector<int64_t>> src = sources;
  if (opt_.collate.max_source_len)
    for (auto& s : src)
      if (static_cast<int64_t>(s.size()) > *opt_.collate.max_source_len) s.resize(*opt_.collate.max_source_len);
  const generate::SourceBatching batching{
      .pad_id = opt_.collate.pad_id, .bos_id = opt_.collate.bos_id, .batch_size = opt_.decode_batch};
  const auto hyps = generate::beam_search_sources(model_, src, bo, batching);
  std::vector<std::vector<int64_t>> out(sources.size());
  for (size_t i = 0; i < hyps.size(); ++i)
    if (!hyps[i].empty()) out[i] = hyps[i].front().tokens;
  return out;
}

nlohmann::json TranslationTask::eval_metrics() {
  if (!opt_.detokenize) return nlohmann::json::object();
  const size_t n = opt_.bleu_sentences > 0 ? std::min(valid_.size(), static_cast<size_t>(opt_.bleu_sentences))
                                           : valid_.size();
  const std::vector<std::vector<int64_t>> sources(valid_.source.begin(), valid_.source.begin() + n);
  const auto ids = translate(sources);
  std::vector<std::string> hyps;
  hyps.reserve(n);
  for (const auto& h : ids) hyps.push_back(opt_.detokenize(h));
  const std::vector<std::string> refs(opt_.valid_references.begin(), opt_.valid_references.begin() + n);
  return {{"val_bleu", metrics::corpus_bleu(hyps, {refs}).score}};
}

}  // namespace qkv::train
