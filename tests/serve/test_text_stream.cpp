// Streaming detokenization: characters split across tokens are held back
// until whole, stop sequences cut the text (even across tokens), and the
// OpenAI request parser's checks.
#include <gtest/gtest.h>

#include "qkv/serve/openai.h"
#include "qkv/serve/text_stream.h"

using namespace qkv;
using serve::TextStream;
using nlohmann::json;

namespace {
// Each id decodes to a fixed byte string (as byte-level BPE pieces do).
tokenizers::TextCodec pieces(std::vector<std::string> table) {
  tokenizers::TextCodec c;
  c.kind = "test";
  c.vocab_size = static_cast<int64_t>(table.size());
  c.decode = [table](const std::vector<int64_t>& ids) {
    std::string s;
    for (int64_t i : ids) s += table[static_cast<size_t>(i)];
    return s;
  };
  return c;
}
}  // namespace

TEST(TextStream, HoldsBackASplitCharacterUntilItIsWhole) {
  // 東 is E6 9D B1: split over two tokens.
  const auto codec = pieces({"a", "\xE6", "\x9D\xB1", "b"});
  TextStream t(codec, {});
  EXPECT_EQ(t.push(0), "a");
  EXPECT_EQ(t.push(1), "");
  EXPECT_EQ(t.push(2), "\xE6\x9D\xB1");
  EXPECT_EQ(t.push(3), "b");
  EXPECT_EQ(t.sent(), 5u);
  TextStream cut(codec, {});
  EXPECT_EQ(cut.push(1), "");
  EXPECT_EQ(cut.flush(), "\xE6") << "at the end everything goes out";
}

TEST(TextStream, StopSequencesCutTheTextEvenAcrossTokens) {
  const auto codec = pieces({"hello ", "wor", "ld", "!", " end"});
  TextStream t(codec, {"world", "xyz"});
  EXPECT_EQ(t.push(0), "hello ");
  EXPECT_EQ(t.push(1), "") << "'wor' may begin 'world'";
  EXPECT_FALSE(t.stopped());
  EXPECT_EQ(t.push(2), "");
  EXPECT_TRUE(t.stopped());
  EXPECT_EQ(t.push(3), "");
  EXPECT_EQ(t.flush(), "");
  TextStream u(codec, {"world"});
  u.push(0);
  EXPECT_EQ(u.push(3), "!");  // held back nothing: "!" begins no stop
  EXPECT_EQ(u.push(1), "");
  EXPECT_EQ(u.push(4), "wor end") << "'wor end' is not 'world': released";
  EXPECT_EQ(serve::incomplete_utf8_tail("ab\xF0\x9F"), 2u);
  EXPECT_EQ(serve::incomplete_utf8_tail("ab\xF0\x9F\x98\x80"), 0u);
  EXPECT_EQ(serve::incomplete_utf8_tail("x\xEF\xBF\xBD"), 3u);
}

TEST(OpenAIRequest, FieldsAndTheirErrors) {
  const serve::Limits lim;
  auto r = serve::parse_completion_request(
      json{{"prompt", {"a", "b"}}, {"max_tokens", 5}, {"stop", "\n"}, {"seed", 7}, {"logprobs", 2}, {"n", 2}}, lim);
  EXPECT_EQ(r.prompts.size(), 2u);
  EXPECT_EQ(r.stop, std::vector<std::string>{"\n"});
  EXPECT_EQ(*r.seed, 7u);
  EXPECT_EQ(*r.logprobs, 2);
  r = serve::parse_completion_request(json{{"prompt", {{1, 2}, {3}}}}, lim);
  ASSERT_EQ(r.prompts.size(), 2u);
  EXPECT_EQ(std::get<std::vector<int64_t>>(r.prompts[1]), std::vector<int64_t>{3});
  EXPECT_EQ(r.max_tokens, 16) << "OpenAI's default";
  auto fails = [&](const json& body, const std::string& param) {
    try {
      serve::parse_completion_request(body, lim);
      ADD_FAILURE() << "accepted " << body.dump();
    } catch (const serve::ApiError& e) {
      EXPECT_EQ(e.status, 400);
      EXPECT_EQ(e.param.value_or(""), param) << e.what();
      EXPECT_EQ(e.body()["error"]["param"], param);
    }
  };
  fails({{"prompt", "a"}, {"top_p", 0}}, "top_p");
  fails({{"prompt", "a"}, {"max_tokens", 0}}, "max_tokens");
  fails({{"prompt", "a"}, {"max_tokens", 1e30}}, "max_tokens");
  fails({{"prompt", "a"}, {"stop", {"a", "b", "c", "d", "e"}}}, "stop");
  fails({{"prompt", "a"}, {"stop", {1}}}, "stop");
  fails({{"prompt", ""}}, "prompt");
  fails({{"prompt", json::array()}}, "prompt");
  fails({{"prompt", {"a", 1}}}, "prompt");
  fails({{"prompt", "a"}, {"echo", true}, {"logprobs", 1}}, "logprobs");
  fails({{"prompt", "a"}, {"stream_options", {{"include_usage", true}}}}, "stream_options");
  fails({{"prompt", "a"}, {"presence_penalty", 0.5}}, "presence_penalty");
  fails({{"prompt", "a"}, {"n", 4}, {"best_of", 5}}, "best_of");
  EXPECT_NO_THROW(serve::parse_completion_request(json{{"prompt", "a"}, {"presence_penalty", 0}, {"user", "u"}}, lim));
  EXPECT_THROW(serve::parse_body("[1, 2]"), serve::ApiError);
  EXPECT_THROW(serve::parse_body(std::string(100000, '[')), serve::ApiError);
  try {
    serve::parse_body("{\"a\": tru}");
  } catch (const serve::ApiError& e) {
    EXPECT_NE(std::string(e.what()).find("could not parse the JSON body"), std::string::npos);
  }
}
