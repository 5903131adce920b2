// `qkv plot next-token DIR --prompt TEXT [-k K] -o FILE`: the softmax over the
// next token after a prompt, as bars of the K most likely tokens — the output
// layer of the notes (logits → softmax → a distribution over the vocabulary).
#include <cstdio>

#include "commands.h"
#include "qkv/autograd/autograd.h"
#include "qkv/generate/sampling.h"
#include "qkv/models/causal_decoder.h"
#include "qkv/models/registry.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/viz/viz.h"

namespace qkv::cli {
namespace {

struct Args {
  std::string dir, prompt, out;
  int64_t k = 10;
  float temperature = 1.0f;
};

void run(const Args& a) {
  check_plot_path(a.out);
  if (a.k < 1 || a.k > 100) throw ValueError("-k must be in 1 … 100");
  if (!(a.temperature > 0)) throw ValueError("--temperature must be > 0");
  if (a.prompt.empty()) throw ValueError("--prompt must not be empty");
  const auto model = models::load_model_as<models::CausalDecoderLM>(a.dir, "qkv plot next-token");
  const tokenizers::TextCodec tok = tokenizers::load_codec(a.dir + "/tokenizer.json");
  std::vector<int64_t> ids;
  try {
    ids = tok.encode(a.prompt);
  } catch (const ValueError& e) {
    throw ValueError(std::string("--prompt: ") + e.what());
  }
  if (ids.empty()) throw ValueError("--prompt has no tokens");
  if (static_cast<int64_t>(ids.size()) > model->context_length())  // keep the last context_length tokens
    ids.erase(ids.begin(), ids.end() - model->context_length());
  NoGradGuard ng;
  const Tensor logits = model->last_token_logits(tensor_i64(ids, {1, static_cast<int64_t>(ids.size())}), {}).contiguous();
  const int64_t V = logits.size(-1);
  std::vector<std::string> labels;
  std::vector<double> probs;
  for (const generate::TokenProb& c : generate::top_probs(logits.data<float>(), V, a.k, a.temperature)) {
    labels.push_back(tok.label(c.id));
    probs.push_back(c.p);
    std::printf("%s %.4f\n", pad_label(labels.back(), 16).c_str(), c.p);
  }
  std::string shown = a.prompt.size() > 40 ? "…" + a.prompt.substr(a.prompt.size() - 40) : a.prompt;
  char axis[64];
  std::snprintf(axis, sizeof axis, "probability (softmax, T = %g)", a.temperature);
  viz::bar_chart(a.out, labels, probs, {"next token after \"" + shown + "\"", axis, 0});
  std::printf("wrote %s (top %zu of %ld tokens)\n", a.out.c_str(), labels.size(), static_cast<long>(V));
}

void add_plot_next_token_command(CLI::App& plot) {
  auto* c = plot.add_subcommand("next-token",
                                "Bar chart of the next token's probabilities after --prompt (GPT, Llama): the K "
                                "most likely tokens of softmax(logits / temperature)");
  static Args a;
  c->add_option("dir", a.dir, "Model directory (qkv train gpt|llama)")->required();
  c->add_option("--prompt", a.prompt, "Text whose next token to show")->required();
  c->add_option("-k", a.k, "How many tokens to show (1 … 100)")->capture_default_str();
  c->add_option("--temperature", a.temperature, "Softmax temperature")->capture_default_str();
  c->add_option("-o,--out", a.out, "Output file: .png, .svg or .pdf")->required();
  c->callback([] { run(a); });
}

}  // namespace

QKV_REGISTER_SUBCOMMAND("plot", "next-token", 30, add_plot_next_token_command);

}  // namespace qkv::cli
