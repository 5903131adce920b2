// qkv/train/encoder_task.h — fine-tuning an encoder (BERT) with one of
// Hugging Face's heads, on the model-agnostic trainer (trainer.h):
//
//   Sequence  BertForSequenceClassification: one label per example
//             (labels (B)), cross-entropy of sequence_logits
//   Token     BertForTokenClassification: a label per token, -100 where no
//             loss is taken (special tokens, later sub-words, padding)
//   Span      BertForQuestionAnswering: start and end token positions
//             (labels (B,2)); loss = (CE(start) + CE(end)) / 2 (HF's)
//
// Batches: each epoch serves every training example once in an order
// shuffled by Generator(seed + epoch) (the cursor counts the examples
// served), right-padded to the batch's longest. The validation loss is the
// mean over the whole dev set; task metrics (accuracy, entity F1, SQuAD F1)
// come from a callback that reads the dev predictions, so the caller — which
// knows the labels, the words and the contexts — decides how to score them.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "qkv/models/bert.h"
#include "qkv/train/task.h"

namespace qkv::train {

enum class EncoderHead { Sequence, Token, Span };

struct EncoderExample {
  std::vector<int64_t> input_ids, token_type_ids;  // token_type_ids empty = all 0
  // Sequence: {label}; Token: one per input id (-100 = ignored); Span: {start, end}.
  std::vector<int64_t> labels;
};

struct EncoderTaskOptions {
  uint64_t seed = 1337;       // the epoch orders
  int64_t eval_batch = 32;    // dev examples per forward pass
  // Scores of the dev predictions (one tensor per dev example, in order:
  // Sequence (L), Token (T,L), Span (T,2) start/end logits, T = its length),
  // logged at every evaluation, e.g. {"val_accuracy": 91.2}. Empty = none.
  std::function<nlohmann::json(const std::vector<Tensor>& predictions)> metrics;
  std::string best_metric;    // a key of metrics' result that picks the best checkpoint ("" = val loss)
};

class EncoderFinetuneTask : public Task {
 public:
  // ValueError when a set is empty, an example's fields disagree in length
  // or are too long for the model, a label is outside the head's range
  // (naming the set and the example), or the model's head is not `head`'s.
  EncoderFinetuneTask(models::Bert& model, EncoderHead head, std::vector<EncoderExample> train,
                      std::vector<EncoderExample> dev, EncoderTaskOptions opt);

  models::Model& model() override { return model_; }
  data::Batch train_batch(int64_t batch_size, data::DataCursor& cursor, Generator& gen) override;
  data::Batch eval_batch(Split split, int64_t batch_size, Generator& gen) override;
  Tensor loss(const data::Batch& batch, Generator& dropout) override;
  int64_t tokens(const data::Batch& batch) const override;  // real (unpadded) tokens
  std::optional<double> split_loss(Split split, int64_t batch_size) override;
  nlohmann::json eval_metrics() override;
  std::string best_metric() const override { return opt_.best_metric; }

  // The head's outputs for examples (eval mode, no grad), one tensor each as
  // EncoderTaskOptions::metrics gets them.
  std::vector<Tensor> predict(const std::vector<EncoderExample>& examples);
  // The head's logits for a batch: (B,L), (B,T,L) or (B,T,2).
  Tensor logits(const data::Batch& batch, Generator& dropout) const;
  // Rows → one padded batch.
  data::Batch collate(const std::vector<EncoderExample>& set, const std::vector<int64_t>& rows) const;

 private:
  void check_set(const std::vector<EncoderExample>& set, const char* name) const;

  models::Bert& model_;
  EncoderHead head_;
  std::vector<EncoderExample> train_, dev_;
  EncoderTaskOptions opt_;
  int64_t order_epoch_ = -1;
  std::vector<int64_t> order_;
};

// Freezes the embeddings and the first n encoder layers (requires_grad off,
// so the optimizer keeps no state for them); ValueError when n exceeds the layers.
void freeze_bottom_layers(models::Bert& model, int64_t n);

}  // namespace qkv::train
