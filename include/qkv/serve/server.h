// qkv/serve/server.h — `qkv serve`: one model directory behind an
// OpenAI-compatible HTTP API (cpp-httplib), decoding every client's request
// in one continuous batch (generate/continuous.h).
//
//   serve::Server server(serve::load_served_model("runs/shakespeare"), {.port = 8080});
//   server.bind();        // IOError when the port is taken
//   server.run();         // until shutdown(): in-flight requests finish first
//
// Endpoints (docs/SERVE.md): POST /v1/completions (streaming as server-sent
// events) for causal LMs, POST /v1/embeddings for encoder models (BERT),
// POST /v1/translations for encoder–decoder models, GET /v1/models,
// GET /health, GET /metrics.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "qkv/models/model.h"
#include "qkv/serve/openai.h"
#include "qkv/tokenizers/text_codec.h"

namespace qkv::tokenizers {
class Tokenizer;
}

namespace qkv::serve {

// A model directory loaded for serving: the model, its tokenizer, and what
// generation_config.json says.
struct ServedModel {
  std::string id;                      // what /v1/models lists and requests may name
  std::unique_ptr<models::Model> model;
  tokenizers::TextCodec codec;
  std::vector<int64_t> eos_ids;        // stop generating after these (generation_config.json)
  std::shared_ptr<tokenizers::Tokenizer> tokenizer;  // encoder models: the full tokenizer (pairs, specials)
};
// Loads DIR (config.json, model.safetensors or Hugging Face files, tokenizer.json);
// `weights` "f32" | "bf16" | "int8" for causal models. The id is DIR's last
// path component. IOError/ValueError naming the file at fault.
ServedModel load_served_model(const std::string& dir, const std::string& weights = "f32");

struct ServeOptions {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  int port = 8080;                 // 0 = any free port (tests)
  int64_t parallel = 4;            // sequences decoded together (slots)
  int64_t queue = 64;              // requests waiting beyond the slots; more get 503
  int64_t ctx = 0;                 // prompt + max_tokens limit; 0 = the model's context length
  std::string api_key;             // non-empty: "Authorization: Bearer KEY" required on /v1/*
  size_t max_body_bytes = 1 << 20; // larger bodies get 413
  int http_threads = 0;            // 0 = parallel + queue + 4 (every waiting client holds one)
  Limits limits;
};

class Server {
 public:
  Server(ServedModel model, ServeOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // Binds the listening socket: IOError "cannot listen on HOST:PORT: …".
  void bind();
  int port() const;  // the bound port
  // Serves until shutdown(); then returns once every in-flight request is answered.
  void run();
  // Stops accepting connections and lets in-flight requests finish (any thread).
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "Bearer KEY" against the key, in time independent of where they differ.
bool bearer_matches(const std::string& authorization_header, const std::string& key);

}  // namespace qkv::serve
