// `qkv plot pe`: what a position method is and what it makes of distance —
// the sinusoidal table (Vaswani et al. §3.5), a run's learned table, and for
// every kind the position × position similarity (or ALiBi's bias, T5's
// buckets, Shaw et al.'s clipped distances).
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "qkv/autograd/autograd.h"
#include "qkv/ops/ops.h"
#include "qkv/io/json.h"
#include "qkv/models/gpt.h"
#include "qkv/models/registry.h"
#include "qkv/nn/positional.h"
#include "qkv/viz/viz.h"

namespace qkv::cli {
namespace {

struct Args {
  std::string kind, view, run, out;
  int64_t len = 100, dim = 0, heads = 8, head = 0, max_distance = 16, layer = 0;
  double base = 10000.0;
};

// Settings a run directory fixes (its config.json), over the flags.
void take_from_run(Args& a, models::GPTConfig& cfg) {
  if (!std::filesystem::is_directory(a.run))
    throw IOError("--run " + a.run + ": no such directory (expected a run made by `qkv train gpt`)");
  cfg = models::GPTConfig::from_json(io::read_json(a.run + "/config.json"));
  if (a.kind.empty()) a.kind = cfg.pos_encoding;
  if (a.kind != cfg.pos_encoding)
    throw ValueError("--kind " + a.kind + ": the run at " + a.run + " uses " + cfg.pos_encoding + " positions");
  a.heads = cfg.n_head;
  a.dim = a.kind == "rope" ? cfg.n_embd / cfg.n_head : cfg.n_embd;
  a.base = a.kind == "rope" ? cfg.rope_theta : cfg.sinusoidal_base;
  a.max_distance = cfg.relative_max_distance;
}

struct Picture {
  Tensor values;
  std::string title, x_label, y_label;
};

Picture rope_picture(const Args& a, const models::GPTConfig* cfg) {
  RopeOptions o;
  o.theta = a.base;
  if (cfg) {
    o.rot_dim = cfg->rope_dim;
    o.layout = cfg->rope_layout == "adjacent" ? RopeLayout::Adjacent : RopeLayout::RotateHalf;
  }
  char t[160];
  std::snprintf(t, sizeof t, "RoPE: q.k of equal vectors at positions i, j (base %g, head size %ld)", a.base,
                static_cast<long>(a.dim));
  return {nn::rope_similarity(a.len, a.dim, o), t, "key position j", "query position i"};
}

// T5: a run's learned bias for one head, or (no run) the causal bucket of
// each offset with T5's defaults (32 buckets, max distance 128).
Picture t5_picture(const Args& a, const models::GPTConfig* cfg) {
  NoGradGuard ng;
  if (cfg) {
    auto model = models::load_model_as<models::GPT>(a.run, "qkv plot pe");
    const Tensor b = model->rel_bias->forward(a.len, a.len).select(0, 0).select(0, a.head).contiguous();
    return {b, "T5 bias of head " + std::to_string(a.head) + " (" + a.run + ")", "key position j", "query position i"};
  }
  std::vector<float> ids(static_cast<size_t>(a.len * a.len));
  for (int64_t i = 0; i < a.len; ++i)
    for (int64_t j = 0; j < a.len; ++j) ids[i * a.len + j] = static_cast<float>(nn::t5_bucket(j - i, false, 32, 128));
  return {tensor(ids, {a.len, a.len}), "T5 buckets of offsets j - i (causal, 32 buckets, max distance 128)",
          "key position j", "query position i"};
}

// Shaw et al. 2018: a run's learned key vectors w^K of one layer (rows
// distance −k … k) as a table or their row similarity, or (no run) the
// distance clip(j − i, −k, k) that picks the row for query i and key j.
Picture relative_picture(const Args& a, const models::GPTConfig* cfg) {
  NoGradGuard ng;
  if (cfg) {
    if (a.layer < 0 || a.layer >= cfg->n_layer)
      throw ValueError("--layer " + std::to_string(a.layer) + " out of range for the run's " +
                       std::to_string(cfg->n_layer) + " layers");
    auto model = models::load_model_as<models::GPT>(a.run, "qkv plot pe");
    const Tensor wk = model->h->blocks[a.layer]->attn->rel_pos->w_k->weight.detach().contiguous();  // (2k+1, hs)
    const std::string k = std::to_string(cfg->relative_max_distance), where = "layer " + std::to_string(a.layer) + ", " + a.run;
    if (a.view == "table")
      return {wk, "Relative key vectors w^K, rows distance -" + k + " .. " + k + " (" + where + ")", "dimension",
              "distance + " + k};
    return {nn::row_cosine_similarity(wk), "Relative key vectors: cosine similarity (" + where + ")",
            "distance + " + k, "distance + " + k};
  }
  if (a.view == "table") throw ValueError("--view table: relative key vectors come from a trained model; add --run DIR");
  return {nn::relative_distance(a.len, a.max_distance),
          "Relative positions: clip(j - i, -k, k), k = " + std::to_string(a.max_distance), "key position j",
          "query position i"};
}

Picture make_picture(const Args& a, const models::GPTConfig* cfg) {
  char t[160];
  if (a.kind == "learned") {
    if (!cfg) throw ValueError("--kind learned needs --run DIR: a learned table comes from a trained model");
    auto model = models::load_model_as<models::GPT>(a.run, "qkv plot pe");
    const Tensor table = model->wpe->weight.detach().narrow(0, 0, std::min(a.len, cfg->block_size)).contiguous();
    if (a.view == "table") return {table, "Learned positions of " + a.run, "dimension", "position"};
    return {nn::row_cosine_similarity(table), "Learned positions: cosine similarity (" + a.run + ")", "position j",
            "position i"};
  }
  if (a.kind == "sinusoidal") {
    if (a.view == "table") {
      std::snprintf(t, sizeof t, "Sinusoidal positional encoding (%ld x %ld, base %g)", static_cast<long>(a.len),
                    static_cast<long>(a.dim), a.base);
      return {nn::SinusoidalPositionalEncoding(a.dim, a.len, a.base).forward(a.len).contiguous(), t, "dimension i",
              "position"};
    }
    std::snprintf(t, sizeof t, "Sinusoidal: cosine similarity of positions (d %ld, base %g)", static_cast<long>(a.dim),
                  a.base);
    return {nn::sinusoidal_similarity(a.len, a.dim, a.base), t, "position j", "position i"};
  }
  if (a.kind == "rope") return rope_picture(a, cfg);
  if (a.kind == "t5") return t5_picture(a, cfg);
  if (a.kind == "relative") return relative_picture(a, cfg);
  std::snprintf(t, sizeof t, "ALiBi: bias -m|i-j| of head %ld of %ld (m = %g)", static_cast<long>(a.head),
                static_cast<long>(a.heads), nn::alibi_slopes(a.heads).to_vector()[static_cast<size_t>(a.head)]);
  return {nn::alibi_bias(a.len, a.heads, a.head), t, "key position j", "query position i"};
}

void check(Args& a) {
  if (a.len <= 0) throw ValueError("--len must be positive, got " + std::to_string(a.len));
  if (a.dim < 0) throw ValueError("--dim must be positive, got " + std::to_string(a.dim));
  if (a.len > 8192 || a.dim > 8192)
    throw ValueError("--len and --dim must be at most 8192, got " + std::to_string(a.len) + " and " +
                     std::to_string(a.dim));
  if (a.kind == "none") throw ValueError("--kind none: no position method, nothing to draw");
  if (a.kind != "sinusoidal" && a.kind != "learned" && a.kind != "rope" && a.kind != "alibi" && a.kind != "t5" &&
      a.kind != "relative")
    throw ValueError("--kind " + a.kind + ": use sinusoidal, learned, rope, alibi, t5 or relative");
  if (a.max_distance < 1)
    throw ValueError("--max-distance must be at least 1, got " + std::to_string(a.max_distance));
  if (a.view.empty()) a.view = a.kind == "sinusoidal" || a.kind == "learned" ? "table" : "similarity";
  if (a.view != "table" && a.view != "similarity")
    throw ValueError("--view " + a.view + ": use table or similarity");
  if (a.view == "table" && (a.kind == "rope" || a.kind == "alibi" || a.kind == "t5"))
    throw ValueError("--view table: " + a.kind + " has no table of vectors; use --view similarity");
  if (a.heads < 1 || a.head < 0 || a.head >= a.heads)
    throw ValueError("--head " + std::to_string(a.head) + " out of range for --heads " + std::to_string(a.heads));
  if (a.dim == 0) a.dim = a.kind == "rope" ? 64 : 512;
}

void run(Args a) {
  check_plot_path(a.out);
  if (a.kind == "auto") a.kind.clear();
  if (a.view == "auto") a.view.clear();
  models::GPTConfig cfg;
  const bool from_run = !a.run.empty();
  if (from_run) take_from_run(a, cfg);
  if (a.kind.empty()) a.kind = "sinusoidal";
  check(a);
  const Picture p = make_picture(a, from_run ? &cfg : nullptr);
  viz::HeatmapOptions opt;
  opt.title = p.title;
  opt.x_label = p.x_label;
  opt.y_label = p.y_label;
  viz::heatmap(a.out, p.values, opt);
  std::printf("wrote %s (%s %s, %lld x %lld)\n", a.out.c_str(), a.kind.c_str(), a.view.c_str(),
              static_cast<long long>(p.values.size(0)), static_cast<long long>(p.values.size(1)));
}

void add_plot_pe_command(CLI::App& plot) {
  auto* pe = plot.add_subcommand(
      "pe", "Positions: the sinusoidal table PE(pos,2i)=sin(pos/base^(2i/d)), PE(pos,2i+1)=cos(...), a run's learned "
            "table, or what sinusoidal, learned, rope, alibi, t5 and relative make of distance (--view similarity)");
  static Args a;
  pe->add_option("--kind", a.kind,
                 "sinusoidal, learned (needs --run), rope, alibi, t5 or relative; auto = the run's, else sinusoidal")
      ->default_str("auto");
  pe->add_option("--view", a.view,
                 "table (sinusoidal, learned, a relative run's w^K) or similarity; auto = table where there is one")
      ->default_str("auto");
  pe->add_option("--run", a.run, "A run directory: its kind, sizes and bases (and learned table)")
      ->default_str("none");
  pe->add_option("--len", a.len, "Positions (rows, drawn top to bottom)")->capture_default_str();
  pe->add_option("--dim", a.dim, "Model width (sinusoidal) or head size (rope); 0 = 512 or 64")->capture_default_str();
  pe->add_option("--base", a.base, "Sinusoidal base or RoPE theta (try 100, 10000, 1000000)")->capture_default_str();
  pe->add_option("--heads", a.heads, "ALiBi: heads (their slopes)")->capture_default_str();
  pe->add_option("--head", a.head, "ALiBi or a T5 run: the head to draw (ALiBi 0 = steepest slope)")->capture_default_str();
  pe->add_option("--max-distance", a.max_distance, "Relative (no run): the clipping distance k of clip(j - i, -k, k)")
      ->capture_default_str();
  pe->add_option("--layer", a.layer, "A relative run: the layer whose key vectors w^K to draw")->capture_default_str();
  pe->add_option("-o,--out", a.out, "Output file: .png, .svg or .pdf")->required();
  pe->callback([] { run(a); });
}

}  // namespace

QKV_REGISTER_SUBCOMMAND("plot", "pe", 10, add_plot_pe_command);

}  // namespace qkv::cli
