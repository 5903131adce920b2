// A soak run against `qkv serve`: thousands of requests from concurrent
// clients, mixing valid completions (streamed or not, every one seeded) with
// clients that hang up mid-stream or give up waiting, malformed JSON, wrong
// types and out-of-range values, oversized and deeply nested bodies, unknown
// paths and half-sent HTTP requests. It checks every status against what
// docs/SERVE.md promises, samples the server's RSS (/proc/PID/status VmRSS),
// and at the end that /health answers and no sequence is left running.
// Every completed seeded response is written to --record; `--verify FILE`
// later replays them one at a time (alone in the batch) against a fresh
// server and compares the texts: a request with a seed must draw the same
// tokens however many others shared its batch.
//
//   serve_soak --port P --pid PID [--requests 3000] [--clients 8] [--seed 1]
//              [--max-body 65536] [--ctx 128] --record seeded.jsonl
//   serve_soak --port P --verify seeded.jsonl
// Exit status: 0 clean, 1 any unexpected status, transport failure, leak,
// unhealthy end or (with --verify) any mismatch.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "serve_client.h"

using nlohmann::json;
namespace qb = qkv::bench;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  long pid = 0;
  int requests = 3000;
  int clients = 8;
  uint64_t seed = 1;
  size_t max_body = 65536;  // the server's --max-body
  int ctx = 128;            // the server's context length (prompt + max_tokens)
  std::string record, verify;
  std::string only;         // comma-separated kind names: draw only these (reproducing one finding)
};
Options g_opt;

const char* kPrompts[] = {"The", "Once upon a time", "ROMEO:", "In the beginning the",
                          "naïve café — ünïcödé 🙂 and more", "1 2 3 4 5", "\n\n", "def main():\n    "};

enum class Kind { Plain, Stream, StreamCancel, PlainGiveUp, Malformed, WrongType, Oversized, Deep, TooLong, BadPath, HalfSent };
const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Plain: return "ok_plain";
    case Kind::Stream: return "ok_stream";
    case Kind::StreamCancel: return "stream_hang_up";
    case Kind::PlainGiveUp: return "plain_give_up";
    case Kind::Malformed: return "malformed_json";
    case Kind::WrongType: return "wrong_type_or_value";
    case Kind::Oversized: return "oversized_body";
    case Kind::Deep: return "deep_nesting";
    case Kind::TooLong: return "context_exceeded";
    case Kind::BadPath: return "unknown_path";
    case Kind::HalfSent: return "half_sent_request";
  }
  return "?";
}

Kind pick_kind(std::mt19937_64& rng) {
  static const std::vector<std::pair<Kind, int>> weights = {
      {Kind::Plain, 30}, {Kind::Stream, 25}, {Kind::StreamCancel, 15}, {Kind::PlainGiveUp, 2},
      {Kind::Malformed, 7}, {Kind::WrongType, 10}, {Kind::Oversized, 3}, {Kind::Deep, 2},
      {Kind::TooLong, 3}, {Kind::BadPath, 2}, {Kind::HalfSent, 1}};
  const auto allowed = [](Kind k) {
    return g_opt.only.empty() || ("," + g_opt.only + ",").find(std::string(",") + kind_name(k) + ",") != std::string::npos;
  };
  int total = 0;
  for (auto& [k, w] : weights) total += allowed(k) ? w : 0;
  int x = static_cast<int>(rng() % static_cast<uint64_t>(total));
  for (auto& [k, w] : weights)
    if (allowed(k) && (x -= w) < 0) return k;
  return Kind::Plain;
}

// A valid, seeded completion request (small: the soak is about the server, not the model).
json valid_body(std::mt19937_64& rng, bool stream) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  json b;
  const int form = pick(10);
  if (form < 6) b["prompt"] = kPrompts[pick(8)];
  else if (form < 8) {
    json ids = json::array();
    for (int i = 0, n = 1 + pick(20); i < n; ++i) ids.push_back(pick(50257));
    b["prompt"] = ids;
  } else b["prompt"] = json::array({kPrompts[pick(8)], kPrompts[pick(8)]});
  b["max_tokens"] = 1 + pick(16);
  const double temps[] = {0.0, 0.7, 1.0, 1.5};
  b["temperature"] = temps[pick(4)];
  if (pick(3) == 0) b["top_p"] = 0.9;
  if (pick(3) == 0) b["top_k"] = 40;
  if (pick(4) == 0) b["stop"] = json::array({" the", "."});
  if (pick(5) == 0 && !b["prompt"].is_array()) b["n"] = 2;
  if (pick(6) == 0) b["echo"] = true;
  if (!stream && pick(6) == 0 && !b.value("echo", false)) b["logprobs"] = 2;
  if (stream && pick(2) == 0) b["stream_options"] = {{"include_usage", true}};
  b["seed"] = static_cast<int64_t>(rng() % 1000000);
  b["stream"] = stream;
  return b;
}

std::string malformed_body(std::mt19937_64& rng) {
  const std::string good = valid_body(rng, false).dump();
  switch (rng() % 8) {
    case 0: return good.substr(0, good.size() / 2);  // truncated
    case 1: return "{";
    case 2: return "";
    case 3: return "[1, 2, 3]";                          // not an object
    case 4: return "null";
    case 5: return "{\"prompt\": \"\xff\xfe bad utf-8\", \"max_tokens\": 4}";
    case 6: return "{\"prompt\": \"a\", \"max_tokens\": 4,}";  // trailing comma
    default: {
      std::string s(64 + rng() % 512, ' ');
      for (char& c : s) c = static_cast<char>(rng() % 256);
      return s;
    }
  }
}

json wrong_body(std::mt19937_64& rng) {
  json b = {{"prompt", "The"}, {"max_tokens", 4}};
  switch (rng() % 14) {
    case 0: b["max_tokens"] = "ten"; break;
    case 1: b["prompt"] = 5; break;
    case 2: b["temperature"] = "hot"; break;
    case 3: b["stop"] = 3; break;
    case 4: b["n"] = -1; break;
    case 5: b["max_tokens"] = 0; break;
    case 6: b["temperature"] = 7.5; break;
    case 7: b["top_p"] = 0; break;
    case 8: b["prompt"] = json::array({-1, 3}); break;        // token id out of range
    case 9: b["prompt"] = json::array({1, "mixed"}); break;
    case 10: b["unknown_field"] = true; break;
    case 11: b["stream"] = "yes"; break;
    case 12: b["n"] = 1000; break;
    default: b["logprobs"] = 99; break;
  }
  return b;
}

// Sends the start of a request that promises a longer body, then closes.
bool half_sent(const Options& o, std::mt19937_64& rng) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(o.port));
  ::inet_pton(AF_INET, o.host.c_str(), &a.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (ok) {
    const std::string part = rng() % 2 ? "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                         "Content-Length: 500\r\n\r\n{\"prompt\": \"The"
                                       : "GARBAGE \x01\x02 NOT HTTP\r\n\r\n";
    ok = ::send(fd, part.data(), part.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(part.size());
  }
  ::close(fd);
  return ok;
}

struct Tally {
  std::map<std::string, int> count;                 // kind → requests
  std::map<std::string, std::map<int, int>> status; // kind → status → n (0 = no response)
  std::vector<std::string> problems;                // the first few unexpected outcomes
  int unexpected = 0;
  void note(const std::string& what) {
    ++unexpected;
    if (problems.size() < 20) problems.push_back(what);
  }
};

httplib::Client make_client(const Options& o, int read_timeout_s = 120) {
  httplib::Client c(o.host, o.port);
  c.set_read_timeout(read_timeout_s, 0);
  c.set_connection_timeout(10, 0);
  return c;
}

// One request of kind k; seeded completions that finish go to `records`.
void one_request(const Options& o, int i, Tally& t, std::vector<json>& records, std::mutex& m) {
  std::mt19937_64 rng(o.seed * 1000003u + static_cast<uint64_t>(i));
  const Kind k = pick_kind(rng);
  std::set<int> expected;
  int status = 0;
  std::string detail;
  httplib::Client cli = make_client(o);
  switch (k) {
    case Kind::Plain:
    case Kind::Stream: {
      const json b = valid_body(rng, k == Kind::Stream);
      const qb::CompletionResult r = qb::post_completion(cli, b);
      status = r.transport_ok ? r.status : 0;
      expected = {200, 503};
      if (status == 200) {
        const size_t choices = (b["prompt"].is_array() && b["prompt"][0].is_string() ? 2 : 1) * b.value("n", 1);
        bool complete = !r.error && r.text.size() <= choices && r.finish.size() == choices;
        for (const auto& f : r.finish) complete = complete && (f == "stop" || f == "length");
        if (k == Kind::Stream) complete = complete && r.done;
        if (!complete) {
          std::lock_guard<std::mutex> l(m);
          t.note(std::string(kind_name(k)) + ": 200 but incomplete (" + std::to_string(r.finish.size()) + "/" +
                 std::to_string(choices) + " finished" + (r.error ? ", error " + *r.error : "") + ") for " + b.dump());
        } else {
          std::vector<std::string> text = r.text;
          text.resize(choices);
          std::lock_guard<std::mutex> l(m);
          records.push_back({{"body", b}, {"text", text}, {"finish", r.finish}});
        }
      }
      detail = b.dump();
      break;
    }
    case Kind::StreamCancel: {
      const json b = valid_body(rng, true);
      const int after = static_cast<int>(rng() % 4);
      const qb::CompletionResult r = qb::post_completion(cli, b, [after](int chunks) { return chunks < after; });
      status = r.status;  // we hung up: a status is enough (a short request may end first)
      expected = {200, 503};
      detail = b.dump();
      break;
    }
    case Kind::PlainGiveUp: {
      httplib::Client impatient(o.host, o.port);
      impatient.set_read_timeout(0, 20000 + static_cast<long>(rng() % 80000));
      json b = valid_body(rng, false);
      b["max_tokens"] = 32;
      auto res = impatient.Post("/v1/completions", b.dump(), "application/json");
      status = res ? res->status : -1;  // usually no answer: we left
      expected = {-1, 200, 503};
      detail = b.dump();
      break;
    }
    case Kind::Malformed: {
      const std::string body = malformed_body(rng);
      auto res = cli.Post("/v1/completions", body, "application/json");
      status = res ? res->status : 0;
      expected = {400};
      detail = json(body.substr(0, 120)).dump(-1, ' ', false, json::error_handler_t::replace);
      break;
    }
    case Kind::WrongType: {
      const json b = wrong_body(rng);
      auto res = cli.Post("/v1/completions", b.dump(), "application/json");
      status = res ? res->status : 0;
      expected = {400};
      detail = b.dump();
      break;
    }
    case Kind::Oversized: {
      const json b = {{"prompt", std::string(o.max_body + 1000 + rng() % 5000, 'a')}, {"max_tokens", 4}};
      auto res = cli.Post("/v1/completions", b.dump(), "application/json");
      status = res ? res->status : 0;
      expected = {413};
      detail = "a " + std::to_string(b.dump().size()) + "-byte body";
      break;
    }
    case Kind::Deep: {
      const int depth = 257 + static_cast<int>(rng() % 2000);
      std::string body = "{\"prompt\": \"The\", \"max_tokens\": 4, \"stop\": " + std::string(depth, '[') +
                         std::string(depth, ']') + "}";
      auto res = cli.Post("/v1/completions", body, "application/json");
      status = res ? res->status : 0;
      expected = {400};
      detail = "nesting depth " + std::to_string(depth);
      break;
    }
    case Kind::TooLong: {
      json ids = json::array();
      for (int j = 0; j < o.ctx; ++j) ids.push_back(static_cast<int>(rng() % 50257));
      const json b = {{"prompt", ids}, {"max_tokens", 1 + static_cast<int>(rng() % 8)}};
      auto res = cli.Post("/v1/completions", b.dump(), "application/json");
      status = res ? res->status : 0;
      expected = {400};
      detail = std::to_string(o.ctx) + " prompt tokens";
      break;
    }
    case Kind::BadPath: {
      const int v = static_cast<int>(rng() % 3);
      auto res = v == 0   ? cli.Get("/v1/nothing")
                 : v == 1 ? cli.Get("/v1/completions")
                          : cli.Post("/v1/chat/completions", "{}", "application/json");
      status = res ? res->status : 0;
      expected = {404, 405};
      detail = v == 0 ? "GET /v1/nothing" : v == 1 ? "GET /v1/completions" : "POST /v1/chat/completions";
      break;
    }
    case Kind::HalfSent:
      status = half_sent(o, rng) ? -1 : 0;
      expected = {-1};
      detail = "half-sent request";
      break;
  }
  std::lock_guard<std::mutex> l(m);
  ++t.count[kind_name(k)];
  ++t.status[kind_name(k)][status];
  if (!expected.count(status))
    t.note(std::string(kind_name(k)) + ": status " + std::to_string(status) + (status == 0 ? " (no response)" : "") +
           " for " + detail.substr(0, 300));
}

json get_json(const Options& o, const std::string& path, int* status) {
  httplib::Client c = make_client(o, 10);
  auto res = c.Get(path);
  *status = res ? res->status : 0;
  if (!res) return nullptr;
  try {
    return json::parse(res->body);
  } catch (...) {
    return res->body;
  }
}

double metric(const std::string& text, const std::string& name) {
  const size_t p = text.find("\n" + name + " ");
  return p == std::string::npos ? -1 : std::atof(text.c_str() + p + name.size() + 2);
}

int soak(const Options& o) {
  Tally t;
  std::vector<json> records;
  std::mutex m;
  std::atomic<int> next{0}, done{0};
  std::vector<std::pair<int, long>> rss;  // (requests done, kB)
  std::atomic<bool> stop_monitor{false};
  if (o.pid) rss.emplace_back(0, qb::rss_kb(o.pid));
  std::thread monitor([&] {
    int last_decile = 0;
    while (!stop_monitor) {
      const int decile = done * 10 / o.requests;
      if (o.pid && decile > last_decile) {
        last_decile = decile;
        std::lock_guard<std::mutex> l(m);
        rss.emplace_back(done.load(), qb::rss_kb(o.pid));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  const auto t0 = qb::SteadyClock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c)
    threads.emplace_back([&] {
      for (int i; (i = next++) < o.requests; ++done) one_request(o, i, t, records, m);
    });
  for (auto& th : threads) th.join();
  stop_monitor = true;
  monitor.join();
  const double secs = std::chrono::duration<double>(qb::SteadyClock::now() - t0).count();

  // Afterwards: healthy, and nothing left decoding or queued (hung-up clients'
  // sequences leave at the next step; give them a moment).
  int hs = 0;
  const json health = get_json(o, "/health", &hs);
  if (hs != 200 || !health.is_object() || health.value("status", "") != "ok")
    t.note("/health after the soak: status " + std::to_string(hs) + " " + health.dump());
  double running = -1, queued = -1;
  for (int i = 0; i < 50; ++i) {
    httplib::Client c = make_client(o, 10);
    auto res = c.Get("/metrics");
    if (res) running = metric("\n" + res->body, "qkv_running_sequences"), queued = metric("\n" + res->body, "qkv_queue_length");
    if (running == 0 && queued == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (running != 0 || queued != 0)
    t.note("after the soak: qkv_running_sequences " + std::to_string(running) + ", qkv_queue_length " +
           std::to_string(queued) + " (expected 0 and 0)");
  if (o.pid) rss.emplace_back(o.requests, qb::rss_kb(o.pid));

  std::printf("# soak: %d requests from %d clients in %.1f s (seed %lu)\n", o.requests, o.clients, secs,
              static_cast<unsigned long>(o.seed));
  std::printf("%-22s %6s  statuses (0 = no response, -1 = we hung up)\n", "kind", "n");
  for (const auto& [kind, n] : t.count) {
    std::printf("%-22s %6d ", kind.c_str(), n);
    for (const auto& [s, c] : t.status[kind]) std::printf(" %d×%d", s, c);
    std::printf("\n");
  }
  std::printf("# seeded completions recorded: %zu\n", records.size());
  if (o.pid) {
    std::printf("# VmRSS (MB) by requests done:");
    for (const auto& [d, kb] : rss) std::printf(" %d:%.1f", d, kb / 1024.0);
    std::printf("\n");
    // Flat: the second half grows by less than 5% (or 16 MB) of the middle.
    long mid = 0;
    for (const auto& [d, kb] : rss)
      if (d <= o.requests / 2) mid = kb;
    const long end = rss.back().second;
    if (mid > 0 && end - mid > std::max(mid / 20, 16L * 1024))
      t.note("VmRSS grew from " + std::to_string(mid / 1024) + " MB (middle) to " + std::to_string(end / 1024) +
             " MB (end)");
  }
  if (!o.record.empty()) {
    std::ofstream out(o.record);
    for (const json& r : records) out << r.dump() << "\n";
  }
  std::printf("# /health %d, running %.0f, queued %.0f; unexpected outcomes: %d\n", hs, running, queued, t.unexpected);
  for (const auto& p : t.problems) std::printf("#   %s\n", p.c_str());
  return t.unexpected ? 1 : 0;
}

// Replays every recorded request alone and compares.
int verify(const Options& o) {
  std::ifstream in(o.verify);
  if (!in) {
    std::fprintf(stderr, "serve_soak: cannot read %s\n", o.verify.c_str());
    return 1;
  }
  httplib::Client cli = make_client(o);
  int n = 0, mismatches = 0, failures = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const json rec = json::parse(line);
    ++n;
    qb::CompletionResult r = qb::post_completion(cli, rec["body"]);
    if (!r.transport_ok || r.status != 200) {
      if (++failures <= 5) std::printf("#   replay failed: status %d for %s\n", r.status, rec["body"].dump().c_str());
      continue;
    }
    r.text.resize(rec["text"].size());
    if (json(r.text) != rec["text"] || json(r.finish) != rec["finish"]) {
      if (++mismatches <= 10)
        std::printf("#   MISMATCH %s\n#     in the soak: %s %s\n#     alone:       %s %s\n", rec["body"].dump().c_str(),
                    rec["text"].dump().c_str(), rec["finish"].dump().c_str(), json(r.text).dump().c_str(),
                    json(r.finish).dump().c_str());
    }
  }
  std::printf("# verify: %d seeded completions replayed alone: %d identical, %d different, %d failed\n", n,
              n - mismatches - failures, mismatches, failures);
  return mismatches || failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    const bool has = i + 1 < argc;
    if (s == "--host" && has) o.host = argv[++i];
    else if (s == "--port" && has) o.port = std::atoi(argv[++i]);
    else if (s == "--pid" && has) o.pid = std::atol(argv[++i]);
    else if (s == "--requests" && has) o.requests = std::atoi(argv[++i]);
    else if (s == "--clients" && has) o.clients = std::atoi(argv[++i]);
    else if (s == "--seed" && has) o.seed = std::strtoull(argv[++i], nullptr, 10);
    else if (s == "--max-body" && has) o.max_body = std::strtoull(argv[++i], nullptr, 10);
    else if (s == "--ctx" && has) o.ctx = std::atoi(argv[++i]);
    else if (s == "--record" && has) o.record = argv[++i];
    else if (s == "--verify" && has) o.verify = argv[++i];
    else if (s == "--only" && has) o.only = argv[++i];
    else {
      std::printf("usage: serve_soak --port P [--pid PID] [--requests 3000] [--clients 8] [--seed 1]\n"
                  "                  [--max-body 65536] [--ctx 128] [--record FILE] [--only KIND,…]\n"
                  "       serve_soak --port P --verify FILE\n");
      return s == "-h" || s == "--help" ? 0 : 1;
    }
  }
  if (o.requests < 1 || o.clients < 1) return 1;
  g_opt = o;
  return o.verify.empty() ? soak(o) : verify(o);
}
