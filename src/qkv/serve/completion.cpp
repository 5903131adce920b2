// /v1/completions: request → job, job → response (see completion.h).
#include "completion.h"

#include <chrono>
#include <random>

#include "qkv/core/error.h"
#include "qkv/core/rng.h"
#include "qkv/generate/generate.h"

namespace qkv::serve {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

namespace {

std::string random_id() {
  static std::mutex m;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> l(m);
  static const char* digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string s = "cmpl-";
  for (int i = 0; i < 24; ++i) s += digits[rng() % 62];
  return s;
}

uint64_t random_seed() {
  static std::random_device rd;
  static std::mutex m;
  std::lock_guard<std::mutex> l(m);
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

std::vector<int64_t> prompt_ids(const Prompt& p, const tokenizers::TextCodec& codec, int64_t V, size_t index) {
  const std::string where = "prompt" + (index > 0 ? " " + std::to_string(index) : std::string());
  if (const auto* text = std::get_if<std::string>(&p)) {
    try {
      return codec.encode(*text);
    } catch (const ValueError& e) {
      throw ApiError(400, where + ": " + e.what(), "invalid_request_error", "prompt");
    }
  }
  const auto& ids = std::get<std::vector<int64_t>>(p);
  for (int64_t id : ids)
    if (id < 0 || id >= V)
      throw ApiError(400, where + " has token id " + std::to_string(id) + " outside the vocabulary of " +
                              std::to_string(V), "invalid_request_error", "prompt");
  return ids;
}

json logprobs_json(const Delta& d) {
  ChoiceLogprobs lp{d.tokens, d.token_logprobs, d.top_logprobs, d.text_offset};
  return lp.to_json();
}

}  // namespace

Completion prepare_completion(const CompletionRequest& r, const tokenizers::TextCodec& codec,
                              const std::vector<int64_t>& eos_ids, int64_t V, int64_t ctx,
                              const std::string& model_id) {
  Completion c;
  c.id = random_id();
  c.created = static_cast<int64_t>(std::time(nullptr));
  c.model = model_id;
  c.echo = r.echo;
  c.logprobs = r.logprobs.has_value();
  c.include_usage = r.include_usage;
  auto job = std::make_shared<Job>();
  job->stop = r.stop;
  job->want_logprobs = c.logprobs;
  const uint64_t base = Generator(r.seed ? *r.seed : random_seed()).next_u64();
  for (size_t i = 0; i < r.prompts.size(); ++i) {
    std::vector<int64_t> ids = prompt_ids(r.prompts[i], codec, V, i);
    if (ids.empty()) throw ApiError(400, "prompt " + std::to_string(i) + " has no tokens", "invalid_request_error", "prompt");
    const auto n = static_cast<int64_t>(ids.size());
    if (n + r.max_tokens > ctx)
      throw ApiError(400, "This model's maximum context length is " + std::to_string(ctx) + " tokens, however you requested " +
                              std::to_string(n + r.max_tokens) + " tokens (" + std::to_string(n) + " in your prompt; " +
                              std::to_string(r.max_tokens) + " for the completion). Please reduce your prompt; or completion length.",
                     "invalid_request_error", "messages", "context_length_exceeded");
    c.prompt_tokens += n;
    const std::string echo = r.echo ? (std::holds_alternative<std::string>(r.prompts[i])
                                           ? std::get<std::string>(r.prompts[i])
                                           : codec.decode(ids))
                                    : std::string();
    for (int64_t j = 0; j < r.n; ++j) {
      generate::SequenceSpec s;
      s.prompt = ids;
      s.max_new_tokens = r.max_tokens;
      s.sampling = {.temperature = r.temperature, .top_k = r.top_k, .top_p = r.top_p};
      s.stream = generate::sequence_stream(base, i * static_cast<size_t>(r.n) + static_cast<size_t>(j));
      s.stop_ids = eos_ids;
      s.logprobs = r.logprobs ? *r.logprobs : -1;
      job->specs.push_back(std::move(s));
      c.echo_text.push_back(echo);
    }
  }
  c.job = std::move(job);
  return c;
}

json usage_json(const Completion& c) {
  const int64_t done = c.job->completion_tokens;
  return {{"prompt_tokens", c.prompt_tokens}, {"completion_tokens", done}, {"total_tokens", c.prompt_tokens + done}};
}

json completion_body(const Completion& c) {
  const size_t N = c.job->specs.size();
  std::vector<std::string> text(N);
  std::vector<Delta> all(N);  // logprobs gathered per choice
  std::vector<std::string> finish(N, "length");
  for (size_t i = 0; i < N; ++i) text[i] = c.echo_text[i];
  for (const Delta& d : c.job->deltas) {
    text[d.choice] += d.text;
    Delta& a = all[d.choice];
    a.tokens.insert(a.tokens.end(), d.tokens.begin(), d.tokens.end());
    a.token_logprobs.insert(a.token_logprobs.end(), d.token_logprobs.begin(), d.token_logprobs.end());
    a.top_logprobs.insert(a.top_logprobs.end(), d.top_logprobs.begin(), d.top_logprobs.end());
    a.text_offset.insert(a.text_offset.end(), d.text_offset.begin(), d.text_offset.end());
    if (d.finish_reason) finish[d.choice] = *d.finish_reason;
  }
  json choices = json::array();
  for (size_t i = 0; i < N; ++i)
    choices.push_back({{"text", text[i]},
                       {"index", i},
                       {"logprobs", c.logprobs ? logprobs_json(all[i]) : json(nullptr)},
                       {"finish_reason", finish[i]}});
  return {{"id", c.id}, {"object", "text_completion"}, {"created", c.created}, {"model", c.model},
          {"choices", choices}, {"usage", usage_json(c)}};
}

json completion_chunk(const Completion& c, const Delta& d) {
  json choice = {{"text", d.text},
                 {"index", d.choice},
                 {"logprobs", c.logprobs && !d.tokens.empty() ? logprobs_json(d) : json(nullptr)},
                 {"finish_reason", d.finish_reason ? json(*d.finish_reason) : json(nullptr)}};
  return {{"id", c.id}, {"object", "text_completion"}, {"created", c.created}, {"model", c.model},
          {"choices", json::array({choice})}};
}

}  // namespace qkv::serve
