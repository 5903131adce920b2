#include "qkv/tokenizers/wordpiece.h"

#include "qkv/core/error.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::tokenizers {

WordPieceModel::WordPieceModel(Vocab vocab, std::string unk_token, std::string prefix, size_t max_chars)
    : unk_token_(std::move(unk_token)), prefix_(std::move(prefix)), max_chars_(max_chars) {
  vocab_ = std::move(vocab);
  auto unk = vocab_.find(unk_token_);
  if (!unk) throw ValueError("WordPiece: unk token '" + unk_token_ + "' is not in the vocabulary");
  unk_id_ = *unk;
  for (const auto& [tok, id] : vocab_.by_id()) longest_token_ = std::max(longest_token_, tok.size());
}

void WordPieceModel::tokenize(std::string_view word, std::vector<Piece>& out) const {
  if (word.empty()) return;
  // character boundaries (a match must end on one)
  std::vector<uint32_t> bounds;
  bounds.reserve(word.size() + 1);
  for (size_t i = 0; i < word.size(); i += next_char(word, i).len) bounds.push_back(uint32_t(i));
  bounds.push_back(uint32_t(word.size()));
  const size_t n_chars = bounds.size() - 1;
  if (n_chars > max_chars_) {
    out.push_back({unk_id_, 0, uint32_t(word.size())});
    return;
  }
  const size_t first = out.size();
  std::string key;
  size_t ci = 0;  // current character index
  while (ci < n_chars) {
    size_t cj = n_chars;
    const size_t budget = longest_token_ + prefix_.size();
    while (cj > ci && bounds[cj] - bounds[ci] > budget) --cj;
    bool found = false;
    for (; cj > ci; --cj) {
      std::string_view sub = word.substr(bounds[ci], bounds[cj] - bounds[ci]);
      std::optional<int32_t> id;
      if (ci > 0) {
        key.assign(prefix_);
        key.append(sub);
        id = vocab_.find(key);
      } else {
        id = vocab_.find(sub);
      }
      if (id) {
        out.push_back({*id, bounds[ci], bounds[cj]});
        found = true;
        break;
      }
    }
    if (!found) {
      out.resize(first);
      out.push_back({unk_id_, 0, uint32_t(word.size())});
      return;
    }
    ci = cj;
  }
}

WordLevelModel::WordLevelModel(Vocab vocab, std::string unk_token) : unk_token_(std::move(unk_token)) {
  vocab_ = std::move(vocab);
}

void WordLevelModel::tokenize(std::string_view word, std::vector<Piece>& out) const {
  if (word.empty()) return;
  if (auto id = vocab_.find(word)) {
    out.push_back({*id, 0, uint32_t(word.size())});
    return;
  }
  auto unk = vocab_.find(unk_token_);
  if (!unk) throw ValueError("WordLevel: '" + std::string(word) + "' is not in the vocabulary and unk token '" +
                             unk_token_ + "' is missing");
  out.push_back({*unk, 0, uint32_t(word.size())});
}

}  // namespace qkv::tokenizers
