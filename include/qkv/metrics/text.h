// qkv/metrics/text.h — the few string rules the reference metrics inherit from
// Python, written once so BLEU, chrF and ROUGE agree with sacreBLEU and
// rouge-score on every input.
//
// "Whitespace" is Python's str.isspace() (what str.split(), str.rstrip() and
// the `\s` of `re` use): U+0009–000D, U+001C–001F, U+0020, U+0085, U+00A0,
// U+1680, U+2000–200A, U+2028, U+2029, U+202F, U+205F, U+3000. Note that it
// includes the no-break spaces and the file/group/record separators, and that
// U+200B (zero width space) and U+FEFF are not whitespace.
//
// Text is UTF-8; an invalid byte counts as one character (U+FFFD) so no
// input makes these functions fail (callers that must refuse bad input check
// it first, as the CLI does).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace qkv::metrics {

// Python's str.isspace() for one code point.
bool is_py_space(char32_t c);

// Python's str.split() with no argument: runs of whitespace separate, and
// leading/trailing whitespace gives no empty pieces.
std::vector<std::string> py_split(std::string_view text);

// Python's str.rstrip() with no argument.
std::string py_rstrip(std::string_view text);

// Python's str.lower(): the full Unicode lowercase mapping (U+0130 → "i̇",
// U+212A KELVIN SIGN → "k"), with the Final_Sigma rule approximated as "Σ
// after a letter and not before one becomes ς" (Python uses the cased /
// case-ignorable properties; the two differ only around rare marks).
std::string py_lower(std::string_view text);

// The code points of `text` (invalid bytes → U+FFFD).
std::u32string to_code_points(std::string_view text);

}  // namespace qkv::metrics
