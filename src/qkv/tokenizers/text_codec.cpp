// TextCodec (see qkv/tokenizers/text_codec.h).
#include "qkv/tokenizers/text_codec.h"

#include <filesystem>
#include <memory>

#include "file_util.h"
#include "qkv/core/error.h"
#include "qkv/tokenizers/char_tokenizer.h"
#include "qkv/tokenizers/token_label.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/tokenizers/tokenizer_config.h"

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

// transformers' add_bos_token / add_eos_token around every encoded text; the
// added <s> is not printed back (decode drops a leading one), and saving the
// tokenizer copies tokenizer_config.json beside it so a run made from this
// codec encodes the same way.
void apply_tokenizer_config(TextCodec& c, const std::shared_ptr<Tokenizer>& t, const TokenizerConfig& cfg) {
  auto id_of = [&](const std::optional<std::string>& tok, const char* field) -> int64_t {
    if (!tok) throw ValueError(cfg.source + ": " + field + " is set but no " + field + "_token is named");
    const std::optional<int64_t> id = t->token_to_id(*tok);
    if (!id) throw ValueError(cfg.source + ": " + field + "_token '" + *tok + "' is not in the tokenizer's vocabulary");
    return *id;
  };
  const std::optional<int64_t> bos = cfg.add_bos_token.value_or(false) ? id_of(cfg.bos_token, "bos") : std::optional<int64_t>();
  const std::optional<int64_t> eos = cfg.add_eos_token.value_or(false) ? id_of(cfg.eos_token, "eos") : std::optional<int64_t>();
  const std::string text = cfg.text;
  c.save = [t, text](const std::string& p) {
    t->save(p);
    detail::write_file_atomic((std::filesystem::path(p).parent_path() / "tokenizer_config.json").string(), text);
  };
  if (!bos && !eos) return;
  c.encode = [t, bos, eos](std::string_view s) {
    std::vector<int64_t> ids = t->encode_ids(s);
    if (bos) ids.insert(ids.begin(), *bos);
    if (eos) ids.push_back(*eos);
    return ids;
  };
  c.decode = [t, bos](const std::vector<int64_t>& ids) {
    if (bos && !ids.empty() && ids.front() == *bos) return t->decode(std::vector<int64_t>(ids.begin() + 1, ids.end()), false);
    return t->decode(ids, false);
  };
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
  if (std::optional<TokenizerConfig> cfg = read_tokenizer_config(fs::is_directory(p) ? path : p.parent_path().string()))
    apply_tokenizer_config(c, t, *cfg);
  return c;
}

}  // namespace qkv::tokenizers
