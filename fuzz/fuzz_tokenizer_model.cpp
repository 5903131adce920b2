// libFuzzer target: a SentencePiece tokenizer.model's bytes through
// SentencePieceModel (libsentencepiece parses them; qkv builds the vocabulary,
// the special tokens and the <s> template), then encodes and decodes, with
// special tokens in the text and ids at and past the vocabulary's ends.
#include "fuzz_util.h"
#include "qkv/tokenizers/sentencepiece.h"
#include "qkv/tokenizers/tokenizer.h"

using qkv::tokenizers::Tokenizer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  qkv::fuzz::expect_clean([&] {
    const std::string path = qkv::fuzz::write_file("tokenizer.model", bytes);
    const Tokenizer tok = Tokenizer::from_path(path);
    for (std::string_view s : {"Hello world", "  two  spaces ", "<s> a </s> <unk>", "", "\xe4\xb8\xad \xf0\x9f\x98\x80 \xff"}) {
      qkv::fuzz::expect_clean([&] {
        const auto e = tok.encode(s, {.add_special_tokens = true});
        (void)tok.decode(e.ids, false);
        (void)tok.decode(e.ids, true);
      });
    }
    qkv::fuzz::expect_clean([&] { (void)tok.decode({0, 1, 2, tok.vocab_size() - 1, tok.vocab_size(), -1}); });
  });
  return 0;
}
