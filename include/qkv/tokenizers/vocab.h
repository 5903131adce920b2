// qkv/tokenizers/vocab.h — token string ↔ id table shared by every model.
//
// Ids need not be dense in a file, but they must be unique and non-negative;
// `Vocab::add` rejects a duplicate id or token with a message naming both.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qkv::tokenizers {

// Hash that lets unordered_map<std::string, …> be searched with a string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

class Vocab {
 public:
  // Adds token with id; throws ValueError("<where>: duplicate …") on a repeated id or token.
  void add(const std::string& token, int32_t id, std::string_view where = "vocab");
  std::optional<int32_t> find(std::string_view token) const {
    auto it = ids_.find(token);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  // The token of id, or nullptr when id is not in the vocabulary.
  const std::string* token(int64_t id) const {
    if (id < 0 || size_t(id) >= tokens_.size() || !present_[size_t(id)]) return nullptr;
    return &tokens_[size_t(id)];
  }
  size_t size() const { return ids_.size(); }
  // One past the largest id (the embedding rows a model needs).
  int64_t id_bound() const { return int64_t(tokens_.size()); }
  // (token, id) pairs in id order.
  std::vector<std::pair<std::string, int32_t>> by_id() const;

 private:
  StringMap<int32_t> ids_;
  std::vector<std::string> tokens_;
  std::vector<bool> present_;
};

}  // namespace qkv::tokenizers
