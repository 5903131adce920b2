// CausalLMTask (see qkv/train/task.h): nanoGPT's data and loss.
#include <string>

#include "qkv/core/error.h"
#include "qkv/ops/ops.h"
#include "qkv/train/task.h"

namespace qkv::train {
namespace {

const std::vector<int64_t>& in_vocabulary(const std::vector<int64_t>& tokens, int64_t vocab) {
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      throw ValueError("training data: token " + std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                       " is outside the model's vocabulary of " + std::to_string(vocab));
  return tokens;
}

// The train split is the first (1 − val_fraction) of the stream, val the rest.
std::vector<int64_t> split_of(const std::vector<int64_t>& tokens, float val_fraction, bool train, int64_t block_size) {
  const size_t n_train = static_cast<size_t>(static_cast<double>(tokens.size()) * (1.0 - val_fraction));
  std::vector<int64_t> part(train ? tokens.begin() : tokens.begin() + n_train,
                            train ? tokens.begin() + n_train : tokens.end());
  if (static_cast<int64_t>(part.size()) < block_size + 1)
    throw ValueError("training data: the " + std::string(train ? "train" : "val") + " split has " +
                     std::to_string(part.size()) + " tokens, fewer than block_size + 1 = " +
                     std::to_string(block_size + 1) + " (corpus of " + std::to_string(tokens.size()) +
                     " tokens; use a longer corpus or a smaller --block-size)");
  return part;
}

}  // namespace

CausalLMTask::CausalLMTask(models::CausalLM& model, const std::vector<int64_t>& tokens, int64_t block_size,
                           float val_fraction)
    : model_(model),
      train_(split_of(in_vocabulary(tokens, model.vocab_size()), val_fraction, true, block_size), block_size),
      val_(split_of(tokens, val_fraction, false, block_size), block_size) {}

data::Batch CausalLMTask::train_batch(int64_t batch_size, data::DataCursor& cursor, Generator& gen) {
  ++cursor.position;  // random windows: no epochs, the count is informational
  return train_.sample(batch_size, gen);
}

data::Batch CausalLMTask::eval_batch(Split split, int64_t batch_size, Generator& gen) {
  return (split == Split::Train ? train_ : val_).sample(batch_size, gen);
}

Tensor CausalLMTask::loss(const data::Batch& batch, Generator& dropout) {
  // Windows of a stream have no padding: no mask, the unmasked attention path.
  return cross_entropy(model_.lm_logits(batch.input_ids, dropout), batch.labels);
}

}  // namespace qkv::train
