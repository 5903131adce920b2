// The `qkv` subcommands: each file registers one with the CLI11 app.
#pragma once
#include <CLI/CLI.hpp>

namespace qkv::cli {

void add_info_command(CLI::App& app);
void add_demo_command(CLI::App& app);
// Applies --threads (0 = keep the default) to every threaded library.
void apply_threads(int threads);

}  // namespace qkv::cli
