// Hugging Face tokenizer.json, reading: BPE, WordPiece and WordLevel models
// and the normalizer / pre_tokenizer / post_processor / decoder kinds qkv
// implements; anything else is a ValueError naming the key. Writing is in
// tokenizer_json_write.cpp.
#include <nlohmann/json.hpp>

#include "file_util.h"
#include "qkv/core/json_parse.h"
#include "qkv/core/error.h"
#include "qkv/tokenizers/bpe.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/tokenizers/wordpiece.h"

namespace qkv::tokenizers {

using detail::kMaxTokenId;

using json = nlohmann::json;

namespace {

// Reading with errors that name the file and the key path ("model.vocab").
struct Reader {
  std::string source;

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw ValueError(source + ": " + key + ": " + what);
  }
  const json& field(const json& j, const std::string& key, const std::string& name) const {
    if (!j.is_object()) fail(key, std::string("expected an object, got ") + j.type_name());
    auto it = j.find(name);
    if (it == j.end()) fail(key, "missing field '" + name + "'");
    return *it;
  }
  std::string str(const json& j, const std::string& key, const std::string& name) const {
    const json& v = field(j, key, name);
    if (!v.is_string()) fail(key + "." + name, std::string("expected a string, got ") + v.type_name());
    return v.get<std::string>();
  }
  std::string str_or(const json& j, const std::string& key, const std::string& name, const std::string& dflt) const {
    if (!j.contains(name) || j[name].is_null()) return dflt;
    return str(j, key, name);
  }
  bool flag(const json& j, const std::string& key, const std::string& name, bool dflt) const {
    if (!j.contains(name) || j[name].is_null()) return dflt;
    if (!j[name].is_boolean()) fail(key + "." + name, std::string("expected true/false, got ") + j[name].type_name());
    return j[name].get<bool>();
  }
  int64_t integer(const json& v, const std::string& key) const {
    if (!v.is_number_integer()) fail(key, std::string("expected an integer, got ") + v.type_name());
    return v.get<int64_t>();
  }
  std::string type(const json& j, const std::string& key) const { return str(j, key, "type"); }

  Vocab vocab(const json& j, const std::string& key) const {
    Vocab v;
    if (!j.is_object()) fail(key, std::string("expected an object {token: id}, got ") + j.type_name());
    for (auto it = j.begin(); it != j.end(); ++it) {
      int64_t id = integer(it.value(), key + "['" + it.key() + "']");
      if (id < 0 || id >= kMaxTokenId)
        fail(key + "['" + it.key() + "']", "id out of range: " + std::to_string(id) + " (ids must be below " +
                                               std::to_string(kMaxTokenId) + ")");
      v.add(it.key(), int32_t(id), source + ": " + key + "['" + it.key() + "']");
    }
    return v;
  }

  Normalizer normalizer(const json& j, const std::string& key) const {
    Normalizer n;
    std::string t = type(j, key);
    using K = Normalizer::Kind;
    if (t == "BertNormalizer") {
      n.kind = K::Bert;
      n.clean_text = flag(j, key, "clean_text", true);
      n.handle_chinese_chars = flag(j, key, "handle_chinese_chars", true);
      n.lowercase = flag(j, key, "lowercase", true);
      if (j.contains("strip_accents") && !j["strip_accents"].is_null())
        n.strip_accents = flag(j, key, "strip_accents", true);
    } else if (t == "NFC") n.kind = K::NFC;
    else if (t == "NFD") n.kind = K::NFD;
    else if (t == "NFKC") n.kind = K::NFKC;
    else if (t == "NFKD") n.kind = K::NFKD;
    else if (t == "Lowercase") n.kind = K::Lowercase;
    else if (t == "StripAccents") n.kind = K::StripAccents;
    else if (t == "Strip") {
      n.kind = K::Strip;
      n.left = flag(j, key, "strip_left", true);
      n.right = flag(j, key, "strip_right", true);
    } else if (t == "Replace") {
      n.kind = K::Replace;
      n.pattern = string_pattern(j, key);
      n.content = str(j, key, "content");
    } else if (t == "Prepend") {
      n.kind = K::Prepend;
      n.content = str(j, key, "prepend");
    } else if (t == "Sequence") {
      n.kind = K::Sequence;
      const json& list = field(j, key, "normalizers");
      if (!list.is_array()) fail(key + ".normalizers", "expected an array");
      for (size_t i = 0; i < list.size(); ++i)
        n.children.push_back(normalizer(list[i], key + ".normalizers[" + std::to_string(i) + "]"));
    } else {
      fail(key + ".type", "normalizer '" + t +
                              "' is not supported (supported: BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, "
                              "StripAccents, Strip, Replace, Prepend, Sequence)");
    }
    return n;
  }

  // {"String": "…"} (Replace's pattern); Regex patterns are refused.
  std::string string_pattern(const json& j, const std::string& key) const {
    const json& pat = field(j, key, "pattern");
    if (!pat.is_object() || !pat.contains("String") || !pat["String"].is_string())
      fail(key + ".pattern", "only {\"String\": …} patterns are supported (not Regex)");
    return pat["String"].get<std::string>();
  }

  // Metaspace's fields, pre-tokenizer and decoder alike: replacement, and
  // prepend_scheme (or the older add_prefix_space: true = "always").
  template <class T>
  void metaspace(const json& j, const std::string& key, T& m) const {
    m.replacement = str_or(j, key, "replacement", "\u2581");
    if (m.replacement.empty()) fail(key + ".replacement", "must not be empty");
    if (j.contains("prepend_scheme")) {
      m.prepend_scheme = str(j, key, "prepend_scheme");
      if (m.prepend_scheme != "always" && m.prepend_scheme != "first" && m.prepend_scheme != "never")
        fail(key + ".prepend_scheme", "expected \"always\", \"first\" or \"never\", got '" + m.prepend_scheme + "'");
    } else {
      m.prepend_scheme = flag(j, key, "add_prefix_space", true) ? "always" : "never";
    }
    m.split = flag(j, key, "split", true);
  }

  PreTokenizer pre_tokenizer(const json& j, const std::string& key) const {
    PreTokenizer p;
    std::string t = type(j, key);
    using K = PreTokenizer::Kind;
    if (t == "ByteLevel") {
      p.kind = K::ByteLevel;
      p.add_prefix_space = flag(j, key, "add_prefix_space", true);
      p.trim_offsets = flag(j, key, "trim_offsets", true);
      p.use_regex = flag(j, key, "use_regex", true);
    } else if (t == "BertPreTokenizer") p.kind = K::Bert;
    else if (t == "Whitespace") p.kind = K::Whitespace;
    else if (t == "WhitespaceSplit") p.kind = K::WhitespaceSplit;
    else if (t == "Digits") {
      p.kind = K::Digits;
      p.individual_digits = flag(j, key, "individual_digits", false);
    } else if (t == "Punctuation") {
      p.kind = K::Punctuation;
      std::string behavior = str_or(j, key, "behavior", "Isolated");
      if (behavior != "Isolated") fail(key + ".behavior", "only 'Isolated' is supported, got '" + behavior + "'");
    } else if (t == "Metaspace") {
      p.kind = K::Metaspace;
      metaspace(j, key, p);
    } else if (t == "Sequence") {
      p.kind = K::Sequence;
      const json& list = field(j, key, "pretokenizers");
      if (!list.is_array()) fail(key + ".pretokenizers", "expected an array");
      for (size_t i = 0; i < list.size(); ++i)
        p.children.push_back(pre_tokenizer(list[i], key + ".pretokenizers[" + std::to_string(i) + "]"));
    } else {
      fail(key + ".type", "pre-tokenizer '" + t +
                              "' is not supported (supported: ByteLevel, BertPreTokenizer, Whitespace, "
                              "WhitespaceSplit, Digits, Punctuation, Metaspace, Sequence)");
    }
    return p;
  }

  std::pair<std::string, int64_t> token_pair(const json& j, const std::string& key) const {
    if (!j.is_array() || j.size() != 2 || !j[0].is_string())
      fail(key, "expected [\"token\", id]");
    return {j[0].get<std::string>(), integer(j[1], key + "[1]")};
  }

  PostProcessor post_processor(const json& j, const std::string& key) const {
    std::string t = type(j, key);
    if (t == "BertProcessing") {
      auto [cls, cls_id] = token_pair(field(j, key, "cls"), key + ".cls");
      auto [sep, sep_id] = token_pair(field(j, key, "sep"), key + ".sep");
      return PostProcessor::bert(cls_id, sep_id, cls, sep);
    }
    if (t == "RobertaProcessing") {
      auto [cls, cls_id] = token_pair(field(j, key, "cls"), key + ".cls");
      auto [sep, sep_id] = token_pair(field(j, key, "sep"), key + ".sep");
      PostProcessor p = PostProcessor::roberta(cls_id, sep_id, cls, sep);
      p.trim_offsets = flag(j, key, "trim_offsets", true);
      p.add_prefix_space = flag(j, key, "add_prefix_space", true);
      return p;
    }
    if (t == "ByteLevel") {
      PostProcessor p;
      p.kind = PostProcessor::Kind::ByteLevel;
      p.trim_offsets = flag(j, key, "trim_offsets", true);
      p.add_prefix_space = flag(j, key, "add_prefix_space", true);
      return p;
    }
    if (t == "TemplateProcessing") {
      PostProcessor p;
      p.kind = PostProcessor::Kind::Template;
      auto pieces = [&](const std::string& name) {
        std::vector<TemplatePiece> out;
        const json& list = field(j, key, name);
        if (!list.is_array()) fail(key + "." + name, "expected an array");
        for (size_t i = 0; i < list.size(); ++i) {
          std::string k = key + "." + name + "[" + std::to_string(i) + "]";
          const json& e = list[i];
          if (e.contains("Sequence")) {
            out.push_back({true, str(e["Sequence"], k + ".Sequence", "id"), integer(e["Sequence"].value("type_id", json(0)), k)});
          } else if (e.contains("SpecialToken")) {
            out.push_back({false, str(e["SpecialToken"], k + ".SpecialToken", "id"),
                           integer(e["SpecialToken"].value("type_id", json(0)), k)});
          } else {
            fail(k, "expected {\"Sequence\": …} or {\"SpecialToken\": …}");
          }
        }
        return out;
      };
      p.single = pieces("single");
      p.pair = pieces("pair");
      const json& specials = field(j, key, "special_tokens");
      if (!specials.is_object()) fail(key + ".special_tokens", "expected an object");
      for (auto it = specials.begin(); it != specials.end(); ++it) {
        std::string k = key + ".special_tokens['" + it.key() + "']";
        SpecialTokenIds s;
        const json& ids = field(it.value(), k, "ids");
        if (!ids.is_array()) fail(k + ".ids", "expected an array");
        for (size_t i = 0; i < ids.size(); ++i) s.ids.push_back(integer(ids[i], k + ".ids[" + std::to_string(i) + "]"));
        const json& toks = field(it.value(), k, "tokens");
        for (const json& tk : toks) {
          if (!tk.is_string()) fail(k + ".tokens", "expected strings");
          s.tokens.push_back(tk.get<std::string>());
        }
        if (s.tokens.size() != s.ids.size()) fail(k, "ids and tokens differ in length");
        p.special_tokens[it.key()] = s;
      }
      for (const auto* list : {&p.single, &p.pair})
        for (const TemplatePiece& tp : *list)
          if (!tp.is_sequence && !p.special_tokens.count(tp.name))
            fail(key, "template uses special token '" + tp.name + "' missing from special_tokens");
      return p;
    }
    fail(key + ".type", "post-processor '" + t +
                            "' is not supported (supported: TemplateProcessing, BertProcessing, "
                            "RobertaProcessing, ByteLevel)");
  }

  Decoder decoder(const json& j, const std::string& key) const {
    Decoder d;
    std::string t = type(j, key);
    using K = Decoder::Kind;
    if (t == "ByteLevel") d.kind = K::ByteLevel;
    else if (t == "WordPiece") {
      d.kind = K::WordPiece;
      d.prefix = str_or(j, key, "prefix", "##");
      d.cleanup = flag(j, key, "cleanup", true);
    } else if (t == "Fuse") d.kind = K::Fuse;
    else if (t == "BPEDecoder") {
      d.kind = K::BPEDecoder;
      d.suffix = str_or(j, key, "suffix", "</w>");
    } else if (t == "Replace") {
      d.kind = K::Replace;
      d.pattern = string_pattern(j, key);
      d.content = str(j, key, "content");
    } else if (t == "ByteFallback") {
      d.kind = K::ByteFallback;
    } else if (t == "Strip") {
      d.kind = K::Strip;
      d.content = str(j, key, "content");
      const int64_t start = integer(field(j, key, "start"), key + ".start");
      const int64_t stop = integer(field(j, key, "stop"), key + ".stop");
      if (start < 0 || stop < 0) fail(key, "start and stop must be >= 0");
      d.start = size_t(start), d.stop = size_t(stop);
    } else if (t == "Metaspace") {
      d.kind = K::Metaspace;
      metaspace(j, key, d);
    } else if (t == "Sequence") {
      d.kind = K::Sequence;
      const json& list = field(j, key, "decoders");
      if (!list.is_array()) fail(key + ".decoders", "expected an array");
      for (size_t i = 0; i < list.size(); ++i)
        d.children.push_back(decoder(list[i], key + ".decoders[" + std::to_string(i) + "]"));
    } else {
      fail(key + ".type", "decoder '" + t +
                              "' is not supported (supported: ByteLevel, WordPiece, Fuse, BPEDecoder, Replace, "
                              "ByteFallback, Strip, Metaspace, Sequence)");
    }
    return d;
  }

  std::shared_ptr<const Model> model(const json& j) const {
    const std::string key = "model";
    if (!j.is_object()) fail(key, std::string("expected an object, got ") + j.type_name());
    std::string t = j.contains("type") ? type(j, key)
                    : j.contains("merges")                      ? "BPE"
                    : j.contains("max_input_chars_per_word")    ? "WordPiece"
                                                                : "WordLevel";
    if (t != "BPE" && t != "WordPiece" && t != "WordLevel")
      fail(key + ".type", "model type '" + t + "' is not supported (supported: BPE, WordPiece, WordLevel)");
    Vocab v = vocab(field(j, key, "vocab"), key + ".vocab");
    if (t == "BPE") {
      BpeOptions o;
      if (j.contains("unk_token") && !j["unk_token"].is_null()) o.unk_token = str(j, key, "unk_token");
      o.continuing_subword_prefix = str_or(j, key, "continuing_subword_prefix", "");
      o.end_of_word_suffix = str_or(j, key, "end_of_word_suffix", "");
      o.fuse_unk = flag(j, key, "fuse_unk", false);
      o.byte_fallback = flag(j, key, "byte_fallback", false);
      o.ignore_merges = flag(j, key, "ignore_merges", false);
      std::vector<Merge> merges;
      const json& list = field(j, key, "merges");
      if (!list.is_array()) fail(key + ".merges", "expected an array");
      for (size_t i = 0; i < list.size(); ++i) {
        std::string k = key + ".merges[" + std::to_string(i) + "]";
        const json& m = list[i];
        if (m.is_string()) {
          std::string s = m.get<std::string>();
          size_t sp = s.find(' ');
          if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
            fail(k, "expected 'left right', got '" + s + "'");
          merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
          merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
        } else {
          fail(k, "expected \"left right\" or [\"left\", \"right\"]");
        }
      }
      return std::make_shared<BpeModel>(std::move(v), std::move(merges), o, source + ": model.merges");
    }
    if (t == "WordPiece") {
      int64_t max_chars = j.contains("max_input_chars_per_word") ? integer(j["max_input_chars_per_word"], key + ".max_input_chars_per_word") : 100;
      return std::make_shared<WordPieceModel>(std::move(v), str_or(j, key, "unk_token", "[UNK]"),
                                              str_or(j, key, "continuing_subword_prefix", "##"), size_t(std::max<int64_t>(max_chars, 0)));
    }
    if (t == "WordLevel") return std::make_shared<WordLevelModel>(std::move(v), str_or(j, key, "unk_token", "[UNK]"));
    fail(key + ".type", "model type '" + t + "' is not supported (supported: BPE, WordPiece, WordLevel)");
  }
};

}  // namespace

Tokenizer Tokenizer::from_json(std::string_view text, const std::string& source) {
  std::string owned(text);
  json j;
  try {
    j = parse_json(owned, source);
  } catch (const json::parse_error& e) {
    throw ValueError(source + ": not valid JSON at " + detail::line_col(owned, e.byte ? e.byte - 1 : 0) + " (" +
                     strip_json_prefix(e.what()) + ")");
  }
  Reader r{source};
  if (!j.is_object()) r.fail("(top level)", std::string("expected an object, got ") + j.type_name());
  Tokenizer t;
  try {
    t.model = r.model(r.field(j, "(top level)", "model"));
    if (j.contains("normalizer") && !j["normalizer"].is_null()) t.normalizer = r.normalizer(j["normalizer"], "normalizer");
    if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null())
      t.pre_tokenizer = r.pre_tokenizer(j["pre_tokenizer"], "pre_tokenizer");
    if (j.contains("post_processor") && !j["post_processor"].is_null())
      t.post_processor = r.post_processor(j["post_processor"], "post_processor");
    if (j.contains("decoder") && !j["decoder"].is_null()) t.decoder = r.decoder(j["decoder"], "decoder");
    if (j.contains("added_tokens") && !j["added_tokens"].is_null()) {
      const json& list = j["added_tokens"];
      if (!list.is_array()) r.fail("added_tokens", "expected an array");
      for (size_t i = 0; i < list.size(); ++i) {
        std::string k = "added_tokens[" + std::to_string(i) + "]";
        AddedToken a;
        a.id = r.integer(r.field(list[i], k, "id"), k + ".id");
        a.content = r.str(list[i], k, "content");
        a.special = r.flag(list[i], k, "special", false);
        a.single_word = r.flag(list[i], k, "single_word", false);
        a.lstrip = r.flag(list[i], k, "lstrip", false);
        a.rstrip = r.flag(list[i], k, "rstrip", false);
        a.normalized = r.flag(list[i], k, "normalized", !a.special);
        if (a.id < 0) r.fail(k + ".id", "negative id " + std::to_string(a.id));
        // An id sets the vocabulary size (the embedding rows): one token at 2^30 would ask for gigabytes.
        if (a.id >= kMaxTokenId)
          r.fail(k + ".id", "id " + std::to_string(a.id) + " is not below " + std::to_string(kMaxTokenId));
        if (a.content.empty()) r.fail(k + ".content", "empty token");
        for (const AddedToken& b : t.added_tokens) {
          if (b.id == a.id) r.fail(k, "duplicate id " + std::to_string(a.id) + " ('" + b.content + "' and '" + a.content + "')");
          if (b.content == a.content) r.fail(k, "duplicate token '" + a.content + "'");
        }
        if (auto v = t.model->vocab().find(a.content); v && *v != a.id)
          r.fail(k, "'" + a.content + "' has id " + std::to_string(a.id) + " but the model vocabulary says " + std::to_string(*v));
        if (const std::string* other = t.model->vocab().token(a.id); other && *other != a.content)
          r.fail(k, "id " + std::to_string(a.id) + " is '" + a.content + "' but the model vocabulary has '" + *other + "'");
        t.added_tokens.push_back(a);
      }
    }
    // The post-processor's ids index the vocabulary like any other.
    if (t.post_processor)
      for (const auto& [name, st] : t.post_processor->special_tokens)
        for (int64_t id : st.ids)
          if (id < 0 || id >= t.vocab_size())
            r.fail("post_processor.special_tokens['" + name + "']",
                   "id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(t.vocab_size()));
  } catch (const json::exception& e) {
    throw ValueError(source + ": " + strip_json_prefix(e.what()));
  }
  return t;
}

}  // namespace qkv::tokenizers
