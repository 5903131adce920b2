// The qkv Python module's parts (docs/PYTHON.md): each file binds one area
// of the library and registers it on the module in module.cpp.
#pragma once
#include <pybind11/pybind11.h>

#include "qkv/core/tensor.h"

namespace qkv::python {

void bind_errors(pybind11::module_& m);     // errors.cpp: qkv::Error → Python exceptions
void bind_tensor(pybind11::module_& m);     // tensor.cpp: qkv.Tensor ↔ NumPy, no copies
void bind_tokenizer(pybind11::module_& m);  // tokenizer.cpp: qkv.Tokenizer
void bind_model(pybind11::module_& m);      // model.cpp: qkv.load, qkv.Model (generate, embed, pipelines)
void bind_train(pybind11::module_& m);      // train.cpp: qkv.train_gpt / train_llama

// A NumPy array of `t`'s elements that shares its memory (tensor.cpp).
pybind11::object to_numpy(const Tensor& t);

// Decoded text as a Python str: bytes that are not UTF-8 (a byte-level token
// may carry part of a character; a sample may stop inside one) become U+FFFD,
// as Python's errors="replace" and Hugging Face's decode do (tokenizer.cpp).
pybind11::str utf8(const std::string& s);

}  // namespace qkv::python

#include <nlohmann/json.hpp>

namespace qkv::python {

// JSON ↔ Python objects (dict, list, str, numbers, bool, None), through
// Python's json module: configs are small (tokenizer.cpp).
pybind11::object to_python(const nlohmann::json& j);
nlohmann::json from_python(const pybind11::handle& obj, const std::string& what);

}  // namespace qkv::python
