// Trace: the thread's installed sink, module names, norms, lines (see qkv/nn/trace.h).
#include "qkv/nn/trace.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "qkv/autograd/autograd.h"
#include "qkv/nn/module.h"

namespace qkv::nn {

namespace {
thread_local Trace* g_trace = nullptr;
constexpr size_t kWhatWidth = 9, kDimsWidth = 24, kShapeWidth = 26;  // columns of a line

std::string tuple_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(s[i]);
  }
  return out + ")";
}

// `s` padded with spaces to `width` characters (UTF-8: "→" is one).
std::string pad(const std::string& s, size_t width) {
  size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
  return chars >= width ? s + " " : s + std::string(width - chars, ' ');
}
// A full tuple as given; a last axis alone ("C") led by T and B by rank.
std::string dims_of(std::string_view dims, size_t rank) {
  if (dims.empty() || dims.front() == '(') return std::string(dims);
  static const char* kLead[] = {"", "T,", "B,T,"};
  const std::string lead = rank >= 1 && rank <= 3 ? kLead[rank - 1] : "…,";
  return "(" + lead + std::string(dims) + ")";
}
}  // namespace

double frobenius_norm(const Tensor& t) {
  NoGradGuard ng;  // reading values only: no graph
  const std::vector<float> v = t.to(DType::Float32).contiguous().to_vector();
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  return std::sqrt(sum);
}

std::string format_trace_line(const TraceEvent& e) {
  const bool view = !e.view_dims.empty();
  const std::string dims = view ? e.dims + " → " + e.view_dims : e.dims;
  const std::string shape = view ? tuple_str(e.shape) + " → " + tuple_str(e.view_shape) : tuple_str(e.shape);
  char norm[48];
  std::snprintf(norm, sizeof norm, "‖·‖ %.6g", e.norm);
  return pad(e.module.empty() ? "(model)" : e.module, e.module_width) + pad(e.what, kWhatWidth) + pad(dims, kDimsWidth) +
         pad(shape, kShapeWidth) + norm;
}

std::string trace_header(size_t module_width) {
  return pad("module", module_width) + pad("tensor", kWhatWidth) + pad("axes", kDimsWidth) + pad("shape", kShapeWidth) +
         "norm";
}

size_t trace_module_width(const Module& root) {
  size_t width = kTraceModuleWidth;
  for (const auto& [name, m] : root.named_modules()) width = std::max(width, name.size() + 2);
  for (const auto& [name, p] : root.named_parameters()) width = std::max(width, name.size() + 2);  // grad lines
  return width;
}

Trace::Trace(const Module& root, Callback on_event)
    : module_width_(trace_module_width(root)), on_event_(std::move(on_event)), outer_(g_trace) {
  for (const auto& [name, m] : root.named_modules()) names_.emplace(m, name);
  g_trace = this;
}

Trace::~Trace() { g_trace = outer_; }

std::string Trace::name_of(const Module* m) const {
  const auto it = names_.find(m);
  return it == names_.end() ? "?" : it->second;
}

void Trace::emit(TraceEvent e) const {
  e.module_width = module_width_;
  if (!paused_ && on_event_) on_event_(e);
}

Trace* current_trace() { return g_trace; }

namespace detail {
void emit_tensor(const Module* m, std::string_view what, std::string_view dims, const Tensor& t,
                 std::string_view view_dims, const Shape& view_shape) {
  const Trace* tr = g_trace;
  if (!tr || tr->paused() || !t.defined()) return;
  tr->emit({.module = tr->name_of(m), .what = std::string(what), .dims = dims_of(dims, t.dim()), .shape = t.shape(),
            .view_dims = std::string(view_dims), .view_shape = view_shape, .norm = frobenius_norm(t)});
}
}  // namespace detail

}  // namespace qkv::nn
