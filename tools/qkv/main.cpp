// qkv — the command line. Thin over the library: one file per subcommand,
// each registering itself (registry.h).
#include <cstdio>
#include <exception>
#include <string>

#include "registry.h"
#include "qkv/qkv.h"

int main(int argc, char** argv) {
  // libgomp reads its wait policy at load time; re-exec with a bounded spin
  // count (qkv/core/threading.h says why).
  qkv::ensure_wait_policy(argv);
  CLI::App app{"qkv — Transformers in C++: tensors, autograd, models, training, inference"};
  app.set_version_flag("--version", std::string("qkv ") + qkv::kVersion);
  app.require_subcommand(1);
  qkv::cli::add_registered_commands(app);  // every cmd_*.cpp registers itself (registry.h)
  std::string names;
  bool known = false;
  for (const CLI::App* sub : app.get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
    known = known || (argc > 1 && sub->get_name() == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !known) {
    std::fprintf(stderr, "qkv: error: unknown command '%s' (commands: %s; see qkv --help)\n", argv[1],
                 names.c_str());
    return 1;
  }
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
