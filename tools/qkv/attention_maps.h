// Attention weights of a model on a sentence, and their pictures: what
// `qkv plot attention` draws and `qkv report` embeds (cmd_plot_attention.cpp).
//   GPT, Llama:  text → causal self-attention
//   BERT:        text → self-attention over [CLS] … [SEP]
//   Transformer: source [+ target] → cross (default), encoder or decoder attention
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "qkv/core/tensor.h"
#include "qkv/models/model.h"

namespace qkv::cli {

struct AttentionPlot {
  std::string dir, text, source, target, out, head = "0", part = "cross";
  int64_t layer = 0;
  bool grid = false;   // every layer × head (ignores layer/head)
  bool quiet = false;  // print nothing (the report draws into a scratch file)
};

// What one forward pass gives: each layer's probabilities (1,NH,T,S) and the
// tokens along both axes.
struct AttentionMaps {
  std::vector<Tensor> layers;
  std::vector<std::string> rows, cols;
  std::string what, row_axis = "query", col_axis = "key";
  std::string layer_name = "layer";  // "encoder layer", "decoder layer" for the translation model
  std::string translation;           // the model's greedy translation, when it made the target
};

// Runs the model of `a.dir` (loaded as `m`) on the input; ValueError for a
// missing input, a layer or head out of range (unless a.grid), or a family
// without attention pictures.
AttentionMaps attention_maps(const AttentionPlot& a, const models::Model& m);
// Draws one head (or the mean) of a.layer, or every layer × head with a.grid, into a.out.
void draw_attention(const AttentionPlot& a, const AttentionMaps& maps);

}  // namespace qkv::cli
