// End-to-end runs of `qkv tokenize` / `qkv decode` (and their bad-input paths).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "qkv/tokenizers/tokenizer.h"

namespace {

struct TokRun {
  int code;
  std::string out;  // stdout + stderr
};

// Runs `printf '%s' input | qkv args`.
TokRun qkv_with_input(const std::string& input, const std::string& args) {
  std::string path = std::filesystem::temp_directory_path() / ("qkv_tok_cli_in_" + std::to_string(::getpid()));
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(input.data(), 1, input.size(), f);
    std::fclose(f);
  }
  std::string cmd = std::string(QKV_CLI_PATH) + " " + args + " < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  size_t n;
  while (p && (n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = p ? pclose(p) : -1;
  std::filesystem::remove(path);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::string kData = std::string(QKV_SHARED_DATA) + "/tokenizers";

#define REQUIRE_TOKENIZER_DATA()                                                               \
  if (!std::filesystem::exists(kData + "/gpt2/vocab.json"))                                    \
  GTEST_SKIP() << "shared data not found: " << kData << " (tokenizer CLI tests need it)"

}  // namespace

TEST(TokCli, TokenizeGpt2Json) {
  REQUIRE_TOKENIZER_DATA();
  TokRun r = qkv_with_input("Hello world\n\n", "tokenize --tokenizer " + kData + "/gpt2");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out,
            "{\"ids\":[15496,995],\"tokens\":[\"Hello\",\"\xC4\xA0world\"],\"offsets\":[[0,5],[5,11]]}\n"
            "{\"ids\":[],\"tokens\":[],\"offsets\":[]}\n");
}

TEST(TokCli, TokenizeBertIdsWithSpecialTokensAndJsonl) {
  REQUIRE_TOKENIZER_DATA();
  TokRun r = qkv_with_input("Hello world\n", "tokenize --tokenizer " + kData + "/bert-base-uncased/vocab.txt --ids --add-special-tokens");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "101 7592 2088 102\n");
  TokRun j = qkv_with_input("{\"text\": \"Hi [MASK]!\"}\n", "tokenize --tokenizer " + kData + "/bert-base-uncased --jsonl --ids");
  EXPECT_EQ(j.out, "7632 103 999\n");
  TokRun lit = qkv_with_input("<|endoftext|>\n", "tokenize --tokenizer " + kData + "/gpt2 --ids --no-parse-special");
  EXPECT_EQ(lit.out, "27 91 437 1659 5239 91 29\n");
}

TEST(TokCli, DecodeRoundTrip) {
  REQUIRE_TOKENIZER_DATA();
  TokRun r = qkv_with_input("15496 995\n[15496, 50256]\n", "decode --tokenizer " + kData + "/gpt2");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "Hello world\nHello\n");
  TokRun k = qkv_with_input("15496 50256\n", "decode --keep-special --tokenizer " + kData + "/gpt2");
  EXPECT_EQ(k.out, "Hello<|endoftext|>\n");
}

TEST(TokCli, BadInputsGiveClearErrors) {
  REQUIRE_TOKENIZER_DATA();
  TokRun bad_id = qkv_with_input("15496 999999\n", "decode --tokenizer " + kData + "/gpt2");
  EXPECT_EQ(bad_id.code, 1);
  EXPECT_NE(bad_id.out.find("qkv: error: stdin line 1: decode: id 999999"), std::string::npos) << bad_id.out;
  TokRun not_int = qkv_with_input("1 2\n3 x\n", "decode --tokenizer " + kData + "/gpt2");
  EXPECT_EQ(not_int.code, 1);
  EXPECT_NE(not_int.out.find("stdin line 2: 'x' is not an integer id"), std::string::npos) << not_int.out;
  TokRun bad_json = qkv_with_input("{\"text\": \"ok\"}\n{oops\n", "tokenize --jsonl --tokenizer " + kData + "/gpt2");
  EXPECT_EQ(bad_json.code, 1);
  EXPECT_NE(bad_json.out.find("stdin line 2: not valid JSON"), std::string::npos) << bad_json.out;
  TokRun missing = qkv_with_input("", "tokenize --tokenizer /nonexistent/tok");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.out.find("qkv: error: /nonexistent/tok: no such file"), std::string::npos) << missing.out;
}

TEST(TokCli, InvalidUtf8AndLongLine) {
  REQUIRE_TOKENIZER_DATA();
  TokRun r = qkv_with_input("a\xFF\xC3z\n", "tokenize --ids --tokenizer " + kData + "/gpt2");
  ASSERT_EQ(r.code, 0) << r.out;
  std::string ids = r.out.substr(0, r.out.size() - 1);
  TokRun back = qkv_with_input(ids + "\n", "decode --tokenizer " + kData + "/gpt2");
  EXPECT_EQ(back.out, "a\xFF\xC3z\n");  // exact bytes back
  std::string line;
  while (line.size() < (10u << 20)) line += "All the world's a stage, ";
  TokRun big = qkv_with_input(line + "\n", "tokenize --ids --tokenizer " + kData + "/bert-base-uncased");
  EXPECT_EQ(big.code, 0);
  EXPECT_GT(big.out.size(), 1000000u);
}

// A long line is encoded in pieces of 1 MiB (Tokenizer::encode_streamed, in
// bounded memory): the output is byte for byte the whole line's encoding.
TEST(TokCli, LongLineOfRealTextEqualsTheWholeLineEncoding) {
  REQUIRE_TOKENIZER_DATA();
  const std::string bible = std::string(QKV_SHARED_DATA) + "/bible-en-es/en.txt";
  if (!std::filesystem::exists(bible)) GTEST_SKIP() << "shared data not found: " << bible;
  std::ifstream f(bible);
  std::string line, text;
  while (text.size() < (size_t(5) << 18) && std::getline(f, line))  // 1.25 MiB: two pieces
    text += (text.empty() ? "" : " ") + line;
  for (const auto& [tok, special] : {std::pair{std::string("/gpt2"), false}, {"/bert-base-uncased", true}}) {
    const qkv::tokenizers::Tokenizer t = qkv::tokenizers::Tokenizer::from_path(kData + tok);
    const qkv::tokenizers::Encoding e = t.encode(text, {.add_special_tokens = special});
    nlohmann::ordered_json j;
    j["ids"] = e.ids;
    j["tokens"] = e.tokens;
    j["offsets"] = nlohmann::ordered_json::array();
    for (auto [a, b] : e.offsets) j["offsets"].push_back({a, b});
    const std::string want = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    TokRun r = qkv_with_input("Hello\n" + text + "\n",
                              "tokenize --tokenizer " + kData + tok + (special ? " --add-special-tokens" : ""));
    EXPECT_EQ(r.code, 0) << r.out.substr(0, 500);
    const size_t nl = r.out.find('\n');
    ASSERT_NE(nl, std::string::npos);
    EXPECT_EQ(r.out.size() - nl - 1, want.size()) << tok;
    EXPECT_TRUE(r.out.compare(nl + 1, std::string::npos, want) == 0) << tok;  // (not EXPECT_EQ: megabytes)
  }
}

// A stretch it cannot cut (no space between two ASCII letters or digits for
// 16 MiB) is refused with the limit named, and nothing of that line is written.
TEST(TokCli, UncuttableLongLineIsRefusedWithNothingWritten) {
  REQUIRE_TOKENIZER_DATA();
  TokRun r = qkv_with_input("Hello\n" + std::string((size_t(16) << 20) + 10, 'x') + "\n",
                            "tokenize --ids --tokenizer " + kData + "/gpt2");
  EXPECT_NE(r.code, 0);
  const size_t err = r.out.find("qkv: error: stdin line 2: ");
  ASSERT_NE(err, std::string::npos) << r.out.substr(0, 300);
  const size_t err_end = r.out.find('\n', err);
  EXPECT_NE(r.out.substr(err, err_end - err).find("at most 16777216 bytes are encoded at once"), std::string::npos)
      << r.out.substr(0, 300);
  // stdout (line 1's ids, nothing of line 2) and stderr, in either order
  EXPECT_EQ(r.out.substr(0, err) + r.out.substr(err_end + 1), "15496\n") << r.out.substr(0, 300);
}

namespace {

// A fresh temporary directory per test, removed afterwards.
struct TmpDir {
  std::string path;
  explicit TmpDir(const std::string& name)
      : path((std::filesystem::temp_directory_path() / ("qkv_tok_cli_" + name + "_" + std::to_string(::getpid())))
                 .string()) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TmpDir() { std::filesystem::remove_all(path); }
};

void write_file(const std::string& path, const std::string& text) {
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
}

std::string read_file(const std::string& path) {
  std::string s;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) s.append(buf.data(), n);
    std::fclose(f);
  }
  return s;
}

}  // namespace

// A character vocabulary refuses a character it lacks, in `tokenize` as in
// `generate`: an error naming the character, its character index and byte offset.
TEST(TokCli, CharTokenizerRefusesUnknownCharacters) {
  TmpDir d("char");
  write_file(d.path + "/corpus.txt", "abc de\n");
  TokRun t = qkv_with_input("", "train-tokenizer --type char --out " + d.path + "/tok " + d.path + "/corpus.txt");
  ASSERT_EQ(t.code, 0) << t.out;
  TokRun ok = qkv_with_input("bad cab\n", "tokenize --tokenizer " + d.path + "/tok --ids");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_EQ(ok.out.find("error"), std::string::npos) << ok.out;
  TokRun bad = qkv_with_input("bad\n\xC3\xA9" "cZ\n", "tokenize --tokenizer " + d.path + "/tok --ids");
  EXPECT_NE(bad.code, 0) << bad.out;
  // "é" is character 0 (bytes 0–1), "Z" character 2 at byte offset 3 of line 2.
  EXPECT_NE(bad.out.find("qkv: error: stdin line 2: "), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("'\xC3\xA9' (U+00E9) at character index 0 (byte offset 0)"), std::string::npos) << bad.out;
  TokRun z = qkv_with_input("abZ\n", "tokenize --tokenizer " + d.path + "/tok");
  EXPECT_NE(z.code, 0) << z.out;
  EXPECT_NE(z.out.find("'Z' (U+005A) at character index 2 (byte offset 2)"), std::string::npos) << z.out;
}

TEST(TokCli, TrainTokenizerRefusesToOverwriteUnlessAsked) {
  TmpDir d("overwrite");
  write_file(d.path + "/a.txt", "hello world hello there\n");
  write_file(d.path + "/b.txt", "xyz\n");
  const std::string out = d.path + "/tok";
  TokRun first = qkv_with_input("", "train-tokenizer --type char --out " + out + " " + d.path + "/a.txt");
  ASSERT_EQ(first.code, 0) << first.out;
  const std::string before = read_file(out + "/tokenizer.json");
  TokRun again = qkv_with_input("", "train-tokenizer --type char --out " + out + " " + d.path + "/b.txt");
  EXPECT_NE(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("qkv: error: " + out + " already holds a tokenizer (tokenizer.json); pass --overwrite"),
            std::string::npos)
      << again.out;
  EXPECT_EQ(read_file(out + "/tokenizer.json"), before) << "the refused run changed the existing file";
  TokRun forced = qkv_with_input("", "train-tokenizer --type char --overwrite --out " + out + " " + d.path + "/b.txt");
  EXPECT_EQ(forced.code, 0) << forced.out;
  EXPECT_NE(read_file(out + "/tokenizer.json"), before);
  // An empty existing directory is fine: nothing to lose.
  std::filesystem::create_directories(d.path + "/empty");
  EXPECT_EQ(qkv_with_input("", "train-tokenizer --type char --out " + d.path + "/empty " + d.path + "/a.txt").code, 0);
}
