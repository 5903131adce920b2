// `qkv plot attention DIR …`: attention weights as heatmaps with the tokens
// as labels — one head of one layer, the mean of a layer's heads, or (--grid)
// every layer × head at once.
//   GPT, Llama:  --text TEXT: causal self-attention (queries down, keys across)
//   BERT:        --text TEXT: the encoder's self-attention over [CLS] … [SEP]
//   Transformer: --source TEXT [--target TEXT] [--part cross|encoder|decoder]:
//                cross = the decoder's attention over the source (target
//                tokens down, source across — the alignment picture of
//                Bahdanau et al. 2015, Fig. 3), encoder = the source's
//                self-attention, decoder = the target's causal self-attention;
//                without --target the model's own greedy translation.
#include <cstdio>

#include "attention_maps.h"
#include "commands.h"
#include "qkv/autograd/autograd.h"
#include "qkv/generate/beam.h"
#include "qkv/models/bert.h"
#include "qkv/models/gpt.h"
#include "qkv/models/llama.h"
#include "qkv/models/registry.h"
#include "qkv/models/transformer.h"
#include "qkv/ops/ops.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/tokenizers/token_label.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/viz/viz.h"

namespace qkv::cli {
namespace {

using Args = AttentionPlot;
using Maps = AttentionMaps;

// --head: an index below n_heads, or "mean" (-1).
int64_t parse_head(const std::string& head, int64_t n_heads) {
  if (head == "mean") return -1;
  size_t used = 0;
  int64_t h = -1;
  try {
    h = std::stoll(head, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != head.size() || h < 0 || h >= n_heads)
    throw ValueError("--head " + head + ": expected \"mean\" or a head index 0 … " + std::to_string(n_heads - 1) +
                     " (the model has " + std::to_string(n_heads) + " heads)");
  return h;
}

void check_layer(int64_t layer, int64_t n_layers) {
  if (layer < 0 || layer >= n_layers)
    throw ValueError("--layer " + std::to_string(layer) + " out of range: the model has " + std::to_string(n_layers) +
                     " layers (0 … " + std::to_string(n_layers - 1) + ")");
}

// Checked before the model runs: a bad layer or head writes nothing.
void check_choice(const Args& a, int64_t n_layers, int64_t n_heads) {
  if (a.grid) return;
  check_layer(a.layer, n_layers);
  parse_head(a.head, n_heads);
}

std::vector<int64_t> encode_text(const tokenizers::TextCodec& tok, const std::string& text, int64_t max_len) {
  std::vector<int64_t> ids;
  try {
    ids = tok.encode(text);
  } catch (const ValueError& e) {
    throw ValueError(std::string("--text: ") + e.what());
  }
  if (ids.empty()) throw ValueError("--text has no tokens");
  if (static_cast<int64_t>(ids.size()) > max_len)
    throw ValueError("--text is " + std::to_string(ids.size()) + " tokens, longer than the model's context of " +
                     std::to_string(max_len));
  return ids;
}

// GPT and Llama: causal self-attention over --text.
template <class Model, class Hidden>
Maps run_causal(const Args& a, const Model& m, int64_t n_layers, int64_t n_heads, int64_t context, Hidden&& hidden) {
  if (a.text.empty()) throw ValueError("a " + m.model_type() + " model needs --text TEXT (--source is for translation models)");
  check_choice(a, n_layers, n_heads);
  const tokenizers::TextCodec tok = tokenizers::load_codec(a.dir + "/tokenizer.json");
  const std::vector<int64_t> ids = encode_text(tok, a.text, context);
  Maps maps;
  hidden(tensor_i64(ids, {1, static_cast<int64_t>(ids.size())}), &maps.layers);
  for (int64_t id : ids) maps.rows.push_back(tok.label(id));
  maps.cols = maps.rows;
  maps.what = "self-attention";
  return maps;
}

Maps run_bert(const Args& a, const models::Bert& m) {
  if (a.text.empty()) throw ValueError("a bert model needs --text TEXT");
  check_choice(a, m.config.num_hidden_layers, m.config.num_attention_heads);
  const tokenizers::Tokenizer tok = tokenizers::Tokenizer::from_path(a.dir + "/tokenizer.json");
  const std::vector<int64_t> ids = tok.encode(a.text).ids;  // [CLS] … [SEP]
  if (static_cast<int64_t>(ids.size()) > m.config.max_position_embeddings)
    throw ValueError("--text is " + std::to_string(ids.size()) + " tokens, longer than max_position_embeddings " +
                     std::to_string(m.config.max_position_embeddings));
  Generator gen(0);
  Maps maps;
  m.hidden({.input_ids = tensor_i64(ids, {1, static_cast<int64_t>(ids.size())})}, gen, &maps.layers);
  for (int64_t id : ids) maps.rows.push_back(tokenizers::token_label(tok, id));
  maps.cols = maps.rows;
  maps.what = "self-attention";
  return maps;
}

// The translation model: --part cross (target × source), encoder (source ×
// source) or decoder (target × target). Target rows: row t is the step that
// produced target token t, the last one </s>.
Maps run_transformer(const Args& a, const models::Transformer& model) {
  if (a.source.empty()) throw ValueError("a translation model needs --source TEXT (and optionally --target TEXT)");
  if (a.part != "cross" && a.part != "encoder" && a.part != "decoder")
    throw ValueError("--part " + a.part + ": use cross, encoder or decoder");
  const auto& cfg = model.config;
  check_choice(a, a.part == "encoder" ? cfg.n_encoder_layers : cfg.n_decoder_layers, cfg.n_heads);
  const tokenizers::Tokenizer tok = tokenizers::Tokenizer::from_path(a.dir + "/tokenizer.json");
  const std::vector<int64_t> src = tok.encode(a.source).ids;
  if (src.empty()) throw ValueError("--source has no tokens");
  if (static_cast<int64_t>(src.size()) > cfg.max_len)
    throw ValueError("--source is " + std::to_string(src.size()) + " tokens, longer than the model's max_len " +
                     std::to_string(cfg.max_len));
  const int64_t S = static_cast<int64_t>(src.size());
  std::vector<int64_t> tgt;
  std::string translation;
  if (!a.target.empty()) {
    tgt = tok.encode(a.target).ids;
  } else if (a.part != "encoder") {  // the model's own translation
    generate::BeamOptions bo;
    bo.beam_size = 1, bo.eos = cfg.eos_id, bo.max_new_tokens = cfg.max_len - 1;
    tgt = generate::beam_search(model, {.ids = tensor_i64({cfg.bos_id}, {1, 1}), .source_ids = tensor_i64(src, {1, S})},
                                bo)[0][0].tokens;
    translation = tok.decode(tgt);
    if (!a.quiet) std::printf("target: %s\n", translation.c_str());
  }
  if (static_cast<int64_t>(tgt.size()) + 1 > cfg.max_len)
    throw ValueError("--target is " + std::to_string(tgt.size()) + " tokens, longer than the model's max_len − 1");
  Generator gen(0);
  Maps maps;
  maps.translation = translation;
  std::vector<std::string> src_labels, tgt_labels;
  for (int64_t id : src) src_labels.push_back(tokenizers::token_label(tok, id));
  for (int64_t id : tgt) tgt_labels.push_back(tokenizers::token_label(tok, id));
  tgt_labels.push_back("</s>");
  std::vector<Tensor> enc;
  const Tensor memory = model.encode(tensor_i64(src, {1, S}), Tensor(), gen, &enc);
  if (a.part == "encoder") {
    maps = {enc, src_labels, src_labels, "encoder self-attention", "source (query)", "source (key)", "encoder layer",
            ""};
    return maps;
  }
  std::vector<int64_t> tgt_in{cfg.bos_id};
  tgt_in.insert(tgt_in.end(), tgt.begin(), tgt.end());
  std::vector<nn::LayerWeights> w;
  model.decode(tensor_i64(tgt_in, {1, static_cast<int64_t>(tgt_in.size())}), memory, gen, {.weights = &w});
  for (const nn::LayerWeights& lw : w) maps.layers.push_back(a.part == "cross" ? lw.cross : lw.self);
  maps.rows = tgt_labels;
  maps.layer_name = "decoder layer";
  if (a.part == "cross") {
    maps.cols = src_labels;
    maps.what = "cross-attention";
    maps.row_axis = "target", maps.col_axis = "source";
  } else {  // keys: BOS, then the target tokens before the last
    maps.cols = {"<s>"};
    maps.cols.insert(maps.cols.end(), tgt_labels.begin(), tgt_labels.end() - 1);
    maps.what = "decoder self-attention";
    maps.row_axis = "target (query)", maps.col_axis = "target (key)";
  }
  return maps;
}

}  // namespace

Maps attention_maps(const Args& a, const models::Model& m) {
  NoGradGuard ng;
  if (const auto* gpt = dynamic_cast<const models::GPT*>(&m))
    return run_causal(a, *gpt, gpt->config.n_layer, gpt->config.n_head, gpt->config.block_size,
                      [&](const Tensor& ids, std::vector<Tensor>* w) {
                        Generator gen(0);
                        gpt->hidden(ids, gen, {.weights = w});
                      });
  if (const auto* llama = dynamic_cast<const models::Llama*>(&m))
    return run_causal(a, *llama, llama->config.num_hidden_layers, llama->config.num_attention_heads,
                      llama->config.max_position_embeddings,
                      [&](const Tensor& ids, std::vector<Tensor>* w) { llama->hidden(ids, {.weights = w}); });
  if (const auto* bert = dynamic_cast<const models::Bert*>(&m)) return run_bert(a, *bert);
  if (const auto* tr = dynamic_cast<const models::Transformer*>(&m)) return run_transformer(a, *tr);
  throw ValueError(a.dir + " holds a '" + m.model_type() + "' model, which qkv plot attention cannot draw");
}

void draw_attention(const Args& a, const Maps& maps) {
  const int64_t L = static_cast<int64_t>(maps.layers.size()), NH = maps.layers[0].size(1);
  if (a.grid) {  // (L, NH, T, S): every layer × head
    std::vector<float> all;
    for (const Tensor& w : maps.layers) {
      const std::vector<float> v = w.contiguous().to_vector();
      all.insert(all.end(), v.begin(), v.end());
    }
    viz::GridOptions g;
    g.title = maps.what + ", every layer × head";
    g.x_label = maps.col_axis, g.y_label = maps.row_axis;
    g.x_ticks = maps.cols, g.y_ticks = maps.rows;
    for (int64_t l = 0; l < L; ++l) g.row_names.push_back(maps.layer_name + " " + std::to_string(l));
    for (int64_t h = 0; h < NH; ++h) g.col_names.push_back("head " + std::to_string(h));
    const Tensor t = tensor(all, {L, NH, maps.layers[0].size(2), maps.layers[0].size(3)});
    viz::heatmap_grid(a.out, t, g);
    if (!a.quiet)
      std::printf("wrote %s (%ld layers x %ld heads)\n", a.out.c_str(), static_cast<long>(L), static_cast<long>(NH));
    return;
  }
  const int64_t head = parse_head(a.head, NH);
  const Tensor heads = maps.layers[static_cast<size_t>(a.layer)].select(0, 0);  // (NH,T,S)
  const Tensor w = (head < 0 ? mean(heads, {0}) : heads.select(0, head)).contiguous();
  viz::HeatmapOptions h;
  h.title = maps.what + ", " + maps.layer_name + " " + std::to_string(a.layer) + ", " + (head < 0 ? "mean of heads" : "head " + a.head);
  h.x_label = maps.col_axis, h.y_label = maps.row_axis;
  h.x_ticks = maps.cols, h.y_ticks = maps.rows;
  h.colormap = "viridis";
  viz::heatmap(a.out, w, h);
  if (!a.quiet)
    std::printf("wrote %s (%ld x %ld attention weights)\n", a.out.c_str(), static_cast<long>(w.size(0)),
              static_cast<long>(w.size(1)));
}

namespace {

void run(const Args& a) {
  check_plot_path(a.out);  // a bad file name fails before the model loads
  std::unique_ptr<models::Model> m = models::load_model(a.dir);
  draw_attention(a, attention_maps(a, *m));
}

void add_plot_attention_command(CLI::App& plot) {
  auto* c = plot.add_subcommand(
      "attention", "Heatmaps of attention weights with token labels: self-attention over --text (GPT, Llama, BERT), "
                   "or a translation model's cross-, encoder or decoder attention; --grid for every layer × head");
  static Args a;
  c->add_option("dir", a.dir, "Model directory (qkv train gpt|llama|bert|translate)")->required();
  c->add_option("--text", a.text, "GPT, Llama, BERT: text to run through the model")->default_str("none");
  c->add_option("--source", a.source, "Translation model: the source sentence")->default_str("none");
  c->add_option("--target", a.target, "Translation model: its translation (default: the model's greedy one)")
      ->default_str("model's");
  c->add_option("--part", a.part, "Translation model: cross (target × source), encoder or decoder self-attention")
      ->capture_default_str();
  c->add_option("--layer", a.layer, "Layer (block), 0-based")->capture_default_str();
  c->add_option("--head", a.head, "Head index (0-based), or \"mean\" for the mean of all heads")->capture_default_str();
  c->add_flag("--grid", a.grid, "Draw every layer × head in one figure (ignores --layer/--head)");
  c->add_option("-o,--out", a.out, "Output file: .png, .svg or .pdf")->required();
  c->callback([] { run(a); });
}

}  // namespace

QKV_REGISTER_SUBCOMMAND("plot", "attention", 20, add_plot_attention_command);

}  // namespace qkv::cli
