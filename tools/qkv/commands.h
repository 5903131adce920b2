// The `qkv` subcommands: each file registers one with the CLI11 app.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace qkv::cli {

void add_info_command(CLI::App& app);
void add_demo_command(CLI::App& app);
// `qkv tokenize` and `qkv decode` (cmd_tokenize.cpp).
void add_tokenize_command(CLI::App& app);
void add_train_tokenizer_command(CLI::App& app);  // cmd_train_tokenizer.cpp
void add_train_command(CLI::App& app);
void add_generate_command(CLI::App& app);
// `qkv plot` and its `pe` subcommand; returns the `plot` app so other files
// can register siblings (e.g. add_plot_attention_command(*plot)).
CLI::App* add_plot_command(CLI::App& app);
// Output format from a file name's extension (.png/.svg, any case); ValueError
// naming the path otherwise.
enum class PlotFormat { Png, Svg };
PlotFormat plot_format(const std::string& path);
// `qkv plot attention` (a sibling of `plot pe`).
void add_plot_attention_command(CLI::App& plot);
// Applies --threads (0 = keep the default) to every threaded library.
void apply_threads(int threads);

}  // namespace qkv::cli
