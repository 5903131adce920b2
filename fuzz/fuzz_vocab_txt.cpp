// libFuzzer target: BERT's vocab.txt (Tokenizer::bert, cased and uncased),
// an encode with it, and its tokenizer.json save read back (`qkv tokenize
// --save`): the saved file must hold the same vocabulary.
#include "fuzz_util.h"
#include "qkv/tokenizers/tokenizer.h"

using qkv::tokenizers::Tokenizer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool lowercase = data[0] & 1;
  const std::string path = qkv::fuzz::write_file("vocab.txt", {reinterpret_cast<const char*>(data) + 1, size - 1});
  qkv::fuzz::expect_clean([&] {
    const Tokenizer tok = Tokenizer::bert(path, lowercase);
    qkv::fuzz::expect_clean([&] {
      const auto e = tok.encode("Hello, World! unaffable [SEP] caf\xc3\xa9", {.add_special_tokens = true});
      (void)tok.decode(e.ids);
    });
    const Tokenizer back = Tokenizer::from_json(tok.to_json(), "saved tokenizer.json");
    qkv::fuzz::check(back.vocab_size() == tok.vocab_size(), "vocab.txt saved as tokenizer.json keeps vocab_size");
    for (int64_t id = 0; id < tok.vocab_size() && id < 4096; ++id)
      qkv::fuzz::check(back.id_to_token(id) == tok.id_to_token(id), "vocab.txt saved as tokenizer.json keeps every token");
  });
  return 0;
}
