# cmake/Gemm.cmake — choose and wire the fp32 GEMM backend.
#
# Used by the root CMakeLists.txt:
#   include(cmake/Gemm.cmake)
#   target_sources(qkv PRIVATE ${QKV_GEMM_SOURCES})      # or add to add_library
#   target_link_libraries(qkv PUBLIC qkv_gemm_backend OpenMP::OpenMP_CXX)
#
# Defines
#   QKV_GEMM            cache STRING: OPENBLAS | BLIS | DNNL | OWN | REF
#                       (default: the measured winner, see bench/RESULTS.md)
#   qkv_gemm_backend    INTERFACE target: include dirs, libraries (full paths,
#                       so Debian's alternatives cannot swap in another
#                       variant), RUNPATH, and the QKV_GEMM_<NAME> definition
#   QKV_GEMM_SOURCES    .cpp files to compile into the qkv library
#
# Debian 12 packages: OPENBLAS = libopenblas0-openmp + libopenblas-dev (headers),
# BLIS = libblis-openmp-dev, DNNL = libdnnl-dev, OWN/REF = nothing.
# All backends use the GNU OpenMP runtime (libgomp), the same one g++'s
# -fopenmp (OpenMP::OpenMP_CXX) links, so there is one thread pool.

set(QKV_GEMM "DNNL" CACHE STRING "fp32 GEMM backend: OPENBLAS, BLIS, DNNL, OWN or REF")
set_property(CACHE QKV_GEMM PROPERTY STRINGS OPENBLAS BLIS DNNL OWN REF)
string(TOUPPER "${QKV_GEMM}" _qkv_gemm)

get_filename_component(_qkv_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(CMAKE_LIBRARY_ARCHITECTURE)
  set(_qkv_arch "${CMAKE_LIBRARY_ARCHITECTURE}")
else()
  set(_qkv_arch "x86_64-linux-gnu")
endif()

set(QKV_GEMM_SOURCES
    "${_qkv_root}/src/qkv/kernels/gemm.cpp"
    "${_qkv_root}/src/qkv/kernels/ref/gemm_ref.cpp")

if(NOT TARGET qkv_gemm_backend)
  add_library(qkv_gemm_backend INTERFACE)
endif()

# Fails configuration with a helpful message if a required file is missing.
function(_qkv_gemm_require path what)
  if(NOT EXISTS "${path}")
    message(FATAL_ERROR "QKV_GEMM=${_qkv_gemm}: ${what} not found at ${path}. "
                        "Install the Debian package or pick another QKV_GEMM.")
  endif()
endfunction()

if(_qkv_gemm STREQUAL "OPENBLAS")
  # The OpenMP variant, named by full path: the SONAME libopenblas.so.0 would
  # otherwise resolve through /etc/alternatives (pthread variant by default),
  # hence the RUNPATH to its directory as well.
  set(QKV_OPENBLAS_LIBRARY
      "/usr/lib/${_qkv_arch}/openblas-openmp/libopenblas.so.0"
      CACHE FILEPATH "OpenBLAS (OpenMP build) shared library")
  # cblas.h is identical across variants; Debian ships it with the -dev package.
  set(QKV_OPENBLAS_INCLUDE_DIR
      "/usr/include/${_qkv_arch}/openblas-pthread"
      CACHE PATH "Directory holding OpenBLAS's cblas.h")
  _qkv_gemm_require("${QKV_OPENBLAS_LIBRARY}" "OpenBLAS (openmp) library")
  _qkv_gemm_require("${QKV_OPENBLAS_INCLUDE_DIR}/cblas.h" "OpenBLAS cblas.h")
  get_filename_component(_dir "${QKV_OPENBLAS_LIBRARY}" DIRECTORY)
  target_include_directories(qkv_gemm_backend SYSTEM INTERFACE "${QKV_OPENBLAS_INCLUDE_DIR}")
  target_link_libraries(qkv_gemm_backend INTERFACE "${QKV_OPENBLAS_LIBRARY}")
  target_link_options(qkv_gemm_backend INTERFACE "-Wl,-rpath,${_dir}")
  target_compile_definitions(qkv_gemm_backend INTERFACE QKV_GEMM_OPENBLAS)

elseif(_qkv_gemm STREQUAL "BLIS")
  set(QKV_BLIS_LIBRARY "/usr/lib/${_qkv_arch}/blis-openmp/libblis.so.4"
      CACHE FILEPATH "BLIS (OpenMP build) shared library")
  set(QKV_BLIS_INCLUDE_DIR "/usr/include/${_qkv_arch}/blis-openmp"
      CACHE PATH "Directory holding BLIS's blis.h")
  _qkv_gemm_require("${QKV_BLIS_LIBRARY}" "BLIS (openmp) library")
  _qkv_gemm_require("${QKV_BLIS_INCLUDE_DIR}/blis.h" "blis.h")
  get_filename_component(_dir "${QKV_BLIS_LIBRARY}" DIRECTORY)
  target_include_directories(qkv_gemm_backend SYSTEM INTERFACE "${QKV_BLIS_INCLUDE_DIR}")
  target_link_libraries(qkv_gemm_backend INTERFACE "${QKV_BLIS_LIBRARY}")
  target_link_options(qkv_gemm_backend INTERFACE "-Wl,-rpath,${_dir}")
  target_compile_definitions(qkv_gemm_backend INTERFACE QKV_GEMM_BLIS)

elseif(_qkv_gemm STREQUAL "DNNL")
  find_library(QKV_DNNL_LIBRARY NAMES dnnl)
  find_path(QKV_DNNL_INCLUDE_DIR NAMES oneapi/dnnl/dnnl.h)
  if(NOT QKV_DNNL_LIBRARY OR NOT QKV_DNNL_INCLUDE_DIR)
    message(FATAL_ERROR "QKV_GEMM=DNNL: oneDNN not found (apt-get install libdnnl-dev)")
  endif()
  target_include_directories(qkv_gemm_backend SYSTEM INTERFACE "${QKV_DNNL_INCLUDE_DIR}")
  target_link_libraries(qkv_gemm_backend INTERFACE "${QKV_DNNL_LIBRARY}")
  target_compile_definitions(qkv_gemm_backend INTERFACE QKV_GEMM_DNNL)

elseif(_qkv_gemm STREQUAL "OWN")
  # Our AVX-512 kernel. Only this file gets AVX-512 flags; gemm.cpp calls it
  # after __builtin_cpu_supports("avx512f") and otherwise uses sgemm_ref.
  # set_source_files_properties is directory-scoped: the qkv target must be
  # created in the directory that include()s this file (the root).
  set(_avx512_src "${_qkv_root}/src/qkv/kernels/gemm_avx512.cpp")
  list(APPEND QKV_GEMM_SOURCES "${_avx512_src}")
  set_source_files_properties("${_avx512_src}" PROPERTIES
    COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mfma")
  target_compile_definitions(qkv_gemm_backend INTERFACE QKV_GEMM_OWN)

elseif(_qkv_gemm STREQUAL "REF")
  target_compile_definitions(qkv_gemm_backend INTERFACE QKV_GEMM_REF)

else()
  message(FATAL_ERROR "QKV_GEMM must be OPENBLAS, BLIS, DNNL, OWN or REF (got '${QKV_GEMM}')")
endif()

message(STATUS "qkv: fp32 GEMM backend = ${_qkv_gemm}")
