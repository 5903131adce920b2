// The two encode targets share this: arbitrary bytes through encode (with
// and without the template, added tokens parsed or not), encode_ids,
// encode_streamed in the smallest pieces,
// encode_pair under truncation, and decode.
#pragma once
#include "fuzz_util.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::fuzz {

// Returns the ids of encode(text) with parse_special, or empty when rejected.
inline std::vector<int64_t> exercise_encode(const tokenizers::Tokenizer& tok, std::string_view text) {
  std::vector<int64_t> ids;
  expect_clean([&] {
    const tokenizers::Encoding e = tok.encode(text);
    ids = e.ids;
    check(e.tokens.size() == e.ids.size(), "one token string per id");
    for (int64_t id : e.ids) check(id >= 0 && id < tok.vocab_size(), "ids lie in [0, vocab_size)");
    check(tok.encode_ids(text) == e.ids, "encode_ids == encode().ids");
    // In pieces (`qkv tokenize`'s long lines), cut at every place it may be:
    // the same ids, tokens and offsets as the whole text.
    tokenizers::Encoding pieces;
    tok.encode_streamed(text, {.chunk_bytes = 1}, [&](const tokenizers::Encoding& p) {
      pieces.ids.insert(pieces.ids.end(), p.ids.begin(), p.ids.end());
      pieces.tokens.insert(pieces.tokens.end(), p.tokens.begin(), p.tokens.end());
      pieces.offsets.insert(pieces.offsets.end(), p.offsets.begin(), p.offsets.end());
    });
    check(pieces.ids == e.ids && pieces.tokens == e.tokens && pieces.offsets == e.offsets,
          "encode_streamed == encode");
    (void)tok.encode(text, {.add_special_tokens = true, .parse_special = false});
    const size_t half = text.size() / 2;
    tokenizers::Encoding a = tok.encode(text.substr(0, half)), b = tok.encode(text.substr(half));
    tokenizers::truncate_pair(a, &b, {.max_length = 7}, 0);
    check(a.ids.size() + b.ids.size() <= 7, "truncate_pair keeps max_length");
    (void)tok.decode(e.ids, false);
  });
  return ids;
}

}  // namespace qkv::fuzz
