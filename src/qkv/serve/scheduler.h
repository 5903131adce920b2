// The server's decoding thread: requests wait in a bounded queue, join the
// running batch (generate::ContinuousBatch) when slots are free, and get
// their text as it is decoded. Private to serve/.
//
// HTTP handler threads submit a Job and read its Channel; only the scheduler
// thread touches the model. A job whose client left (`cancelled`) has its
// sequences cancelled at the next step, freeing their slots at once.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "qkv/generate/continuous.h"
#include "qkv/tokenizers/text_codec.h"
#include "metrics.h"

namespace qkv::serve {

using Clock = std::chrono::steady_clock;

// One piece of one choice's text (a stream chunk).
struct Delta {
  size_t choice = 0;
  std::string text;
  // One entry per token this delta completes (logprobs requested).
  std::vector<std::string> tokens;
  std::vector<float> token_logprobs;
  std::vector<std::vector<std::pair<std::string, float>>> top_logprobs;
  std::vector<int64_t> text_offset;
  std::optional<std::string> finish_reason;  // "stop" | "length" on the choice's last delta
};

struct Job {
  // Filled by the handler before submit().
  std::vector<generate::SequenceSpec> specs;  // one per choice
  std::vector<std::string> stop;
  bool want_logprobs = false;

  // The channel back to the handler.
  std::mutex m;
  std::condition_variable cv;
  std::deque<Delta> deltas;
  size_t finished = 0;                 // choices done
  int64_t completion_tokens = 0;
  std::optional<std::string> error;    // the scheduler failed this job (500)
  bool done() const { return error || finished == specs.size(); }
  std::atomic<bool> cancelled{false};  // set by the handler: the client left

  Clock::time_point submitted = Clock::now();
  std::optional<Clock::time_point> first_token;
};

class Scheduler {
 public:
  Scheduler(const models::CausalDecoderLM& model, const tokenizers::TextCodec& codec, int64_t slots,
            int64_t queue_capacity, Metrics& metrics);
  ~Scheduler();
  // Queues the job; false when the queue is full (the caller answers 503).
  bool submit(const std::shared_ptr<Job>& job);
  // Finishes every queued and running job, then stops the thread.
  void drain_and_stop();
  size_t queued() const;
  size_t running() const { return running_count_.load(); }

 private:
  struct Running {
    std::shared_ptr<Job> job;
    size_t choice;
    std::unique_ptr<class TextStream> text;
  };
  void loop();
  void admit();
  void deliver(const generate::TokenEvent& e);
  void cancel_gone_clients();
  void fail_all(const std::string& why);

  const models::CausalDecoderLM& model_;
  const tokenizers::TextCodec& codec_;
  const int64_t slots_;
  const size_t queue_capacity_;
  Metrics& metrics_;
  generate::ContinuousBatch batch_;
  std::unordered_map<uint64_t, Running> running_;
  std::atomic<size_t> running_count_{0};  // batch_.size(), readable from other threads

  mutable std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace qkv::serve
