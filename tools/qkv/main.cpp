// qkv — the command line. Thin over the library: one file per subcommand.
#include <cstdio>
#include <exception>

#include "commands.h"
#include "qkv/qkv.h"

int main(int argc, char** argv) {
  // libgomp reads OMP_WAIT_POLICY at load time; re-exec with passive waiting so
  // 2 threads on a shared machine never spin against each other.
  qkv::ensure_passive_wait_policy(argv);
  CLI::App app{"qkv — Transformers in C++: tensors, autograd, models, training, inference"};
  app.set_version_flag("--version", std::string("qkv ") + qkv::kVersion);
  app.require_subcommand(1);
  qkv::cli::add_info_command(app);
  qkv::cli::add_demo_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const qkv::Error& e) {
    std::fprintf(stderr, "qkv: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qkv: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
