// A tiny GPT model directory (character tokenizer, random weights) and an
// in-process qkv server on a free port, for the server tests.
#pragma once
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "qkv/models/gpt.h"
#include "qkv/models/registry.h"
#include "qkv/serve/server.h"
#include "qkv/tokenizers/text_codec.h"

namespace qkv::testing {

inline const char* kServeCorpus = "the quick brown fox jumps over the lazy dog. THE END!\n";

// Writes DIR/config.json, model.safetensors, tokenizer.json (block_size 64;
// a wider, longer model decodes slowly enough for a client to leave mid-stream).
inline std::string write_tiny_gpt(const std::string& dir, int64_t block_size = 64, int64_t n_embd = 32,
                                  int64_t n_layer = 2) {
  namespace fs = std::filesystem;
  fs::remove_all(dir);
  const tokenizers::TextCodec codec = tokenizers::char_codec(kServeCorpus);
  models::GPTConfig c;
  c.vocab_size = codec.vocab_size;
  c.n_layer = n_layer;
  c.n_head = 2;
  c.n_embd = n_embd;
  c.block_size = block_size;
  Generator gen(3);
  models::GPT m(c, gen);
  models::save_model(dir, m, 0);
  codec.save(dir + "/tokenizer.json");
  return dir;
}

// A server running on its own thread until the fixture ends.
class RunningServer {
 public:
  RunningServer(const std::string& dir, serve::ServeOptions opt) {
    opt.port = 0;
    server_ = std::make_unique<serve::Server>(serve::load_served_model(dir), opt);
    server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~RunningServer() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    server_->shutdown();
    thread_.join();
  }
  int port() const { return server_->port(); }
  serve::Server& server() { return *server_; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port());
    c.set_read_timeout(60, 0);
    return c;
  }

 private:
  std::unique_ptr<serve::Server> server_;
  std::thread thread_;
};

// A per-process temporary directory (tests in other processes do not collide).
inline std::string temp_dir(const std::string& tag) {
  return (std::filesystem::temp_directory_path() / ("qkv_serve_" + tag + "_" + std::to_string(::getpid()))).string();
}

// POSTs JSON; returns (status, parsed body or the raw text under "raw").
inline std::pair<int, nlohmann::json> post(httplib::Client& c, const std::string& path, const nlohmann::json& body,
                                           const httplib::Headers& headers = {}) {
  auto r = c.Post(path, headers, body.dump(), "application/json");
  if (!r) return {-1, nlohmann::json{{"raw", "no response"}}};
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) j = nlohmann::json{{"raw", r->body}};
  return {r->status, j};
}

// The `data:` payloads of a server-sent event stream.
inline std::vector<std::string> sse_payloads(const std::string& stream) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = stream.find("data: ", at)) != std::string::npos) {
    const size_t end = stream.find("\n\n", at);
    out.push_back(stream.substr(at + 6, end - at - 6));
    at = end;
  }
  return out;
}

}  // namespace qkv::testing
