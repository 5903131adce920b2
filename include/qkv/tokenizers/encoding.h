// qkv/tokenizers/encoding.h — what encoding a text returns.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qkv::tokenizers {

// One encoded sequence (or pair). offsets are byte spans [start, end) into the
// input text the token came from (the first or the second text of a pair, see
// sequence_ids); special tokens added by the post-processor have (0, 0).
// Convert to character offsets with byte_to_char_offsets (utf8.h).
struct Encoding {
  std::vector<int64_t> ids;
  std::vector<std::string> tokens;
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
  std::vector<int64_t> type_ids;             // segment: 0 for A, 1 for B (BERT)
  std::vector<int64_t> attention_mask;       // 1 = real token, 0 = padding
  std::vector<int64_t> special_tokens_mask;  // 1 = added by the post-processor / padding
  std::vector<int32_t> sequence_ids;         // 0 = first text, 1 = second, -1 = special

  size_t size() const { return ids.size(); }
};

}  // namespace qkv::tokenizers
