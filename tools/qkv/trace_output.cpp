// --trace lines on stdout (see trace_output.h).
#include "trace_output.h"

#include <cstdio>
#include <memory>

namespace qkv::cli {

namespace {
void print_header(const std::string& title, size_t module_width) {
  std::printf("trace: %s\n", title.c_str());
  std::printf("(B batch, T query positions, S key positions, C width, NH heads, hs = C/NH, F feed-forward width, "
              "V vocabulary, P masked positions; ‖·‖ = √Σx²)\n");
  std::printf("%s\n", nn::trace_header(module_width).c_str());
}
}  // namespace

void print_trace_section(const std::string& title) { std::printf("── %s\n", title.c_str()); }

nn::Trace::Callback trace_printer(const std::string& title, const nn::Module* header_now) {
  if (header_now) print_header(title, nn::trace_module_width(*header_now));
  auto pending = std::make_shared<std::string>(header_now ? "" : title);  // the header still to print
  return [pending](const nn::TraceEvent& e) {
    if (!pending->empty()) print_header(*pending, e.module_width), pending->clear();
    std::printf("%s\n", nn::format_trace_line(e).c_str());
  };
}

}  // namespace qkv::cli
