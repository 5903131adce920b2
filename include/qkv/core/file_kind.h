// qkv/core/file_kind.h — what a path is when it is not a regular file, so
// that every reader refuses directories, FIFOs and devices with a message
// that says so (opening a FIFO blocks forever; "no such file" for a
// directory misleads).
#pragma once
#include <string>

namespace qkv {

// "" for a regular file (or a symlink to one); "no such file" when nothing is
// there; otherwise "is a directory", "is a FIFO (named pipe)", "is a
// character device", "is a block device", "is a socket". Never opens it.
std::string not_a_regular_file(const std::string& path);
// IOError "<path>: <what not_a_regular_file says>" unless it is a regular file.
void require_regular_file(const std::string& path);

}  // namespace qkv
