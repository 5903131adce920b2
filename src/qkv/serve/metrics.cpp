// Prometheus text exposition of the server's metrics (see metrics.h).
#include "metrics.h"

#include <cstdio>

namespace qkv::serve {

namespace {
std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}
const std::vector<double> kLatencyBounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
const std::vector<double> kTokenBounds{0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2};
}  // namespace

void Histogram::observe(double seconds) {
  size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  if (i < bounds_.size()) ++counts_[i];
  ++count_;
  sum_ += seconds;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{le=\"" + number(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics() : request_seconds_(kLatencyBounds), ttft_seconds_(kLatencyBounds), token_seconds_(kTokenBounds) {}

void Metrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> l(m_);
  ++requests_[{endpoint, status}];
}

void Metrics::count_tokens(int64_t prompt, int64_t completion) {
  std::lock_guard<std::mutex> l(m_);
  prompt_tokens_ += static_cast<uint64_t>(prompt);
  completion_tokens_ += static_cast<uint64_t>(completion);
}

void Metrics::observe_request(double s) {
  std::lock_guard<std::mutex> l(m_);
  request_seconds_.observe(s);
}

void Metrics::observe_time_to_first_token(double s) {
  std::lock_guard<std::mutex> l(m_);
  ttft_seconds_.observe(s);
}

void Metrics::observe_token_interval(double s) {
  std::lock_guard<std::mutex> l(m_);
  token_seconds_.observe(s);
}

std::string Metrics::render() const {
  std::string out;
  std::lock_guard<std::mutex> l(m_);
  out += "# HELP qkv_requests_total HTTP requests answered, by endpoint and status.\n"
         "# TYPE qkv_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += "qkv_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
           std::to_string(n) + "\n";
  out += "# HELP qkv_prompt_tokens_total Prompt tokens processed.\n# TYPE qkv_prompt_tokens_total counter\n"
         "qkv_prompt_tokens_total " + std::to_string(prompt_tokens_) + "\n";
  out += "# HELP qkv_completion_tokens_total Tokens generated.\n# TYPE qkv_completion_tokens_total counter\n"
         "qkv_completion_tokens_total " + std::to_string(completion_tokens_) + "\n";
  out += "# HELP qkv_queue_length Requests waiting for a decoding slot.\n# TYPE qkv_queue_length gauge\n"
         "qkv_queue_length " + number(queue_length ? queue_length() : 0) + "\n";
  out += "# HELP qkv_running_sequences Sequences in the running batch.\n# TYPE qkv_running_sequences gauge\n"
         "qkv_running_sequences " + number(running_sequences ? running_sequences() : 0) + "\n";
  request_seconds_.render(out, "qkv_request_duration_seconds", "Time from a request's arrival to its last byte.");
  ttft_seconds_.render(out, "qkv_time_to_first_token_seconds", "Time from a request's arrival to its first token.");
  token_seconds_.render(out, "qkv_time_per_output_token_seconds", "Time between a sequence's consecutive tokens.");
  return out;
}

}  // namespace qkv::serve
