// `--trace` output shared by `qkv generate` and `qkv train …`: one line per
// tensor a layer reports (nn/trace.h), in the notes' shape-tracking style,
// after a header that names the columns and the dimension letters.
#pragma once
#include <string>

#include "qkv/nn/trace.h"

namespace qkv::cli {

// Prints `title` and the column header to stdout; the returned callback
// prints each event's line (nn::format_trace_line).
nn::Trace::Callback trace_printer(const std::string& title);
// Prints a section line ("── step 1: one new token, cached keys") between passes.
void print_trace_section(const std::string& title);

}  // namespace qkv::cli
