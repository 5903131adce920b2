// End-to-end runs of the `qkv` program, including its bad-input paths.
#include <gtest/gtest.h>

#include "support/shell.h"
#include "qkv/core/threading.h"
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace {

struct CliRun {
  int code;
  std::string out;  // stdout + stderr
};

CliRun run(const std::string& args) {
  qkv::testing::ShellRun r = qkv::testing::qkv_cli(args);
  return {r.code, r.out};
}

}  // namespace

TEST(Cli, VersionAndInfo) {
  CliRun v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("qkv 0."), std::string::npos) << v.out;
  CliRun i = run("info --threads 1");
  EXPECT_EQ(i.code, 0) << i.out;
  for (const char* key : {"cpu:", "features:", "gemm:", "threads:  1", "models:   bert, gpt, llama, transformer"})
    EXPECT_NE(i.out.find(key), std::string::npos) << key << " missing in:\n" << i.out;
}

TEST(Cli, XorDemoLearns) {
  CliRun r = run("demo xor --threads 1 --print-every 100");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("XOR learned."), std::string::npos) << r.out;
}

TEST(Cli, ReexecsWithABoundedSpinUnlessTheUserChose) {
  CliRun r = run("info");  // the test environment sets passive: kept as it is
  EXPECT_NE(r.out.find("OMP_WAIT_POLICY=passive GOMP_SPINCOUNT=(unset)"), std::string::npos) << r.out;
  const std::string cli = QKV_CLI_PATH;
  std::string out = qkv::testing::shell("env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT " + cli + " info").out;
  EXPECT_NE(out.find(std::string("OMP_WAIT_POLICY=(unset) GOMP_SPINCOUNT=") + qkv::kDefaultSpinCount), std::string::npos)
      << "qkv should re-exec itself with a bounded spin count when neither variable is set:\n" << out;
  out = qkv::testing::shell("env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=77 " + cli + " info").out;
  EXPECT_NE(out.find("OMP_WAIT_POLICY=(unset) GOMP_SPINCOUNT=77"), std::string::npos) << out;
}

TEST(Cli, BadInputGivesClearErrors) {
  struct Case {
    const char* args;
    const char* expect;
  };
  for (Case c : {Case{"", "subcommand"},
                 Case{"nosuchcommand", "nosuchcommand"},
                 Case{"demo xor --steps 0", "qkv: error: --steps must be >= 1"},
                 Case{"demo xor --hidden 0", "qkv: error: --hidden must be >= 1"},
                 Case{"demo xor --lr -1", "qkv: error: --lr must be > 0"},
                 Case{"demo xor --steps abc", "--steps"},
                 Case{"info --threads -2", "qkv: error: --threads must be >= 0"},
                 Case{"demo xor --bogus", "--bogus"}}) {
    CliRun r = run(c.args);
    EXPECT_NE(r.code, 0) << "qkv " << c.args << " should fail:\n" << r.out;
    EXPECT_NE(r.out.find(c.expect), std::string::npos)
        << "qkv " << c.args << ": expected '" << c.expect << "' in:\n" << r.out;
  }
}
