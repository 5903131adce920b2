#include "file_util.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "qkv/core/error.h"
#include "qkv/core/file_kind.h"

namespace qkv::tokenizers::detail {

std::string read_file(const std::string& path) {
  const std::string kind = not_a_regular_file(path);  // a FIFO would block forever
  if (!kind.empty() && kind != "no such file") throw IOError(path + ": cannot read: it " + kind);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IOError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw IOError(path + ": read failed");
  return ss.str();
}

void write_file_atomic(const std::string& path, const std::string& content) {
  if (const std::string kind = not_a_regular_file(path); !kind.empty() && kind != "no such file")
    throw IOError(path + ": cannot write: it " + kind + "; only a regular file is replaced");
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw IOError(path + ": cannot write (" + std::strerror(errno) + ")");
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok = std::fflush(f) == 0 && ok;
  ok = ::fsync(::fileno(f)) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw IOError(path + ": write failed (" + std::strerror(errno) + ")");
  }
}

std::string line_col(const std::string& text, size_t pos) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

}  // namespace qkv::tokenizers::detail
