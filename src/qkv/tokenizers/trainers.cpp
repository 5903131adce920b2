#include "qkv/tokenizers/trainers.h"

#include <algorithm>
#include <map>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "qkv/core/error.h"
#include "qkv/core/threading.h"
#include "qkv/tokenizers/bpe.h"
#include "qkv/tokenizers/utf8.h"
#include "qkv/tokenizers/wordpiece.h"

namespace qkv::tokenizers {

namespace {

using WordCounts = StringMap<int64_t>;

// Splits every text into ~1 MB chunks at newlines and counts the words each
// chunk's splitter yields; per-thread maps are merged in chunk order.
template <class Split>
WordCounts count_words(const std::vector<std::string>& texts, Split&& split) {
  std::vector<std::string_view> chunks;
  for (const std::string& t : texts) {
    size_t pos = 0;
    while (pos < t.size()) {
      size_t end = std::min(t.size(), pos + (1 << 20));
      size_t nl = t.find('\n', end);
      end = nl == std::string::npos ? t.size() : nl + 1;
      chunks.emplace_back(std::string_view(t).substr(pos, end - pos));
      pos = end;
    }
  }
  std::vector<WordCounts> partial(chunks.size());
  const long n = long(chunks.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(qkv::num_threads())
  for (long i = 0; i < n; ++i) split(chunks[size_t(i)], partial[size_t(i)]);
  WordCounts total;
  for (WordCounts& p : partial)
    for (auto& [w, c] : p) total[w] += c;
  return total;
}

// The merge loop shared by both trainers. Symbols are strings; merging a and b
// gives a + b without b's continuation prefix.
struct MergeTrainer {
  std::vector<std::string> tokens;  // id -> string
  StringMap<int32_t> ids;
  std::vector<Merge> merges;

  int32_t intern(const std::string& s) {
    auto it = ids.find(s);
    if (it != ids.end()) return it->second;
    int32_t id = int32_t(tokens.size());
    tokens.push_back(s);
    ids.emplace(s, id);
    return id;
  }

  void run(std::vector<std::vector<int32_t>>& words, const std::vector<int64_t>& counts, size_t vocab_size,
           int64_t min_frequency, const std::string& prefix) {
    auto key = [](int32_t a, int32_t b) { return uint64_t(uint32_t(a)) << 32 | uint32_t(b); };
    std::unordered_map<uint64_t, int64_t> pair_count;
    std::unordered_map<uint64_t, std::vector<int32_t>> where;
    for (size_t w = 0; w < words.size(); ++w)
      for (size_t i = 0; i + 1 < words[w].size(); ++i) {
        uint64_t k = key(words[w][i], words[w][i + 1]);
        pair_count[k] += counts[w];
        auto& list = where[k];
        if (list.empty() || list.back() != int32_t(w)) list.push_back(int32_t(w));
      }
    // max-heap on count; ties: smaller pair key first
    using Entry = std::pair<int64_t, uint64_t>;
    auto cmp = [](const Entry& x, const Entry& y) { return x.first != y.first ? x.first < y.first : x.second > y.second; };
    std::priority_queue<Entry, std::vector<Entry>, decltype(cmp)> heap(cmp);
    for (auto& [k, c] : pair_count) heap.push({c, k});
    std::vector<uint64_t> touched;
    while (tokens.size() < vocab_size && !heap.empty()) {
      auto [c, k] = heap.top();
      heap.pop();
      auto it = pair_count.find(k);
      int64_t actual = it == pair_count.end() ? 0 : it->second;
      if (actual != c) {  // stale entry: requeue with the current count
        if (actual > 0) heap.push({actual, k});
        continue;
      }
      if (c < min_frequency || c <= 0) break;
      int32_t a = int32_t(k >> 32), b = int32_t(k & 0xFFFFFFFF);
      const std::string& tb = tokens[size_t(b)];
      std::string merged = tokens[size_t(a)] + (!prefix.empty() && tb.starts_with(prefix) ? tb.substr(prefix.size()) : tb);
      merges.emplace_back(tokens[size_t(a)], tokens[size_t(b)]);
      int32_t m = intern(merged);
      std::vector<int32_t> list = std::move(where[k]);
      where.erase(k);
      touched.clear();
      for (int32_t w : list) {
        std::vector<int32_t>& s = words[size_t(w)];
        bool has = false;
        for (size_t i = 0; i + 1 < s.size() && !has; ++i) has = s[i] == a && s[i + 1] == b;
        if (!has) continue;
        const int64_t wc = counts[size_t(w)];
        for (size_t i = 0; i + 1 < s.size(); ++i) {
          uint64_t p = key(s[i], s[i + 1]);
          pair_count[p] -= wc;
          touched.push_back(p);
        }
        std::vector<int32_t> out;
        out.reserve(s.size());
        for (size_t i = 0; i < s.size(); ++i) {
          if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
            out.push_back(m);
            ++i;
          } else {
            out.push_back(s[i]);
          }
        }
        s = std::move(out);
        for (size_t i = 0; i + 1 < s.size(); ++i) {
          uint64_t p = key(s[i], s[i + 1]);
          pair_count[p] += wc;
          touched.push_back(p);
          auto& wl = where[p];
          if (wl.empty() || wl.back() != w) wl.push_back(w);
        }
      }
      pair_count.erase(k);
      std::sort(touched.begin(), touched.end());
      touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
      for (uint64_t p : touched) {
        if (p == k) continue;
        auto pc = pair_count.find(p);
        if (pc != pair_count.end() && pc->second > 0) heap.push({pc->second, p});
      }
    }
  }
};

// Sorted words (deterministic order) with their counts.
std::vector<std::pair<std::string, int64_t>> sorted_words(WordCounts& wc) {
  std::vector<std::pair<std::string, int64_t>> v(wc.begin(), wc.end());
  std::sort(v.begin(), v.end());
  return v;
}

void check(const TrainerOptions& o, size_t alphabet) {
  if (o.vocab_size < o.special_tokens.size() + alphabet)
    throw ValueError("train: vocab size " + std::to_string(o.vocab_size) + " is smaller than the " +
                     std::to_string(o.special_tokens.size()) + " special tokens + " + std::to_string(alphabet) +
                     "-symbol alphabet");
}

}  // namespace

Tokenizer train_byte_level_bpe(const std::vector<std::string>& texts, const TrainerOptions& o) {
  check(o, 256);
  WordCounts wc = count_words(texts, [](std::string_view chunk, WordCounts& out) {
    std::vector<Span> spans;
    gpt2_split(chunk, spans);
    for (Span s : spans) ++out[std::string(chunk.substr(s.start, s.end - s.start))];
  });
  MergeTrainer t;
  for (const std::string& s : o.special_tokens) t.intern(s);
  // the 256 byte tokens, in code point order of their printable form (as Hugging Face)
  std::vector<std::pair<char32_t, int>> alphabet;
  for (int b = 0; b < 256; ++b) alphabet.push_back({bytes_to_unicode()[b], b});
  std::sort(alphabet.begin(), alphabet.end());
  std::array<int32_t, 256> byte_id{};
  for (auto [cp, b] : alphabet) byte_id[b] = t.intern(byte_to_utf8()[b]);
  std::vector<std::vector<int32_t>> words;
  std::vector<int64_t> counts;
  for (auto& [w, c] : sorted_words(wc)) {
    std::vector<int32_t> s;
    for (unsigned char ch : w) s.push_back(byte_id[ch]);
    words.push_back(std::move(s));
    counts.push_back(c);
  }
  t.run(words, counts, o.vocab_size, o.min_frequency, "");
  Vocab v;
  for (size_t i = 0; i < t.tokens.size(); ++i) v.add(t.tokens[i], int32_t(i), "trainer");
  Tokenizer tok;
  tok.pre_tokenizer = PreTokenizer::byte_level(false);
  tok.model = std::make_shared<BpeModel>(std::move(v), std::move(t.merges), BpeOptions{}, "trainer");
  PostProcessor post;
  post.kind = PostProcessor::Kind::ByteLevel;
  tok.post_processor = post;
  Decoder d;
  d.kind = Decoder::Kind::ByteLevel;
  tok.decoder = d;
  for (size_t i = 0; i < o.special_tokens.size(); ++i) {
    AddedToken a;
    a.id = int64_t(i);
    a.content = o.special_tokens[i];
    tok.added_tokens.push_back(a);
  }
  return tok;
}

Tokenizer train_wordpiece(const std::vector<std::string>& texts, TrainerOptions o) {
  if (o.special_tokens.empty()) o.special_tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  Tokenizer tok;
  tok.normalizer = Normalizer::bert(o.lowercase);
  PreTokenizer pre;
  pre.kind = PreTokenizer::Kind::Bert;
  tok.pre_tokenizer = pre;
  const Normalizer norm = *tok.normalizer;
  WordCounts wc = count_words(texts, [&](std::string_view chunk, WordCounts& out) {
    NormalizedString ns = NormalizedString::identity(chunk);
    normalize(norm, ns);
    std::vector<Span> spans;
    pre_tokenize(pre, ns, spans);
    for (Span s : spans) ++out[ns.text.substr(s.start, s.end - s.start)];
  });
  MergeTrainer t;
  for (const std::string& s : o.special_tokens) t.intern(s);
  auto words_sorted = sorted_words(wc);
  // alphabet: every character seen, as a word start and as a "##" continuation
  std::map<std::string, int> alphabet;
  for (auto& [w, c] : words_sorted)
    for (size_t i = 0; i < w.size();) {
      Utf8Char ch = next_char(w, i);
      alphabet[(i ? "##" : "") + w.substr(i, ch.len)] = 1;
      i += ch.len;
    }
  check(o, 0);
  for (auto& [a, _] : alphabet) t.intern(a);
  std::vector<std::vector<int32_t>> words;
  std::vector<int64_t> counts;
  for (auto& [w, c] : words_sorted) {
    std::vector<int32_t> s;
    for (size_t i = 0; i < w.size();) {
      Utf8Char ch = next_char(w, i);
      s.push_back(t.ids.at((i ? "##" : "") + w.substr(i, ch.len)));
      i += ch.len;
    }
    words.push_back(std::move(s));
    counts.push_back(c);
  }
  t.run(words, counts, o.vocab_size, o.min_frequency, "##");
  Vocab v;
  for (size_t i = 0; i < t.tokens.size(); ++i) v.add(t.tokens[i], int32_t(i), "trainer");
  std::string unk = std::find(o.special_tokens.begin(), o.special_tokens.end(), "[UNK]") != o.special_tokens.end()
                        ? "[UNK]"
                        : o.special_tokens.front();
  auto cls = v.find("[CLS]"), sep = v.find("[SEP]");
  tok.model = std::make_shared<WordPieceModel>(std::move(v), unk);
  if (cls && sep) {
    PostProcessor post = PostProcessor::bert(*cls, *sep);
    post.kind = PostProcessor::Kind::Template;
    tok.post_processor = post;
  }
  Decoder d;
  d.kind = Decoder::Kind::WordPiece;
  tok.decoder = d;
  for (size_t i = 0; i < o.special_tokens.size(); ++i) {
    AddedToken a;
    a.id = int64_t(i);
    a.content = o.special_tokens[i];
    tok.added_tokens.push_back(a);
  }
  return tok;
}

}  // namespace qkv::tokenizers

#include <nlohmann/json.hpp>

#include "file_util.h"

namespace qkv::tokenizers {

std::vector<std::string> save_model_files(const Tokenizer& tokenizer, const std::string& dir) {
  if (!tokenizer.model) throw ValueError("save_model_files: tokenizer has no model");
  const Model& m = *tokenizer.model;
  auto pairs = m.vocab().by_id();
  if (m.kind() == ModelKind::BPE) {
    std::string v = "{";
    for (size_t i = 0; i < pairs.size(); ++i)
      v += (i ? ", " : "") + nlohmann::json(pairs[i].first).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           ": " + std::to_string(pairs[i].second);
    v += "}\n";
    std::string merges = "#version: 0.2\n";
    for (const Merge& mg : static_cast<const BpeModel&>(m).merges()) merges += mg.first + " " + mg.second + "\n";
    detail::write_file_atomic(dir + "/vocab.json", v);
    detail::write_file_atomic(dir + "/merges.txt", merges);
    return {"vocab.json", "merges.txt"};
  }
  if (m.kind() == ModelKind::WordPiece) {
    std::string v;
    for (size_t i = 0; i < pairs.size(); ++i) {
      if (pairs[i].second != int32_t(i))
        throw ValueError("save_model_files: vocab.txt needs ids 0..n-1 without gaps (missing " + std::to_string(i) + ")");
      v += pairs[i].first + "\n";
    }
    detail::write_file_atomic(dir + "/vocab.txt", v);
    return {"vocab.txt"};
  }
  return {};
}

}  // namespace qkv::tokenizers
