// Streaming detokenization with stop sequences (see text_stream.h).
#include "text_stream.h"

#include <algorithm>

namespace qkv::serve {

size_t incomplete_utf8_tail(const std::string& s) {
  static const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  if (s.size() >= 3 && s.compare(s.size() - 3, 3, kReplacement) == 0) return 3;
  // Walk back over at most 3 continuation bytes to the lead byte.
  size_t n = 0;
  while (n < 3 && n < s.size() && (static_cast<unsigned char>(s[s.size() - 1 - n]) & 0xC0) == 0x80) ++n;
  if (n == s.size()) return 0;
  const auto lead = static_cast<unsigned char>(s[s.size() - 1 - n]);
  const size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  return need > n + 1 ? n + 1 : 0;
}

std::string TextStream::take(size_t upto) {
  if (upto <= sent_) return {};
  std::string out = text_.substr(sent_, upto - sent_);
  sent_ = upto;
  return out;
}

std::string TextStream::push(int64_t token) {
  if (stopped_) return {};
  ids_.push_back(token);
  std::string full = codec_.decode(ids_);
  if (full.compare(0, sent_, text_, 0, sent_) != 0) {
    // A decoder whose output is not prefix-stable (rare: cleanup rules that
    // look ahead): keep what was sent and append the new token's own text.
    full = text_.substr(0, sent_) + codec_.decode({token});
  }
  text_ = std::move(full);
  // A stop sequence anywhere in the unsent text (it may start in text held back).
  size_t cut = std::string::npos;
  for (const std::string& s : stop_) {
    const size_t from = sent_ >= s.size() ? sent_ - s.size() + 1 : 0;
    const size_t at = text_.find(s, from);
    if (at != std::string::npos) cut = std::min(cut, at);
  }
  if (cut != std::string::npos) {
    stopped_ = true;
    return take(std::max(cut, sent_));
  }
  // Hold back a tail that could still grow into a stop sequence…
  size_t hold = 0;
  for (const std::string& s : stop_)
    for (size_t k = std::min(s.size() - 1, text_.size()); k > hold; --k)
      if (text_.compare(text_.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
  // …and a character whose bytes are not all out yet.
  hold = std::max(hold, incomplete_utf8_tail(text_));
  return take(text_.size() - std::min(hold, text_.size()));
}

std::string TextStream::flush() { return stopped_ ? std::string() : take(text_.size()); }

}  // namespace qkv::serve
