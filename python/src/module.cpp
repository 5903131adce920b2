// The qkv Python module (_qkv, wrapped by python/qkv/__init__.py). Thin over
// the library, as the CLI is: each binding file covers one area (bindings.h).
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "qkv/core/threading.h"
#include "qkv/version.h"

namespace py = pybind11;

PYBIND11_MODULE(_qkv, m) {
  m.doc() = "qkv: Transformers in C++ — tensors, models, generation and training (docs/PYTHON.md)";
  m.attr("__version__") = qkv::kVersion;
  qkv::python::bind_errors(m);
  qkv::python::bind_tensor(m);
  qkv::python::bind_tokenizer(m);
  qkv::python::bind_model(m);
  qkv::python::bind_train(m);
  m.def("num_threads", &qkv::num_threads, "Threads qkv's kernels and GEMM use (default: physical cores or QKV_NUM_THREADS)");
  m.def(
      "set_threads",
      [](int n) {
        if (n < 1) throw qkv::ValueError("set_threads: n must be >= 1, got " + std::to_string(n));
        qkv::set_num_threads(n);
      },
      py::arg("n"), "Sets the thread count of every threaded library qkv uses");
}
