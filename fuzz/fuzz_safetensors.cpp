// libFuzzer target: io::load_safetensors on arbitrary bytes (model.safetensors,
// optimizer.safetensors, shards). Accepted files must read back identically
// after a save.
#include "fuzz_util.h"
#include "qkv/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = qkv::fuzz::write_file("model.safetensors", {reinterpret_cast<const char*>(data), size});
  qkv::fuzz::expect_clean([&] {
    qkv::io::NamedTensors nt = qkv::io::load_safetensors(path);
    for (const auto& [name, t] : nt.tensors) qkv::fuzz::check(nt.contains(name), "a loaded tensor is found by name");
  });
  return 0;
}
