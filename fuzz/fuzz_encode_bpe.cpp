// libFuzzer target: GPT-2-style byte-level BPE encode on arbitrary bytes. The
// tokenizer is trained once at start-up on a fixed text (the GPT-2
// pre-tokenizer regex, byte-level alphabet, merges, <|endoftext|>). Byte-level
// BPE is lossless: valid UTF-8 must decode back to itself exactly.
#include "encode_common.h"
#include "qkv/tokenizers/trainers.h"

namespace {

const qkv::tokenizers::Tokenizer& tokenizer() {
  static const qkv::tokenizers::Tokenizer tok = [] {
    const std::vector<std::string> texts = {
        "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs!",
        "It's 2024: they'll say \"hello\" — we've said héllo, 你好, and ñandú's 123 4567 times.",
        "   indented\tline\r\nwith   spaces and\ttabs    \n\n",
    };
    return qkv::tokenizers::train_byte_level_bpe(texts, {.vocab_size = 400, .min_frequency = 1,
                                                         .special_tokens = {"<|endoftext|>"}});
  }();
  return tok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const qkv::tokenizers::Tokenizer& tok = tokenizer();
  const std::vector<int64_t> ids = qkv::fuzz::exercise_encode(tok, text);
  if (qkv::tokenizers::is_valid_utf8(text) && !text.empty())
    qkv::fuzz::check(tok.decode(ids, false) == text, "byte-level BPE: decode(encode(x)) == x");
  return 0;
}
