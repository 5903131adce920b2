// qkv serve: the HTTP side (see qkv/serve/server.h). Requests are parsed and
// checked here and in completion.cpp, decoded by the scheduler thread.
#include "qkv/serve/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "completion.h"
#include "qkv/core/error.h"
#include "qkv/kernels/quantized.h"
#include "qkv/models/causal_decoder.h"
#include "qkv/models/hf.h"
#include "qkv/models/registry.h"
#include "qkv/pipelines/encoder.h"
#include "qkv/tokenizers/tokenizer.h"
#include "scheduler.h"
#include "translation.h"

namespace qkv::serve {

using nlohmann::json;

bool bearer_matches(const std::string& header, const std::string& key) {
  const std::string prefix = "Bearer ";
  if (header.size() < prefix.size() || header.compare(0, prefix.size(), prefix) != 0) return false;
  const std::string_view given(header.data() + prefix.size(), header.size() - prefix.size());
  // Every byte of the longer string is visited whatever matches, so the time
  // says nothing about where the first difference is.
  unsigned char diff = given.size() == key.size() ? 0 : 1;
  const size_t n = std::max(given.size(), key.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char a = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    const unsigned char b = i < key.size() ? static_cast<unsigned char>(key[i]) : 0;
    diff |= static_cast<unsigned char>(a ^ b);
  }
  return diff == 0;
}

ServedModel load_served_model(const std::string& dir, const std::string& weights) {
  if (!std::filesystem::is_directory(dir))
    throw IOError(dir + (std::filesystem::exists(dir) ? ": not a directory" : ": no such directory") +
                  " (expected a model directory)");
  ServedModel s;
  s.id = std::filesystem::absolute(dir).lexically_normal().filename().string();
  if (s.id.empty()) s.id = std::filesystem::absolute(dir).lexically_normal().parent_path().filename().string();
  const std::string tok = tokenizers::tokenizer_file_in(dir);
  if (tok.empty()) throw IOError(dir + ": missing tokenizer.json (or a SentencePiece tokenizer.model)");
  s.model = models::load_model(dir);
  s.codec = tokenizers::load_codec(tok);
  if (auto* causal = dynamic_cast<models::CausalDecoderLM*>(s.model.get())) {
    try {
      causal->quantize(kernels::parse_weight_format(weights));
    } catch (const ValueError& e) {
      throw ValueError(std::string("--weights: ") + e.what());
    }
    if (s.codec.vocab_size != causal->vocab_size())
      throw ValueError(tok + " has " + std::to_string(s.codec.vocab_size) + " tokens but config.json says vocab_size " +
                       std::to_string(causal->vocab_size()));
    const models::GenerationDefaults g = models::read_generation_config(dir);
    if (g.eos_token_id) s.eos_ids.push_back(*g.eos_token_id);
  } else {
    if (weights != "f32") throw ValueError("--weights " + weights + ": only causal language models take quantized weights");
    s.tokenizer = std::make_shared<tokenizers::Tokenizer>(tokenizers::Tokenizer::from_path(tok));
  }
  return s;
}

namespace {

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) {
  if (e.status == 503) res.set_header("Retry-After", "1");
  send_json(res, e.status, e.body());
}

const char* kSseType = "text/event-stream";

}  // namespace

struct Server::Impl {
  ServedModel served;
  ServeOptions opt;
  Metrics metrics;
  httplib::Server http;
  models::CausalDecoderLM* causal = nullptr;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<pipelines::TextEncoder> encoder;
  const models::Transformer* seq2seq = nullptr;  // encoder–decoder: /v1/translations
  std::mutex compute_mutex;  // one embedding or translation batch at a time (each uses every core)
  int port = -1;
  int listen_fd = -1;

  // Lifecycle: shutdown() refuses new work, waits for in-flight requests
  // (streams until their last byte), then stops the listener.
  std::mutex life_m;
  std::condition_variable life_cv;
  bool stopping = false;
  int in_flight = 0;

  Impl(ServedModel s, ServeOptions o) : served(std::move(s)), opt(std::move(o)) {
    causal = dynamic_cast<models::CausalDecoderLM*>(served.model.get());
    if (opt.parallel < 1) throw ValueError("--parallel must be >= 1");
    if (opt.queue < 0) throw ValueError("--queue must be >= 0");
    if (causal) {
      const int64_t ctx = causal->context_length();
      if (opt.ctx < 0 || opt.ctx > ctx)
        throw ValueError("--ctx must be in [1, " + std::to_string(ctx) + "] (the model's context length), got " +
                         std::to_string(opt.ctx));
      if (opt.ctx == 0) opt.ctx = ctx;
      scheduler = std::make_unique<Scheduler>(*causal, served.codec, opt.parallel, opt.queue, metrics);
      metrics.queue_length = [this] { return static_cast<double>(scheduler->queued()); };
      metrics.running_sequences = [this] { return static_cast<double>(scheduler->running()); };
    } else if (served.tokenizer) {
      seq2seq = dynamic_cast<const models::Transformer*>(served.model.get());
      try {
        encoder = std::make_unique<pipelines::TextEncoder>(pipelines::TextEncoder::of(*served.model, *served.tokenizer));
      } catch (const ValueError&) {
        // Not an encoder either (e.g. an encoder–decoder model): no endpoint serves it.
      }
    }
    if (!causal && !encoder && !seq2seq)
      throw ValueError("qkv serve: a '" + served.model->model_type() +
                       "' model neither generates, translates nor embeds text (serve a GPT, Llama, BERT or "
                       "translation directory)");
    http.set_payload_max_length(opt.max_body_bytes);
    // SO_REUSEADDR (restart at once after a stop) but not httplib's default
    // SO_REUSEPORT, which lets a second server bind the same port and
    // silently share its connections: that must be an error.
    http.set_socket_options([this](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_fd = sock;  // the listening socket is the first one made; see bind()
    });
    const size_t threads = opt.http_threads > 0 ? static_cast<size_t>(opt.http_threads)
                                                : static_cast<size_t>(opt.parallel + opt.queue + 4);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    routes();
  }

  ~Impl() {
    if (scheduler) scheduler->drain_and_stop();
  }

  // A request is being answered (false: shutting down, answer 503).
  bool enter() {
    std::lock_guard<std::mutex> l(life_m);
    if (stopping) return false;
    ++in_flight;
    return true;
  }
  void leave() {
    {
      std::lock_guard<std::mutex> l(life_m);
      --in_flight;
    }
    life_cv.notify_all();
  }

  void check_model(const std::optional<std::string>& model) const {
    if (model && *model != served.id)
      throw ApiError(404, "The model `" + *model + "` does not exist (this server serves `" + served.id + "`)",
                     "invalid_request_error", "model", "model_not_found");
  }

  void routes();
  void completions(const httplib::Request& req, httplib::Response& res);
  void stream(const Completion& c, httplib::Response& res, Clock::time_point arrived);
  void answer(const std::string& endpoint, httplib::Response& res, const std::function<json()>& compute);
  json embeddings(const httplib::Request& req);
  json translations(const httplib::Request& req);
};

void Server::Impl::routes() {
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (opt.api_key.empty() || req.path.rfind("/v1/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    if (bearer_matches(req.get_header_value("Authorization"), opt.api_key))
      return httplib::Server::HandlerResponse::Unhandled;
    metrics.count_request(req.path, 401);
    send_error(res, ApiError(401, "Incorrect API key provided. Pass it as 'Authorization: Bearer KEY'.",
                             "invalid_request_error", std::nullopt, "invalid_api_key"));
    return httplib::Server::HandlerResponse::Handled;
  });
  // Statuses httplib sets itself (404 no route, 413 body too large, 400
  // unreadable request) get OpenAI's error body too.
  http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string msg = res.status == 404   ? "Unknown endpoint: " + req.method + " " + req.path
                      : res.status == 413 ? "The request body is larger than this server's limit of " +
                                                std::to_string(opt.max_body_bytes) + " bytes"
                                          : "The request could not be read (HTTP " + std::to_string(res.status) + ")";
    send_json(res, res.status, ApiError(res.status, msg).body());
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_json(res, 500, ApiError(500, what, "server_error").body());
  });
  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> l(life_m);
    if (stopping) send_json(res, 503, {{"status", "shutting down"}});
    else send_json(res, 200, {{"status", "ok"}});
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.render(), "text/plain; version=0.0.4");
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json m = {{"id", served.id}, {"object", "model"}, {"created", 0}, {"owned_by", "qkv"},
              {"meta", {{"model_type", served.model->model_type()}, {"context_length", causal ? opt.ctx : 0}}}};
    send_json(res, 200, {{"object", "list"}, {"data", json::array({m})}});
    metrics.count_request("/v1/models", 200);
  });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { completions(req, res); });
  http.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) {
    answer("/v1/embeddings", res, [&] { return embeddings(req); });
  });
  http.Post("/v1/translations", [this](const httplib::Request& req, httplib::Response& res) {
    answer("/v1/translations", res, [&] { return translations(req); });
  });
}

void Server::Impl::completions(const httplib::Request& req, httplib::Response& res) {
  const Clock::time_point arrived = Clock::now();
  if (!enter()) {
    metrics.count_request("/v1/completions", 503);
    return send_error(res, ApiError(503, "The server is shutting down", "server_error"));
  }
  bool streaming = false;
  try {
    if (!causal)
      throw ApiError(400, "The model `" + served.id + "` is a '" + served.model->model_type() +
                              "' model: it does not generate text (use /v1/embeddings)", "invalid_request_error", "model");
    const CompletionRequest r = parse_completion_request(parse_body(req.body), opt.limits);
    check_model(r.model);
    Completion c = prepare_completion(r, served.codec, served.eos_ids, causal->vocab_size(), opt.ctx, served.id);
    if (static_cast<int64_t>(c.job->specs.size()) > opt.parallel)
      throw ApiError(400, std::to_string(c.job->specs.size()) + " choices (prompts × n) exceed this server's " +
                              std::to_string(opt.parallel) + " decoding slots (--parallel)", "invalid_request_error", "n");
    if (!scheduler->submit(c.job))
      throw ApiError(503, "The server is busy: " + std::to_string(opt.queue) +
                              " requests are already waiting. Retry later.", "server_error");
    if (r.stream) {
      streaming = true;
      stream(c, res, arrived);
      return;  // leave() and the metrics when the stream ends
    }
    std::unique_lock<std::mutex> l(c.job->m);
    c.job->cv.wait(l, [&] { return c.job->done(); });
    if (c.job->error) throw ApiError(500, *c.job->error, "server_error");
    send_json(res, 200, completion_body(c));
    metrics.count_tokens(c.prompt_tokens, c.job->completion_tokens);
  } catch (const ApiError& e) {
    send_error(res, e);
  }
  if (!streaming) {
    metrics.count_request("/v1/completions", res.status);
    metrics.observe_request(std::chrono::duration<double>(Clock::now() - arrived).count());
    leave();
  }
}

// Server-sent events: one `data: {chunk}` per delta, `data: [DONE]` at the
// end. A failed write means the client left: the job is cancelled and its
// slots are free at the next decoding step.
void Server::Impl::stream(const Completion& c, httplib::Response& res, Clock::time_point arrived) {
  struct State {
    size_t echoed = 0;
    bool finished = false;
  };
  auto state = std::make_shared<State>();
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      kSseType,
      [this, c, state](size_t, httplib::DataSink& sink) {
        const auto send = [&](const std::string& payload) {
          const std::string event = "data: " + payload + "\n\n";
          return sink.write(event.data(), event.size());
        };
        const auto gone = [&] {  // the client left: free its slots at the next step
          c.job->cancelled = true;
          return false;
        };
        for (; c.echo && state->echoed < c.echo_text.size(); ++state->echoed)
          if (!send(dump(completion_chunk(c, Delta{.choice = state->echoed, .text = c.echo_text[state->echoed]}))))
            return gone();
        std::deque<Delta> ready;
        bool done = false;
        std::optional<std::string> error;
        {
          std::unique_lock<std::mutex> l(c.job->m);
          c.job->cv.wait_for(l, std::chrono::milliseconds(500), [&] { return !c.job->deltas.empty() || c.job->done(); });
          ready.swap(c.job->deltas);
          done = c.job->done();
          error = c.job->error;
        }
        for (const Delta& d : ready) {
          if (d.text.empty() && d.tokens.empty() && !d.finish_reason) continue;  // text held back
          if (!send(dump(completion_chunk(c, d)))) return gone();
        }
        if (!done) return sink.is_writable() ? true : gone();
        if (error) send(dump(ApiError(500, *error, "server_error").body()));
        else if (c.include_usage)
          send(dump({{"id", c.id}, {"object", "text_completion"}, {"created", c.created}, {"model", c.model},
                     {"choices", json::array()}, {"usage", usage_json(c)}}));
        send("[DONE]");
        state->finished = true;
        sink.done();
        return true;
      },
      [this, c, state, arrived](bool success) {
        if (!state->finished) c.job->cancelled = true;  // the client left mid-stream
        metrics.count_request("/v1/completions", state->finished ? 200 : 499);
        metrics.count_tokens(c.prompt_tokens, c.job->completion_tokens);
        metrics.observe_request(std::chrono::duration<double>(Clock::now() - arrived).count());
        leave();
      });
}

// A JSON-in, JSON-out endpoint computed on the handler's thread (one batch
// at a time: each uses every core): the shutdown check, OpenAI error objects
// (a ValueError from the model or tokenizer is the input's fault: 400), and
// the request's metrics. `compute` returns the response body.
void Server::Impl::answer(const std::string& endpoint, httplib::Response& res,
                          const std::function<json()>& compute) {
  if (!enter()) {
    metrics.count_request(endpoint, 503);
    return send_error(res, ApiError(503, "The server is shutting down", "server_error"));
  }
  const Clock::time_point arrived = Clock::now();
  try {
    const json out = compute();
    const json& usage = out["usage"];
    metrics.count_tokens(usage.value("prompt_tokens", int64_t{0}), usage.value("completion_tokens", int64_t{0}));
    send_json(res, 200, out);
  } catch (const ApiError& e) {
    send_error(res, e);
  } catch (const ValueError& e) {
    send_error(res, ApiError(400, e.what(), "invalid_request_error", "input"));
  }
  metrics.count_request(endpoint, res.status);
  metrics.observe_request(std::chrono::duration<double>(Clock::now() - arrived).count());
  leave();
}

json Server::Impl::embeddings(const httplib::Request& req) {
  if (!encoder)
    throw ApiError(400, "The model `" + served.id + "` is a '" + served.model->model_type() +
                            "' model: it does not produce embeddings (serve an encoder such as BERT)",
                   "invalid_request_error", "model");
  const EmbeddingRequest r = parse_embedding_request(parse_body(req.body), opt.limits);
  check_model(r.model);
  std::vector<std::string> texts;
  int64_t tokens = 0;
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    if (!std::holds_alternative<std::string>(r.inputs[i]))
      throw ApiError(400, "input " + std::to_string(i) + ": token ids are not supported for embeddings; send text",
                     "invalid_request_error", "input");
    texts.push_back(std::get<std::string>(r.inputs[i]));
    tokens += static_cast<int64_t>(served.tokenizer->encode(texts.back(), {.add_special_tokens = true}).ids.size());
  }
  Tensor e;
  {
    std::lock_guard<std::mutex> l(compute_mutex);
    e = pipelines::embed_texts(*encoder, texts, pipelines::Pooling::Mean).contiguous();
  }
  const int64_t C = e.size(1);
  const float* p = e.data<float>();
  json data = json::array();
  for (int64_t i = 0; i < e.size(0); ++i)
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", std::vector<float>(p + i * C, p + (i + 1) * C)}});
  return {{"object", "list"}, {"data", data}, {"model", served.id},
          {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
}

json Server::Impl::translations(const httplib::Request& req) {
  if (!seq2seq)
    throw ApiError(400, "The model `" + served.id + "` is a '" + served.model->model_type() +
                            "' model: it does not translate (serve an encoder–decoder directory from qkv train translate)",
                   "invalid_request_error", "model");
  const TranslationRequest r = parse_translation_request(parse_body(req.body), opt.limits);
  check_model(r.model);
  std::lock_guard<std::mutex> l(compute_mutex);
  return translate(r, *seq2seq, *served.tokenizer, served.id);
}

Server::Server(ServedModel model, ServeOptions options)
    : impl_(std::make_unique<Impl>(std::move(model), std::move(options))) {}

Server::~Server() = default;

void Server::bind() {
  std::signal(SIGPIPE, SIG_IGN);  // a client gone mid-write is an error return, not the end of the server
  const ServeOptions& o = impl_->opt;
  if (o.port < 0 || o.port > 65535) throw ValueError("--port must be in [0, 65535], got " + std::to_string(o.port));
  const bool ok = o.port == 0 ? (impl_->port = impl_->http.bind_to_any_port(o.host)) > 0
                              : impl_->http.bind_to_port(o.host, o.port);
  if (!ok)
    throw IOError("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                  " (the port is in use — another server? — or the address is not this machine's)");
  if (o.port != 0) impl_->port = o.port;
  // Debian's compiled httplib listens with a backlog of 5: a burst of clients
  // (64 at once in bench/run_serve.sh) overflows it and connections are
  // reset unanswered. listen() again on the bound socket raises it.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, SOMAXCONN);
}

int Server::port() const { return impl_->port; }

void Server::run() {
  if (impl_->port < 0) bind();
  std::atomic<bool> listener_done{false};
  std::thread listener([this, &listener_done] {
    impl_->http.listen_after_bind();
    listener_done = true;
  });
  {
    std::unique_lock<std::mutex> l(impl_->life_m);
    impl_->life_cv.wait(l, [&] { return impl_->stopping && impl_->in_flight == 0; });
  }
  // httplib's stop() does nothing until the listener has entered its accept
  // loop (is_running): a shutdown right after start would leave it accepting
  // forever. Wait for the loop (or its early end), then stop it once.
  while (!impl_->http.is_running() && !listener_done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->http.stop();
  listener.join();
}

void Server::shutdown() {
  {
    std::lock_guard<std::mutex> l(impl_->life_m);
    impl_->stopping = true;
  }
  impl_->life_cv.notify_all();
}

}  // namespace qkv::serve
