// io/file.h and io/json.h: atomic writes, whole-file reads, JSON configs.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>

#include "io/io_test_util.h"
#include "qkv/core/error.h"
#include "qkv/io/io.h"

using qkv::testing::ScratchDir;

using qkv::testing::expect_error;

TEST(IoFile, AtomicWriteRoundTripsAndOverwrites) {
  ScratchDir d;
  std::string p = d.file("a.bin");
  std::string bytes("x\0y\xff", 4);
  qkv::io::write_file_atomic(p, bytes);
  EXPECT_EQ(qkv::io::read_file(p), bytes);
  qkv::io::write_file_atomic(p, "second");
  EXPECT_EQ(qkv::io::read_file(p), "second");
  qkv::io::write_file_atomic(p, "");
  EXPECT_EQ(qkv::io::read_file(p), "");
  qkv::io::write_file_atomic(p, {std::string_view("ab"), std::string_view(""), std::string_view("cd")});
  EXPECT_EQ(qkv::io::read_file(p), "abcd");
  EXPECT_EQ(d.entries(), std::vector<std::string>{"a.bin"});  // no temp files left
}

TEST(IoFile, ReadMissingNamesPathAndReason) {
  ScratchDir d;
  expect_error<qkv::IOError>([&] { qkv::io::read_file(d.file("nope.txt")); },
                             {"cannot open", "nope.txt", "No such file"});
  expect_error<qkv::IOError>([&] { qkv::io::read_file(d.path); }, {"cannot open", "directory"});
}

TEST(IoFile, UnwritablePathThrowsAndLeavesNothing) {
  ScratchDir d;
  expect_error<qkv::IOError>([&] { qkv::io::write_file_atomic(d.file("missing_dir/x.bin"), "data"); },
                             {"cannot write", "missing_dir/x.bin"});
  // The target is a directory: the temp file is written, the rename fails and
  // the temp file must be removed.
  std::filesystem::create_directory(d.file("sub"));
  expect_error<qkv::IOError>([&] { qkv::io::write_file_atomic(d.file("sub"), "data"); }, {"cannot write", "sub"});
  EXPECT_EQ(d.entries(), std::vector<std::string>{"sub"});
  EXPECT_TRUE(std::filesystem::is_empty(d.file("sub")));
  expect_error<qkv::IOError>([&] { qkv::io::write_file_atomic("", "data"); }, {"empty path"});
}

TEST(IoJson, ReadReportsFileAndPosition) {
  ScratchDir d;
  std::string p = d.file("config.json");
  qkv::testing::write_bytes(p, "{\n  \"n_layer\": 4,\n  \"n_head\": \n}\n");
  expect_error<qkv::IOError>([&] { qkv::io::read_json(p); }, {"config.json", "invalid JSON", "line 4"});
  expect_error<qkv::IOError>([&] { qkv::io::read_json(d.file("absent.json")); }, {"cannot open", "absent.json"});
  qkv::testing::write_bytes(p, "");
  expect_error<qkv::IOError>([&] { qkv::io::read_json(p); }, {"config.json", "invalid JSON"});
}

TEST(IoJson, WriteIsPrettyWithTrailingNewlineAndRoundTrips) {
  ScratchDir d;
  std::string p = d.file("config.json");
  nlohmann::json j = {{"n_layer", 4}, {"name", "gpt"}, {"dropout", 0.5}};
  qkv::io::write_json_atomic(p, j);
  EXPECT_EQ(qkv::io::read_file(p), "{\n  \"dropout\": 0.5,\n  \"n_layer\": 4,\n  \"name\": \"gpt\"\n}\n");
  EXPECT_EQ(qkv::io::read_json(p), j);
  // Invalid UTF-8 cannot be serialised: ValueError, and no file is written.
  expect_error<qkv::ValueError>([&] { qkv::io::write_json_atomic(d.file("bad.json"), nlohmann::json("\xff")); },
                                {"bad.json"});
  EXPECT_EQ(d.entries(), std::vector<std::string>{"config.json"});
  expect_error<qkv::IOError>([&] { qkv::io::write_json_atomic(d.file("no/such/dir.json"), j); }, {"cannot write"});
}
