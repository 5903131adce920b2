// fill-mask, text-classification and token-classification (see qkv/pipelines/pipelines.h).
#include "qkv/pipelines/pipelines.h"

#include <algorithm>
#include <numeric>
#include <span>

#include "qkv/autograd/autograd.h"
#include "qkv/core/error.h"
#include "qkv/ops/ops.h"
#include "qkv/pipelines/encoder.h"
#include "qkv/tokenizers/utf8.h"
#include "qkv/tokenizers/wordpiece.h"

namespace qkv::pipelines {
namespace {

// Row-wise softmax probabilities of logits (…,K) as doubles, one vector per row.
std::vector<std::vector<double>> probabilities(const Tensor& logits) {
  const int64_t K = logits.size(-1);
  const std::vector<float> p = softmax(logits.contiguous().reshape({-1, K}), 1).to_vector();
  std::vector<std::vector<double>> rows(p.size() / K);
  for (size_t r = 0; r < rows.size(); ++r) rows[r].assign(p.begin() + r * K, p.begin() + (r + 1) * K);
  return rows;
}

// Indices of the k largest values, best first (ties: lower index first).
std::vector<int64_t> top_indices(const std::vector<double>& v, int64_t k) {
  std::vector<int64_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  const size_t keep = k <= 0 ? idx.size() : std::min(idx.size(), static_cast<size_t>(k));
  std::partial_sort(idx.begin(), idx.begin() + keep, idx.end(),
                    [&](int64_t a, int64_t b) { return v[a] != v[b] ? v[a] > v[b] : a < b; });
  idx.resize(keep);
  return idx;
}

Tensor run_hidden(const models::Bert& model, const EncodedBatch& b) {
  Generator gen(0);
  return model.hidden({b.input_ids, b.token_type_ids, b.attention_mask}, gen);
}

}  // namespace

std::vector<std::vector<MaskPrediction>> fill_mask(const models::Bert& model, const tokenizers::Tokenizer& tok,
                                                   std::string_view text, int64_t top_k) {
  if (!model.cls) throw ValueError("fill-mask needs a model with a masked-LM head (BertForMaskedLM or BertForPreTraining), "
                                   "not a " + std::string(models::bert_head_name(model.config.head)));
  const auto mask_id = tok.token_to_id("[MASK]");
  if (!mask_id) throw ValueError("fill-mask: the tokenizer has no [MASK] token");
  NoGradGuard ng;
  const TextEncoder enc = TextEncoder::of(model, tok);
  const EncodedBatch b = enc.encode({std::string(text)});
  const auto& ids = b.encodings[0].ids;
  std::vector<int64_t> where;
  for (size_t t = 0; t < ids.size(); ++t)
    if (ids[t] == *mask_id) where.push_back(static_cast<int64_t>(t));
  if (where.empty()) {
    const bool cut = tok.encode(text).size() + 2 > ids.size() && text.find("[MASK]") != std::string_view::npos;
    throw ValueError(cut ? "fill-mask: every [MASK] of the input lies past the model's " +
                               std::to_string(enc.max_length()) + " tokens (the input was truncated)"
                         : "fill-mask: the input has no [MASK] token to fill: \"" + std::string(text) + "\"");
  }
  Tensor h = run_hidden(model, b).select(0, 0);  // (T,C)
  const auto probs = probabilities(model.mlm_logits(index_select(h, 0, tensor_i64(where, {(int64_t)where.size()}))));
  std::vector<std::vector<MaskPrediction>> out;
  for (size_t m = 0; m < where.size(); ++m) {
    std::vector<MaskPrediction> preds;
    for (int64_t id : top_indices(probs[m], top_k)) {
      MaskPrediction p;
      p.score = probs[m][id], p.token = id;
      p.token_str = tok.id_to_token(id).value_or("");
      std::vector<int64_t> filled = ids;
      filled[where[m]] = id;
      p.sequence = tok.decode(filled, true);
      preds.push_back(std::move(p));
    }
    out.push_back(std::move(preds));
  }
  return out;
}

std::vector<LabelScore> classify_text(const models::Bert& model, const tokenizers::Tokenizer& tok,
                                      const std::string& text, const std::string& text_pair, int64_t top_k) {
  if (model.config.head != models::BertHead::SequenceClassification)
    throw ValueError("text-classification needs a BertForSequenceClassification, not a " +
                     std::string(models::bert_head_name(model.config.head)));
  NoGradGuard ng;
  const TextEncoder enc = TextEncoder::of(model, tok);
  const std::vector<std::string> pair{text_pair};
  const EncodedBatch b = text_pair.empty() ? enc.encode({text}) : enc.encode({text}, &pair);
  Generator gen(0);
  const auto probs = probabilities(model.sequence_logits(run_hidden(model, b), gen))[0];
  std::vector<LabelScore> out;
  for (int64_t i : top_indices(probs, top_k)) out.push_back({model.config.labels[i], probs[i]});
  return out;
}

Aggregation aggregation_from_name(const std::string& name) {
  if (name == "none") return Aggregation::None;
  if (name == "simple") return Aggregation::Simple;
  if (name == "first") return Aggregation::First;
  if (name == "average") return Aggregation::Average;
  if (name == "max") return Aggregation::Max;
  throw ValueError("aggregation must be none, simple, first, average or max, got \"" + name + "\"");
}

namespace {

// One token of the text with its label probabilities.
struct ScoredToken {
  size_t t;                    // position in the encoding
  std::vector<double> probs;
  bool continues_word = false;
};

// A word's label and its probability under a word-level strategy.
std::pair<int64_t, double> word_label(std::span<const ScoredToken> w, Aggregation how) {
  std::vector<double> p = w.front().probs;  // First
  if (how == Aggregation::Average) {
    for (size_t i = 1; i < w.size(); ++i)
      for (size_t k = 0; k < p.size(); ++k) p[k] += w[i].probs[k];
    for (double& v : p) v /= static_cast<double>(w.size());
  } else if (how == Aggregation::Max) {
    auto peak = [](const ScoredToken& x) { return *std::max_element(x.probs.begin(), x.probs.end()); };
    p = std::max_element(w.begin(), w.end(), [&](const auto& a, const auto& b) { return peak(a) < peak(b); })->probs;
  }
  const int64_t best = top_indices(p, 1)[0];
  return {best, p[static_cast<size_t>(best)]};
}

size_t char_count(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::vector<TokenEntity> classify_tokens(const models::Bert& model, const tokenizers::Tokenizer& tok,
                                         const std::string& text, Aggregation aggregation) {
  if (model.config.head != models::BertHead::TokenClassification)
    throw ValueError("token-classification needs a BertForTokenClassification, not a " +
                     std::string(models::bert_head_name(model.config.head)));
  NoGradGuard ng;
  const TextEncoder enc = TextEncoder::of(model, tok);
  const EncodedBatch b = enc.encode({text});
  const tokenizers::Encoding& e = b.encodings[0];
  Generator gen(0);
  const auto probs = probabilities(model.token_logits(run_hidden(model, b), gen));  // one row per token
  const std::vector<size_t> chars = tokenizers::byte_to_char_offsets(text);
  auto entity = [&](size_t first, size_t last, int64_t label, double score, int64_t index) {
    TokenEntity x;
    x.entity = model.config.labels[label], x.score = score, x.index = index;
    x.start = static_cast<int64_t>(chars[e.offsets[first].first]);
    x.end = static_cast<int64_t>(chars[e.offsets[last].second]);
    for (size_t t = first; t <= last; ++t) x.token_ids.push_back(e.ids[t]);
    x.word = first == last ? e.tokens[first] : tok.decode(x.token_ids, true);
    return x;
  };
  std::vector<TokenEntity> out;
  if (aggregation == Aggregation::None || aggregation == Aggregation::Simple) {
    for (size_t t = 0; t < e.size(); ++t) {
      if (e.special_tokens_mask[t]) continue;
      const int64_t best = top_indices(probs[t], 1)[0];
      if (model.config.labels[best] == "O") continue;
      out.push_back(entity(t, t, best, probs[t][best], static_cast<int64_t>(t)));
    }
    return aggregation == Aggregation::None ? out : group_entities(out, tok);
  }
  // Word level: tokens → words (transformers' is_subword), a label per word, then groups.
  const auto* wp = dynamic_cast<const tokenizers::WordPieceModel*>(tok.model.get());
  std::vector<ScoredToken> tokens;
  for (size_t t = 0; t < e.size(); ++t) {
    if (e.special_tokens_mask[t]) continue;
    const auto [a, z] = e.offsets[t];
    const std::string_view ref = std::string_view(text).substr(a, z - a);
    // WordPiece: "##burn" is longer than its text (an unknown word's [UNK] starts a word); else no space before.
    const bool continues = wp ? e.tokens[t] != wp->unk_token() && char_count(e.tokens[t]) != char_count(ref)
                              : a > 0 && text[a - 1] != ' ' && text[a] != ' ';
    tokens.push_back({t, probs[t], continues});
  }
  int64_t ordinal = 0;
  for (size_t i = 0; i < tokens.size();) {
    size_t j = i + 1;
    while (j < tokens.size() && tokens[j].continues_word) ++j;
    const auto [label, score] = word_label(std::span<const ScoredToken>(tokens).subspan(i, j - i), aggregation);
    if (model.config.labels[label] != "O") out.push_back(entity(tokens[i].t, tokens[j - 1].t, label, score, ordinal));
    ++ordinal, i = j;
  }
  return group_entities(out, tok);
}

std::vector<TokenEntity> group_entities(const std::vector<TokenEntity>& tokens, const tokenizers::Tokenizer& tok) {
  // group_entities: "B-X"/"I-X" → (B|I, X); an entity joins the open group
  // when it is the next one (index + 1), of the same type and not a B- (bare
  // labels such as "PER" count as I-). An O between two (absent here) ends a group.
  auto split = [](const std::string& l) -> std::pair<char, std::string> {
    if (l.size() > 2 && (l[0] == 'B' || l[0] == 'I') && l[1] == '-') return {l[0], l.substr(2)};
    return {'I', l};
  };
  std::vector<TokenEntity> groups;
  for (size_t i = 0; i < tokens.size();) {
    const std::string type = split(tokens[i].entity).second;
    size_t j = i + 1;
    while (j < tokens.size() && tokens[j].index == tokens[j - 1].index + 1) {
      const auto [bj, tj] = split(tokens[j].entity);
      if (tj != type || bj == 'B') break;
      ++j;
    }
    TokenEntity g;
    g.entity = type, g.index = -1, g.start = tokens[i].start, g.end = tokens[j - 1].end;
    double total = 0;
    for (size_t k = i; k < j; ++k) {
      total += tokens[k].score;
      g.token_ids.insert(g.token_ids.end(), tokens[k].token_ids.begin(), tokens[k].token_ids.end());
    }
    g.score = total / static_cast<double>(j - i);
    g.word = tok.decode(g.token_ids, true);
    groups.push_back(std::move(g));
    i = j;
  }
  return groups;
}

}  // namespace qkv::pipelines
