// Hugging Face tokenizer.json, writing: a file Hugging Face `tokenizers`
// loads back and encodes identically (reading is in tokenizer_json.cpp).
#include <nlohmann/json.hpp>

#include "qkv/core/error.h"
#include "qkv/tokenizers/bpe.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/tokenizers/wordpiece.h"

namespace qkv::tokenizers {

using ojson = nlohmann::ordered_json;

namespace {

// Metaspace's fields, as the pre-tokenizer and the decoder both write them.
template <class T>
void metaspace_json(ojson& j, const T& m) {
  j["type"] = "Metaspace";
  j["replacement"] = m.replacement;
  j["prepend_scheme"] = m.prepend_scheme;
  j["split"] = m.split;
}
ojson normalizer_json(const Normalizer& n) {
  using K = Normalizer::Kind;
  ojson j;
  switch (n.kind) {
    case K::Bert:
      j["type"] = "BertNormalizer";
      j["clean_text"] = n.clean_text;
      j["handle_chinese_chars"] = n.handle_chinese_chars;
      j["strip_accents"] = n.strip_accents ? ojson(*n.strip_accents) : ojson(nullptr);
      j["lowercase"] = n.lowercase;
      break;
    case K::NFC: j["type"] = "NFC"; break;
    case K::NFD: j["type"] = "NFD"; break;
    case K::NFKC: j["type"] = "NFKC"; break;
    case K::NFKD: j["type"] = "NFKD"; break;
    case K::Lowercase: j["type"] = "Lowercase"; break;
    case K::StripAccents: j["type"] = "StripAccents"; break;
    case K::Strip:
      j["type"] = "Strip";
      j["strip_left"] = n.left;
      j["strip_right"] = n.right;
      break;
    case K::Replace:
      j["type"] = "Replace";
      j["pattern"] = {{"String", n.pattern}};
      j["content"] = n.content;
      break;
    case K::Prepend:
      j["type"] = "Prepend";
      j["prepend"] = n.content;
      break;
    case K::Sequence:
      j["type"] = "Sequence";
      j["normalizers"] = ojson::array();
      for (const Normalizer& c : n.children) j["normalizers"].push_back(normalizer_json(c));
      break;
  }
  return j;
}

ojson pre_tokenizer_json(const PreTokenizer& p) {
  using K = PreTokenizer::Kind;
  ojson j;
  switch (p.kind) {
    case K::ByteLevel:
      j["type"] = "ByteLevel";
      j["add_prefix_space"] = p.add_prefix_space;
      j["trim_offsets"] = p.trim_offsets;
      j["use_regex"] = p.use_regex;
      break;
    case K::Bert: j["type"] = "BertPreTokenizer"; break;
    case K::Whitespace: j["type"] = "Whitespace"; break;
    case K::WhitespaceSplit: j["type"] = "WhitespaceSplit"; break;
    case K::Digits:
      j["type"] = "Digits";
      j["individual_digits"] = p.individual_digits;
      break;
    case K::Punctuation:
      j["type"] = "Punctuation";
      j["behavior"] = "Isolated";
      break;
    case K::Metaspace: metaspace_json(j, p); break;
    case K::Sequence:
      j["type"] = "Sequence";
      j["pretokenizers"] = ojson::array();
      for (const PreTokenizer& c : p.children) j["pretokenizers"].push_back(pre_tokenizer_json(c));
      break;
  }
  return j;
}

ojson post_processor_json(const PostProcessor& p) {
  using K = PostProcessor::Kind;
  ojson j;
  auto first_special = [&](size_t i) -> ojson {  // single = [cls, A, sep]
    const std::string& name = p.single.at(i).name;
    return ojson::array({name, p.special_tokens.at(name).ids.at(0)});
  };
  switch (p.kind) {
    case K::Bert:
      j["type"] = "BertProcessing";
      j["sep"] = first_special(2);
      j["cls"] = first_special(0);
      break;
    case K::Roberta:
      j["type"] = "RobertaProcessing";
      j["sep"] = first_special(2);
      j["cls"] = first_special(0);
      j["trim_offsets"] = p.trim_offsets;
      j["add_prefix_space"] = p.add_prefix_space;
      break;
    case K::ByteLevel:
      j["type"] = "ByteLevel";
      j["add_prefix_space"] = p.add_prefix_space;
      j["trim_offsets"] = p.trim_offsets;
      j["use_regex"] = true;
      break;
    case K::Template: {
      j["type"] = "TemplateProcessing";
      auto pieces = [](const std::vector<TemplatePiece>& list) {
        ojson a = ojson::array();
        for (const TemplatePiece& t : list)
          a.push_back({{t.is_sequence ? "Sequence" : "SpecialToken", {{"id", t.name}, {"type_id", t.type_id}}}});
        return a;
      };
      j["single"] = pieces(p.single);
      j["pair"] = pieces(p.pair);
      ojson s = ojson::object();
      for (const auto& [name, st] : p.special_tokens) s[name] = {{"id", name}, {"ids", st.ids}, {"tokens", st.tokens}};
      j["special_tokens"] = s;
      break;
    }
  }
  return j;
}

ojson decoder_json(const Decoder& d) {
  using K = Decoder::Kind;
  ojson j;
  switch (d.kind) {
    case K::ByteLevel:
      j["type"] = "ByteLevel";
      j["add_prefix_space"] = true;
      j["trim_offsets"] = true;
      j["use_regex"] = true;
      break;
    case K::WordPiece:
      j["type"] = "WordPiece";
      j["prefix"] = d.prefix;
      j["cleanup"] = d.cleanup;
      break;
    case K::Fuse: j["type"] = "Fuse"; break;
    case K::BPEDecoder:
      j["type"] = "BPEDecoder";
      j["suffix"] = d.suffix;
      break;
    case K::Replace:
      j["type"] = "Replace";
      j["pattern"] = {{"String", d.pattern}};
      j["content"] = d.content;
      break;
    case K::ByteFallback: j["type"] = "ByteFallback"; break;
    case K::Strip:
      j["type"] = "Strip";
      j["content"] = d.content;
      j["start"] = d.start;
      j["stop"] = d.stop;
      break;
    case K::Metaspace: metaspace_json(j, d); break;
    case K::Sequence:
      j["type"] = "Sequence";
      j["decoders"] = ojson::array();
      for (const Decoder& c : d.children) j["decoders"].push_back(decoder_json(c));
      break;
  }
  return j;
}

// The vocabulary as a JSON object in id order, written by hand (an ordered_json
// object of 50k keys is quadratic to build).
std::string vocab_text(const Vocab& v) {
  std::string out = "{";
  bool first = true;
  for (const auto& [tok, id] : v.by_id()) {
    out += first ? "\n      " : ",\n      ";
    first = false;
    out += ojson(tok).dump(-1, ' ', false, ojson::error_handler_t::replace);
    out += ": " + std::to_string(id);
  }
  return out + "\n    }";
}

}  // namespace

std::string Tokenizer::to_json() const {
  if (!model) throw ValueError("to_json: tokenizer has no model");
  ojson j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = ojson::array();
  for (const AddedToken& a : added_tokens)
    j["added_tokens"].push_back({{"id", a.id},
                                 {"content", a.content},
                                 {"single_word", a.single_word},
                                 {"lstrip", a.lstrip},
                                 {"rstrip", a.rstrip},
                                 {"normalized", a.normalized},
                                 {"special", a.special}});
  j["normalizer"] = normalizer ? normalizer_json(*normalizer) : ojson(nullptr);
  j["pre_tokenizer"] = pre_tokenizer ? pre_tokenizer_json(*pre_tokenizer) : ojson(nullptr);
  j["post_processor"] = post_processor ? post_processor_json(*post_processor) : ojson(nullptr);
  j["decoder"] = decoder ? decoder_json(*decoder) : ojson(nullptr);
  ojson m;
  std::string merges_text;
  switch (model->kind()) {
    case ModelKind::BPE: {
      const auto& bpe = static_cast<const BpeModel&>(*model);
      const BpeOptions& o = bpe.options();
      m["type"] = "BPE";
      m["dropout"] = nullptr;
      m["unk_token"] = o.unk_token ? ojson(*o.unk_token) : ojson(nullptr);
      m["continuing_subword_prefix"] = o.continuing_subword_prefix.empty() ? ojson(nullptr) : ojson(o.continuing_subword_prefix);
      m["end_of_word_suffix"] = o.end_of_word_suffix.empty() ? ojson(nullptr) : ojson(o.end_of_word_suffix);
      m["fuse_unk"] = o.fuse_unk;
      m["byte_fallback"] = o.byte_fallback;
      m["ignore_merges"] = o.ignore_merges;
      m["vocab"] = "@@QKV_VOCAB@@";
      m["merges"] = "@@QKV_MERGES@@";
      bool pairs = false;  // "a b" strings unless a side contains a space
      for (const Merge& mg : bpe.merges()) pairs = pairs || mg.first.find(' ') != std::string::npos || mg.second.find(' ') != std::string::npos;
      merges_text = "[";
      for (size_t i = 0; i < bpe.merges().size(); ++i) {
        const Merge& mg = bpe.merges()[i];
        merges_text += i ? ",\n      " : "\n      ";
        merges_text += pairs ? ojson::array({mg.first, mg.second}).dump() : ojson(mg.first + " " + mg.second).dump();
      }
      merges_text += bpe.merges().empty() ? "]" : "\n    ]";
      break;
    }
    case ModelKind::WordPiece: {
      const auto& wp = static_cast<const WordPieceModel&>(*model);
      m["type"] = "WordPiece";
      m["unk_token"] = wp.unk_token();
      m["continuing_subword_prefix"] = wp.prefix();
      m["max_input_chars_per_word"] = wp.max_input_chars_per_word();
      m["vocab"] = "@@QKV_VOCAB@@";
      break;
    }
    case ModelKind::SentencePiece:
      throw ValueError("a SentencePiece tokenizer has no tokenizer.json form in qkv; it is saved as tokenizer.model");
    case ModelKind::WordLevel:
      m["type"] = "WordLevel";
      m["vocab"] = "@@QKV_VOCAB@@";
      m["unk_token"] = static_cast<const WordLevelModel&>(*model).unk_token();
      break;
  }
  j["model"] = m;
  std::string out = j.dump(2, ' ', false, ojson::error_handler_t::replace);
  auto put = [&](const std::string& marker, const std::string& value) {
    size_t p = out.find("\"" + marker + "\"");
    if (p != std::string::npos) out.replace(p, marker.size() + 2, value);
  };
  put("@@QKV_VOCAB@@", vocab_text(model->vocab()));
  put("@@QKV_MERGES@@", merges_text);
  return out + "\n";
}

}  // namespace qkv::tokenizers
