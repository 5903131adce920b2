// Generated ids → the text a client sees, piece by piece: what may be sent
// now, what must wait. Private to serve/.
//
// Two things hold text back: a UTF-8 character whose bytes are not all out
// yet (byte-level BPE splits characters across tokens), and a tail that could
// be the start of a stop sequence. When a stop sequence appears the text is
// cut just before it (OpenAI: "the returned text will not contain the stop
// sequence") and the stream is over.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "qkv/tokenizers/text_codec.h"

namespace qkv::serve {

class TextStream {
 public:
  TextStream(const tokenizers::TextCodec& codec, std::vector<std::string> stop)
      : codec_(codec), stop_(std::move(stop)) {}
  // Adds a generated token; returns the text that became safe to send.
  std::string push(int64_t token);
  // The end (length or eos): everything held back, except past a stop.
  std::string flush();
  bool stopped() const { return stopped_; }
  // Bytes of text sent so far (the next token's text_offset).
  size_t sent() const { return sent_; }

 private:
  std::string take(size_t upto);
  const tokenizers::TextCodec& codec_;
  std::vector<std::string> stop_;
  std::vector<int64_t> ids_;
  std::string text_;  // decode(ids_)
  size_t sent_ = 0;
  bool stopped_ = false;
};

// Bytes at the end of `s` that begin a UTF-8 character not yet complete
// (0 when `s` ends on a character boundary or the tail is not UTF-8 at all),
// plus a trailing U+FFFD a decoder put for such a partial character.
size_t incomplete_utf8_tail(const std::string& s);

}  // namespace qkv::serve
