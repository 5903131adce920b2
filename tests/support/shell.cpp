#include "support/shell.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>

namespace qkv::testing {

ShellRun shell(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

ShellRun qkv_cli(const std::string& args) { return shell(std::string(QKV_CLI_PATH) + " " + args); }

}  // namespace qkv::testing
