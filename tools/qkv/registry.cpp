// The command registry (see registry.h).
#include "registry.h"

#include <algorithm>
#include <tuple>

#include "qkv/core/error.h"

namespace qkv::cli {
namespace {

std::vector<CommandRegistration>& registry() {
  static std::vector<CommandRegistration> r;  // first use: safe from static-init order
  return r;
}

}  // namespace

CommandRegistrar::CommandRegistrar(std::string parent, std::string name, int order, CommandAdder add) {
  registry().push_back({std::move(parent), std::move(name), order, add});
}

std::vector<CommandRegistration> registered_commands() {
  std::vector<CommandRegistration> r = registry();
  std::stable_sort(r.begin(), r.end(), [](const CommandRegistration& a, const CommandRegistration& b) {
    return std::make_tuple(!a.parent.empty(), a.order, a.name) < std::make_tuple(!b.parent.empty(), b.order, b.name);
  });
  return r;
}

void add_registered_commands(CLI::App& app) {
  for (const CommandRegistration& c : registered_commands()) {
    CLI::App* parent = &app;
    if (!c.parent.empty()) {
      try {
        parent = app.get_subcommand(c.parent);
      } catch (const CLI::OptionNotFound&) {
        throw Error("qkv: command '" + c.parent + " " + c.name + "' registered under an unknown group '" + c.parent +
                    "'");
      }
    }
    c.add(*parent);
  }
}

}  // namespace qkv::cli
