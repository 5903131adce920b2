#include "qkv/tokenizers/char_tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <set>

#include "file_util.h"
#include "qkv/core/error.h"
#include "qkv/tokenizers/bpe.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::tokenizers {

namespace {

std::string describe(char32_t cp, std::string_view utf8) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "U+%04X", unsigned(cp));
  std::string shown = cp < 0x20 || cp == 0x7F ? std::string() : "'" + std::string(utf8) + "' ";
  return shown + "(" + hex + ")";
}

}  // namespace

CharTokenizer CharTokenizer::build(std::string_view corpus) {
  if (corpus.empty()) throw ValueError("CharTokenizer::build: empty corpus");
  std::set<char32_t> seen;
  for (size_t i = 0; i < corpus.size();) {
    Utf8Char c = next_char(corpus, i);
    if (!c.valid)
      throw ValueError("CharTokenizer::build: invalid UTF-8 at byte " + std::to_string(i) + " of the corpus");
    seen.insert(c.cp);
    i += c.len;
  }
  std::vector<std::string> chars;
  for (char32_t cp : seen) chars.push_back(to_utf8(cp));
  return from_chars(chars);
}

CharTokenizer CharTokenizer::from_chars(const std::vector<std::string>& chars) {
  CharTokenizer t;
  t.ascii_.assign(128, -1);
  for (size_t id = 0; id < chars.size(); ++id) {
    const std::string& c = chars[id];
    if (c.empty() || next_char(c, 0).len != c.size() || !next_char(c, 0).valid)
      throw ValueError("CharTokenizer: token " + std::to_string(id) + " '" + c + "' is not a single UTF-8 character");
    if (!t.ids_.emplace(c, int32_t(id)).second)
      throw ValueError("CharTokenizer: duplicate character '" + c + "' (id " + std::to_string(id) + ")");
    if (c.size() == 1 && static_cast<unsigned char>(c[0]) < 128) t.ascii_[static_cast<unsigned char>(c[0])] = int32_t(id);
  }
  t.chars_ = chars;
  return t;
}

std::vector<int64_t> CharTokenizer::encode(std::string_view text) const {
  std::vector<int64_t> ids;
  ids.reserve(text.size());
  size_t index = 0;
  for (size_t i = 0; i < text.size(); ++index) {
    unsigned char b = static_cast<unsigned char>(text[i]);
    if (b < 128 && ascii_[b] >= 0) {
      ids.push_back(ascii_[b]);
      ++i;
      continue;
    }
    Utf8Char c = next_char(text, i);
    if (!c.valid)
      throw ValueError("CharTokenizer::encode: invalid UTF-8 byte at byte offset " + std::to_string(i));
    auto it = ids_.find(text.substr(i, c.len));
    if (it == ids_.end())
      throw ValueError("CharTokenizer::encode: character " + describe(c.cp, text.substr(i, c.len)) +
                       " at character index " + std::to_string(index) + " (byte offset " +
                       std::to_string(i) + ") is not in the vocabulary of " + std::to_string(chars_.size()) + " characters");
    ids.push_back(it->second);
    i += c.len;
  }
  return ids;
}

std::string CharTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  out.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    int64_t id = ids[i];
    if (id < 0 || id >= vocab_size())
      throw ValueError("CharTokenizer::decode: id " + std::to_string(id) + " at position " + std::to_string(i) +
                       " is out of range [0, " + std::to_string(vocab_size()) + ")");
    out += chars_[size_t(id)];
  }
  return out;
}

std::string CharTokenizer::to_json() const {
  Vocab v;
  for (size_t id = 0; id < chars_.size(); ++id) v.add(chars_[id], int32_t(id), "CharTokenizer");
  Tokenizer t;
  t.model = std::make_shared<BpeModel>(std::move(v), std::vector<Merge>{}, BpeOptions{});
  Decoder d;
  d.kind = Decoder::Kind::Fuse;
  t.decoder = d;
  return t.to_json();
}

void CharTokenizer::save(const std::string& path) const { detail::write_file_atomic(path, to_json()); }

CharTokenizer CharTokenizer::load(const std::string& path) {
  Tokenizer t = Tokenizer::from_json(detail::read_file(path), path);
  if (t.model->kind() == ModelKind::BPE && !static_cast<const BpeModel&>(*t.model).merges().empty())
    throw ValueError(path + ": not a character-level tokenizer (its BPE model has merges)");
  auto pairs = t.model->vocab().by_id();
  std::vector<std::string> chars;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (pairs[i].second != int32_t(i))
      throw ValueError(path + ": character ids must be 0..n-1 without gaps (missing id " + std::to_string(i) + ")");
    chars.push_back(pairs[i].first);
  }
  try {
    return from_chars(chars);
  } catch (const ValueError& e) {
    throw ValueError(path + ": " + e.what());
  }
}

}  // namespace qkv::tokenizers
