#include "qkv/tokenizers/vocab.h"

#include "qkv/core/error.h"

namespace qkv::tokenizers {

void Vocab::add(const std::string& token, int32_t id, std::string_view where) {
  if (id < 0) throw ValueError(std::string(where) + ": token '" + token + "' has negative id " + std::to_string(id));
  if (id > (1 << 30))
    throw ValueError(std::string(where) + ": token '" + token + "' has id " + std::to_string(id) +
                     ", larger than 2^30");
  if (auto it = ids_.find(token); it != ids_.end())
    throw ValueError(std::string(where) + ": duplicate token '" + token + "' (ids " + std::to_string(it->second) +
                     " and " + std::to_string(id) + ")");
  if (size_t(id) < tokens_.size() && present_[size_t(id)])
    throw ValueError(std::string(where) + ": duplicate id " + std::to_string(id) + " (tokens '" +
                     tokens_[size_t(id)] + "' and '" + token + "')");
  if (size_t(id) >= tokens_.size()) {
    tokens_.resize(size_t(id) + 1);
    present_.resize(size_t(id) + 1, false);
  }
  tokens_[size_t(id)] = token;
  present_[size_t(id)] = true;
  ids_.emplace(token, id);
}

std::vector<std::pair<std::string, int32_t>> Vocab::by_id() const {
  std::vector<std::pair<std::string, int32_t>> out;
  out.reserve(ids_.size());
  for (size_t i = 0; i < tokens_.size(); ++i)
    if (present_[i]) out.emplace_back(tokens_[i], int32_t(i));
  return out;
}

}  // namespace qkv::tokenizers
