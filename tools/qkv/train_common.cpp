// install_stop_handler (see train_common.h).
#include "train_common.h"

#include "qkv/train/trainer.h"

#include <csignal>
#include <filesystem>
#include <ctime>
#include <unistd.h>

namespace qkv::cli {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int64_t> g_first_ns{0};

void on_signal(int) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe
  const int64_t now = static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  int64_t expected = 0;
  if (g_first_ns.compare_exchange_strong(expected, now)) g_stop.store(true);
  else if (now - expected > 1000000000) _exit(130);
}

}  // namespace

void prepare_out(const std::string& out, bool resume) {
  if (resume) train::recover_checkpoint(out);
  else require_fresh_out(out);
}

void require_fresh_out(const std::string& out) {
  namespace fs = std::filesystem;
  if (!fs::exists(out)) return;
  if (!fs::is_directory(out)) throw ValueError("--out " + out + " exists and is not a directory");
  if (fs::exists(out + "/trainer_state.json"))
    throw ValueError(out + " already holds a training run; pass --resume to continue it or choose another --out");
  if (fs::is_empty(out)) return;
  std::string some;
  int n = 0;
  for (const auto& e : fs::directory_iterator(out))
    if (n++ < 3) some += (some.empty() ? "" : ", ") + e.path().filename().string();
  throw ValueError(out + " is not empty (" + some + (n > 3 ? ", …" : "") +
                   ") and is not a training run to --resume; a new run needs a new or empty --out");
}

const std::atomic<bool>& install_stop_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return g_stop;
}

}  // namespace qkv::cli
