// qkv/tokenizers/normalizers.h — the first pipeline stage: text → normalized text,
// keeping for every normalized byte the span of the original bytes it came from
// (so offsets always point into the caller's input).
//
// Kinds follow Hugging Face `tokenizers` (and its tokenizer.json "type" names):
// BertNormalizer (clean text, CJK spacing, strip accents, lowercase), NFC, NFD,
// NFKC, NFKD, Lowercase, StripAccents, Strip, Replace (literal string), Prepend,
// Sequence. Invalid UTF-8 bytes become U+FFFD (BERT's clean text then drops them).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qkv::tokenizers {

struct NormalizedString {
  std::string text;
  std::vector<uint32_t> start, end;  // per byte of text: its original byte span

  // The identity normalization of original[0..n), offsets shifted by base.
  static NormalizedString identity(std::string_view original, uint32_t base = 0);
  // Original span of normalized bytes [s, e) (s < e).
  std::pair<uint32_t, uint32_t> original_span(size_t s, size_t e) const { return {start[s], end[e - 1]}; }
};

struct Normalizer {
  enum class Kind { Bert, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, Replace, Prepend, Sequence };
  Kind kind = Kind::Sequence;
  // Bert
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::optional<bool> strip_accents;  // unset: follows lowercase (as BERT)
  bool lowercase = true;
  // Strip
  bool left = true, right = true;
  // Replace (literal pattern) / Prepend
  std::string pattern, content;
  // Sequence
  std::vector<Normalizer> children;

  static Normalizer bert(bool lowercase) {
    Normalizer n;
    n.kind = Kind::Bert;
    n.lowercase = lowercase;
    return n;
  }
};

void normalize(const Normalizer& n, NormalizedString& s);

}  // namespace qkv::tokenizers
