// `qkv serve` as a process: it answers, SIGTERM drains it to exit 0, and
// bad starts (a missing directory, a taken port, bad flags) are clear errors.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "serve/serve_fixture.h"
#include "support/shell.h"

using namespace qkv;
using namespace qkv::testing;
using nlohmann::json;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Starts `qkv serve ARGS` in the background; its stderr goes to LOG and its
// exit status to RC once it ends. Returns the pid and the port it printed.
std::pair<int, int> start(const std::string& args, const std::string& log, const std::string& rc) {
  const std::string pidfile = log + ".pid";
  shell("( " + std::string(QKV_CLI_PATH) + " serve " + args + " 2> " + log + " & echo $! > " + pidfile +
        "; wait $!; echo $? > " + rc + " ) > /dev/null 2>&1 &");
  int pid = 0;
  for (int i = 0; i < 100 && pid == 0; ++i) {
    pid = std::atoi(read_file(pidfile).c_str());
    if (pid == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::filesystem::remove(pidfile);
  static const std::regex kPort(R"(on http://[^:]+:(\d+))");
  for (int i = 0; i < 300; ++i) {  // up to 30 s under a loaded machine
    std::smatch m;
    const std::string text = read_file(log);
    if (std::regex_search(text, m, kPort)) return {pid, std::stoi(m[1].str())};
    if (!read_file(rc).empty()) break;  // it ended
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return {pid, -1};
}

std::string wait_rc(const std::string& rc) {
  for (int i = 0; i < 300 && read_file(rc).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::string s = read_file(rc);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace

TEST(ServeCli, AnswersThenDrainsOnSigterm) {
  const std::string dir = write_tiny_gpt(temp_dir("cli"));
  const std::string log = dir + ".log", rc = dir + ".rc";
  auto [pid, port] = start(dir + " --port 0 --parallel 2", log, rc);
  ASSERT_GT(port, 0) << read_file(log);
  httplib::Client c("127.0.0.1", port);
  auto [status, body] = post(c, "/v1/completions", {{"prompt", "the"}, {"max_tokens", 5}, {"seed", 1}});
  EXPECT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["usage"]["completion_tokens"], 5);
  // Same prompt and seed through qkv generate: the same text.
  const ShellRun gen = qkv_cli("generate " + dir + " --prompt the --max-new-tokens 5 --seed 1 --temperature 1 --jsonl");
  ASSERT_EQ(gen.code, 0) << gen.out;
  EXPECT_EQ(json::parse(gen.out)["text"], body["choices"][0]["text"]);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  EXPECT_EQ(wait_rc(rc), "0") << read_file(log);
  EXPECT_NE(read_file(log).find("SIGTERM: finishing the requests in flight"), std::string::npos) << read_file(log);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(log);
  std::filesystem::remove(rc);
}

TEST(ServeCli, BadStartsAreClearErrors) {
  expect_failure(qkv_cli("serve /nonexistent/model"), "/nonexistent/model: no such directory");
  const std::string dir = write_tiny_gpt(temp_dir("cli_bad"));
  expect_failure(qkv_cli("serve " + dir + " --parallel 0"), "--parallel must be >= 1");
  expect_failure(qkv_cli("serve " + dir + " --ctx 100"), "--ctx must be in [1, 64]");
  expect_failure(qkv_cli("serve " + dir + " --weights fp8"), "--weights");
  expect_failure(qkv_cli("serve " + dir + " --port 70000"), "--port must be in [0, 65535]");
  RunningServer running(dir, {});
  expect_failure(qkv_cli("serve " + dir + " --port " + std::to_string(running.port())),
                 "cannot listen on 127.0.0.1:" + std::to_string(running.port()));
  std::filesystem::remove_all(dir);
}
