// `qkv plot attention DIR --text TEXT --layer L --head H -o FILE`: the
// attention weights of one head of a trained GPT over a text, as a heatmap
// with the tokens as labels (query positions down, key positions across).
#include <cstdio>

#include "commands.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/autograd/autograd.h"
#include "qkv/ops/ops.h"
#include "qkv/models/gpt.h"
#include "qkv/models/registry.h"
#include "qkv/viz/viz.h"

namespace qkv::cli {
namespace {

using tokenizers::TextCodec;
using tokenizers::load_codec;

struct Args {
  std::string dir, text, out;
  int64_t layer = 0, head = 0;
};

std::string label(const std::string& s) {
  if (s == "\n") return "\\n";
  if (s == " ") return "_";
  return s;
}

void run(const Args& a) {
  PlotFormat fmt = plot_format(a.out);
  if (a.text.empty()) throw ValueError("--text must not be empty");
  TextCodec tok = load_codec(a.dir + "/tokenizer.json");
  auto model = models::load_model_as<models::GPT>(a.dir, "qkv plot-attention");
  const auto& cfg = model->config;
  if (a.layer < 0 || a.layer >= cfg.n_layer)
    throw ValueError("--layer " + std::to_string(a.layer) + " out of range: the model has " +
                     std::to_string(cfg.n_layer) + " layers (0 … " + std::to_string(cfg.n_layer - 1) + ")");
  if (a.head < 0 || a.head >= cfg.n_head)
    throw ValueError("--head " + std::to_string(a.head) + " out of range: the model has " +
                     std::to_string(cfg.n_head) + " heads (0 … " + std::to_string(cfg.n_head - 1) + ")");
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
  Tensor w = blk.attn->forward(blk.ln_1->forward(x), att)
                 .weights.select(0, 0)
                 .select(0, a.head);  // (T,T)
  viz::HeatmapOptions hopt;
  hopt.title = "attention, layer " + std::to_string(a.layer) + ", head " + std::to_string(a.head);
  hopt.x_label = "key";
  hopt.y_label = "query";
  hopt.colormap = "viridis";
  for (int64_t id : ids) {
    std::string s = label(tok.decode({id}));
    hopt.x_ticks.push_back(s);
    hopt.y_ticks.push_back(s);
  }
  if (fmt == PlotFormat::Png) viz::heatmap_png(a.out, w.contiguous(), hopt);
  else viz::heatmap_svg(a.out, w.contiguous(), hopt);
  std::printf("wrote %s (%ld x %ld attention weights)\n", a.out.c_str(), static_cast<long>(T), static_cast<long>(T));
}

void add_plot_attention_command(CLI::App& plot) {
  auto* c = plot.add_subcommand("attention", "Heatmap of one head's attention weights over a text, with token labels");
  static Args a;
  c->add_option("dir", a.dir, "Model directory made by `qkv train gpt`")->required();
  c->add_option("--text", a.text, "Text to run through the model")->required();
  c->add_option("--layer", a.layer, "Block index (0-based)")->capture_default_str();
  c->add_option("--head", a.head, "Head index (0-based)")->capture_default_str();
  c->add_option("-o,--out", a.out, "Output file: .png or .svg")->required();
  c->callback([] { run(a); });
}

}  // namespace

QKV_REGISTER_SUBCOMMAND("plot", "attention", 20, add_plot_attention_command);

}  // namespace qkv::cli
