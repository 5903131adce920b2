// Shared by the server benchmarks (serve_load.cpp, serve_soak.cpp): one
// POST /v1/completions over cpp-httplib, streamed (server-sent events, each
// chunk timed on arrival) or not, against qkv serve or llama.cpp's
// llama-server (both speak OpenAI's completions API).
#pragma once
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qkv::bench {

using SteadyClock = std::chrono::steady_clock;

struct CompletionResult {
  bool transport_ok = false;         // a response came back (false: connection failed, or we hung up)
  int status = 0;                    // HTTP status
  std::string transport_error;       // no response: httplib's reason (e.g. "Connection", "Read")
  std::string body;                  // non-streamed: the body; streamed: what came that was not an event
  std::vector<std::string> text;     // per choice: the whole completion text
  std::vector<std::string> finish;   // per choice: finish_reason
  std::optional<long> completion_tokens;  // usage, when the server sent it
  bool done = false;                 // streamed: "data: [DONE]" arrived
  std::optional<std::string> error;  // streamed: an error object came instead of a chunk
  double ttft_ms = -1;               // streamed: time to the first chunk carrying text
  std::vector<double> gaps_ms;       // streamed: time between consecutive chunks carrying text
  double total_ms = 0;
  int chunks = 0;                    // streamed: chunks carrying text
};

// Folds one parsed completion object (a whole response or one stream chunk) into r.
inline void absorb_completion(CompletionResult& r, const nlohmann::json& j, bool* has_text = nullptr) {
  if (has_text) *has_text = false;
  if (j.contains("error")) {
    r.error = j["error"].dump();
    return;
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object() && u->contains("completion_tokens"))
    r.completion_tokens = (*u)["completion_tokens"].get<long>();
  auto ch = j.find("choices");
  if (ch == j.end() || !ch->is_array()) return;
  for (const auto& c : *ch) {
    const size_t i = c.value("index", 0);
    if (r.text.size() <= i) r.text.resize(i + 1), r.finish.resize(i + 1);
    if (auto t = c.find("text"); t != c.end() && t->is_string() && !t->get<std::string>().empty()) {
      r.text[i] += t->get<std::string>();
      if (has_text) *has_text = true;
    }
    if (auto f = c.find("finish_reason"); f != c.end() && f->is_string()) r.finish[i] = f->get<std::string>();
  }
}

// POSTs `body` to /v1/completions. Streamed when body["stream"] is true: the
// events are parsed as they arrive; `keep_reading(chunks_so_far)` returning
// false hangs up mid-stream (a client that goes away).
inline CompletionResult post_completion(httplib::Client& cli, const nlohmann::json& body,
                                        const std::function<bool(int)>& keep_reading = nullptr) {
  CompletionResult r;
  const auto t0 = SteadyClock::now();
  const auto ms_since = [](SteadyClock::time_point a) {
    return std::chrono::duration<double, std::milli>(SteadyClock::now() - a).count();
  };
  const bool stream = body.value("stream", false);
  if (!stream) {
    auto res = cli.Post("/v1/completions", body.dump(), "application/json");
    r.total_ms = ms_since(t0);
    if (!res) {
      r.transport_error = httplib::to_string(res.error());
      return r;
    }
    r.transport_ok = true;
    r.status = res->status;
    r.body = res->body;
    if (r.status == 200) {
      try {
        absorb_completion(r, nlohmann::json::parse(res->body));
      } catch (const std::exception& e) {
        r.error = std::string("unparsable body: ") + e.what();
      }
    }
    return r;
  }
  std::string buf;
  SteadyClock::time_point last{};
  bool hung_up = false;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.response_handler = [&](const httplib::Response& res) {
    r.status = res.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (r.status != 200) {  // an error object, not events
      r.body.append(data, n);
      return true;
    }
    buf.append(data, n);
    for (size_t end; (end = buf.find("\n\n")) != std::string::npos;) {
      const std::string event = buf.substr(0, end);
      buf.erase(0, end + 2);
      if (event.rfind("data: ", 0) != 0) {
        r.body += event;
        continue;
      }
      const std::string payload = event.substr(6);
      if (payload == "[DONE]") {
        r.done = true;
        continue;
      }
      bool has_text = false;
      try {
        absorb_completion(r, nlohmann::json::parse(payload), &has_text);
      } catch (const std::exception& e) {
        r.error = std::string("unparsable event: ") + e.what();
      }
      if (has_text) {
        const auto now = SteadyClock::now();
        if (r.chunks == 0) r.ttft_ms = std::chrono::duration<double, std::milli>(now - t0).count();
        else r.gaps_ms.push_back(std::chrono::duration<double, std::milli>(now - last).count());
        last = now;
        ++r.chunks;
      }
    }
    if (keep_reading && !keep_reading(r.chunks)) {
      hung_up = true;
      return false;
    }
    return true;
  };
  auto res = cli.send(req);
  r.total_ms = ms_since(t0);
  r.transport_ok = static_cast<bool>(res) && !hung_up;
  if (!res && !hung_up) r.transport_error = httplib::to_string(res.error());
  if (res && r.status == 0) r.status = res->status;
  return r;
}

// VmRSS of a process in kB (0 when it cannot be read).
inline long rss_kb(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// p in [0, 100] of sorted-on-the-fly samples (nearest rank); -1 for none.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  size_t k = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[k == 0 ? 0 : k - 1];
}

}  // namespace qkv::bench
