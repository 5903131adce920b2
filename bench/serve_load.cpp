// A load generator for OpenAI-style completion servers (qkv serve, llama.cpp's
// llama-server): C concurrent clients, one thread each (a new
// connection per request), share a fixed number of streamed requests (fixed prompts
// of a few dozen GPT-2 tokens, max_tokens new tokens each). Per level it
// reports the aggregate generated tokens/s (all completion tokens / wall time
// from the first request to the last answer), p50/p99 time to first token
// (the first chunk carrying text) and p50/p99 inter-chunk time (per-token
// latency as a client sees it). bench/run_serve.sh drives it.
//
//   serve_load --port P --clients 1,4,16,64 --requests 8,16,32,64 [--max-tokens 64]
//              [--temperature 0] [--extra JSON] [--server qkv --parallel 16] [--out rows.jsonl]
//   serve_load --report rows.jsonl      the table of every level, with ratios:
//                                        ×p1 = tokens/s over the same server's --parallel 1 run,
//                                        qkv/llama = qkv's tokens/s over llama-server's (same parallel, clients)
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "serve_client.h"

using nlohmann::json;
namespace qb = qkv::bench;

namespace {

// Fixed prompts, 30–45 GPT-2 tokens each; request i sends prompts[i % 8].
const char* kPrompts[] = {
    "The old lighthouse keeper climbed the spiral stairs every evening, counting the steps as his father had "
    "taught him, and tonight he noticed that one of them was missing.",
    "In the spring of 1887 a young engineer arrived in the mountain village with a trunk full of drawings, a "
    "letter of introduction, and no idea how to build a bridge.",
    "The recipe called for three eggs, a cup of flour, a pinch of salt and a patience that nobody in our "
    "family had ever possessed, so we improvised as usual.",
    "When the network went down across the whole city, people started talking to their neighbours again, "
    "slowly at first and then as if they had never stopped.",
    "Scientists studying the deep ocean floor have found a colony of creatures that seem to live on nothing "
    "but the faint warmth rising from the rocks beneath them.",
    "She opened the letter, read the first line twice, and then folded it back into the envelope without a "
    "word, because some news is better kept until morning.",
    "The train was late again, and the passengers on the platform had begun to invent stories about each "
    "other to pass the time in the cold grey drizzle.",
    "Every language has a word for the feeling of coming home after a long journey, but none of them quite "
    "captures the smell of the kitchen on the first night back.",
};
constexpr size_t kNumPrompts = sizeof(kPrompts) / sizeof(kPrompts[0]);

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::vector<int> clients{1, 4, 16, 64};
  std::vector<int> requests;  // per level; default max(2 × clients, 8)
  int max_tokens = 64;
  double temperature = 0;
  json extra = json::object();  // merged into every request body (llama-server: {"ignore_eos": true})
  std::string server = "qkv";   // labels for the rows
  int parallel = 0;
  std::string out;              // append JSON rows here
  int warmup = 2;
};

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) v.push_back(std::atoi(item.c_str()));
  return v;
}

json request_body(const Options& o, size_t i, int max_tokens) {
  json b = {{"prompt", kPrompts[i % kNumPrompts]},
            {"max_tokens", max_tokens},
            {"temperature", o.temperature},
            {"seed", static_cast<int64_t>(i)},
            {"stream", true},
            {"stream_options", {{"include_usage", true}}}};
  b.update(o.extra);
  return b;
}

httplib::Client make_client(const Options& o) {
  // A connection per request: llama-server closes a connection after a
  // streamed response, which httplib's client would only find out on reuse.
  httplib::Client c(o.host, o.port);
  c.set_read_timeout(1200, 0);  // a request queued behind 63 others at --parallel 1 waits that long
  // 64 clients connecting at once overflow httplib's listen backlog of 5:
  // the rest wait for SYN retransmits (1, 3, 7, 15 s …), so be patient.
  c.set_connection_timeout(60, 0);
  return c;
}

struct LevelResult {
  int clients = 0, requests = 0, ok = 0, errors = 0;
  long tokens = 0;
  double wall_s = 0;
  std::vector<double> ttft, gaps, tpot;
  std::string first_error;
};

LevelResult run_level(const Options& o, int clients, int requests) {
  LevelResult L;
  L.clients = clients;
  L.requests = requests;
  std::atomic<int> next{0};
  std::mutex m;
  const auto t0 = qb::SteadyClock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      httplib::Client cli = make_client(o);
      for (int i; (i = next++) < requests;) {
        const qb::CompletionResult r = qb::post_completion(cli, request_body(o, static_cast<size_t>(i), o.max_tokens));
        long tokens = r.completion_tokens ? *r.completion_tokens
                      : (!r.finish.empty() && r.finish[0] == "length") ? o.max_tokens
                                                                       : r.chunks;
        const bool ok = r.transport_ok && r.status == 200 && r.done && !r.error && r.chunks > 0;
        std::lock_guard<std::mutex> l(m);
        if (!ok) {
          ++L.errors;
          if (L.first_error.empty())
            L.first_error = "status " + std::to_string(r.status) +
                            (r.transport_ok ? "" : " (no response: " + r.transport_error + ")") +
                            (r.error ? " " + *r.error : "") + " " + r.body.substr(0, 200);
          continue;
        }
        ++L.ok;
        L.tokens += tokens;
        L.ttft.push_back(r.ttft_ms);
        L.gaps.insert(L.gaps.end(), r.gaps_ms.begin(), r.gaps_ms.end());
        if (tokens > 1) L.tpot.push_back((r.total_ms - r.ttft_ms) / static_cast<double>(tokens - 1));
      }
    });
  for (auto& t : threads) t.join();
  L.wall_s = std::chrono::duration<double>(qb::SteadyClock::now() - t0).count();
  return L;
}

json row_of(const Options& o, const LevelResult& L) {
  return {{"server", o.server},
          {"parallel", o.parallel},
          {"clients", L.clients},
          {"requests", L.requests},
          {"ok", L.ok},
          {"errors", L.errors},
          {"max_tokens", o.max_tokens},
          {"tokens", L.tokens},
          {"wall_s", L.wall_s},
          {"tok_s", L.wall_s > 0 ? static_cast<double>(L.tokens) / L.wall_s : 0},
          {"ttft_p50", qb::percentile(L.ttft, 50)},
          {"ttft_p99", qb::percentile(L.ttft, 99)},
          {"itl_p50", qb::percentile(L.gaps, 50)},
          {"itl_p99", qb::percentile(L.gaps, 99)},
          {"tpot_p50", qb::percentile(L.tpot, 50)}};
}

int run(const Options& o) {
  {  // warm-up: the first requests pay for page faults and allocator growth
    httplib::Client cli = make_client(o);
    for (int i = 0; i < o.warmup; ++i) {
      const qb::CompletionResult r = qb::post_completion(cli, request_body(o, static_cast<size_t>(i), 8));
      if (!r.transport_ok || r.status != 200) {
        std::fprintf(stderr, "serve_load: warm-up request failed (status %d%s): %s\n", r.status,
                     r.transport_ok ? "" : ", no response", r.body.substr(0, 300).c_str());
        return 1;
      }
    }
  }
  std::printf("# %s --parallel %d: %d new tokens a request, temperature %g\n", o.server.c_str(), o.parallel,
              o.max_tokens, o.temperature);
  std::printf("%-8s %4s %7s %6s %4s %9s %9s %9s %9s %9s %9s %9s\n", "server", "par", "clients", "reqs", "err",
              "wall s", "tok/s", "ttft p50", "ttft p99", "itl p50", "itl p99", "tpot p50");
  std::fflush(stdout);
  int failures = 0;
  for (size_t k = 0; k < o.clients.size(); ++k) {
    const int c = o.clients[k];
    const int n = k < o.requests.size() ? o.requests[k] : std::max(2 * c, 8);
    const LevelResult L = run_level(o, c, n);
    const json row = row_of(o, L);
    std::printf("%-8s %4d %7d %6d %4d %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", o.server.c_str(), o.parallel, c, n,
                L.errors, L.wall_s, row["tok_s"].get<double>(), row["ttft_p50"].get<double>(),
                row["ttft_p99"].get<double>(), row["itl_p50"].get<double>(), row["itl_p99"].get<double>(),
                row["tpot_p50"].get<double>());
    if (L.errors) std::printf("#   first error: %s\n", L.first_error.c_str());
    std::fflush(stdout);
    failures += L.errors;
    if (!o.out.empty()) std::ofstream(o.out, std::ios::app) << row.dump() << "\n";
  }
  return failures ? 2 : 0;
}

// The table of every row in FILE, grouped by clients, with the ratios.
int report(const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    std::fprintf(stderr, "serve_load: cannot read %s\n", file.c_str());
    return 1;
  }
  std::vector<json> rows;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(json::parse(line));
  const auto find = [&](const std::string& server, int parallel, int clients) -> const json* {
    for (const json& r : rows)
      if (r["server"] == server && r["parallel"] == parallel && r["clients"] == clients) return &r;
    return nullptr;
  };
  std::map<int, std::vector<const json*>> by_clients;
  for (const json& r : rows) by_clients[r["clients"].get<int>()].push_back(&r);
  std::printf("| clients | server | --parallel | tokens/s | ×(--parallel 1) | qkv/llama | TTFT p50 / p99 ms | "
              "inter-token p50 / p99 ms | errors |\n|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& [clients, group] : by_clients)
    for (const json* r : group) {
      const std::string server = (*r)["server"];
      const int parallel = (*r)["parallel"];
      const double tps = (*r)["tok_s"];
      std::string vs_p1 = "", vs_llama = "";
      if (const json* p1 = find(server, 1, clients); p1 && parallel != 1)
        vs_p1 = std::to_string(tps / (*p1)["tok_s"].get<double>()).substr(0, 4) + "×";
      if (const json* l = find("llama", parallel, clients); l && server == "qkv")
        vs_llama = std::to_string(tps / (*l)["tok_s"].get<double>()).substr(0, 4);
      std::printf("| %d | %s | %d | %.1f | %s | %s | %.0f / %.0f | %.1f / %.1f | %d |\n", clients, server.c_str(),
                  parallel, tps, vs_p1.c_str(), vs_llama.c_str(), (*r)["ttft_p50"].get<double>(),
                  (*r)["ttft_p99"].get<double>(), (*r)["itl_p50"].get<double>(), (*r)["itl_p99"].get<double>(),
                  (*r)["errors"].get<int>());
    }
  return 0;
}

void usage() {
  std::printf(
      "usage: serve_load [--host 127.0.0.1] --port P [--clients 1,4,16,64] [--requests N,N,…]\n"
      "                  [--max-tokens 64] [--temperature 0] [--extra JSON] [--warmup 2]\n"
      "                  [--server NAME --parallel N] [--out rows.jsonl]\n"
      "       serve_load --report rows.jsonl\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    const bool has = i + 1 < argc;
    if (s == "--report" && has) return report(argv[++i]);
    else if (s == "--host" && has) o.host = argv[++i];
    else if (s == "--port" && has) o.port = std::atoi(argv[++i]);
    else if (s == "--clients" && has) o.clients = parse_list(argv[++i]);
    else if (s == "--requests" && has) o.requests = parse_list(argv[++i]);
    else if (s == "--max-tokens" && has) o.max_tokens = std::atoi(argv[++i]);
    else if (s == "--temperature" && has) o.temperature = std::atof(argv[++i]);
    else if (s == "--extra" && has) o.extra = json::parse(argv[++i]);
    else if (s == "--server" && has) o.server = argv[++i];
    else if (s == "--parallel" && has) o.parallel = std::atoi(argv[++i]);
    else if (s == "--out" && has) o.out = argv[++i];
    else if (s == "--warmup" && has) o.warmup = std::atoi(argv[++i]);
    else {
      usage();
      return s == "-h" || s == "--help" ? 0 : 1;
    }
  }
  if (o.clients.empty() || o.max_tokens < 1) {
    usage();
    return 1;
  }
  return run(o);
}
