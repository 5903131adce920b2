// Encoder inputs, sentence embeddings, chunking and cosine search (see qkv/pipelines/encoder.h).
#include "qkv/pipelines/encoder.h"

#include <algorithm>
#include <cmath>

#include "qkv/autograd/autograd.h"
#include "qkv/core/error.h"
#include "qkv/models/bert.h"
#include "qkv/models/transformer.h"
#include "qkv/ops/ops.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::pipelines {

TextEncoder TextEncoder::of(const models::Model& model, const tokenizers::Tokenizer& tokenizer) {
  TextEncoder e;
  e.tok_ = &tokenizer;
  if (const auto* bert = dynamic_cast<const models::Bert*>(&model)) {
    e.max_length_ = bert->config.max_position_embeddings;
    e.pad_id_ = bert->config.pad_token_id;
    e.hidden_ = [bert](const EncodedBatch& b) {
      Generator gen(0);
      return bert->hidden({b.input_ids, b.token_type_ids, b.attention_mask}, gen);
    };
  } else if (const auto* tr = dynamic_cast<const models::Transformer*>(&model)) {
    e.max_length_ = tr->config.max_len;
    e.pad_id_ = tr->config.pad_id;
    e.add_special_ = false;  // the translation source is the plain token sequence
    e.hidden_ = [tr](const EncodedBatch& b) {
      Generator gen(0);
      return tr->encode(b.input_ids, b.attention_mask, gen);
    };
  } else {
    throw ValueError("a '" + model.model_type() + "' model has no text encoder (bert, or transformer's encoder)");
  }
  return e;
}

EncodedBatch TextEncoder::encode(const std::vector<std::string>& texts, const std::vector<std::string>* pairs) const {
  if (texts.empty()) throw ValueError("encode: no texts");
  tokenizers::EncodeOptions opt;
  opt.add_special_tokens = add_special_;
  tokenizers::TruncationOptions trunc;
  trunc.max_length = static_cast<size_t>(max_length_);
  EncodedBatch b;
  if (pairs) {
    if (pairs->size() != texts.size())
      throw ValueError("encode: " + std::to_string(texts.size()) + " texts but " + std::to_string(pairs->size()) +
                       " second texts");
    std::vector<std::pair<std::string, std::string>> p;
    for (size_t i = 0; i < texts.size(); ++i) p.emplace_back(texts[i], (*pairs)[i]);
    b.encodings = tok_->encode_batch_pairs(p, opt, trunc);
  } else {
    b.encodings = tok_->encode_batch(texts, opt, trunc);
  }
  size_t T = 1;
  for (const auto& e : b.encodings) T = std::max(T, e.size());
  const int64_t B = static_cast<int64_t>(texts.size());
  std::vector<int64_t> ids(B * T, pad_id_), types(B * T, 0);
  std::vector<bool> mask(B * T, false);
  for (int64_t r = 0; r < B; ++r) {
    const auto& e = b.encodings[r];
    for (size_t t = 0; t < e.size(); ++t) {
      ids[r * T + t] = e.ids[t];
      types[r * T + t] = t < e.type_ids.size() ? e.type_ids[t] : 0;
      mask[r * T + t] = true;
    }
    if (e.size() == 0) mask[r * T] = true;  // an empty text still has one (pad) position to pool
  }
  const Shape s{B, static_cast<int64_t>(T)};
  b.input_ids = tensor_i64(ids, s), b.token_type_ids = tensor_i64(types, s), b.attention_mask = tensor_bool(mask, s);
  return b;
}

Tensor TextEncoder::hidden(const EncodedBatch& batch) const {
  NoGradGuard ng;
  return hidden_(batch);
}

Pooling pooling_from_name(const std::string& name) {
  if (name == "cls") return Pooling::CLS;
  if (name == "mean") return Pooling::Mean;
  throw ValueError("pooling must be cls or mean, got \"" + name + "\"");
}

Tensor embed_texts(const TextEncoder& enc, const std::vector<std::string>& texts, Pooling pooling, int64_t batch_size) {
  if (batch_size < 1) throw ValueError("embed: batch_size must be >= 1");
  NoGradGuard ng;
  std::vector<Tensor> parts;
  for (size_t i = 0; i < texts.size(); i += static_cast<size_t>(batch_size)) {
    std::vector<std::string> part(texts.begin() + i, texts.begin() + std::min(texts.size(), i + batch_size));
    EncodedBatch b = enc.encode(part);
    Tensor h = enc.hidden(b);  // (B,T,C)
    Tensor pooled;
    if (pooling == Pooling::CLS) {
      pooled = h.select(1, 0);
    } else {  // mean over real tokens (sentence-transformers' mean pooling)
      Tensor m = b.attention_mask.to(DType::Float32).unsqueeze(2);
      pooled = div(sum(mul(h, m), {1}), sum(m, {1}));
    }
    Tensor norm = clamp(sqrt(sum(mul(pooled, pooled), {1}, true)), 1e-12f, std::nullopt);
    parts.push_back(div(pooled, norm).contiguous());
  }
  if (parts.empty()) throw ValueError("embed: no texts");
  return parts.size() == 1 ? parts[0] : cat(parts, 0);
}

std::vector<Chunk> chunk_document(const tokenizers::Tokenizer& tok, const std::string& text, int64_t doc,
                                  int64_t max_tokens, int64_t stride) {
  if (max_tokens < 1 || stride < 1 || stride > max_tokens)
    throw ValueError("chunking: need 1 <= stride <= max_tokens, got stride " + std::to_string(stride) +
                     " and max_tokens " + std::to_string(max_tokens));
  const tokenizers::Encoding e = tok.encode(text);
  const std::vector<size_t> chars = tokenizers::byte_to_char_offsets(text);
  std::vector<Chunk> out;
  const int64_t n = static_cast<int64_t>(e.size());
  for (int64_t s = 0; s < n; s += stride) {
    const int64_t last = std::min(n, s + max_tokens) - 1;
    Chunk c;
    c.doc = doc, c.index = static_cast<int64_t>(out.size());
    const size_t a = e.offsets[s].first, b = e.offsets[last].second;
    c.text = text.substr(a, b - a);
    c.start = chars[a], c.end = chars[b];
    out.push_back(std::move(c));
    if (last == n - 1) break;
  }
  return out;
}

std::vector<std::pair<int64_t, float>> top_k_cosine(const Tensor& embeddings, const Tensor& query, int64_t k) {
  if (embeddings.dim() != 2 || query.dim() != 1 || embeddings.size(1) != query.size(0))
    throw ShapeError("search: embeddings (N,C) and a query (C) of the same width, got " +
                     shape_str(embeddings.shape()) + " and " + shape_str(query.shape()));
  NoGradGuard ng;
  const std::vector<float> s = matmul(embeddings, query.unsqueeze(1)).reshape({embeddings.size(0)}).to_vector();
  std::vector<int64_t> idx(s.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
  const size_t keep = std::min(idx.size(), static_cast<size_t>(std::max<int64_t>(k, 0)));
  std::partial_sort(idx.begin(), idx.begin() + keep, idx.end(),
                    [&](int64_t a, int64_t b) { return s[a] != s[b] ? s[a] > s[b] : a < b; });
  std::vector<std::pair<int64_t, float>> out;
  for (size_t i = 0; i < keep; ++i) out.emplace_back(idx[i], s[idx[i]]);
  return out;
}

}  // namespace qkv::pipelines
