// qkv_bench_tok — batch encoding speed of the GPT-2 BPE and BERT WordPiece
// tokenizers at 1 and N threads (Tokenizer::encode_batch on the OpenMP threads).
//
//   qkv_bench_tok [--data DIR] [--copies 18] [--batch 4096] [--reps 3] [--threads 1,2]
//
// Corpus: DIR/tinyshakespeare/input.txt repeated --copies times (18 → 20.08 MB),
// split into lines, encoded in batches of --batch lines (full Encoding: ids,
// tokens, offsets, masks; no special tokens, no padding). A warm-up pass over one
// copy runs first at every thread count (fills each thread's BPE word cache). Each
// rep encodes the whole corpus once per thread count, thread counts interleaved
// within a rep so that load from other jobs on a shared machine hits both alike.
// Only the encode_batch calls are timed (batches are built before, results freed
// after). Printed: best-of and median as MB/s and Mtokens/s, speed-up =
// best(1 thread) / best(N threads), and cpu/wall = process CPU time / wall time of
// the best run (≈ N when N threads really ran at once; well below N means the
// scheduler did not give the process N cores — other jobs).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "qkv/core/threading.h"
#include "qkv/tokenizers/tokenizer.h"

using qkv::tokenizers::EncodeOptions;
using qkv::tokenizers::Tokenizer;
using Clock = std::chrono::steady_clock;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "qkv_bench_tok: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.emplace_back(text, start, end - start);
    start = end + 1;
  }
  return lines;
}

std::vector<std::vector<std::string>> make_batches(const std::vector<std::string>& lines, size_t batch) {
  std::vector<std::vector<std::string>> out;
  for (size_t i = 0; i < lines.size(); i += batch)
    out.emplace_back(lines.begin() + long(i), lines.begin() + long(std::min(lines.size(), i + batch)));
  return out;
}

double cpu_seconds() {  // user + system time of the whole process (all threads)
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Run {
  double wall = 0, cpu = 0;
  size_t tokens = 0;
};

// Encodes every batch; times the encode_batch calls only (freeing the results
// is outside the timed region).
Run encode_all(const Tokenizer& tok, const std::vector<std::vector<std::string>>& batches) {
  Run r;
  for (const auto& b : batches) {
    double c0 = cpu_seconds();
    auto t0 = Clock::now();
    auto out = tok.encode_batch(b, EncodeOptions{.add_special_tokens = false, .parse_special = false});
    r.wall += std::chrono::duration<double>(Clock::now() - t0).count();
    r.cpu += cpu_seconds() - c0;
    for (const auto& e : out) r.tokens += e.size();
  }
  return r;
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) v.push_back(std::atoi(item.c_str()));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  qkv::ensure_wait_policy(argv);
  std::string data = "../shared/data";
  if (const char* d = std::getenv("QKV_SHARED_DATA")) data = d;
  int copies = 18, reps = 3;
  size_t batch = 4096;
  std::vector<int> threads = {1, 2};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "qkv_bench_tok: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--data") data = next();
    else if (a == "--copies") copies = std::atoi(next().c_str());
    else if (a == "--batch") batch = size_t(std::atol(next().c_str()));
    else if (a == "--reps") reps = std::atoi(next().c_str());
    else if (a == "--threads") threads = parse_list(next());
    else {
      std::fprintf(stderr, "usage: qkv_bench_tok [--data DIR] [--copies N] [--batch N] [--reps N] [--threads 1,2]\n");
      return 2;
    }
  }

  const std::string one = read_file(data + "/tinyshakespeare/input.txt");
  std::string corpus;
  corpus.reserve(one.size() * size_t(copies));
  for (int i = 0; i < copies; ++i) corpus += one;
  const double mb = double(corpus.size()) / 1e6;
  const auto batches = make_batches(split_lines(corpus), batch);
  const auto warm = make_batches(split_lines(one), batch);
  corpus.clear();
  corpus.shrink_to_fit();
  size_t nlines = 0;
  for (const auto& b : batches) nlines += b.size();
  std::printf("corpus: Tiny Shakespeare x%d = %.2f MB, %zu lines, batches of %zu lines, %d reps\n", copies, mb, nlines,
              batch, reps);

  struct Case {
    const char* name;
    Tokenizer tok;
  };
  std::vector<Case> cases;
  cases.push_back({"gpt2 bpe", Tokenizer::from_path(data + "/tokenizers/gpt2")});
  cases.push_back({"bert wordpiece", Tokenizer::from_path(data + "/tokenizers/bert-base-uncased")});

  for (auto& c : cases) {
    for (int t : threads) {  // warm-up on every thread count (fills each thread's BPE cache)
      qkv::set_num_threads(t);
      encode_all(c.tok, warm);
    }
    std::vector<std::vector<Run>> runs(threads.size());
    for (int r = 0; r < reps; ++r)
      for (size_t t = 0; t < threads.size(); ++t) {
        qkv::set_num_threads(threads[t]);
        runs[t].push_back(encode_all(c.tok, batches));
      }
    double best1 = 0;
    for (size_t t = 0; t < threads.size(); ++t) {
      auto s = runs[t];
      std::sort(s.begin(), s.end(), [](const Run& a, const Run& b) { return a.wall < b.wall; });
      const Run& best = s.front();
      double med = s[s.size() / 2].wall;
      if (t == 0) best1 = best.wall;
      std::printf(
          "%-15s threads=%d  best %6.2f MB/s %5.2f Mtok/s  median %6.2f MB/s  speed-up %.2fx  cpu/wall %.2f  (%zu tokens)\n",
          c.name, threads[t], mb / best.wall, double(best.tokens) / best.wall / 1e6, mb / med, best1 / best.wall,
          best.cpu / best.wall, best.tokens);
    }
  }
  return 0;
}
