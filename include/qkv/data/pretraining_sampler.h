// qkv/data/pretraining_sampler.h — BERT pretraining batches in epochs, with
// the trainer's exact-resume contract (qkv/train/task.h, data/cursor.h).
//
// Epoch e serves every instance of one instance set, in a shuffled order:
//  - instance set k = e mod dupe_factor is create_instances(corpus, …) drawn
//    from Generator(mix(seed, k)): BERT's dupe_factor copies of the data, each
//    with its own A/B split points, NotNext partners and short targets;
//  - the order of epoch e is a Fisher–Yates shuffle from Generator(mix(seed, e));
//  - masks (qkv/data/mlm.h): dynamic (RoBERTa, Liu et al. 2019 §4.1; the
//    default) draws each sequence's mask from the Generator passed to next(),
//    when it is served, so every epoch sees fresh masks; static (the original
//    BERT) draws instance j of set k's mask once from Generator(mix(seed, k, j)):
//    the same every time that set is served (BERT's dupe_factor masks).
// The cursor's position counts the instances served in its epoch; a batch
// never crosses epochs (the last one of an epoch may be smaller). Everything
// but dynamic masks is a function of (seed, epoch, position), and dynamic masks
// come only from the Generator given, so restoring a DataCursor continues the
// stream exactly.
//
//   BertPretrainingSampler s(std::move(corpus), MlmVocab::from_tokenizer(tok), {});
//   DataCursor cursor;  Generator gen(1337);
//   Batch b = s.next(32, cursor, gen);
//   // b.input_ids, b.attention_mask, b.labels (MLM, -100 elsewhere),
//   // b.get("token_type_ids") (B,T), b.get("next_sentence_label") (B) — NSP only
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/data/batch.h"
#include "qkv/data/cursor.h"
#include "qkv/data/mlm.h"
#include "qkv/data/pretraining_corpus.h"
#include "qkv/data/pretraining_instances.h"

namespace qkv::data {

struct PretrainingOptions {
  InstanceOptions instances;
  MlmOptions masking;
  bool dynamic_masking = true;  // false: static masks, fixed per instance set
  int64_t dupe_factor = 1;      // instance sets cycled over epochs (BERT's script: 10)
  uint64_t seed = 12345;        // instance sets, epoch orders, static masks
};

class BertPretrainingSampler {
 public:
  // ValueError from the options' validate(), for dupe_factor < 1, an invalid
  // vocab, and from create_instances (e.g. NSP on a single document).
  BertPretrainingSampler(PretrainingCorpus corpus, MlmVocab vocab, PretrainingOptions opt);

  // The next min(batch_size, left in the epoch) instances, masked and padded;
  // starts the next epoch when the cursor's is used up. ValueError for
  // batch_size < 1.
  Batch next(int64_t batch_size, DataCursor& cursor, Generator& gen);
  // batch_size instances of set 0 drawn uniformly with replacement (one
  // next_u64() each) and masked (dynamic: from gen), for loss estimates.
  Batch sample(int64_t batch_size, Generator& gen);

  // Instances an epoch serves, and which, in serving order (indices into
  // instance_set(epoch)).
  int64_t epoch_size(int64_t epoch);
  const std::vector<int64_t>& epoch_order(int64_t epoch);
  const std::vector<PretrainingInstance>& instance_set(int64_t epoch);
  const PretrainingCorpus& corpus() const { return corpus_; }
  const MlmVocab& vocab() const { return vocab_; }

 private:
  using Set = std::vector<PretrainingInstance>;
  std::shared_ptr<const Set> get_set(int64_t set);
  void load_epoch(int64_t epoch);
  MlmRow row(const Set& set, int64_t set_id, int64_t index, Generator& gen) const;

  PretrainingCorpus corpus_;
  MlmVocab vocab_;
  PretrainingOptions opt_;
  // The current epoch's set and order, and set 0 kept for sample() (so
  // evaluation does not rebuild the training epoch's set).
  std::shared_ptr<const Set> set_, set0_;
  int64_t set_id_ = -1, epoch_ = -1;
  std::vector<int64_t> order_;
};

}  // namespace qkv::data
