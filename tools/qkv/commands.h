// Helpers shared by the `qkv` commands. The commands themselves register
// with the registry (registry.h): one cmd_*.cpp file per command.
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "registry.h"

namespace qkv::cli {

// Checks a plot's output path before any slow work: a known extension
// (.png/.svg/.pdf, any case; ValueError naming the path) in an existing folder
// (IOError) — viz::check_output (cmd_plot.cpp).
void check_plot_path(const std::string& path);
// `label` padded with spaces to `width` characters (not bytes: "␣the" is 4
// wide), for columns of token labels (cmd_plot.cpp).
std::string pad_label(const std::string& label, size_t width);
// Applies --threads (0 = keep the default) to every threaded library (cmd_info.cpp).
void apply_threads(int threads);
// stdin's lines with data::read_lines' rules (BOM skipped, CRLF read as LF,
// invalid UTF-8 an IOError "stdin:<line>: …") (stdin_lines.cpp).
std::vector<std::string> read_stdin_lines();
// `j` on one line, for JSON-lines output: strings that are not valid UTF-8 get
// U+FFFD for their bad bytes instead of failing the dump (cmd_tokenize.cpp).
std::string compact_json(const nlohmann::ordered_json& j);

}  // namespace qkv::cli
