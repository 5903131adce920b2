// Regular-file checks before reading (see qkv/core/file_kind.h).
#include "qkv/core/file_kind.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "qkv/core/error.h"

namespace qkv {

std::string not_a_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return errno == ENOENT || errno == ENOTDIR ? "no such file" : std::string("cannot stat: ") + std::strerror(errno);
  if (S_ISREG(st.st_mode)) return "";
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (S_ISFIFO(st.st_mode)) return "is a FIFO (named pipe)";
  if (S_ISCHR(st.st_mode)) return "is a character device";
  if (S_ISBLK(st.st_mode)) return "is a block device";
  if (S_ISSOCK(st.st_mode)) return "is a socket";
  return "is not a regular file";
}

void require_regular_file(const std::string& path) {
  const std::string why = not_a_regular_file(path);
  if (!why.empty()) throw IOError(path + ": " + why + (why == "no such file" ? "" : ", not a regular file"));
}

}  // namespace qkv
