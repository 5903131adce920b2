// qkv/generate/continuous.h — continuous batching: sequences that arrive at
// different times share one decoding step.
//
//   ContinuousBatch batch(model);
//   batch.add({spec_a, spec_b});             // prefill the newcomers, join the running rows
//   for (TokenEvent e : batch.step()) …;      // one token for every running sequence
//   batch.cancel(id);                          // a client left: its row goes now
//
// Each newcomer runs its prompt on its own (prefill), then joins the running
// rows (models::join_states: every row left-padded to the longest); a
// finished or cancelled sequence leaves before the next step, and columns
// that only padding uses are dropped. One step costs one model.step over all
// rows: the weights are read once for all of them, which is what makes a
// server with many clients faster than one that decodes them one after the
// other (qkv serve, docs/SERVE.md).
//
// A sequence's tokens do not depend on what else runs beside it, bit for bit:
// it draws from its own random stream (sequence_stream: the same tokens as
// `qkv generate --seed S` when the stream is made from S the same way), its
// prompt is prefilled alone, its padding is skipped by attention, and the
// steps run under kernels::RowInvariantScope, so its logits are those of the
// sequence decoded alone — a sampled token cannot flip at a boundary.
// Single-threaded: the caller (the server's scheduler) owns the batch.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/generate/sampling.h"
#include "qkv/models/causal_decoder.h"

namespace qkv::generate {

struct SequenceSpec {
  std::vector<int64_t> prompt;   // non-empty, ids < vocab_size
  int64_t max_new_tokens = 16;   // >= 1; prompt + max_new_tokens <= the model's context length
  SamplingOptions sampling;
  Generator stream;              // the sequence's own draws (sequence_stream)
  std::vector<int64_t> stop_ids;  // finish after emitting one of these (eos)
  // -1: no log-probabilities; 0: the chosen token's; K > 0: also the K most
  // likely tokens' (log-softmax of the raw logits, before temperature/top-k/top-p).
  int64_t logprobs = -1;
};

enum class FinishReason { None, Length, Stop };

struct TokenEvent {
  uint64_t sequence = 0;  // the id add() returned
  int64_t token = 0;
  float logprob = 0.0f;                          // when SequenceSpec::logprobs >= 0
  std::vector<std::pair<int64_t, float>> top;    // the `logprobs` most likely (id, logprob), best first
  FinishReason finish = FinishReason::None;      // set on the sequence's last token
};

class ContinuousBatch {
 public:
  explicit ContinuousBatch(const models::CausalDecoderLM& model);
  // Checks every spec (ValueError naming the field and the spec's index;
  // nothing joins unless all are valid), prefills each prompt on its own and
  // joins them to the running rows. Returns their ids, in order.
  std::vector<uint64_t> add(std::vector<SequenceSpec> specs);
  // One token for every running sequence (the first call after add() gives
  // a newcomer its first token, from the prefill); sequences that finish
  // leave. Nothing to do → no events.
  std::vector<TokenEvent> step();
  // The sequence leaves before the next step; unknown or finished ids are ignored.
  void cancel(uint64_t sequence);
  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  // Columns the running rows span (the longest row's context): what the cache holds.
  int64_t width() const { return state_.ids.defined() ? state_.ids.size(1) : 0; }

 private:
  struct Row {
    uint64_t id;
    SequenceSpec spec;
    int64_t generated = 0;
    bool cancelled = false;
  };
  void check(const SequenceSpec& s, size_t index) const;
  void drop_rows(const std::vector<bool>& leave);

  const models::CausalDecoderLM& model_;
  models::DecodeState state_;
  Tensor logits_;  // (B,V): the next-token logits of every row
  std::vector<Row> rows_;
  uint64_t next_id_ = 1;
};

}  // namespace qkv::generate
