// Running a shell command from a test: exit code and combined stdout+stderr.
#pragma once
#include <string>

namespace qkv::testing {

struct ShellRun {
  int code;  // exit status, or -1 if the command did not exit normally
  std::string out;
};

// Runs `cmd` through /bin/sh with stderr merged into stdout.
ShellRun shell(const std::string& cmd);
// Runs the qkv program (QKV_CLI_PATH) with `args`.
ShellRun qkv_cli(const std::string& args);
// Expects a non-zero exit and `needle` in the output (a clear error).
void expect_failure(const ShellRun& r, const std::string& needle);

}  // namespace qkv::testing
