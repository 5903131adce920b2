// qkv.Tensor ↔ NumPy without copies, both ways, through the buffer protocol:
//   np.asarray(t)        a view of the tensor's memory (any strides qkv has;
//                        the array keeps the tensor alive)
//   qkv.tensor(a)        a tensor over the array's memory (the tensor keeps the
//                        array alive); writes through either show in the other
// Dtypes map one to one (float32, int64, int32, int8, uint8, bool); anything
// else is a ValueError naming the dtype and the conversion to make.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "qkv/ops/ops.h"

namespace py = pybind11;

namespace qkv::python {
namespace {

DType qkv_dtype(const py::dtype& d) {
  const char kind = d.kind();
  const auto size = d.itemsize();
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'i' && size == 8) return DType::Int64;
  if (kind == 'i' && size == 4) return DType::Int32;
  if (kind == 'i' && size == 1) return DType::Int8;
  if (kind == 'u' && size == 1) return DType::UInt8;
  if (kind == 'b') return DType::Bool;
  const std::string name = d.attr("name").cast<std::string>();
  const std::string hint = kind == 'f'   ? "qkv computes in float32: pass a.astype(np.float32)"
                           : kind == 'i' || kind == 'u' ? "pass a.astype(np.int64) for ids"
                                                        : "use float32, int64, int32, int8, uint8 or bool";
  throw ValueError("qkv.tensor: NumPy dtype " + name + " has no qkv dtype (" + hint + ")");
}

DType dtype_from_name(const std::string& s) {
  for (DType t : {DType::Float32, DType::BFloat16, DType::Int64, DType::Int32, DType::Int8, DType::UInt8, DType::Bool})
    if (s == dtype_name(t)) return t;
  throw ValueError("unknown dtype '" + s + "' (float32, bfloat16, int64, int32, int8, uint8, bool)");
}

// Python's struct-module format of each dtype NumPy has.
std::string buffer_format(DType t) {
  switch (t) {
    case DType::Float32: return py::format_descriptor<float>::format();
    case DType::Int64: return py::format_descriptor<int64_t>::format();
    case DType::Int32: return py::format_descriptor<int32_t>::format();
    case DType::Int8: return py::format_descriptor<int8_t>::format();
    case DType::UInt8: return py::format_descriptor<uint8_t>::format();
    case DType::Bool: return py::format_descriptor<bool>::format();
    case DType::BFloat16: break;
  }
  throw ValueError("a bfloat16 tensor has no NumPy dtype: convert it first with t.to('float32')");
}

// Any layout qkv has (views, transposes, broadcasts with stride 0) is a valid
// strided NumPy view, so nothing is copied or made contiguous.
py::buffer_info buffer_of(const Tensor& t) {
  const auto item = static_cast<py::ssize_t>(dtype_size(t.dtype()));
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides;
  for (int64_t s : t.strides()) strides.push_back(s * item);
  return py::buffer_info(t.raw_data(), item, buffer_format(t.dtype()), t.dim(), shape, strides, /*readonly=*/false);
}

// pybind11 calls def_buffer's function without catching (an exception there
// ends the process), so the checks that can fail run first, in a slot that
// turns them into a Python ValueError and otherwise hands over to pybind11's.
getbufferproc g_pybind11_getbuffer = nullptr;
int tensor_getbuffer(PyObject* obj, Py_buffer* view, int flags) {
  try {
    const Tensor& t = py::handle(obj).cast<const Tensor&>();
    buffer_format(t.dtype());  // throws for bfloat16
    t.raw_data();              // throws for an undefined tensor
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
    view->obj = nullptr;
    return -1;
  }
  return g_pybind11_getbuffer(obj, view, flags);
}

// A tensor over `a`'s memory. The array (a Python object) is released with
// the GIL held, whichever thread drops the storage's last reference.
Tensor from_numpy(const py::object& obj) {
  // An ndarray as it is; anything else array-like (a list, a NumPy scalar) becomes a new array first.
  const py::array a = py::array::ensure(obj);
  if (!a) throw py::error_already_set();
  const DType dtype = qkv_dtype(a.dtype());
  if (!a.writeable())
    throw ValueError("qkv.tensor: the array is read-only; qkv tensors share and may write their memory "
                     "(pass a.copy())");
  const auto item = a.itemsize();
  Shape shape, strides;
  for (py::ssize_t d = 0; d < a.ndim(); ++d) {
    shape.push_back(a.shape(d));
    if (a.strides(d) % item != 0)
      throw ValueError("qkv.tensor: stride of " + std::to_string(a.strides(d)) + " bytes in dimension " +
                       std::to_string(d) + " is not a multiple of the " + std::to_string(item) +
                       "-byte element (pass np.ascontiguousarray(a))");
    strides.push_back(a.strides(d) / item);
  }
  auto* keep = new py::object(a);
  std::shared_ptr<void> owner(keep, [](void* p) {
    py::gil_scoped_acquire gil;
    delete static_cast<py::object*>(p);
  });
  try {
    return Tensor::from_blob(const_cast<void*>(a.data()), shape, strides, dtype, std::move(owner));
  } catch (const ValueError& e) {
    throw ValueError(std::string("qkv.tensor: ") + e.what() +
                     (std::string(e.what()).find("stride") != std::string::npos ? "" : " (pass np.ascontiguousarray(a))"));
  }
}

}  // namespace

py::object to_numpy(const Tensor& t) { return py::module_::import("numpy").attr("asarray")(py::cast(t)); }

void bind_tensor(py::module_& m) {
  auto cls = py::class_<Tensor>(m, "Tensor", py::buffer_protocol(),
                     "An n-dimensional array of qkv (a handle: copies share memory). np.asarray(t) views it "
                     "without a copy; qkv.tensor(a) wraps a NumPy array without a copy.")
      .def_buffer(&buffer_of)
      .def_static("from_numpy", &from_numpy, py::arg("array"),
                  "A tensor over the array's memory (no copy; the array stays alive as long as the tensor)")
      .def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(t.shape())); })
      .def_property_readonly("strides", [](const Tensor& t) { return py::tuple(py::cast(t.strides())); },
                             "in elements")
      .def_property_readonly("dtype", [](const Tensor& t) { return std::string(dtype_name(t.dtype())); })
      .def_property_readonly("ndim", &Tensor::dim)
      .def("numel", &Tensor::numel)
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("contiguous", &Tensor::contiguous, "self if contiguous, else a contiguous copy")
      .def("clone", &Tensor::clone)
      .def("to", [](const Tensor& t, const std::string& d) { return t.to(dtype_from_name(d)); }, py::arg("dtype"))
      .def("numpy", &to_numpy, "np.asarray(self): a view of the same memory")
      // Reached only when the buffer protocol refused (NumPy tries it first and
      // would otherwise wrap the tensor in an object array): raises the reason.
      .def("__array__", [](const Tensor& t, const py::object&) {
        buffer_format(t.dtype());
        t.raw_data();
        return to_numpy(t);
      }, py::arg("dtype") = py::none())
      .def("__len__", [](const Tensor& t) { return t.dim() == 0 ? throw ValueError("len() of a 0-d tensor") : t.size(0); })
      .def("__repr__", &Tensor::str);
  auto* type = reinterpret_cast<PyHeapTypeObject*>(cls.ptr());
  g_pybind11_getbuffer = type->as_buffer.bf_getbuffer;
  type->as_buffer.bf_getbuffer = tensor_getbuffer;
  m.def("tensor", &from_numpy, py::arg("array"), "qkv.Tensor.from_numpy(array): no copy");
  m.def("zeros", [](const std::vector<int64_t>& shape, const std::string& d) { return zeros(shape, dtype_from_name(d)); },
        py::arg("shape"), py::arg("dtype") = "float32");
}

}  // namespace qkv::python
