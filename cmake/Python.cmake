# The Python module (python/, docs/PYTHON.md) is built when pybind11 and the
# Python headers are found (Debian: pybind11-dev python3-dev, plus
# python3-numpy for its tests). Not under QKV_SANITIZE: an ASan-built
# extension cannot be loaded by an uninstrumented python3, and the ASan
# build runs the same ctest, so its tests must not be registered there.
#
# The interpreter defaults to Debian's /usr/bin/python3 (the one whose NumPy
# the tests import) when it exists, even if another python3 comes first in
# PATH; -DPython_EXECUTABLE=... builds for another.
if(QKV_SANITIZE)
  set(_qkv_python_default OFF)
else()
  if(NOT DEFINED Python_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "The python3 the qkv module is built for")
  endif()
  find_package(Python 3 QUIET COMPONENTS Interpreter Development.Module)
  if(Python_FOUND)
    set(PYBIND11_FINDPYTHON ON)  # pybind11 uses the Python found above
    find_package(pybind11 CONFIG QUIET)
  endif()
  if(Python_FOUND AND pybind11_FOUND)
    set(_qkv_python_default ON)
  else()
    set(_qkv_python_default OFF)
    message(STATUS "qkv: no pybind11 or Python headers: the Python module is not built (apt install pybind11-dev python3-dev)")
  endif()
endif()
option(QKV_BUILD_PYTHON "Build the qkv Python module (python/)" ${_qkv_python_default})
if(QKV_BUILD_PYTHON AND QKV_SANITIZE)
  message(FATAL_ERROR "QKV_BUILD_PYTHON cannot be used with QKV_SANITIZE (python3 cannot load an ASan-built module)")
endif()
if(QKV_BUILD_PYTHON AND NOT pybind11_FOUND)
  message(FATAL_ERROR "QKV_BUILD_PYTHON is ON but pybind11 was not found (apt install pybind11-dev python3-dev)")
endif()
