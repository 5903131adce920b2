// libFuzzer target: tokenizer.json (Hugging Face's format) through
// Tokenizer::from_json, then a few encodes and decodes with the result, and
// its own save read back (a file qkv writes, qkv must read).
#include "fuzz_util.h"
#include "qkv/tokenizers/tokenizer.h"

using qkv::tokenizers::Tokenizer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  qkv::fuzz::expect_clean([&] {
    const Tokenizer tok = Tokenizer::from_json(text, "tokenizer.json");
    for (std::string_view s : {"Hello world", "héllo  WORLD!! 123 [CLS] <|endoftext|>", "", "\xe4\xb8\xad\xe6\x96\x87 a\tb\n"}) {
      qkv::fuzz::expect_clean([&] {
        const auto e = tok.encode(s, {.add_special_tokens = true});
        (void)tok.decode(e.ids, false);
        (void)tok.encode_pair(s, "second part", {.add_special_tokens = true});
      });
    }
    qkv::fuzz::expect_clean([&] { (void)tok.decode({0, 1, 2, tok.vocab_size() - 1, tok.vocab_size(), -1}); });
    const std::string saved = tok.to_json();
    const Tokenizer back = Tokenizer::from_json(saved, "saved tokenizer.json");
    qkv::fuzz::check(back.vocab_size() == tok.vocab_size(), "a saved tokenizer.json reloads with its vocab_size");
  });
  return 0;
}
