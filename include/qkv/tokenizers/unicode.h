// qkv/tokenizers/unicode.h — Unicode character classes and normalization used by
// the tokenizers, backed by utf8proc (Unicode 15 data from Debian's libutf8proc),
// never by hand-copied tables.
#pragma once
#include <string>
#include <string_view>

namespace qkv::tokenizers {

bool is_letter(char32_t c);           // \p{L}: Lu Ll Lt Lm Lo
bool is_number(char32_t c);           // \p{N}: Nd Nl No
bool is_white_space(char32_t c);      // Unicode White_Space (the \s of Rust/Oniguruma regexes); not U+FEFF
bool is_punctuation(char32_t c);      // \p{P}: Pc Pd Ps Pe Pi Pf Po
bool is_bert_punctuation(char32_t c); // ASCII punctuation (incl. $+<=>^`|~) or \p{P}
bool is_other(char32_t c);            // Cc Cf Co Cs (BERT clean-text deletes these; not Cn)
bool is_mark_nonspacing(char32_t c);  // Mn (dropped by strip-accents)
bool is_bert_chinese(char32_t c);     // the CJK blocks Google's BERT pads with spaces
bool is_alnum_or_underscore(char32_t c);  // \w of HF's Whitespace pre-tokenizer

// Full lowercase mapping of one character, as Rust's char::to_lowercase
// (Σ → σ, İ → i̇); appends UTF-8 to out.
void append_lowercase(std::string& out, char32_t c);

enum class NormalForm { NFC, NFD, NFKC, NFKD };
// Normalizes UTF-8 text (invalid bytes become U+FFFD first).
std::string normalize(std::string_view text, NormalForm form);
// The decomposition of one character (canonical or compatibility), as UTF-8.
std::string decompose(char32_t c, bool compat);

}  // namespace qkv::tokenizers
