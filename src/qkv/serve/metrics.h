// The server's counters, gauges and latency histograms, rendered in
// Prometheus' text exposition format (version 0.0.4) for GET /metrics.
// Private to serve/. Every member is safe to call from any thread.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace qkv::serve {

// Cumulative buckets (le = upper bound, seconds) plus sum and count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {}
  void observe(double seconds);
  void render(std::string& out, const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative; summed when rendered)
  uint64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  Metrics();
  void count_request(const std::string& endpoint, int status);
  void count_tokens(int64_t prompt, int64_t completion);
  void observe_request(double seconds);
  void observe_time_to_first_token(double seconds);
  void observe_token_interval(double seconds);
  // Gauges read when rendering (the queue and the running batch).
  std::function<double()> queue_length, running_sequences;
  std::string render() const;

 private:
  mutable std::mutex m_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  uint64_t prompt_tokens_ = 0, completion_tokens_ = 0;
  Histogram request_seconds_, ttft_seconds_, token_seconds_;
};

}  // namespace qkv::serve
