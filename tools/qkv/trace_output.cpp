// --trace lines on stdout (see trace_output.h).
#include "trace_output.h"

#include <cstdio>

namespace qkv::cli {

void print_trace_section(const std::string& title) { std::printf("── %s\n", title.c_str()); }

nn::Trace::Callback trace_printer(const std::string& title) {
  std::printf("trace: %s\n", title.c_str());
  std::printf("(B batch, T query positions, S key positions, C width, NH heads, hs = C/NH, F feed-forward width, "
              "V vocabulary; ‖·‖ = √Σx²)\n");
  std::printf("%s\n", nn::trace_header().c_str());
  return [](const nn::TraceEvent& e) { std::printf("%s\n", nn::format_trace_line(e).c_str()); };
}

}  // namespace qkv::cli
