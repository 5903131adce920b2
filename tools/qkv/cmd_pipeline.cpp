// `qkv pipeline TASK DIR`: Hugging Face's pipelines (qkv/pipelines) on a
// model directory, one input per stdin line, one JSON value per output line
// in transformers' shapes:
//   fill-mask             [{score, token, token_str, sequence}] ([[…], […]] with several [MASK])
//   text-classification   [{label, score}]; a JSON line {"text": …, "text_pair": …} classifies a pair
//   token-classification  [{entity, score, index, word, start, end}] ([{entity_group, …}] with --aggregation
//                         simple|first|average|max)
//   feature-extraction    [[[…C floats] × T tokens]]
//   text-generation       [{generated_text}] (a causal LM: GPT, Llama)
// A line may be plain text or a JSON object with "text" (and "text_pair").
#include <algorithm>
#include <cstdio>

#include "commands.h"
#include "qkv/autograd/autograd.h"
#include "qkv/generate/generate.h"
#include "qkv/models/bert.h"
#include "qkv/models/causal_decoder.h"
#include "qkv/models/registry.h"
#include "qkv/pipelines/encoder.h"
#include "qkv/pipelines/pipelines.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::cli {
namespace {

using ojson = nlohmann::ordered_json;

const std::vector<std::string> kTasks = {"fill-mask", "text-classification", "token-classification",
                                         "feature-extraction", "text-generation"};

struct Args {
  std::string task, dir, aggregation = "none";
  int64_t top_k = -1, max_new_tokens = 50;  // top_k -1: the task's default (fill-mask 5, classification 1)
  int threads = 0;
};

struct Input {
  std::string text, text_pair;
};

// A stdin line: plain text, or {"text": …, "text_pair": …}.
Input parse_input(const std::string& line, size_t n) {
  if (line.empty() || line.front() != '{') return {line, ""};
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception&) {
    throw ValueError("stdin:" + std::to_string(n) + ": a line starting with '{' must be a JSON object");
  }
  if (!j.contains("text") || !j["text"].is_string())
    throw ValueError("stdin:" + std::to_string(n) + ": the JSON object needs a string \"text\"");
  Input in{j["text"].get<std::string>(), ""};
  if (j.contains("text_pair")) {
    if (!j["text_pair"].is_string()) throw ValueError("stdin:" + std::to_string(n) + ": \"text_pair\" must be a string");
    in.text_pair = j["text_pair"].get<std::string>();
  }
  return in;
}

ojson fill_mask_json(const std::vector<std::vector<pipelines::MaskPrediction>>& res) {
  ojson all = ojson::array();
  for (const auto& preds : res) {
    ojson one = ojson::array();
    for (const auto& p : preds)
      one.push_back({{"score", p.score}, {"token", p.token}, {"token_str", p.token_str}, {"sequence", p.sequence}});
    all.push_back(one);
  }
  return all.size() == 1 ? all[0] : all;
}

ojson entities_json(const std::vector<pipelines::TokenEntity>& es, bool grouped) {
  ojson out = ojson::array();
  for (const auto& e : es) {
    ojson o;
    o[grouped ? "entity_group" : "entity"] = e.entity;
    o["score"] = e.score;
    if (!grouped) o["index"] = e.index;
    o["word"] = e.word, o["start"] = e.start, o["end"] = e.end;
    out.push_back(o);
  }
  return out;
}

ojson features_json(const pipelines::TextEncoder& enc, const Input& in) {
  const std::vector<std::string> pair{in.text_pair};
  const auto b = in.text_pair.empty() ? enc.encode({in.text}) : enc.encode({in.text}, &pair);
  const Tensor h = enc.hidden(b).select(0, 0).contiguous();  // (T,C)
  const auto v = h.to_vector();
  ojson rows = ojson::array();
  for (int64_t t = 0; t < h.size(0); ++t)
    rows.push_back(std::vector<float>(v.begin() + t * h.size(1), v.begin() + (t + 1) * h.size(1)));
  return ojson::array({rows});
}

void run_generation(const Args& a, const std::vector<std::string>& lines) {
  auto model = models::load_model_as<models::CausalDecoderLM>(a.dir, "the text-generation pipeline");
  const tokenizers::TextCodec codec = tokenizers::load_codec(a.dir);
  generate::GenerateOptions opt;
  opt.max_new_tokens = a.max_new_tokens;
  opt.sampling.temperature = 0.0f;  // greedy, as transformers without do_sample
  Generator gen(0);
  for (const std::string& line : lines) {
    const auto out = generate::generate(*model, {codec.encode(line)}, opt, gen);
    std::printf("%s\n", compact_json(ojson::array({{{"generated_text", line + codec.decode(out.at(0))}}})).c_str());
    std::fflush(stdout);
  }
}

void run(const Args& a) {
  apply_threads(a.threads);
  if (std::find(kTasks.begin(), kTasks.end(), a.task) == kTasks.end()) {
    std::string known;
    for (const auto& t : kTasks) known += (known.empty() ? "" : ", ") + t;
    throw ValueError("unknown pipeline task \"" + a.task + "\" (known: " + known + ")");
  }
  const auto aggregation = pipelines::aggregation_from_name(a.aggregation);
  const std::vector<std::string> lines = read_stdin_lines();
  if (a.task == "text-generation") return run_generation(a, lines);
  auto model = models::load_model(a.dir);
  const auto tok = tokenizers::Tokenizer::from_path(a.dir);
  const auto* bert = dynamic_cast<const models::Bert*>(model.get());
  if (!bert && a.task != "feature-extraction")
    throw ValueError(a.dir + " holds a '" + model->model_type() + "' model; the " + a.task +
                     " pipeline needs a BERT model");
  const auto enc = pipelines::TextEncoder::of(*model, tok);
  NoGradGuard ng;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const Input in = parse_input(lines[i], i + 1);
    ojson out;
    if (a.task == "fill-mask")
      out = fill_mask_json(pipelines::fill_mask(*bert, tok, in.text, a.top_k));
    else if (a.task == "text-classification")
      for (const auto& l : pipelines::classify_text(*bert, tok, in.text, in.text_pair, a.top_k))
        out.push_back({{"label", l.label}, {"score", l.score}});
    else if (a.task == "token-classification")
      out = entities_json(pipelines::classify_tokens(*bert, tok, in.text, aggregation),
                          aggregation != pipelines::Aggregation::None);
    else
      out = features_json(enc, in);
    std::printf("%s\n", compact_json(out).c_str());
    std::fflush(stdout);
  }
}

void add_pipeline_command(CLI::App& app) {
  auto* c = app.add_subcommand("pipeline",
                               "Hugging Face's pipelines on a model directory: stdin lines in, one JSON value per "
                               "line out (fill-mask, text-classification, token-classification, feature-extraction, "
                               "text-generation)");
  static Args a;
  c->add_option("task", a.task, "fill-mask | text-classification | token-classification | feature-extraction | "
                                "text-generation")
      ->required();
  c->add_option("dir", a.dir, "Model directory: config.json, model.safetensors, tokenizer.json")->required();
  c->add_option("--top-k", a.top_k,
                "fill-mask: predictions per [MASK] (default 5); text-classification: labels to show "
                "(default 1; 0 = all)")
      ->default_str("auto");
  c->add_option("--aggregation", a.aggregation,
                "token-classification: none (each token), simple (entity groups of tokens), or first|average|max "
                "(a label per word — its first token's, the mean, the most confident token's — then groups)")
      ->capture_default_str();
  c->add_option("--max-new-tokens", a.max_new_tokens, "text-generation: tokens to add (greedy)")
      ->capture_default_str();
  c->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  c->callback([] {
    Args r = a;
    if (r.top_k < 0) r.top_k = r.task == "fill-mask" ? 5 : 1;
    run(r);
  });
}

}  // namespace

QKV_REGISTER_COMMAND("pipeline", 74, add_pipeline_command);

}  // namespace qkv::cli
