// libFuzzer target: GPT-2's vocab.json + merges.txt (Tokenizer::gpt2). The
// input is vocab.json, a NUL byte, then merges.txt.
#include "fuzz_util.h"
#include "qkv/tokenizers/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [vocab, merges] = qkv::fuzz::split_at_nul({reinterpret_cast<const char*>(data), size});
  const std::string vocab_path = qkv::fuzz::write_file("vocab.json", vocab);
  const std::string merges_path = qkv::fuzz::write_file("merges.txt", merges);
  qkv::fuzz::expect_clean([&] {
    const auto tok = qkv::tokenizers::Tokenizer::gpt2(vocab_path, merges_path);
    qkv::fuzz::expect_clean([&] {
      const auto e = tok.encode("Hello world, hello  there!\n\xc3\xa9t\xc3\xa9");
      (void)tok.decode(e.ids);
    });
    (void)qkv::tokenizers::Tokenizer::from_json(tok.to_json(), "saved tokenizer.json");
  });
  return 0;
}
