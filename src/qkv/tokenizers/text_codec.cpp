// TextCodec (see qkv/tokenizers/text_codec.h).
#include "qkv/tokenizers/text_codec.h"

#include <filesystem>
#include <memory>

#include "qkv/core/error.h"
#include "qkv/tokenizers/char_tokenizer.h"
#include "qkv/tokenizers/token_label.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::tokenizers {

namespace {
TextCodec from_char(std::shared_ptr<CharTokenizer> t) {
  TextCodec c;
  c.kind = "char";
  c.vocab_size = t->vocab_size();
  c.encode = [t](std::string_view s) { return t->encode(s); };
  c.decode = [t](const std::vector<int64_t>& ids) { return t->decode(ids); };
  c.save = [t](const std::string& p) { t->save(p); };
  c.label = [t](int64_t id) { return visible_text(t->decode({id})); };
  return c;
}
}  // namespace

TextCodec char_codec(std::string_view corpus) {
  return from_char(std::make_shared<CharTokenizer>(CharTokenizer::build(corpus)));
}

std::optional<CharTokenizer> load_char_tokenizer(const std::string& path) {
  namespace fs = std::filesystem;
  const std::string json = fs::is_directory(path) ? path + "/tokenizer.json" : path;
  if (!fs::is_regular_file(json)) return std::nullopt;
  try {  // a character vocabulary: strict encoding with precise errors
    return CharTokenizer::load(json);
  } catch (const Error&) {
    return std::nullopt;  // another kind of tokenizer
  }
}

TextCodec load_codec(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);  // a model directory's tokenizer.json may be its tokenizer.model (Tokenizer::from_path)
  const bool spm_beside = p.filename() == "tokenizer.json" && fs::exists(p.parent_path() / "tokenizer.model");
  if (!fs::exists(p) && !spm_beside) throw IOError(path + ": no such tokenizer file or directory");
  if (fs::exists(p))
    if (std::optional<CharTokenizer> c = load_char_tokenizer(path))
      return from_char(std::make_shared<CharTokenizer>(std::move(*c)));
  auto t = std::make_shared<Tokenizer>(Tokenizer::from_path(path));
  TextCodec c;
  c.kind = "tokenizer";
  c.vocab_size = t->vocab_size();
  c.encode = [t](std::string_view s) { return t->encode_ids(s); };
  c.decode = [t](const std::vector<int64_t>& ids) { return t->decode(ids, false); };
  c.save = [t](const std::string& p) { t->save(p); };
  c.label = [t](int64_t id) { return token_label(*t, id); };
  return c;
}

}  // namespace qkv::tokenizers
