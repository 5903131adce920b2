// The encoder–decoder Transformer (see qkv/models/transformer.h): shared
// embedding + sinusoidal positions, the two stacks, the tied output layer.
#include "qkv/models/transformer.h"

#include <cmath>

#include "qkv/models/position_fields.h"
#include "qkv/nn/init.h"
#include "qkv/nn/positions.h"
#include "qkv/nn/trace.h"
#include "qkv/ops/ops.h"

namespace qkv::models {

namespace {

// ModuleList: the layers under "0", "1", ….
class LayerList : public nn::Module {
 public:
  std::shared_ptr<nn::TransformerLayer> add(std::shared_ptr<nn::TransformerLayer> l) {
    return register_module(std::to_string(n_++), l);
  }

 private:
  int64_t n_ = 0;
};

nn::LayerConfig layer_config(const Seq2SeqConfig& cfg, bool decoder) {
  nn::LayerConfig l;
  l.d_model = cfg.d_model;
  l.n_heads = cfg.n_heads;
  l.d_ff = cfg.d_ff;
  l.dropout = cfg.dropout;
  l.activation = cfg.activation == "gelu" ? nn::Activation::GELU : nn::Activation::ReLU;
  l.norm = cfg.norm_first ? nn::NormPlacement::Pre : nn::NormPlacement::Post;
  l.cross_attention = decoder;  // §3.1: the decoder's third sub-layer attends over the encoder output
  return l;
}

std::string what(const Tensor& t) { return t.defined() ? shape_str(t.shape()) + " " + dtype_name(t.dtype()) : "nothing"; }

// ids must be (B,L) int64 with L ≥ 1.
void check_ids(const char* fn, const char* arg, const Tensor& ids) {
  if (!ids.defined() || ids.dim() != 2 || ids.size(1) < 1 || ids.dtype() != DType::Int64)
    throw ShapeError(std::string("Transformer::") + fn + ": " + arg + " must be (B,L) int64 ids with L >= 1, got " +
                     what(ids));
}

// An optional mask must be bool of exactly `shape`.
void check_mask(const char* fn, const char* arg, const Tensor& mask, const Shape& shape) {
  if (mask.defined() && (mask.dtype() != DType::Bool || mask.shape() != shape))
    throw ShapeError(std::string("Transformer::") + fn + ": " + arg + " must be bool " + shape_str(shape) +
                     " (true = real token), got " + what(mask));
}

}  // namespace

TransformerStack::TransformerStack(const nn::LayerConfig& layer, int64_t n_layers, Generator& gen) {
  auto list = register_module("layers", std::make_shared<LayerList>());
  for (int64_t i = 0; i < n_layers; ++i) layers.push_back(list->add(std::make_shared<nn::TransformerLayer>(layer, gen)));
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(layer.d_model, layer.ln_eps, layer.bias));
}

Transformer::Transformer(const Seq2SeqConfig& cfg, Generator& gen) : config(cfg) {
  config.validate();
  shared = register_module("shared", std::make_shared<nn::Embedding>(cfg.vocab_size, cfg.d_model, gen));
  encoder = register_module("encoder", std::make_shared<TransformerStack>(layer_config(cfg, false), cfg.n_encoder_layers, gen));
  decoder = register_module("decoder", std::make_shared<TransformerStack>(layer_config(cfg, true), cfg.n_decoder_layers, gen));
  add_positions(gen);
  drop = register_module("drop", std::make_shared<nn::Dropout>(cfg.dropout));
  init_weights(gen);
}

void Transformer::add_positions(Generator& gen) {
  const std::string& kind = config.pos_encoding;
  if (kind == "sinusoidal")
    pe = std::make_shared<nn::SinusoidalPositionalEncoding>(config.d_model, config.max_len, config.sinusoidal_base);
  if (kind == "learned") {
    encoder_positions = register_module("encoder_positions",
                                        std::make_shared<nn::LearnedPositionalEmbedding>(config.max_len, config.d_model, gen));
    decoder_positions = register_module("decoder_positions",
                                        std::make_shared<nn::LearnedPositionalEmbedding>(config.max_len, config.d_model, gen));
  }
  if (kind == "t5") {  // T5: the encoder's buckets look both ways, the decoder's only back
    encoder_bias = register_module("encoder_bias", std::make_shared<nn::T5RelativeBias>(
                                                       config.t5_num_buckets, config.t5_max_distance, config.n_heads, true, gen));
    decoder_bias = register_module("decoder_bias", std::make_shared<nn::T5RelativeBias>(
                                                       config.t5_num_buckets, config.t5_max_distance, config.n_heads, false, gen));
  }
  const nn::PositionConfig p = position_config(config);
  for (const auto& l : encoder->layers) nn::attach_positions(*l->attn, p, gen);
  for (const auto& l : decoder->layers) nn::attach_positions(*l->attn, p, gen);  // self-attention only, never the cross
}

void Transformer::init_weights(Generator& gen) {
  // torch.nn.Transformer._reset_parameters: Xavier-uniform on every matrix
  // (Glorot & Bengio 2010: U(±√(6/(fan_in + fan_out)))); torch's
  // MultiheadAttention zeroes its biases; we zero every bias.
  for (auto& [name, mod] : named_modules()) {
    if (auto* l = dynamic_cast<nn::Linear*>(mod)) {
      const float a = std::sqrt(6.0f / static_cast<float>(l->in_features + l->out_features));
      nn::uniform_(l->weight, -a, a, gen);
      if (l->bias.defined()) nn::zeros_(l->bias);
    } else if (auto* ln = dynamic_cast<nn::LayerNorm*>(mod)) {
      nn::ones_(ln->weight);
      if (ln->bias.defined()) nn::zeros_(ln->bias);
    }
  }
  // N(0, C^−½): after the √C of §3.4 the token vectors have unit scale, like the positions.
  nn::normal_(shared->weight, 0.0f, 1.0f / std::sqrt(static_cast<float>(config.d_model)), gen);
}

nn::KVCache Transformer::make_cache(int64_t batch) const {
  return nn::KVCache(batch, config.max_len, config.d_model, config.n_decoder_layers, config.n_decoder_layers);
}

Tensor Transformer::embed(const Tensor& ids, int64_t offset, Side side, Generator& gen) const {
  // §3.4: embeddings × √d_model; §3.5: + PE(pos); §5.4: dropout on the sums.
  const int64_t T = ids.size(1);
  Tensor x = mul(shared->forward(ids), std::sqrt(static_cast<float>(config.d_model)));  // (B,T,C)
  if (pe) x = add(x, pe->forward(T, offset));                                           // + (T,C)
  const auto& table = side == Side::Encoder ? encoder_positions : decoder_positions;
  if (table) {
    if (offset + T > table->max_len)
      throw ValueError(std::string("Transformer: a ") + (side == Side::Encoder ? "source" : "target") + " of " +
                       std::to_string(offset + T) + " tokens is longer than the learned position table of max_len " +
                       std::to_string(table->max_len) + "; learned positions cannot run longer than they were trained");
    x = add(x, table->forward(T, offset));
  }
  return drop->forward(x, gen);
}

Tensor Transformer::encode(const Tensor& src_ids, const Tensor& src_mask, Generator& gen,
                           std::vector<Tensor>* weights) const {
  check_ids("encode", "src_ids", src_ids);
  check_mask("encode", "src_mask", src_mask, src_ids.shape());
  Tensor x = embed(src_ids, 0, Side::Encoder, gen);  // (B,S,C)
  nn::LayerArgs args;
  args.gen = &gen;
  args.self.key_mask = src_mask;  // padded source tokens are never attended to
  args.self.positions = arange(0.0, static_cast<double>(src_ids.size(1)));  // rotary q/k
  if (encoder_bias) args.self.mask = encoder_bias->forward(src_ids.size(1), src_ids.size(1));  // (1,NH,S,S)
  for (const auto& layer : encoder->layers) {
    nn::LayerWeights w;
    x = layer->forward(x, args, weights ? &w : nullptr);
    if (weights) weights->push_back(w.self);
  }
  return encoder->norm->forward(x);  // memory (B,S,C)
}

Tensor Transformer::decode(const Tensor& tgt_in, const Tensor& memory, Generator& gen, const DecodeArgs& a) const {
  check_ids("decode", "tgt_in", tgt_in);
  const int64_t B = tgt_in.size(0), T = tgt_in.size(1), C = config.d_model, L = config.n_decoder_layers;
  nn::KVCache* cache = a.cache;
  if (cache && (cache->batch() != B || cache->num_layers() != 2 * L))
    throw ShapeError("Transformer::decode: cache holds batch " + std::to_string(cache->batch()) + " and " +
                     std::to_string(cache->num_layers()) + " slots; tgt_in has batch " + std::to_string(B) +
                     " and the model needs " + std::to_string(2 * L) + " (use make_cache)");
  const int64_t offset = cache ? cache->length() : 0;
  if (cache && offset + T > cache->capacity())
    throw ValueError("Transformer::decode: " + std::to_string(offset) + " cached + " + std::to_string(T) +
                     " new target positions exceed the cache's " + std::to_string(cache->capacity()) + " (max_len)");
  const bool cross_cached = cache && cache->layer(L).len > 0;
  const bool by_sentence = !a.source_rows.empty();  // memory rows are sentences, read by source_rows
  if (by_sentence && static_cast<int64_t>(a.source_rows.size()) != B)
    throw ShapeError("Transformer::decode: source_rows has " + std::to_string(a.source_rows.size()) +
                     " entries for a batch of " + std::to_string(B));
  if (!cross_cached && (!memory.defined() || memory.dim() != 3 || (!by_sentence && memory.size(0) != B) ||
                        memory.size(2) != C))
    throw ShapeError("Transformer::decode: memory must be (" + (by_sentence ? std::string("G") : std::to_string(B)) +
                     ",S," + std::to_string(C) + ") float32 (the encoder output), got " + what(memory));
  const int64_t S = cross_cached ? cache->layer(L).len : memory.size(1);
  const int64_t G = !by_sentence ? B : cross_cached ? cache->layer(L).k.size(0) : memory.size(0);  // sentences
  check_mask("decode", "src_mask", a.src_mask, {G, S});
  check_mask("decode", "tgt_mask", a.tgt_mask, {B, offset + T});
  Tensor x = embed(tgt_in, offset, Side::Decoder, gen);  // (B,T,C)
  nn::LayerArgs args;
  args.gen = &gen;
  args.self.causal = true;  // §3.2.3: position t sees targets ≤ t (with a cache: s ≤ t + offset)
  args.self.key_mask = a.tgt_mask;
  args.self.positions = arange(static_cast<double>(offset), static_cast<double>(offset + T));  // rotary q/k
  if (decoder_bias) args.self.mask = decoder_bias->forward(T, offset + T);  // (1,NH,T,offset+T)
  args.cross.context = memory;
  args.cross.key_mask = a.src_mask;
  args.cross.context_rows = a.source_rows;  // beams share their sentence's keys/values (attention.h)
  for (int64_t l = 0; l < L; ++l) {
    args.self.cache = cache ? &cache->layer(l) : nullptr;
    args.cross.cache = cache ? &cache->layer(L + l) : nullptr;
    nn::LayerWeights w;
    x = decoder->layers[l]->forward(x, args, a.weights ? &w : nullptr);
    if (a.weights) a.weights->push_back(std::move(w));
  }
  Tensor logits = linear(decoder->norm->forward(x), shared->weight);  // tied output projection: (B,T,C) · (V,C)ᵀ
  nn::trace_tensor(this, "logits", "V", logits);
  return logits;
}

Tensor Transformer::forward(const Tensor& src_ids, const Tensor& src_mask, const Tensor& tgt_in,
                            const Tensor& tgt_mask, Generator& gen) const {
  check_ids("forward", "src_ids", src_ids);
  check_ids("forward", "tgt_in", tgt_in);
  if (src_ids.size(0) != tgt_in.size(0))
    throw ShapeError("Transformer::forward: src_ids " + shape_str(src_ids.shape()) + " and tgt_in " +
                     shape_str(tgt_in.shape()) + " have different batch sizes");
  Tensor memory = encode(src_ids, src_mask, gen);
  return decode(tgt_in, memory, gen, {.src_mask = src_mask, .tgt_mask = tgt_mask});
}

Tensor Transformer::loss(const Tensor& logits, const Tensor& labels, float label_smoothing) {
  CrossEntropyOptions opt;
  opt.label_smoothing = label_smoothing;  // ignore_index stays -100 (padding and context)
  return cross_entropy(logits, labels, opt);
}

}  // namespace qkv::models
