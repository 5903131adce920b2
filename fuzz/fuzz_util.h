// Shared by the fuzz targets (docs/FUZZING.md): the input as a file, and the
// rule every target checks — qkv's own errors (qkv::Error, a clear message)
// are the expected answer to bad input; anything else escaping, a crash, a
// sanitizer report or a hang is a finding.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "qkv/core/error.h"

namespace qkv::fuzz {

// A directory of this process's own under $TMPDIR (libFuzzer's -fork/-jobs
// workers are separate processes), removed at exit.
inline const std::string& scratch_dir() {
  // Never freed: the atexit handler below runs after static destructors.
  static const std::string* dir = [] {
    const char* t = std::getenv("TMPDIR");
    auto* d = new std::string(std::string(t && *t ? t : "/tmp") + "/qkv-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(*d);
    std::atexit([] { std::error_code ec; std::filesystem::remove_all(*dir, ec); });
    return d;
  }();
  return *dir;
}

// Writes bytes to scratch_dir()/name and returns the path (the loaders under
// test read files, as the CLI does).
inline std::string write_file(const std::string& name, std::string_view bytes) {
  const std::string path = scratch_dir() + "/" + name;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), std::streamsize(bytes.size()));
  return path;
}

// The input split at its first NUL byte into two files' contents (vocab.json
// + merges.txt, source + target); no NUL: all of it is the first part.
inline std::pair<std::string_view, std::string_view> split_at_nul(std::string_view in) {
  const size_t z = in.find('\0');
  if (z == std::string_view::npos) return {in, {}};
  return {in.substr(0, z), in.substr(z + 1)};
}

// Runs fn; a qkv::Error is the expected rejection of bad input.
template <class Fn>
void expect_clean(Fn&& fn) {
  try {
    fn();
  } catch (const qkv::Error&) {
  }
}

// A property that must hold for accepted input: a failure aborts, which
// libFuzzer reports with the input that broke it.
inline void check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "qkv fuzz: property failed: %s\n", what);
    std::abort();
  }
}

}  // namespace qkv::fuzz
