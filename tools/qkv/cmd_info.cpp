// `qkv info`: version, CPU features, GEMM backend, threads, model families.
#include <cstdio>
#include <cstdlib>

#include "commands.h"
#include "qkv/qkv.h"

namespace qkv::cli {

void apply_threads(int threads) {
  if (threads < 0) throw ValueError("--threads must be >= 0, got " + std::to_string(threads));
  if (threads > 0) set_num_threads(threads);
}

namespace {

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print the version, CPU features, GEMM backend, threads and model families");
  static int threads = 0;
  cmd->add_option("--threads", threads, "Threads for every threaded library (0 = physical cores)")
      ->capture_default_str();
  cmd->callback([] {
    apply_threads(threads);
    const CpuFeatures& f = cpu_features();
    const char* wait = std::getenv("OMP_WAIT_POLICY");
    std::printf("qkv %s\n", kVersion);
    std::printf("cpu:      %s\n", f.model.empty() ? "unknown" : f.model.c_str());
    std::printf("features: %s\n", cpu_features_string().c_str());
    std::printf("gemm:     %s\n", kernels::gemm_backend_name());
    std::printf("threads:  %d (physical cores %d; QKV_NUM_THREADS or --threads to change)\n", num_threads(),
                physical_cores());
    const char* spin = std::getenv("GOMP_SPINCOUNT");
    std::string types;
    for (const std::string& t : models::model_types()) types += (types.empty() ? "" : ", ") + t;
    std::printf("models:   %s (config.json model_type)\n", types.c_str());
    std::printf("openmp:   OMP_WAIT_POLICY=%s GOMP_SPINCOUNT=%s\n", wait ? wait : "(unset)", spin ? spin : "(unset)");
  });
}

}  // namespace

QKV_REGISTER_COMMAND("info", 10, add_info_command);

}  // namespace qkv::cli
