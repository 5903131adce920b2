// tokenizer_config.json (qkv/tokenizers/tokenizer_config.h): the fields as
// transformers writes them, their errors, and add_bos_token / add_eos_token
// applied by load_codec to a model directory's tokenizer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "qkv/core/error.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/tokenizers/tokenizer_config.h"
#include "tok_test_util.h"

using namespace qkv::tokenizers;

namespace {

struct Dir {
  std::string path;
  explicit Dir(const std::string& name) : path(qkv_test::temp_dir(name)) {}
  ~Dir() { std::filesystem::remove_all(path); }
  void write(const std::string& name, const std::string& content) const {
    std::ofstream(path + "/" + name, std::ios::binary) << content;
  }
  // A model directory's tokenizer: the Llama-style SentencePiece fixture.
  void spm() const {
    std::filesystem::copy_file(std::string(QKV_TEST_FIXTURES) + "/sentencepiece/bpe.model", path + "/tokenizer.model");
  }
};

// As TinyLlama's file: AddedToken objects, a float "no limit", a chat template.
const char* kLlamaConfig = R"({
  "add_bos_token": true, "add_eos_token": false,
  "added_tokens_decoder": {"0": {"content": "<unk>", "special": true}},
  "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false, "normalized": false},
  "chat_template": "{% for message in messages %}{{ message['content'] }}{% endfor %}",
  "clean_up_tokenization_spaces": false,
  "eos_token": "</s>", "legacy": false,
  "model_max_length": 1000000000000000019884624838656,
  "pad_token": null, "tokenizer_class": "LlamaTokenizer", "unk_token": "<unk>"})";

}  // namespace

TEST(TokenizerConfig, ReadsTheFieldsTransformersWrites) {
  Dir d("tokcfg_read");
  EXPECT_FALSE(read_tokenizer_config(d.path).has_value());
  d.write("tokenizer_config.json", kLlamaConfig);
  const TokenizerConfig c = *read_tokenizer_config(d.path);
  EXPECT_EQ(c.add_bos_token, true);
  EXPECT_EQ(c.add_eos_token, false);
  EXPECT_EQ(c.bos_token, "<s>");
  EXPECT_EQ(c.eos_token, "</s>");
  EXPECT_EQ(c.unk_token, "<unk>");
  EXPECT_FALSE(c.pad_token.has_value());
  EXPECT_EQ(c.tokenizer_class, "LlamaTokenizer");
  EXPECT_FALSE(c.model_max_length.has_value());  // 1e30: no limit
  d.write("tokenizer_config.json", R"({"model_max_length": 2048})");
  EXPECT_EQ(read_tokenizer_config(d.path)->model_max_length, 2048);
}

TEST(TokenizerConfig, WrongTypesNameTheFileAndField) {
  Dir d("tokcfg_bad");
  auto expect = [&](const std::string& json, std::initializer_list<std::string> parts) {
    d.write("tokenizer_config.json", json);
    try {
      (void)read_tokenizer_config(d.path);
      ADD_FAILURE() << "expected a ValueError for " << json;
    } catch (const qkv::ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("tokenizer_config.json"), std::string::npos) << e.what();
      for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
  };
  expect(R"({"add_bos_token": "yes"})", {"add_bos_token", "\"yes\""});
  expect(R"({"bos_token": 5})", {"bos_token", "content"});
  expect(R"({"model_max_length": "big"})", {"model_max_length"});
  expect(R"({"tokenizer_class": ["x"]})", {"tokenizer_class"});
  expect(R"([1, 2])", {"expected a JSON object"});
  expect(R"({"add_bos_token": tru)", {"tokenizer_config.json"});
}

// load_codec on a directory puts <s> first (and </s> last) as transformers
// does, prints the text back without the added <s>, and copies the file
// along when it saves the tokenizer.
TEST(TokenizerConfig, BosAndEosAroundEveryEncodedText) {
  Dir d("tokcfg_codec");
  d.spm();
  const std::vector<int64_t> plain = {329, 429, 944, 880};  // spm_encode's "Hello world"
  EXPECT_EQ(load_codec(d.path).encode("Hello world"), plain);
  d.write("tokenizer_config.json", kLlamaConfig);
  const TextCodec c = load_codec(d.path + "/tokenizer.json");  // a model directory's name for its tokenizer
  std::vector<int64_t> want = {1};
  want.insert(want.end(), plain.begin(), plain.end());
  EXPECT_EQ(c.encode("Hello world"), want);
  EXPECT_EQ(c.decode(want), "Hello world");
  EXPECT_EQ(c.decode(plain), "Hello world");
  Dir out("tokcfg_out");
  c.save(out.path + "/tokenizer.json");
  EXPECT_TRUE(std::filesystem::exists(out.path + "/tokenizer.model"));
  EXPECT_EQ(read_tokenizer_config(out.path)->add_bos_token, true);
  EXPECT_EQ(load_codec(out.path).encode("Hello world"), want);

  d.write("tokenizer_config.json", R"({"add_bos_token": false, "add_eos_token": true, "eos_token": "</s>"})");
  std::vector<int64_t> with_eos = plain;
  with_eos.push_back(2);
  EXPECT_EQ(load_codec(d.path).encode("Hello world"), with_eos);

  d.write("tokenizer_config.json", R"({"add_bos_token": true, "bos_token": "<BOS>"})");
  try {
    (void)load_codec(d.path);
    ADD_FAILURE() << "expected a ValueError";
  } catch (const qkv::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("bos_token '<BOS>' is not in the tokenizer's vocabulary"), std::string::npos)
        << e.what();
  }
  d.write("tokenizer_config.json", R"({"add_bos_token": true})");
  EXPECT_THROW((void)load_codec(d.path), qkv::ValueError);
}
