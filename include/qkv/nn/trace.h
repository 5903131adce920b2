// qkv/nn/trace.h — watch a forward pass: every layer's tensor shapes and norms.
//
// Modules report what they compute — a layer norm its output, attention its
// q/k/v (and their per-head views), probabilities and output, the
// feed-forward its hidden layer — to the trace installed on the calling
// thread, if any. A Trace names each module by its dotted path in the model
// ("h.0.attn", "model.layers.1.mlp", "encoder.layers.0.self_attn"), so
// every family reports through the same few calls in the shared modules, and
// the output reads like the notes' shape tracking:
//
//   h.0.attn   q        (B,T,C) → (B,NH,T,hs)  (1,5,64) → (1,4,5,16)   ‖·‖ 7.913
//   h.0.attn   weights  (B,NH,T,S)             (1,4,5,5)               ‖·‖ 4.472
//
//   nn::Trace trace(model, [](const nn::TraceEvent& e) { std::puts(nn::format_trace_line(e).c_str()); });
//   model.forward(ids, gen);   // one line per reported tensor, as it is computed
//
// When no trace is installed a report costs one thread-local load and a
// branch; modules guard any extra work (attention probabilities) with
// tracing(). Traces nest: the inner one wins until it ends.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "qkv/core/tensor.h"

namespace qkv::nn {

class Module;

constexpr size_t kTraceModuleWidth = 36;  // the module column's least width

// One reported tensor. `dims` names its axes in docs/GLOSSARY.md's letters
// ("(B,T,C)"); `view_dims`/`view_shape`, when not empty, the same values seen
// with other axes (q (B,T,C) viewed per head as (B,NH,T,hs)).
struct TraceEvent {
  std::string module;  // dotted path in the traced model; "" for the model itself
  std::string what;    // "out", "q", "weights", "grad", …
  std::string dims;
  Shape shape;
  std::string view_dims;
  Shape view_shape;
  double norm = 0;  // Frobenius norm √Σx², summed in double
  size_t module_width = kTraceModuleWidth;  // the module column; Trace::emit sets its model's
};

// "module  what  dims [→ view]  shape [→ view]  ‖·‖ norm", aligned columns
// (the module column e.module_width wide).
std::string format_trace_line(const TraceEvent& e);
// The column titles above format_trace_line's lines.
std::string trace_header(size_t module_width = kTraceModuleWidth);
// The module column for `root`'s module and parameter paths (a training
// step's grad lines name parameters): the longest + 2, at least
// kTraceModuleWidth, so every line of a trace lines up.
size_t trace_module_width(const Module& root);

// The Frobenius norm of `t` (any float dtype, any strides), summed in double.
double frobenius_norm(const Tensor& t);

class Trace {
 public:
  using Callback = std::function<void(const TraceEvent&)>;
  // Installs itself on this thread until destroyed; names modules by their
  // paths under `root` (modules outside it are named "?").
  Trace(const Module& root, Callback on_event);
  ~Trace();
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  // Paused, reports are dropped (and tracing() is false): e.g. after the
  // first generated tokens.
  void pause(bool paused) { paused_ = paused; }
  bool paused() const { return paused_; }
  // Called by trace_tensor; also usable for events of the caller's own
  // (a training step's loss and gradients).
  void emit(TraceEvent e) const;  // with this trace's module_width
  std::string name_of(const Module* m) const;

 private:
  std::unordered_map<const Module*, std::string> names_;
  size_t module_width_;
  Callback on_event_;
  Trace* outer_;
  bool paused_ = false;
};

// The trace installed on this thread (null when none).
Trace* current_trace();
// True while a trace is installed and not paused: guard work done only for it.
inline bool tracing() {
  const Trace* t = current_trace();
  return t && !t->paused();
}

namespace detail {
void emit_tensor(const Module* m, std::string_view what, std::string_view dims, const Tensor& t,
                 std::string_view view_dims, const Shape& view_shape);
}  // namespace detail

// Reports `t` as `what` of module `m` with its axes `dims`; nothing when not
// tracing. `dims` is either the whole tuple ("(B,NH,T,S)") or, for a
// sequence of vectors, the last axis alone ("C", "F", "V"): the leading axes
// are then named by rank — (C), (T,C), (B,T,C).
inline void trace_tensor(const Module* m, std::string_view what, std::string_view dims, const Tensor& t) {
  if (tracing()) detail::emit_tensor(m, what, dims, t, {}, {});
}
// The same with a view of other axes and shape (q (B,T,C) as (B,NH,T,hs)).
inline void trace_tensor(const Module* m, std::string_view what, std::string_view dims, const Tensor& t,
                         std::string_view view_dims, const Shape& view_shape) {
  if (tracing()) detail::emit_tensor(m, what, dims, t, view_dims, view_shape);
}

}  // namespace qkv::nn
