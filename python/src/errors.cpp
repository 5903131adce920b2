// qkv's exceptions as Python's, keeping the C++ message (the one the CLI
// prints after `qkv: error:`): ShapeError and ValueError → ValueError (qkv.ShapeError
// is a ValueError), IOError → OSError, any other qkv::Error → RuntimeError.
#include "bindings.h"

#include "qkv/core/error.h"

namespace py = pybind11;

namespace qkv::python {

void bind_errors(py::module_& m) {
  static py::exception<ShapeError> shape_error(m, "ShapeError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ShapeError& e) {
      PyErr_SetString(shape_error.ptr(), e.what());
    } catch (const ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const IOError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

}  // namespace qkv::python
