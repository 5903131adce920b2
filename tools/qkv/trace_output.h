// `--trace` output shared by `qkv generate` and `qkv train …`: one line per
// tensor a layer reports (nn/trace.h), in the notes' shape-tracking style,
// after a header that names the columns and the dimension letters.
#pragma once
#include <string>

#include "qkv/nn/trace.h"

namespace qkv::cli {

// The returned callback prints each event's line (nn::format_trace_line) to
// stdout, after `title` and the column header: before the first line (so
// the command's own lines — model, data — and an error before anything was
// traced stay out of the table), or now when given the model to be traced
// (`header_now`, for a command that prints section lines before the first
// event; its module paths set the column's width).
nn::Trace::Callback trace_printer(const std::string& title, const nn::Module* header_now = nullptr);
// Prints a section line ("── step 1: one new token, cached keys") between passes.
void print_trace_section(const std::string& title);

}  // namespace qkv::cli
