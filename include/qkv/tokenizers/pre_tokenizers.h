// qkv/tokenizers/pre_tokenizers.h — the second pipeline stage: normalized text →
// words (byte spans). The model then tokenizes each word on its own.
//
// Kinds follow Hugging Face `tokenizers`: ByteLevel (GPT-2's split, then the
// model sees bytes), BertPreTokenizer (split on White_Space, isolate each
// punctuation character), Whitespace (\w+|[^\w\s]+), WhitespaceSplit, Digits,
// Punctuation (isolated), Metaspace (SentencePiece's spaces: every ' ' becomes
// the replacement "▁", which is put in front of text that does not start with
// it — always, only for text at offset 0 of the input ("first"), or never —
// then, with split, words start at each "▁"), Sequence. A Metaspace inside a
// Sequence edits the whole text before any split (Hugging Face edits each
// split): the same for the forms real files use, Metaspace alone.
#pragma once
#include <vector>

#include "qkv/tokenizers/byte_level.h"
#include "qkv/tokenizers/normalizers.h"

namespace qkv::tokenizers {

struct PreTokenizer {
  enum class Kind { ByteLevel, Bert, Whitespace, WhitespaceSplit, Digits, Punctuation, Sequence, Metaspace };
  Kind kind = Kind::Sequence;
  // Metaspace
  std::string replacement = "\u2581", prepend_scheme = "always";
  bool split = true;
  // ByteLevel
  bool add_prefix_space = false;
  bool use_regex = true;
  bool trim_offsets = true;
  // Digits
  bool individual_digits = false;
  std::vector<PreTokenizer> children;

  static PreTokenizer byte_level(bool add_prefix_space = false) {
    PreTokenizer p;
    p.kind = Kind::ByteLevel;
    p.add_prefix_space = add_prefix_space;
    return p;
  }
  // True when the model sees raw bytes (a ByteLevel stage is present).
  bool is_byte_level() const;
};

// Splits s.text into words; may edit s (ByteLevel's add_prefix_space).
void pre_tokenize(const PreTokenizer& p, NormalizedString& s, std::vector<Span>& words);

}  // namespace qkv::tokenizers
