// `qkv plot attention DIR …`: attention weights as a heatmap with the tokens
// as labels.
//   GPT:         --text TEXT: one head's self-attention (queries down, keys across)
//   Transformer: --source TEXT [--target TEXT]: the encoder–decoder
//                (cross-)attention of a layer, target tokens down, source
//                tokens across — the alignment picture (Bahdanau et al. 2015,
//                Fig. 3); without --target the model's own greedy translation.
// --head N picks a head; --head mean averages them.
#include <cstdio>

#include "commands.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/autograd/autograd.h"
#include "qkv/ops/ops.h"
#include "qkv/generate/beam.h"
#include "qkv/models/gpt.h"
#include "qkv/models/registry.h"
#include "qkv/models/transformer.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/viz/viz.h"

namespace qkv::cli {
namespace {

using tokenizers::TextCodec;
using tokenizers::load_codec;

struct Args {
  std::string dir, text, source, target, out, head = "0";
  int64_t layer = 0;
};

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

// (1,NH,T,S) weights → (T,S): one head, or the mean of all.
Tensor pick_head(const Tensor& w, int64_t head) {
  const Tensor heads = w.select(0, 0);  // (NH,T,S)
  return (head < 0 ? mean(heads, {0}) : heads.select(0, head)).contiguous();
}

void draw(const Args& a, const Tensor& w, viz::HeatmapOptions hopt) {
  hopt.colormap = "viridis";
  if (plot_format(a.out) == PlotFormat::Png) viz::heatmap_png(a.out, w, hopt);
  else viz::heatmap_svg(a.out, w, hopt);
  std::printf("wrote %s (%ld x %ld attention weights)\n", a.out.c_str(), static_cast<long>(w.size(0)),
              static_cast<long>(w.size(1)));
}

std::string label(const std::string& s) {
  if (s == "\n") return "\\n";
  if (s == " ") return "_";
  return s;
}

void run_gpt(const Args& a, const models::GPT& gpt) {
  plot_format(a.out);
  if (a.text.empty()) throw ValueError("a GPT model needs --text TEXT (--source/--target are for translation models)");
  TextCodec tok = load_codec(a.dir + "/tokenizer.json");
  const models::GPT* model = &gpt;
  const auto& cfg = model->config;
  check_layer(a.layer, cfg.n_layer);
  const int64_t head = parse_head(a.head, cfg.n_head);
  std::vector<int64_t> ids;
  try {
    ids = tok.encode(a.text);
  } catch (const ValueError& e) {
    throw ValueError(std::string("--text: ") + e.what());
  }
  if (static_cast<int64_t>(ids.size()) > cfg.block_size)
    throw ValueError("--text is " + std::to_string(ids.size()) + " tokens, longer than block_size " +
                     std::to_string(cfg.block_size));
  NoGradGuard ng;
  Generator gen(0);
  const int64_t T = static_cast<int64_t>(ids.size());
  // The blocks below `layer`, then that block's attention asked for its weights.
  Tensor idx = tensor_i64(ids, {1, T});
  const Tensor pos = arange(T);
  Tensor x = model->embed(idx, pos, gen);
  nn::LayerArgs args;
  args.gen = &gen;
  args.self.causal = true;
  args.self.positions = pos;
  args.self.mask = model->position_bias(T, T);
  for (int64_t l = 0; l < a.layer; ++l) x = model->h->blocks[l]->forward(x, args);
  const auto& blk = *model->h->blocks[a.layer];
  nn::AttentionArgs att = args.self;
  att.need_weights = true;
  const Tensor w = pick_head(blk.attn->forward(blk.ln_1->forward(x), att).weights, head);  // (T,T)
  viz::HeatmapOptions hopt;
  hopt.title = "attention, layer " + std::to_string(a.layer) + ", " + (head < 0 ? "mean of heads" : "head " + a.head);
  hopt.x_label = "key";
  hopt.y_label = "query";
  for (int64_t id : ids) {
    std::string s = label(tok.decode({id}));
    hopt.x_ticks.push_back(s);
    hopt.y_ticks.push_back(s);
  }
  draw(a, w, hopt);
}

// The translation model's cross-attention: target tokens (rows; row t is the
// step that produced target token t, the last one </s>) × source tokens.
void run_transformer(const Args& a, const models::Transformer& model) {
  plot_format(a.out);
  if (a.source.empty()) throw ValueError("a translation model needs --source TEXT (and optionally --target TEXT)");
  const tokenizers::Tokenizer tok = tokenizers::Tokenizer::from_path(a.dir + "/tokenizer.json");
  const auto& cfg = model.config;
  check_layer(a.layer, cfg.n_decoder_layers);
  const int64_t head = parse_head(a.head, cfg.n_heads);
  const std::vector<int64_t> src = tok.encode(a.source).ids;
  if (src.empty()) throw ValueError("--source has no tokens");
  if (static_cast<int64_t>(src.size()) > cfg.max_len)
    throw ValueError("--source is " + std::to_string(src.size()) + " tokens, longer than the model's max_len " +
                     std::to_string(cfg.max_len));
  const int64_t S = static_cast<int64_t>(src.size());
  std::vector<int64_t> tgt;
  if (!a.target.empty()) {
    tgt = tok.encode(a.target).ids;
  } else {  // the model's own translation
    generate::BeamOptions bo;
    bo.beam_size = 1, bo.eos = cfg.eos_id, bo.max_new_tokens = cfg.max_len - 1;
    tgt = generate::beam_search(model, {.ids = tensor_i64({cfg.bos_id}, {1, 1}), .source_ids = tensor_i64(src, {1, S})},
                                bo)[0][0].tokens;
  }
  if (static_cast<int64_t>(tgt.size()) + 1 > cfg.max_len)
    throw ValueError("--target is " + std::to_string(tgt.size()) + " tokens, longer than the model's max_len − 1");
  NoGradGuard ng;
  Generator gen(0);
  std::vector<int64_t> tgt_in{cfg.bos_id};
  tgt_in.insert(tgt_in.end(), tgt.begin(), tgt.end());
  const int64_t T = static_cast<int64_t>(tgt_in.size());
  std::vector<nn::LayerWeights> w;
  model.decode(tensor_i64(tgt_in, {1, T}), model.encode(tensor_i64(src, {1, S}), Tensor(), gen), gen, {.weights = &w});
  viz::HeatmapOptions hopt;
  hopt.title = "cross-attention, decoder layer " + std::to_string(a.layer) + ", " +
               (head < 0 ? "mean of heads" : "head " + a.head);
  hopt.x_label = "source";
  hopt.y_label = "target";
  for (int64_t id : src) hopt.x_ticks.push_back(label(tok.decode({id})));
  for (int64_t id : tgt) hopt.y_ticks.push_back(label(tok.decode({id})));
  hopt.y_ticks.push_back("</s>");
  std::printf("target: %s\n", tok.decode(tgt).c_str());
  draw(a, pick_head(w[static_cast<size_t>(a.layer)].cross, head), hopt);
}

void run(const Args& a) {
  plot_format(a.out);  // a bad file name fails before the model loads
  std::unique_ptr<models::Model> m = models::load_model(a.dir);
  if (const auto* gpt = dynamic_cast<const models::GPT*>(m.get())) return run_gpt(a, *gpt);
  if (const auto* tr = dynamic_cast<const models::Transformer*>(m.get())) return run_transformer(a, *tr);
  throw ValueError(a.dir + " holds a '" + m->model_type() + "' model, which qkv plot attention cannot draw");
}

void add_plot_attention_command(CLI::App& plot) {
  auto* c = plot.add_subcommand(
      "attention", "Heatmap of attention weights with token labels: a GPT's self-attention over --text, or a "
                   "translation model's cross-attention (target × source)");
  static Args a;
  c->add_option("dir", a.dir, "Model directory made by `qkv train gpt` or `qkv train translate`")->required();
  c->add_option("--text", a.text, "GPT: text to run through the model")->default_str("none");
  c->add_option("--source", a.source, "Translation model: the source sentence")->default_str("none");
  c->add_option("--target", a.target, "Translation model: its translation (default: the model's greedy one)")
      ->default_str("model's");
  c->add_option("--layer", a.layer, "Block (GPT) or decoder layer (translation), 0-based")->capture_default_str();
  c->add_option("--head", a.head, "Head index (0-based), or \"mean\" for the mean of all heads")->capture_default_str();
  c->add_option("-o,--out", a.out, "Output file: .png or .svg")->required();
  c->callback([] { run(a); });
}

}  // namespace

QKV_REGISTER_SUBCOMMAND("plot", "attention", 20, add_plot_attention_command);

}  // namespace qkv::cli
