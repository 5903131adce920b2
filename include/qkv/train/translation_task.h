// qkv/train/translation_task.h — sequence-to-sequence training (translation),
// as Vaswani et al. 2017 train the Transformer: batches of similar-length
// sentence pairs up to a token budget, teacher forcing, label-smoothed
// cross-entropy; evaluation on the whole validation set, with BLEU from
// decoding it.
//
//   train::TranslationData train{src_ids, tgt_ids}, valid{vsrc_ids, vtgt_ids};
//   train::TranslationOptions opt;
//   opt.collate = {.pad_id = 0, .bos_id = 1, .eos_id = 2};
//   opt.detokenize = [&](const std::vector<int64_t>& ids) { return tok.decode(ids); };
//   opt.valid_references = valid_target_lines;          // BLEU against these
//   train::TranslationTask task(model, train, valid, opt);
//   train::Trainer(task, tc, "runs/de-en").run();        // log.jsonl gets val_bleu
//
// Data order: each epoch is data::bucket_batches over the training pairs
// (shuffled, sorted by length in pools, cut at max_tokens, batch order
// shuffled) from a Generator seeded by (seed, epoch), and the cursor counts
// batches within the epoch, so a resumed run draws exactly the batches the
// uninterrupted one would. The trainer's batch_size is not used for training
// batches when max_tokens is set.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "qkv/data/collate.h"
#include "qkv/models/model.h"
#include "qkv/train/task.h"

namespace qkv::train {

// Token ids of aligned sentence pairs, without BOS/EOS.
struct TranslationData {
  std::vector<std::vector<int64_t>> source, target;
  size_t size() const { return source.size(); }
};

struct TranslationOptions {
  data::Seq2SeqCollatorOptions collate;  // pad/bos/eos ids, length caps
  // Padded tokens per batch, max(rows × longest source, rows × longest
  // decoder input); 0 = trainer batch_size sentences per batch.
  int64_t max_tokens = 4096;
  int64_t bucket_size = 0;        // sentences sorted together (0 = the whole corpus)
  float label_smoothing = 0.1f;   // ε of §5.4 (PyTorch's label_smoothing)
  uint64_t seed = 1;              // epoch order
  // BLEU at every evaluation: decode the first bleu_sentences validation
  // sources (0 = all) with a beam of bleu_beam (1 = greedy), detokenize and
  // score against valid_references (sacreBLEU's default corpus BLEU). No
  // detokenize function = no BLEU.
  std::function<std::string(const std::vector<int64_t>&)> detokenize;
  std::vector<std::string> valid_references;
  int64_t bleu_sentences = 0;
  int64_t bleu_beam = 1;
  int64_t decode_batch = 64;      // sentences decoded together
  int64_t max_new_tokens = 0;     // decoding cap (0 = the collator's max_target_len, else 256)
};

class TranslationTask : public Task {
 public:
  // ValueError when the data is empty, the sides differ in length, an id is
  // outside the model's vocabulary (naming the pair), a pair alone exceeds
  // max_tokens, or the references do not match the validation set.
  TranslationTask(models::Seq2SeqLM& model, TranslationData train, TranslationData valid, TranslationOptions opt);

  models::Model& model() override { return model_; }
  data::Batch train_batch(int64_t batch_size, data::DataCursor& cursor, Generator& gen) override;
  data::Batch eval_batch(Split split, int64_t batch_size, Generator& gen) override;
  Tensor loss(const data::Batch& batch, Generator& dropout) override;
  int64_t tokens(const data::Batch& batch) const override;  // target tokens (labels not ignored)
  // Val: the token-weighted mean loss over every validation pair; Train: nullopt (random batches).
  std::optional<double> split_loss(Split split, int64_t batch_size) override;
  nlohmann::json eval_metrics() override;  // {"val_bleu": …} when detokenize is set
  std::string best_metric() const override { return opt_.detokenize ? "val_bleu" : ""; }

  // Decodes `sources` (ids) in batches of similar length; best hypotheses'
  // ids, in input order (what eval_metrics scores).
  std::vector<std::vector<int64_t>> translate(const std::vector<std::vector<int64_t>>& sources);

  // The batches of one epoch (indices into the training pairs).
  std::vector<std::vector<int64_t>> epoch_batches(int64_t epoch, int64_t batch_size) const;

 private:
  data::Batch collate(const TranslationData& d, const std::vector<int64_t>& rows);
  std::vector<std::vector<int64_t>> batches_of(const TranslationData& d, Generator& gen, int64_t batch_size) const;

  models::Seq2SeqLM& model_;
  TranslationData train_, valid_;
  TranslationOptions opt_;
  data::Seq2SeqCollator collator_;
  std::vector<int64_t> train_lengths_, valid_lengths_;
  // The current epoch's batches (recomputed when the cursor's epoch changes).
  int64_t cached_epoch_ = -1;
  std::vector<std::vector<int64_t>> epoch_;
};

}  // namespace qkv::train
