// `qkv --help` and every command's --help: the registry lists every command
// file's registrations, and every option that takes a value shows its default.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/shell.h"

namespace fs = std::filesystem;

namespace {

struct Registered {
  std::string parent, name, file;
};

// Every QKV_REGISTER_COMMAND / QKV_REGISTER_SUBCOMMAND in tools/qkv/cmd_*.cpp.
std::vector<Registered> registrations() {
  static const std::regex kCmd(R"re(QKV_REGISTER_COMMAND\(\s*"([^"]+)")re");
  static const std::regex kSub(R"re(QKV_REGISTER_SUBCOMMAND\(\s*"([^"]+)"\s*,\s*"([^"]+)")re");
  std::vector<Registered> out;
  for (const auto& e : fs::directory_iterator(fs::path(QKV_SOURCE_DIR) / "tools/qkv")) {
    const std::string file = e.path().filename().string();
    if (file.rfind("cmd_", 0) != 0 || e.path().extension() != ".cpp") continue;
    std::ifstream f(e.path());
    std::string line;
    while (std::getline(f, line)) {
      std::smatch m;
      if (line.find("#define") != std::string::npos) continue;
      if (std::regex_search(line, m, kSub)) out.push_back({m[1], m[2], file});
      else if (std::regex_search(line, m, kCmd)) out.push_back({"", m[1], file});
    }
  }
  return out;
}

// The names listed under "Subcommands:" in a --help text.
std::vector<std::string> listed_subcommands(const std::string& help) {
  std::vector<std::string> names;
  std::istringstream in(help);
  std::string line;
  bool in_section = false;
  while (std::getline(in, line)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_section = true;
      continue;
    }
    if (!in_section) continue;
    if (line.empty() || line[0] != ' ') break;
    std::istringstream words(line);
    std::string w;
    words >> w;
    names.push_back(w);
  }
  return names;
}

}  // namespace

TEST(CliHelp, ListsEveryRegisteredCommand) {
  const std::vector<Registered> regs = registrations();
  ASSERT_GE(regs.size(), 8u) << "found too few QKV_REGISTER_COMMAND lines under tools/qkv";
  for (const Registered& r : regs) {
    const std::string where = r.parent.empty() ? "" : r.parent + " ";
    qkv::testing::ShellRun h = qkv::testing::qkv_cli(where + "--help");
    ASSERT_EQ(h.code, 0) << h.out;
    std::vector<std::string> listed = listed_subcommands(h.out);
    EXPECT_NE(std::find(listed.begin(), listed.end(), r.name), listed.end())
        << "`qkv " << where << "--help` does not list '" << r.name << "' (registered in " << r.file << "):\n"
        << h.out;
  }
  // The order is the registry's, not the link order: info first, generate after train.
  std::vector<std::string> top = listed_subcommands(qkv::testing::qkv_cli("--help").out);
  ASSERT_FALSE(top.empty());
  EXPECT_EQ(top.front(), "info");
  auto pos = [&](const char* n) { return std::find(top.begin(), top.end(), n) - top.begin(); };
  EXPECT_LT(pos("train"), pos("generate"));
}

TEST(CliHelp, EveryOptionWithAValueShowsItsDefault) {
  // An option line reads `  --len INT=100  help` (CLI11 2.x; older: `INT [100]`) or
  // `  -o,--out TEXT REQUIRED  help`; a flag has no TYPE.
  static const std::regex kOption(
      R"(^\s+(-[^ ]+) ([A-Z]+)(:\{[^}]*\})?(=\S+| \[[^\]]*\])?( \.\.\.)?( REQUIRED)?)");
  int checked = 0;
  for (const Registered& r : registrations()) {
    const std::string cmd = (r.parent.empty() ? "" : r.parent + " ") + r.name;
    qkv::testing::ShellRun h = qkv::testing::qkv_cli(cmd + " --help");
    ASSERT_EQ(h.code, 0) << "qkv " << cmd << " --help:\n" << h.out;
    std::istringstream in(h.out);
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (!std::regex_search(line, m, kOption)) continue;
      ++checked;
      EXPECT_TRUE(m[4].matched || m[6].matched)
          << "qkv " << cmd << ": option " << m[1] << " shows no default in --help:\n  " << line;
    }
  }
  EXPECT_GT(checked, 40);
}
