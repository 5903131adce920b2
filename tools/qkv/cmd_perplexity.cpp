// `qkv perplexity DIR --data FILE [--context L] [--stride S] [--weights F] [--json]`: the
// mean negative log-likelihood per token and the perplexity of a text under a
// causal model — qkv's or a Hugging Face directory as it is — by Hugging
// Face's sliding-window method (train::sliding_window_perplexity).
#include <cmath>
#include <cstdio>

#include "commands.h"
#include "qkv/io/file.h"
#include "qkv/models/causal_decoder.h"
#include "qkv/models/lora.h"
#include "qkv/models/registry.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/train/eval_lengths.h"

namespace qkv::cli {
namespace {

struct Args {
  std::string dir, data, adapter, weights = "f32";
  int64_t context = 0, stride = 0, batch = 8;
  int threads = 0;
  bool json = false;
};

void run(const Args& a) {
  apply_threads(a.threads);
  auto model = models::load_model_as<models::CausalDecoderLM>(a.dir, "qkv perplexity");
  if (!a.adapter.empty()) {  // a PEFT LoRA adapter on the model, merged (as qkv generate --adapter)
    Generator g(0);
    models::load_peft_adapter(a.adapter, *model, g);
    models::merge_lora(*model);
  }
  try {
    model->quantize(kernels::parse_weight_format(a.weights));  // f32: nothing to do
  } catch (const ValueError& e) {
    throw ValueError(std::string("--weights: ") + e.what());
  }
  const int64_t context = a.context ? a.context : model->context_length();
  if (context > model->context_length())
    throw ValueError("--context " + std::to_string(context) + " is longer than the model's context length " +
                     std::to_string(model->context_length()));
  const int64_t stride = a.stride ? a.stride : context / 2;
  const std::vector<int64_t> ids = tokenizers::load_codec(a.dir).encode(io::read_file(a.data));
  const train::LengthScore s = train::sliding_window_perplexity(*model, ids, context, stride, a.batch);
  if (!s.error.empty()) throw ValueError(s.error);
  if (a.json) {
    nlohmann::ordered_json j{{"nll", s.loss}, {"perplexity", s.perplexity()}, {"tokens", s.targets},
                             {"context", context}, {"stride", stride}};
    std::printf("%s\n", compact_json(j).c_str());
  } else {
    std::printf("nll %.4f  perplexity %.3f  (%ld tokens scored; context %ld, stride %ld)\n", s.loss, s.perplexity(),
                static_cast<long>(s.targets), static_cast<long>(context), static_cast<long>(stride));
  }
}

void add_perplexity_command(CLI::App& app) {
  auto* c = app.add_subcommand("perplexity",
                               "Mean negative log-likelihood per token and perplexity of a text under a causal model "
                               "(a qkv run or a Hugging Face directory), by Hugging Face's sliding windows");
  static Args a;
  c->add_option("dir", a.dir, "Model directory: config.json, weights, tokenizer.json")->required();
  c->add_option("--data", a.data, "Text file to score (all of it)")->required();
  c->add_option("--context", a.context, "Window length in tokens (0 = the model's context length)")
      ->capture_default_str();
  c->add_option("--stride", a.stride,
                "Tokens the window moves each step; each window scores only its new tokens (0 = context/2)")
      ->capture_default_str();
  c->add_option("--batch", a.batch, "Windows per forward pass")->capture_default_str();
  c->add_option("--adapter", a.adapter, "A LoRA adapter directory in PEFT's format to apply (merged)")
      ->default_str("none");
  c->add_option("--weights", a.weights,
                "Weight format for the run: f32, bf16 or int8 (blocks of 32), as qkv generate --weights")
      ->capture_default_str();
  c->add_flag("--json", a.json, "One JSON object: {nll, perplexity, tokens, context, stride}");
  c->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  c->callback([] { run(a); });
}

}  // namespace

QKV_REGISTER_COMMAND("perplexity", 76, add_perplexity_command);

}  // namespace qkv::cli
