// qkv/tokenizers/token_label.h — what a token is, as a label a reader can see.
//
// Plots and `--show-probs` print tokens one at a time, where an invisible
// space or a half of a multi-byte character would otherwise vanish:
//   " But"  → "␣But"     "\n" → "↵"     "\t" → "⇥"     other controls → "<0x1B>"
//   GPT-2 byte-level pieces go back to their bytes first: "ĠBut" → "␣But",
//   "Ċ" → "↵", "Ã©" → "é"; bytes that do not form a whole UTF-8 character
//   (a token holding half of "東") show as "<0xE6><0x9D>"
//   SentencePiece's "▁" word marker is a space too: "▁Hello" → "␣Hello"
// Every other character is kept as it is (é, 東京, 한국어); Pango's font
// fallback draws them.
//
//   token_label("ĠBut", true)                  // "␣But"
//   token_label(tok, id)                       // for a loaded Tokenizer
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace qkv::tokenizers {

class Tokenizer;

// Raw bytes (decoded text) → label: valid UTF-8 kept, whitespace and controls
// made visible, invalid bytes as <0xNN>. An empty string is "∅".
std::string visible_text(std::string_view bytes);

// A vocabulary piece → label. byte_level: the piece is written in GPT-2's
// byte-to-unicode alphabet (a piece with a character outside it is taken as
// text). Otherwise "▁" counts as a space.
std::string token_label(std::string_view piece, bool byte_level);

// The label of `id` in `tok`: its vocabulary piece, read as byte-level when
// tok's decoder is ByteLevel. ValueError for an id outside the vocabulary.
std::string token_label(const Tokenizer& tok, int64_t id);

}  // namespace qkv::tokenizers
