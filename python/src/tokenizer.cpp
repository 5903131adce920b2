// qkv.Tokenizer: text ↔ ids with the tokenizer a model directory carries
// (tokenizers::TextCodec, as `qkv generate` and `qkv train gpt` use it):
// a character tokenizer.json, any tokenizer.json, GPT-2's vocab.json +
// merges.txt or BERT's vocab.txt (docs/TOKENIZERS.md).
#include <pybind11/stl.h>

#include "bindings.h"
#include "qkv/tokenizers/text_codec.h"

namespace py = pybind11;

namespace qkv::python {

py::str utf8(const std::string& s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
  if (!o) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(o);
}

py::object to_python(const nlohmann::json& j) { return py::module_::import("json").attr("loads")(j.dump()); }

nlohmann::json from_python(const py::handle& obj, const std::string& what) {
  std::string text;
  try {
    text = py::module_::import("json").attr("dumps")(obj).cast<std::string>();
  } catch (const py::error_already_set& e) {
    throw ValueError(what + ": not JSON-like (" + std::string(py::str(e.value())) + ")");
  }
  return nlohmann::json::parse(text);
}

void bind_tokenizer(py::module_& m) {
  using tokenizers::TextCodec;
  py::class_<TextCodec>(m, "Tokenizer", "Text ↔ token ids (qkv.load_tokenizer, or a model's .tokenizer)")
      .def_readonly("kind", &TextCodec::kind, "\"char\" or \"tokenizer\"")
      .def_readonly("vocab_size", &TextCodec::vocab_size)
      .def("encode", [](const TextCodec& c, std::string_view text) { return c.encode(text); }, py::arg("text"),
           "ids of the text (ValueError naming a character a char tokenizer does not know)")
      .def("decode", [](const TextCodec& c, const std::vector<int64_t>& ids) { return utf8(c.decode(ids)); },
           py::arg("ids"), "the text (bytes that are not UTF-8 become U+FFFD)")
      .def("save", [](const TextCodec& c, const std::string& path) { c.save(path); }, py::arg("path"),
           "writes tokenizer.json")
      .def("__repr__", [](const TextCodec& c) {
        return "qkv.Tokenizer(" + c.kind + ", vocab_size=" + std::to_string(c.vocab_size) + ")";
      });
  m.def("load_tokenizer", &tokenizers::load_codec, py::arg("path"),
        "A tokenizer from a DIR (tokenizer.json, vocab.json + merges.txt, or vocab.txt) or a file",
        py::call_guard<py::gil_scoped_release>());
  m.def("char_tokenizer", &tokenizers::char_codec, py::arg("corpus"),
        "A character tokenizer over the characters of `corpus` (what `qkv train gpt` builds by default)");
}

}  // namespace qkv::python
