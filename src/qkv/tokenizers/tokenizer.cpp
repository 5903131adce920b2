#include "qkv/tokenizers/tokenizer.h"

#include <algorithm>

#include "qkv/core/error.h"
#include "qkv/core/threading.h"
#include "qkv/tokenizers/bpe.h"
#include "qkv/tokenizers/sentencepiece.h"

namespace qkv::tokenizers {

void Tokenizer::split_added(std::string_view text, bool parse_special, std::vector<Segment>& out) const {
  out.clear();
  if (!parse_special || added_tokens.empty()) {
    out.push_back({0, uint32_t(text.size()), -1});
    return;
  }
  // leftmost match, longest on ties (Hugging Face's leftmost-longest Aho-Corasick)
  std::vector<size_t> next(added_tokens.size());
  for (size_t k = 0; k < added_tokens.size(); ++k)
    next[k] = added_tokens[k].content.empty() ? std::string_view::npos : text.find(added_tokens[k].content);
  size_t pos = 0;
  while (true) {
    size_t best = std::string_view::npos, best_len = 0, best_k = 0;
    for (size_t k = 0; k < added_tokens.size(); ++k) {
      if (next[k] != std::string_view::npos && next[k] < pos) next[k] = text.find(added_tokens[k].content, pos);
      size_t len = added_tokens[k].content.size();
      if (next[k] < best || (next[k] == best && next[k] != std::string_view::npos && len > best_len)) {
        best = next[k];
        best_len = len;
        best_k = k;
      }
    }
    if (best == std::string_view::npos) break;
    if (best > pos) out.push_back({uint32_t(pos), uint32_t(best), -1});
    out.push_back({uint32_t(best), uint32_t(best + best_len), added_tokens[best_k].id});
    pos = best + best_len;
  }
  if (pos < text.size() || out.empty()) out.push_back({uint32_t(pos), uint32_t(text.size()), -1});
}

void Tokenizer::encode_text(std::string_view text, uint32_t base, bool want_tokens, Encoding& out) const {
  if (text.empty()) return;
  if (!model) throw ValueError("tokenizer has no model");
  const Vocab& vocab = model->vocab();
  const auto* bpe = model->kind() == ModelKind::BPE ? static_cast<const BpeModel*>(model.get()) : nullptr;
  const bool byte_level = pre_tokenizer && pre_tokenizer->is_byte_level();
  const bool byte_bpe = byte_level && bpe && bpe->has_byte_alphabet();
  auto emit = [&](const Piece& p, uint32_t s, uint32_t e) {
    out.ids.push_back(p.id);
    if (want_tokens) {
      const std::string* t = vocab.token(p.id);
      out.tokens.push_back(t ? *t : std::string());
      out.offsets.push_back({s, e});
    }
  };
  std::vector<Span> words;
  std::vector<Piece> pieces;
  if (!normalizer && byte_bpe && pre_tokenizer->kind == PreTokenizer::Kind::ByteLevel &&
      !pre_tokenizer->add_prefix_space && pre_tokenizer->use_regex) {
    // GPT-2 fast path: no normalization, so offsets are the raw bytes themselves
    gpt2_split(text, words);
    for (Span w : words) {
      pieces.clear();
      bpe->tokenize_bytes(text.substr(w.start, w.end - w.start), pieces);
      for (const Piece& p : pieces) emit(p, base + w.start + p.start, base + w.start + p.end);
    }
    return;
  }
  NormalizedString ns = NormalizedString::identity(text, base);
  if (normalizer) normalize(*normalizer, ns);
  if (pre_tokenizer) {
    pre_tokenize(*pre_tokenizer, ns, words);
  } else if (!ns.text.empty()) {
    words.push_back({0, uint32_t(ns.text.size())});
  }
  for (Span w : words) {
    if (w.end <= w.start) continue;
    std::string_view word = std::string_view(ns.text).substr(w.start, w.end - w.start);
    pieces.clear();
    if (byte_bpe) {
      bpe->tokenize_bytes(word, pieces);
    } else if (byte_level) {
      // the model sees the byte-level alphabet; map its spans back to raw bytes
      std::string mapped = bytes_to_byte_level(word);
      std::vector<uint32_t> raw_at(mapped.size() + 1, uint32_t(word.size()));
      for (size_t i = 0, m = 0; i < word.size(); ++i) {
        size_t len = byte_to_utf8()[static_cast<unsigned char>(word[i])].size();
        for (size_t k = 0; k < len; ++k) raw_at[m + k] = uint32_t(i);
        m += len;
      }
      model->tokenize(mapped, pieces);
      for (Piece& p : pieces) {
        p.start = raw_at[p.start];
        p.end = raw_at[p.end];
      }
    } else {
      model->tokenize(word, pieces);
    }
    for (const Piece& p : pieces) {
      if (p.end > p.start) {
        auto [s, e] = ns.original_span(w.start + p.start, w.start + p.end);
        emit(p, s, e);
      } else if (model->kind() == ModelKind::SentencePiece) {  // "▁" alone: an empty span where it stands
        const size_t at = w.start + p.start;
        const uint32_t o = at < ns.start.size() ? ns.start[at] : ns.end.empty() ? base : ns.end.back();
        emit(p, o, o);
      }
    }
  }
}

Encoding Tokenizer::encode_single(std::string_view text, bool parse_special, bool want_tokens) const {
  Encoding e;
  std::vector<Segment> segments;
  split_added(text, parse_special, segments);
  for (const Segment& s : segments) {
    if (s.added_id >= 0) {
      e.ids.push_back(s.added_id);
      if (want_tokens) {
        e.tokens.emplace_back(text.substr(s.start, s.end - s.start));
        e.offsets.push_back({s.start, s.end});
      }
    } else {
      encode_text(text.substr(s.start, s.end - s.start), s.start, want_tokens, e);
    }
  }
  return e;
}

Encoding Tokenizer::encode(std::string_view text, EncodeOptions options) const {
  const PostProcessor* p = post_processor ? &*post_processor : nullptr;
  return post_process(p, encode_single(text, options.parse_special, true), nullptr, options.add_special_tokens);
}

Encoding Tokenizer::encode_pair(std::string_view a, std::string_view b, EncodeOptions options) const {
  const PostProcessor* p = post_processor ? &*post_processor : nullptr;
  Encoding eb = encode_single(b, options.parse_special, true);
  return post_process(p, encode_single(a, options.parse_special, true), &eb, options.add_special_tokens);
}

std::vector<int64_t> Tokenizer::encode_ids(std::string_view text, EncodeOptions options) const {
  if (options.add_special_tokens && post_processor) return encode(text, options).ids;
  return encode_single(text, options.parse_special, false).ids;
}

namespace {

void truncate_to(Encoding& e, size_t n) {
  if (e.size() <= n) return;
  e.ids.resize(n);
  if (!e.tokens.empty()) e.tokens.resize(n);
  if (!e.offsets.empty()) e.offsets.resize(n);
}

}  // namespace

void truncate_pair(Encoding& a, Encoding* b, const TruncationOptions& t, size_t added_special) {
  if (t.max_length == 0) return;
  size_t budget = t.max_length > added_special ? t.max_length - added_special : 0;
  size_t na = a.size(), nb = b ? b->size() : 0;
  if (na + nb <= budget) return;
  using S = TruncationOptions::Strategy;
  if (!b || t.strategy == S::OnlyFirst) {
    if (nb > budget) throw ValueError("truncation: only_first cannot fit: the second sequence alone has " +
                                      std::to_string(nb) + " tokens, max_length leaves " + std::to_string(budget));
    truncate_to(a, budget - nb);
  } else if (t.strategy == S::OnlySecond) {
    if (na > budget) throw ValueError("truncation: only_second cannot fit: the first sequence alone has " +
                                      std::to_string(na) + " tokens, max_length leaves " + std::to_string(budget));
    truncate_to(*b, budget - na);
  } else {
    // longest_first as Hugging Face's tokenizers (truncate_encodings): with
    // n1 ≤ n2 the two lengths, the longer keeps max(n1, budget − n1); when
    // both must be cut they get budget/2 each, the longer one (the second on
    // a tie) the odd token.
    const bool swap = na > nb;
    size_t n1 = std::min(na, nb), n2 = n1 > budget ? n1 : std::max(n1, budget - n1);
    if (n1 + n2 > budget) {
      n1 = budget / 2;
      n2 = n1 + budget % 2;
    }
    truncate_to(a, swap ? n2 : n1);
    truncate_to(*b, swap ? n1 : n2);
  }
}

void pad(Encoding& e, size_t length, const PaddingOptions& p) {
  if (e.size() >= length) return;
  size_t n = length - e.size();
  auto put = [&](auto& v, auto value) { v.insert(p.left ? v.begin() : v.end(), n, value); };
  put(e.ids, p.pad_id);
  put(e.tokens, p.pad_token);
  put(e.offsets, std::pair<uint32_t, uint32_t>{0, 0});
  put(e.type_ids, p.pad_type_id);
  put(e.attention_mask, int64_t(0));
  put(e.special_tokens_mask, int64_t(1));
  put(e.sequence_ids, int32_t(-1));
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string>& texts, EncodeOptions options,
                                              TruncationOptions truncation, PaddingOptions padding) const {
  std::vector<std::pair<std::string, std::string>> none;
  std::vector<Encoding> out(texts.size());
  const PostProcessor* p = post_processor ? &*post_processor : nullptr;
  size_t added = p && options.add_special_tokens ? p->added_tokens(false) : 0;
  const long n = long(texts.size());
#pragma omp parallel for schedule(dynamic, 8) num_threads(qkv::num_threads())
  for (long i = 0; i < n; ++i) {
    Encoding a = encode_single(texts[size_t(i)], options.parse_special, true);
    truncate_pair(a, nullptr, truncation, added);
    out[size_t(i)] = post_process(p, std::move(a), nullptr, options.add_special_tokens);
  }
  size_t longest = 0;
  for (const Encoding& e : out) longest = std::max(longest, e.size());
  if (padding.length != PaddingOptions::Length::None) {
    size_t len = padding.length == PaddingOptions::Length::Fixed ? padding.max_length : longest;
    for (Encoding& e : out) pad(e, len, padding);
  }
  return out;
}

std::vector<Encoding> Tokenizer::encode_batch_pairs(const std::vector<std::pair<std::string, std::string>>& pairs,
                                                    EncodeOptions options, TruncationOptions truncation,
                                                    PaddingOptions padding) const {
  std::vector<Encoding> out(pairs.size());
  const PostProcessor* p = post_processor ? &*post_processor : nullptr;
  size_t added = p && options.add_special_tokens ? p->added_tokens(true) : 0;
  const long n = long(pairs.size());
  std::vector<std::string> errors(pairs.size());
#pragma omp parallel for schedule(dynamic, 8) num_threads(qkv::num_threads())
  for (long i = 0; i < n; ++i) {
    try {
      Encoding a = encode_single(pairs[size_t(i)].first, options.parse_special, true);
      Encoding b = encode_single(pairs[size_t(i)].second, options.parse_special, true);
      truncate_pair(a, &b, truncation, added);
      out[size_t(i)] = post_process(p, std::move(a), &b, options.add_special_tokens);
    } catch (const std::exception& e) {
      errors[size_t(i)] = e.what();
    }
  }
  for (size_t i = 0; i < errors.size(); ++i)
    if (!errors[i].empty()) throw ValueError("pair " + std::to_string(i) + ": " + errors[i]);
  size_t longest = 0;
  for (const Encoding& e : out) longest = std::max(longest, e.size());
  if (padding.length != PaddingOptions::Length::None) {
    size_t len = padding.length == PaddingOptions::Length::Fixed ? padding.max_length : longest;
    for (Encoding& e : out) pad(e, len, padding);
  }
  return out;
}

std::optional<int64_t> Tokenizer::token_to_id(std::string_view token) const {
  for (const AddedToken& a : added_tokens)
    if (a.content == token) return a.id;
  if (!model) return std::nullopt;
  if (auto id = model->vocab().find(token)) return *id;
  return std::nullopt;
}

std::optional<std::string> Tokenizer::id_to_token(int64_t id) const {
  for (const AddedToken& a : added_tokens)
    if (a.id == id) return a.content;
  if (!model) return std::nullopt;
  if (const std::string* t = model->vocab().token(id)) return *t;
  return std::nullopt;
}

int64_t Tokenizer::vocab_size() const {
  int64_t n = model ? model->vocab().id_bound() : 0;
  for (const AddedToken& a : added_tokens) n = std::max(n, a.id + 1);
  return n;
}

int64_t Tokenizer::add_token(const std::string& content, bool special) {
  for (const AddedToken& a : added_tokens)
    if (a.content == content) return a.id;
  int64_t id = vocab_size();
  if (model)
    if (auto v = model->vocab().find(content)) id = *v;
  AddedToken t;
  t.id = id;
  t.content = content;
  t.special = special;
  t.normalized = !special;
  added_tokens.push_back(t);
  return id;
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  std::string out;
  auto flush = [&] {
    if (!tokens.empty()) out += decode_tokens(decoder ? &*decoder : nullptr, std::move(tokens));
    tokens.clear();
  };
  const auto* spm = model && model->kind() == ModelKind::SentencePiece
                        ? static_cast<const SentencePieceModel*>(model.get())
                        : nullptr;
  std::vector<int64_t> run;  // SentencePiece: ids the library detokenizes together
  auto flush_run = [&] {
    if (!run.empty()) out += spm->decode(run);
    run.clear();
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    int64_t id = ids[i];
    const AddedToken* added = nullptr;
    for (const AddedToken& a : added_tokens)
      if (a.id == id) added = &a;
    if (added) {
      if (added->special && skip_special_tokens) continue;
      if (spm) {
        flush_run();
        out += added->content;
        continue;
      }
      if (decoder && decoder->kind == Decoder::Kind::ByteLevel) {
        flush();  // added tokens are raw text, not byte-level alphabet
        out += added->content;
        continue;
      }
      tokens.push_back(added->content);
      continue;
    }
    const std::string* t = model ? model->vocab().token(id) : nullptr;
    if (!t)
      throw ValueError("decode: id " + std::to_string(id) + " at position " + std::to_string(i) +
                       " is not in the vocabulary (size " + std::to_string(vocab_size()) + ")");
    if (spm) run.push_back(id);
    else tokens.push_back(*t);
  }
  flush_run();
  flush();
  return out;
}

}  // namespace qkv::tokenizers
