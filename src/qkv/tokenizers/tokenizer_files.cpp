// GPT-2 vocab.json + merges.txt, BERT vocab.txt, and finding a tokenizer on disk.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "file_util.h"
#include "qkv/core/json_parse.h"
#include "qkv/core/error.h"
#include "qkv/tokenizers/bpe.h"
#include "qkv/tokenizers/sentencepiece.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/tokenizers/utf8.h"
#include "qkv/tokenizers/wordpiece.h"

namespace qkv::tokenizers {

namespace fs = std::filesystem;

namespace {

Vocab parse_vocab_json(const std::string& path) {
  std::string text = detail::read_file(path);
  nlohmann::json j;
  try {
    j = parse_json(text, path);
  } catch (const nlohmann::json::parse_error& e) {
    throw ValueError(path + ": not valid JSON at " + detail::line_col(text, e.byte ? e.byte - 1 : 0) + " (" +
                     e.what() + ")");
  }
  if (!j.is_object()) throw ValueError(path + ": expected a JSON object {token: id}, got " + j.type_name());
  Vocab v;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_number_integer())
      throw ValueError(path + ": key '" + it.key() + "': id must be an integer, got " + it.value().type_name());
    int64_t id = it.value().get<int64_t>();
    if (id < 0 || id >= detail::kMaxTokenId)
      throw ValueError(path + ": key '" + it.key() + "': id " + std::to_string(id) + " is outside [0, " +
                       std::to_string(detail::kMaxTokenId) + ")");
    v.add(it.key(), int32_t(id), path + ": key '" + it.key() + "'");
  }
  return v;
}

std::vector<Merge> parse_merges(const std::string& path, const Vocab& vocab) {
  std::string text = detail::read_file(path);
  std::vector<Merge> merges;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (line_no == 1 && line.starts_with("#version"))) continue;
    size_t sp = line.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 == line.size() || line.find(' ', sp + 1) != std::string::npos)
      throw ValueError(path + " line " + std::to_string(line_no) + ": expected 'left right' (two tokens), got '" +
                       line + "'");
    std::string a = line.substr(0, sp), b = line.substr(sp + 1);
    for (const std::string* t : std::initializer_list<const std::string*>{&a, &b, nullptr}) {
      std::string tok = t ? *t : a + b;
      if (!vocab.find(tok))
        throw ValueError(path + " line " + std::to_string(line_no) + ": " + (t ? "token '" : "merged token '") + tok +
                         "' is not in the vocabulary");
    }
    merges.emplace_back(std::move(a), std::move(b));
  }
  return merges;
}

}  // namespace

Tokenizer Tokenizer::gpt2(const std::string& vocab_json, const std::string& merges_txt) {
  Vocab vocab = parse_vocab_json(vocab_json);
  std::vector<Merge> merges = parse_merges(merges_txt, vocab);
  Tokenizer t;
  t.pre_tokenizer = PreTokenizer::byte_level(false);
  auto bpe = std::make_shared<BpeModel>(std::move(vocab), std::move(merges), BpeOptions{}, merges_txt);
  if (!bpe->has_byte_alphabet())
    throw ValueError(vocab_json + ": not a byte-level vocabulary (some of the 256 byte tokens are missing)");
  t.model = bpe;
  PostProcessor post;
  post.kind = PostProcessor::Kind::ByteLevel;
  post.trim_offsets = false;
  t.post_processor = post;
  Decoder d;
  d.kind = Decoder::Kind::ByteLevel;
  t.decoder = d;
  if (auto id = t.model->vocab().find("<|endoftext|>")) {
    AddedToken a;
    a.id = *id;
    a.content = "<|endoftext|>";
    t.added_tokens.push_back(a);
  }
  return t;
}

Tokenizer Tokenizer::bert(const std::string& vocab_txt, bool lowercase) {
  std::string text = detail::read_file(vocab_txt);
  Vocab vocab;
  int32_t id = 0;
  for (size_t pos = 0; pos < text.size(); ++id) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string tok = text.substr(pos, nl - pos);
    if (!tok.empty() && tok.back() == '\r') tok.pop_back();
    pos = nl + 1;
    // Hugging Face reads vocab.txt as UTF-8 text. Other bytes would become
    // U+FFFD in tokenizer.json, where two such tokens collide and an id is lost.
    if (!is_valid_utf8(tok))
      throw ValueError(vocab_txt + " line " + std::to_string(id + 1) + ": token is not valid UTF-8");
    vocab.add(tok, id, vocab_txt + " line " + std::to_string(id + 1));
  }
  for (const char* s : {"[UNK]", "[CLS]", "[SEP]"})
    if (!vocab.find(s)) throw ValueError(vocab_txt + ": BERT vocabulary lacks " + s);
  Tokenizer t;
  t.normalizer = Normalizer::bert(lowercase);
  PreTokenizer pre;
  pre.kind = PreTokenizer::Kind::Bert;
  t.pre_tokenizer = pre;
  int64_t cls = *vocab.find("[CLS]"), sep = *vocab.find("[SEP]");
  for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    if (auto i = vocab.find(s)) {
      AddedToken a;
      a.id = *i;
      a.content = s;
      t.added_tokens.push_back(a);
    }
  }
  t.model = std::make_shared<WordPieceModel>(std::move(vocab));
  PostProcessor post = PostProcessor::bert(cls, sep);
  post.kind = PostProcessor::Kind::Template;
  t.post_processor = post;
  Decoder d;
  d.kind = Decoder::Kind::WordPiece;
  t.decoder = d;
  return t;
}

std::string tokenizer_file_in(const std::string& dir) {
  for (const char* name : {"tokenizer.json", "tokenizer.model"})
    if (fs::exists(fs::path(dir) / name)) return (fs::path(dir) / name).string();
  return "";
}

Tokenizer Tokenizer::from_path(const std::string& path) {
  fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    if (std::string f = tokenizer_file_in(path); !f.empty()) return from_path(f);
    if (fs::exists(p / "vocab.json") && fs::exists(p / "merges.txt"))
      return gpt2((p / "vocab.json").string(), (p / "merges.txt").string());
    if (fs::exists(p / "vocab.txt")) return bert((p / "vocab.txt").string());
    throw IOError(path + ": no tokenizer.json, tokenizer.model, vocab.json + merges.txt, or vocab.txt in this directory");
  }
  // A model directory's tokenizer.json asked for by name may be its
  // tokenizer.model: when there is no tokenizer.json, or one qkv cannot read
  // (a Hub Llama's ships both; the SentencePiece file is the original).
  if (const fs::path spm = p.parent_path() / "tokenizer.model";
      p.filename() == "tokenizer.json" && fs::exists(spm, ec)) {
    if (!fs::exists(p, ec)) return sentencepiece_tokenizer(spm.string());
    try {
      return from_json(detail::read_file(path), path);
    } catch (const ValueError&) {
      return sentencepiece_tokenizer(spm.string());
    }
  }
  if (!fs::exists(p, ec)) throw IOError(path + ": no such file or directory");
  std::string name = p.filename().string();
  if (name.ends_with(".model")) return sentencepiece_tokenizer(path);
  if (name.ends_with(".txt")) return bert(path);
  if (name == "vocab.json" || name == "encoder.json") {
    fs::path merges = p.parent_path() / (name == "vocab.json" ? "merges.txt" : "vocab.bpe");
    if (!fs::exists(merges)) throw IOError(path + ": expected " + merges.string() + " next to it");
    return gpt2(path, merges.string());
  }
  return from_json(detail::read_file(path), path);
}

void Tokenizer::save(const std::string& path) const {
  if (model && model->kind() == ModelKind::SentencePiece) {  // the file it came from, beside path
    const fs::path p = fs::path(path).parent_path() / "tokenizer.model";
    detail::write_file_atomic(p.string(), static_cast<const SentencePieceModel&>(*model).serialized());
    return;
  }
  detail::write_file_atomic(path, to_json());
}

}  // namespace qkv::tokenizers
