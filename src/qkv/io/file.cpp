// Whole-file reads and atomic writes (temp file + fsync + rename).
#include "qkv/core/file_kind.h"
#include "qkv/io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "qkv/core/error.h"

namespace qkv::io {

namespace {

std::string errno_str(int e) { return std::strerror(e); }

// "dir/name" -> "dir/.name.tmp-<pid>-<n>": same directory so rename() is
// atomic (same file system); hidden so a listing mid-write stays clean.
std::string temp_path_for(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return dir + "." + base + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view bytes) {
  write_file_atomic(path, std::vector<std::string_view>{bytes});
}

void write_file_atomic(const std::string& path, const std::vector<std::string_view>& pieces) {
  if (path.empty()) throw IOError("cannot write a file with an empty path");
  if (path.back() == '/') throw IOError("cannot write " + path + ": is a directory");
  // rename() would replace whatever is there — a device node, a FIFO, a directory's name: only files.
  if (const std::string kind = not_a_regular_file(path); !kind.empty() && kind != "no such file")
    throw IOError("cannot write " + path + ": it " + kind + "; only a regular file is replaced");
  const std::string tmp = temp_path_for(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw IOError("cannot write " + path + ": " + errno_str(errno));
  auto fail = [&](const std::string& what, int e) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw IOError("cannot write " + path + ": " + what + (e ? ": " + errno_str(e) : std::string()));
  };
  for (std::string_view bytes : pieces) {
    const char* p = bytes.data();
    size_t left = bytes.size();
    while (left > 0) {
      ssize_t n = ::write(fd, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail("write failed", errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  if (::fsync(fd) != 0) fail("fsync failed", errno);
  int rc = ::close(fd);
  fd = -1;
  if (rc != 0) fail("close failed", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename failed", errno);
  // Make the rename itself durable; failure here is not fatal (some file
  // systems refuse fsync on directories).
  int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

std::string read_file(const std::string& path) {
  // A FIFO would block the open forever and a device never ends: regular files only.
  const std::string kind = not_a_regular_file(path);
  if (!kind.empty() && kind != "no such file") throw IOError("cannot open " + path + ": it " + kind + ", not a regular file");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IOError("cannot open " + path + ": " + errno_str(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
    ::close(fd);
    throw IOError("cannot open " + path + ": " + errno_str(e));
  }
  std::string out;
  if (st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      throw IOError("cannot read " + path + ": " + errno_str(e));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace qkv::io
