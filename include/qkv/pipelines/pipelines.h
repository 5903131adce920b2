// qkv/pipelines/pipelines.h — Hugging Face's pipelines on qkv models, with
// their task names and output fields (transformers' FillMaskPipeline,
// TextClassificationPipeline, TokenClassificationPipeline,
// FeatureExtractionPipeline), so scripts written for one read the other:
//
//   fill-mask             [{score, token, token_str, sequence}] per [MASK], best first
//   text-classification   [{label, score}] best first (softmax over the labels)
//   token-classification  [{entity, score, index, word, start, end}] per token not "O",
//                         or grouped: [{entity_group, score, word, start, end}]
//   feature-extraction    the last hidden states (T,C) of the text with its special tokens
// start/end are character offsets into the input text (Python's str
// indices), as Hugging Face reports them. Inputs longer than the model's
// max_position_embeddings are truncated (the pipeline's truncation=True).
// `qkv pipeline TASK DIR` (tools/qkv/cmd_pipeline.cpp) prints these as JSON.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "qkv/models/bert.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::pipelines {

struct MaskPrediction {
  double score = 0;
  int64_t token = 0;
  std::string token_str;  // the token as the vocabulary spells it
  std::string sequence;   // the text decoded with this token in the mask's place
};
// One list per [MASK] of `text` (in order), top_k each. ValueError when the
// text has no [MASK] (naming the mask token), when the model has no MLM head,
// or when a mask falls past the truncation.
std::vector<std::vector<MaskPrediction>> fill_mask(const models::Bert& model, const tokenizers::Tokenizer& tok,
                                                   std::string_view text, int64_t top_k = 5);

struct LabelScore {
  std::string label;
  double score = 0;
};
// The top_k labels of a text (or a pair, when text_pair is not empty) of a
// BertForSequenceClassification; top_k ≤ 0 = all labels.
std::vector<LabelScore> classify_text(const models::Bert& model, const tokenizers::Tokenizer& tok,
                                      const std::string& text, const std::string& text_pair = "", int64_t top_k = 1);

struct TokenEntity {
  std::string entity;  // the label ("B-PER"), or the group's type ("PER") when grouped
  double score = 0;    // the token's probability, or the group's mean
  int64_t index = 0;   // token position (with [CLS] at 0); a word's ordinal before grouping; -1 for groups
  std::string word;    // the token ("##burn"), or the word's / group's text decoded
  int64_t start = 0, end = 0;
  std::vector<int64_t> token_ids;  // not printed; group_entities decodes groups with them
};
// Hugging Face's aggregation strategies (TokenClassificationPipeline):
//   none     every token that is not O, with its label ("B-PER")
//   simple   consecutive tokens of one entity type grouped, a B- tag
//            starting a new group (group_entities)
//   first    word level, then grouped: a word's label and score are its
//            first token's — the token a model fine-tuned as run_ner was
//            trained on; average: the mean of its tokens' probabilities;
//            max: those of its most confident token
// A token continues a word when (WordPiece) it carries the continuing prefix
// ("##burn": its text is shorter than the token), else when no space
// precedes it — transformers' rules for fast tokenizers. O is left out.
enum class Aggregation { None, Simple, First, Average, Max };
Aggregation aggregation_from_name(const std::string& name);  // "none" | "simple" | "first" | "average" | "max"
// The "simple" grouping of entities (in order, O left out; `index` decides adjacency).
std::vector<TokenEntity> group_entities(const std::vector<TokenEntity>& tokens, const tokenizers::Tokenizer& tok);
std::vector<TokenEntity> classify_tokens(const models::Bert& model, const tokenizers::Tokenizer& tok,
                                         const std::string& text, Aggregation aggregation = Aggregation::None);

}  // namespace qkv::pipelines
