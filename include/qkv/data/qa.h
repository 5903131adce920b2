// qkv/data/qa.h — extractive question answering (SQuAD) for a BERT-style
// model that predicts, at every token, a start logit and an end logit.
//
// Features (Hugging Face's run_qa prepare_train_features +
// prepare_validation_features in one): each question is encoded as
// "[CLS] question [SEP] context window [SEP]" (question first, truncation
// "only_second"). A context longer than what max_length leaves is cut into
// overlapping windows of W = max_length − len(question) − 3 tokens starting
// every W − doc_stride tokens (doc_stride = the tokens two neighbouring windows
// share, the `stride` of HF's return_overflowing_tokens), until a window
// reaches the end of the context. Per window (a QaFeature):
//   start_position / end_position: the tokens holding the first answer's
//     first and last character, or 0 (the [CLS] token) when the question is
//     impossible or the answer is not wholly inside the window;
//   offsets: each context token's [start, end) in code points of the
//     context, nullopt for question and special tokens;
//   example_index: which example the window came from.
// One deviation from run_qa: its start search walks on past the window into
// [SEP] (offset (0,0)) when the answer starts in the window's last token;
// here it stops at the window's last context token.
//
// Postprocessing (HF's utils_qa.postprocess_qa_predictions): for each
// example, over all its windows, the n_best_size highest start and end
// logits are paired; a pair is kept when both are context tokens, end ≥ start
// and end − start + 1 ≤ max_answer_length; its score is start + end logit
// and its text the context between the start token's first and the end
// token's last character. The n_best_size best are kept (with probabilities,
// a softmax of their scores). SQuAD 2.0 (version_2_with_negative): the null
// answer scores start[0] + end[0] — the smallest over the example's windows —
// and the answer is "" when null − best non-null > null_score_diff_threshold.
//
//   auto feats = prepare_qa_features(bert, examples, {.max_length = 384, .doc_stride = 128});
//   … run the model on feats[i].example.at("input_ids"): start/end logits per token …
//   auto preds = postprocess_qa_predictions(examples, feats, start_logits, end_logits, {});
//   preds[k].text;   // the answer to examples[k]
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "qkv/data/batch.h"
#include "qkv/data/squad.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::data {

struct QaFeatureOptions {
  size_t max_length = 384;  // tokens per window, question and special tokens included
  size_t doc_stride = 128;  // tokens shared by neighbouring windows
};

struct QaFeature {
  // "input_ids", "token_type_ids", "start_positions" = {start_position},
  // "end_positions" = {end_position} (HF's names) and "labels" = {start,
  // end} (the pair a span head's loss reads, train/encoder_task.h).
  Example example;
  size_t example_index = 0;
  std::vector<std::optional<std::pair<size_t, size_t>>> offsets;  // per token, see above
  int64_t start_position = 0, end_position = 0;
};

// ValueError naming the question id when the question leaves no room for the
// context in max_length, or when doc_stride is not below the window length
// (Hugging Face's tokenizers refuse both).
std::vector<QaFeature> prepare_qa_features(const tokenizers::Tokenizer& tok, const std::vector<SquadExample>& examples,
                                           const QaFeatureOptions& options = {});

struct QaPostprocessOptions {
  size_t n_best_size = 20;
  size_t max_answer_length = 30;  // tokens
  bool version_2_with_negative = false;
  float null_score_diff_threshold = 0.0f;
};

struct QaCandidate {
  std::string text;          // "" for the null answer
  size_t char_start = 0, char_end = 0;  // in the context; 0, 0 for the null answer
  float start_logit = 0, end_logit = 0, score = 0;
  double probability = 0;
};

struct QaPrediction {
  std::string id;
  std::string text;                 // the answer; "" = no answer (v2)
  std::vector<QaCandidate> nbest;   // best first (HF's all_nbest_json)
  std::optional<float> null_score_diff;  // v2: null score − best non-null start + end logit
};

// start_logits[f] / end_logits[f]: the logits of feature f (at least its
// length; longer rows — padding — are fine, positions past the feature are
// never chosen). One prediction per example, in order. Ties between equal
// logits go to the later position, ties between equal scores to the earlier
// candidate. ValueError when the counts disagree or an example has no feature.
std::vector<QaPrediction> postprocess_qa_predictions(const std::vector<SquadExample>& examples,
                                                     const std::vector<QaFeature>& features,
                                                     const std::vector<std::vector<float>>& start_logits,
                                                     const std::vector<std::vector<float>>& end_logits,
                                                     const QaPostprocessOptions& options = {});

}  // namespace qkv::data
