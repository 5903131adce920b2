#include "text_codec.h"

#include <filesystem>
#include <memory>

#include "qkv/core/error.h"
#include "qkv/tokenizers/char_tokenizer.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::cli {

namespace {
TextCodec from_char(std::shared_ptr<tokenizers::CharTokenizer> t) {
  TextCodec c;
  c.kind = "char";
  c.vocab_size = t->vocab_size();
  c.encode = [t](std::string_view s) { return t->encode(s); };
  c.decode = [t](const std::vector<int64_t>& ids) { return t->decode(ids); };
  c.save = [t](const std::string& p) { t->save(p); };
  return c;
}
}  // namespace

TextCodec char_codec(std::string_view corpus) {
  return from_char(std::make_shared<tokenizers::CharTokenizer>(tokenizers::CharTokenizer::build(corpus)));
}

TextCodec load_codec(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::exists(path)) throw IOError(path + ": no such tokenizer file or directory");
  const std::string json = fs::is_directory(path) ? path + "/tokenizer.json" : path;
  if (fs::is_regular_file(json)) {
    try {  // a character vocabulary: strict encoding with precise errors
      return from_char(std::make_shared<tokenizers::CharTokenizer>(tokenizers::CharTokenizer::load(json)));
    } catch (const Error&) {
      // not a character tokenizer: fall through to the general loader
    }
  }
  auto t = std::make_shared<tokenizers::Tokenizer>(tokenizers::Tokenizer::from_path(path));
  TextCodec c;
  c.kind = "tokenizer";
  c.vocab_size = t->vocab_size();
  c.encode = [t](std::string_view s) { return t->encode_ids(s); };
  c.decode = [t](const std::vector<int64_t>& ids) { return t->decode(ids, false); };
  c.save = [t](const std::string& p) { t->save(p); };
  return c;
}

}  // namespace qkv::cli
