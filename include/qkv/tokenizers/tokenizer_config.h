// qkv/tokenizers/tokenizer_config.h — the parts of a Hugging Face
// tokenizer_config.json that change the ids a model sees.
//
// transformers adds <s> before every text of a Llama (`add_bos_token`, and
// `add_eos_token` for </s> after it) whatever tokenizer.json's own
// post-processor says; a model directory that has this file gets the same ids
// from load_codec (text_codec.h) — prompts of `qkv generate` and `qkv serve`,
// the text of `qkv perplexity` and `qkv finetune`. The special tokens are
// named by content (a string, or an object with "content", both forms
// transformers writes). Fields qkv does not apply (chat_template,
// clean_up_tokenization_spaces, …) are ignored; a field of the wrong type is
// a ValueError naming the file and the field.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace qkv::tokenizers {

struct TokenizerConfig {
  std::string source;  // the file, for errors
  std::optional<bool> add_bos_token, add_eos_token;
  std::optional<std::string> bos_token, eos_token, unk_token, pad_token;
  std::optional<std::string> tokenizer_class;
  // model_max_length, when a real limit (transformers writes ~1e30 for none)
  std::optional<int64_t> model_max_length;
  std::string text;  // the file's bytes, copied along when the tokenizer is saved
};

// DIR/tokenizer_config.json, or nullopt when DIR has none.
std::optional<TokenizerConfig> read_tokenizer_config(const std::string& dir);

}  // namespace qkv::tokenizers
