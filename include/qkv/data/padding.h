// qkv/data/padding.h — ragged id sequences → rectangular (B,T) tensors.
//
//   auto [ids, mask] = qkv::data::pad_sequences({{5, 6, 7}, {8}}, /*pad_id=*/0, PadSide::Right);
//   // ids  [[5,6,7],[8,0,0]]   mask [[1,1,1],[1,0,0]] (bool, true = real token)
//
// Masks follow the convention of qkv/data/batch.h (true = keep).
#pragma once
#include <optional>
#include <vector>

#include "qkv/data/batch.h"
#include "qkv/tokenizers/encoding.h"

namespace qkv::data {

// Right: tokens first, padding after (training, encoders). Left: padding first,
// so every row ends at column T−1 (batched generation: the next token of every
// row is appended at the same position).
enum class PadSide { Right, Left };

struct Padded {
  Tensor ids;   // (B,T) int64, T = longest row after truncation
  Tensor mask;  // (B,T) bool, true = real token
};

// Pads `seqs` with pad_id to the longest row. With max_len, longer rows are
// truncated on the padding side's far end: Right keeps a row's first max_len
// tokens, Left keeps its last max_len (a prompt's end must stay next to the
// text generated after it). An empty input gives (0,0) tensors.
// ValueError for max_len < 1.
Padded pad_sequences(const std::vector<std::vector<int64_t>>& seqs, int64_t pad_id, PadSide side = PadSide::Right,
                     std::optional<int64_t> max_len = std::nullopt);

// Pads one field of every row with `value`, returning (B,T) int64 — for
// labels (value kIgnoreIndex) or token_type_ids (value 0) that must line up
// with ids padded by pad_sequences with the same side and max_len.
Tensor pad_values(const std::vector<std::vector<int64_t>>& seqs, int64_t value, PadSide side = PadSide::Right,
                  std::optional<int64_t> max_len = std::nullopt);

// Tokenizer output → Batch: input_ids, attention_mask (an Encoding's own
// attention_mask is kept when set, so rows the tokenizer already padded stay
// masked) and extra["token_type_ids"] when any encoding has type_ids. labels
// stays undefined. ValueError when an encoding's fields differ in length.
Batch batch_from_encodings(const std::vector<tokenizers::Encoding>& encodings, int64_t pad_id,
                           PadSide side = PadSide::Right, std::optional<int64_t> max_len = std::nullopt);

}  // namespace qkv::data
