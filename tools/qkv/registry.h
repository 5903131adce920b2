// The `qkv` commands register themselves: each cmd_*.cpp ends with
//
//   QKV_REGISTER_COMMAND("generate", 70, add_generate_command);
//   QKV_REGISTER_SUBCOMMAND("plot", "attention", 20, add_plot_attention_command);
//
// and main.cpp adds whatever is registered, so a new command is one new file.
// `order` places the command in `qkv --help` (ties: by name), independent of
// the link order of the files; a subcommand is added to its parent group after
// every top-level command exists. The adder receives the app (or parent group)
// and adds its subcommand(s) there.
//
// Registrations run during static initialisation, into a function-local
// registry (constructed on first use, so the order in which files initialise
// does not matter). The cmd_*.cpp objects are linked directly into the
// executable (not through an archive), so none of them is dropped.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace qkv::cli {

using CommandAdder = void (*)(CLI::App& parent);

struct CommandRegistration {
  std::string parent;  // "" for a top-level command, else the group's name ("plot")
  std::string name;    // as typed: "generate", "attention"
  int order;
  CommandAdder add;
};

// Every registration, in (parent depth, order, name) order.
std::vector<CommandRegistration> registered_commands();
// Adds every registered command to `app` (parents before their subcommands).
void add_registered_commands(CLI::App& app);

struct CommandRegistrar {
  CommandRegistrar(std::string parent, std::string name, int order, CommandAdder add);
};

}  // namespace qkv::cli

#define QKV_REGISTRY_CONCAT2(a, b) a##b
#define QKV_REGISTRY_CONCAT(a, b) QKV_REGISTRY_CONCAT2(a, b)
#define QKV_REGISTER_SUBCOMMAND(parent, name, order, adder)                                              \
  static const ::qkv::cli::CommandRegistrar QKV_REGISTRY_CONCAT(qkv_command_registrar_, __LINE__){ \
      parent, name, order, adder}
#define QKV_REGISTER_COMMAND(name, order, adder) QKV_REGISTER_SUBCOMMAND("", name, order, adder)
