// libFuzzer target: BERT's WordPiece encode (BERT normalizer: clean, CJK
// spacing, lowercase, strip accents; whitespace + punctuation pre-tokenizer;
// greedy longest-match with [UNK]) on arbitrary bytes. The vocabulary is
// trained once at start-up on a fixed text.
#include "encode_common.h"
#include "qkv/tokenizers/trainers.h"

namespace {

const qkv::tokenizers::Tokenizer& tokenizer() {
  static const qkv::tokenizers::Tokenizer tok = [] {
    const std::vector<std::string> texts = {
        "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs!",
        "unaffable unbelievable affable runner running runs ran",
        "Café naïve résumé 中文字符 日本語 한국어 ÀÉÎÕÜ straße",
    };
    return qkv::tokenizers::train_wordpiece(texts, {.vocab_size = 300, .min_frequency = 1});
  }();
  return tok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)qkv::fuzz::exercise_encode(tokenizer(), text);
  return 0;
}
