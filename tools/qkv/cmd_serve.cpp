// `qkv serve DIR`: the model behind an OpenAI-compatible HTTP API with
// continuous batching (qkv/serve/server.h, docs/SERVE.md). SIGINT/SIGTERM
// drain: new requests get 503, the ones in flight finish, then it exits 0.
#include <csignal>
#include <cstdio>
#include <pthread.h>
#include <thread>

#include "commands.h"
#include "qkv/serve/server.h"
#include "registry.h"

namespace qkv::cli {
namespace {

struct ServeArgs {
  std::string dir, weights = "f32", api_key;
  serve::ServeOptions opt;
  int threads = 0;
};

void run_serve(ServeArgs a) {
  // Signals go to one waiting thread (sigwait), not to whichever thread they
  // hit: blocked here, before any other thread starts, so every thread inherits it.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  apply_threads(a.threads);
  a.opt.api_key = a.api_key;
  serve::Server server(serve::load_served_model(a.dir, a.weights), a.opt);
  server.bind();
  std::fprintf(stderr, "qkv serve: %s on http://%s:%d (%ld slots, queue %ld%s)\n", a.dir.c_str(),
               a.opt.host.c_str(), server.port(), static_cast<long>(a.opt.parallel), static_cast<long>(a.opt.queue),
               a.api_key.empty() ? "" : ", API key required");
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::fprintf(stderr, "qkv serve: %s: finishing the requests in flight, then stopping\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
    server.shutdown();
  });
  server.run();
  // run() returned: either a signal came (the waiter is done) or never will;
  // wake the waiter in the second case so it can be joined.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  std::fprintf(stderr, "qkv serve: stopped\n");
}

void add_serve_command(CLI::App& app) {
  auto* s = app.add_subcommand("serve",
                               "Serve a model over HTTP with OpenAI's API: /v1/completions (streaming, continuous "
                               "batching), /v1/embeddings, /v1/translations, /v1/models, /health, /metrics (docs/SERVE.md)");
  static ServeArgs a;
  s->add_option("dir", a.dir, "Model directory (qkv's or a Hugging Face one, with tokenizer.json)")->required();
  s->add_option("--host", a.opt.host, "Address to listen on (loopback unless told otherwise; 0.0.0.0 = every interface)")
      ->capture_default_str();
  s->add_option("--port", a.opt.port, "Port to listen on")->capture_default_str();
  s->add_option("--parallel", a.opt.parallel, "Sequences decoded together in one batch (slots)")->capture_default_str();
  s->add_option("--queue", a.opt.queue, "Requests that may wait for a slot; beyond that, 503 with Retry-After")
      ->capture_default_str();
  s->add_option("--ctx", a.opt.ctx, "Longest prompt + max_tokens accepted (0 = the model's context length)")
      ->capture_default_str();
  s->add_option("--max-tokens", a.opt.limits.max_tokens, "Largest max_tokens a request may ask for")
      ->capture_default_str();
  s->add_option("--max-body", a.opt.max_body_bytes, "Largest request body in bytes (413 beyond)")->capture_default_str();
  s->add_option("--api-key", a.api_key, "Require 'Authorization: Bearer KEY' on /v1/* (or set QKV_API_KEY)")
      ->envname("QKV_API_KEY")
      ->default_str("none");
  s->add_option("--weights", a.weights, "Weights for decoding: f32, bf16 or int8 (as qkv generate)")
      ->capture_default_str();
  s->add_option("--threads", a.threads, "Compute threads (0 = physical cores)")->capture_default_str();
  s->callback([] { run_serve(a); });
}

}  // namespace

QKV_REGISTER_COMMAND("serve", 75, add_serve_command);

}  // namespace qkv::cli
