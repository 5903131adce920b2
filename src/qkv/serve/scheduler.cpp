// The server's decoding thread (see scheduler.h).
#include "scheduler.h"

#include <algorithm>
#include <utility>

#include "text_stream.h"

namespace qkv::serve {

Scheduler::Scheduler(const models::CausalDecoderLM& model, const tokenizers::TextCodec& codec, int64_t slots,
                     int64_t queue_capacity, Metrics& metrics)
    : model_(model), codec_(codec), slots_(slots), queue_capacity_(static_cast<size_t>(queue_capacity)),
      metrics_(metrics), batch_(model) {
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { drain_and_stop(); }

bool Scheduler::submit(const std::shared_ptr<Job>& job) {
  {
    std::lock_guard<std::mutex> l(m_);
    // Waiting room: the queue's capacity plus the slots free right now (a
    // request for a free slot passes through the queue too).
    const int64_t free_slots = std::max<int64_t>(0, slots_ - static_cast<int64_t>(running_count_.load()));
    if (stopping_ || queue_.size() >= queue_capacity_ + static_cast<size_t>(free_slots)) return false;
    queue_.push_back(job);
  }
  cv_.notify_one();
  return true;
}

size_t Scheduler::queued() const {
  std::lock_guard<std::mutex> l(m_);
  return queue_.size();
}

void Scheduler::drain_and_stop() {
  {
    std::lock_guard<std::mutex> l(m_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

// Jobs from the head of the queue while their choices fit in the free slots
// (first come, first served: a big job is not overtaken by small ones).
void Scheduler::admit() {
  std::vector<std::shared_ptr<Job>> jobs;
  {
    std::lock_guard<std::mutex> l(m_);
    int64_t free = slots_ - static_cast<int64_t>(batch_.size());
    while (!queue_.empty() && static_cast<int64_t>(queue_.front()->specs.size()) <= free) {
      free -= static_cast<int64_t>(queue_.front()->specs.size());
      jobs.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  std::vector<generate::SequenceSpec> specs;
  std::vector<std::pair<std::shared_ptr<Job>, size_t>> owners;
  for (const auto& job : jobs) {
    if (job->cancelled) {  // left while queued
      std::lock_guard<std::mutex> l(job->m);
      job->error = "cancelled";
      job->cv.notify_all();
      continue;
    }
    for (size_t c = 0; c < job->specs.size(); ++c) {
      specs.push_back(job->specs[c]);
      owners.emplace_back(job, c);
    }
  }
  if (specs.empty()) return;
  std::vector<uint64_t> ids;
  try {
    ids = batch_.add(std::move(specs));
  } catch (const std::exception& e) {  // the handler checked the specs: this is a bug or out of memory
    for (auto& [job, c] : owners) {
      std::lock_guard<std::mutex> l(job->m);
      job->error = e.what();
      job->cv.notify_all();
    }
    return;
  }
  running_count_ = batch_.size();
  for (size_t i = 0; i < ids.size(); ++i)
    running_.emplace(ids[i], Running{owners[i].first, owners[i].second,
                                     std::make_unique<TextStream>(codec_, owners[i].first->stop)});
}

// A sequence leaves the batch and the routing table together: a client that
// goes away while a step runs is seen here at the next one (erasing it from
// running_ alone would leave its row decoding to its end, holding the slot).
void Scheduler::cancel_gone_clients() {
  for (auto it = running_.begin(); it != running_.end();)
    if (it->second.job->cancelled) {
      batch_.cancel(it->first);
      it = running_.erase(it);
    } else {
      ++it;
    }
}

void Scheduler::deliver(const generate::TokenEvent& e) {
  auto it = running_.find(e.sequence);
  if (it == running_.end()) return;
  Running& r = it->second;
  Job& job = *r.job;
  Delta d{.choice = r.choice};
  const size_t offset = r.text->sent();  // logprobs never come with echo (openai.h)
  d.text = r.text->push(e.token);
  bool finished = e.finish != generate::FinishReason::None || r.text->stopped();
  if (r.text->stopped()) {
    d.finish_reason = "stop";
    batch_.cancel(e.sequence);  // a stop sequence: no more tokens for this choice
  } else if (e.finish != generate::FinishReason::None) {
    d.text += r.text->flush();
    d.finish_reason = e.finish == generate::FinishReason::Stop ? "stop" : "length";
  }
  if (job.want_logprobs) {
    d.tokens.push_back(codec_.decode({e.token}));
    d.token_logprobs.push_back(e.logprob);
    std::vector<std::pair<std::string, float>> top;
    for (const auto& [id, lp] : e.top) top.emplace_back(codec_.decode({id}), lp);
    d.top_logprobs.push_back(std::move(top));
    d.text_offset.push_back(static_cast<int64_t>(offset));
  }
  {
    std::lock_guard<std::mutex> l(job.m);
    if (!job.first_token) {
      job.first_token = Clock::now();
      metrics_.observe_time_to_first_token(std::chrono::duration<double>(*job.first_token - job.submitted).count());
    }
    ++job.completion_tokens;
    if (finished) ++job.finished;
    job.deltas.push_back(std::move(d));
  }
  job.cv.notify_all();
  if (finished) running_.erase(it);
}

void Scheduler::fail_all(const std::string& why) {
  for (auto& [id, r] : running_) {
    batch_.cancel(id);
    std::lock_guard<std::mutex> l(r.job->m);
    r.job->error = why;
    r.job->cv.notify_all();
  }
  running_.clear();
  batch_.step();  // the cancelled rows leave
}

void Scheduler::loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> l(m_);
      cv_.wait(l, [&] { return stopping_ || !queue_.empty() || !batch_.empty(); });
      if (stopping_ && queue_.empty() && batch_.empty()) return;
    }
    try {
      admit();
      cancel_gone_clients();
      const Clock::time_point t0 = Clock::now();
      const std::vector<generate::TokenEvent> events = batch_.step();
      const double step_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      for (const generate::TokenEvent& e : events) {
        deliver(e);
        metrics_.observe_token_interval(step_seconds);
      }
      running_count_ = batch_.size();
    } catch (const std::exception& e) {
      fail_all(std::string("decoding failed: ") + e.what());
    }
  }
}

}  // namespace qkv::serve
