// SentencePiece tokenizer.model files (qkv/tokenizers/sentencepiece.h) against
// the reference tools: ids of tests/fixtures/sentencepiece/inputs.txt as
// Debian's spm_encode printed them, text as spm_decode printed it
// (make_fixture.sh): a Llama-style BPE with byte fallback and a T5-style
// unigram with NFKC normalization and <unk>.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "qkv/core/error.h"
#include "qkv/tokenizers/sentencepiece.h"
#include "qkv/tokenizers/tokenizer.h"
#include "tok_test_util.h"

using namespace qkv::tokenizers;

namespace {

const std::string kDir = std::string(QKV_TEST_FIXTURES) + "/sentencepiece";

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<std::vector<int64_t>> id_lines(const std::string& path) {
  std::vector<std::vector<int64_t>> out;
  for (const std::string& l : lines(path)) {
    std::istringstream s(l);
    std::vector<int64_t> ids;
    for (int64_t id; s >> id;) ids.push_back(id);
    out.push_back(ids);
  }
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct TempDir {
  std::string path = qkv_test::temp_dir("spm");
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path + "/" + name, std::ios::binary) << content;
    return path + "/" + name;
  }
};

}  // namespace

// Every input line: ids equal spm_encode's (the text as text: <s> in it is
// not the special token, as spm_encode sees it), and decoding gives
// spm_decode's line back.
TEST(SentencePiece, IdsAndTextEqualSpmEncodeAndDecode) {
  const std::vector<std::string> in = lines(kDir + "/inputs.txt");
  ASSERT_GE(in.size(), 20u);
  for (const std::string model : {"bpe", "unigram"}) {
    const Tokenizer t = Tokenizer::from_path(kDir + "/" + model + ".model");
    const auto want = id_lines(kDir + "/" + model + ".ids");
    const auto text = lines(kDir + "/" + model + ".decoded");
    ASSERT_EQ(want.size(), in.size()) << model;
    ASSERT_EQ(text.size(), in.size()) << model;
    const int64_t unk = static_cast<const SentencePieceModel&>(*t.model).unk_id();
    int with_unk = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      EXPECT_EQ(t.encode_ids(in[i], {.parse_special = false}), want[i]) << model << " line " << i + 1 << ": " << in[i];
      if (std::find(want[i].begin(), want[i].end(), unk) == want[i].end()) {
        EXPECT_EQ(t.decode(want[i]), text[i]) << model << " line " << i + 1;
      } else {  // <unk> is a special token (Hugging Face's rule): dropped, or kept as its text
        ++with_unk;
        EXPECT_EQ(t.decode(want[i], false).find(" ⁇ "), std::string::npos);
        EXPECT_NE(t.decode(want[i], false).find("<unk>"), std::string::npos) << model << " line " << i + 1;
      }
    }
    if (std::string(model) == "bpe") EXPECT_EQ(with_unk, 0);  // byte fallback: nothing is unknown
    else EXPECT_GT(with_unk, 3);
  }
}

TEST(SentencePiece, ByteFallbackPiecesRoundTripTheExactBytes) {
  const Tokenizer t = Tokenizer::from_path(kDir + "/bpe.model");
  const std::string s = "😀 日本 ñ";
  const Encoding e = t.encode(s);
  int bytes = 0;
  for (const std::string& tok : e.tokens) bytes += tok.size() == 6 && tok.starts_with("<0x") ? 1 : 0;
  EXPECT_GE(bytes, 4);  // the emoji is not a piece: four <0xNN> bytes
  EXPECT_EQ(t.decode(e.ids), s);
}

// Offsets are byte spans of the input; a piece that is only the "▁" dummy
// prefix is kept (empty span) — dropping it changed the ids.
TEST(SentencePiece, TokensAndOffsetsFollowTheInput) {
  const Tokenizer t = Tokenizer::from_path(kDir + "/bpe.model");
  const std::string s = "First Citizen: 1234 ok";
  const Encoding e = t.encode(s);
  ASSERT_EQ(e.tokens.size(), e.ids.size());
  ASSERT_EQ(e.offsets.size(), e.ids.size());
  uint32_t prev = 0;
  std::string covered;
  for (size_t i = 0; i < e.ids.size(); ++i) {
    EXPECT_EQ(e.tokens[i], *t.id_to_token(e.ids[i]));
    EXPECT_GE(e.offsets[i].first, prev);
    EXPECT_LE(e.offsets[i].first, e.offsets[i].second);
    EXPECT_LE(e.offsets[i].second, s.size());
    covered += s.substr(e.offsets[i].first, e.offsets[i].second - e.offsets[i].first);
    prev = e.offsets[i].second;
  }
  std::string no_spaces = s;
  std::erase(no_spaces, ' ');
  std::erase(covered, ' ');
  EXPECT_EQ(covered, no_spaces);
  // digits are rare in the training text, so no pieces: "▁" alone, then bytes
  const Encoding d = t.encode("1234");
  EXPECT_EQ(d.tokens, (std::vector<std::string>{"▁", "<0x31>", "<0x32>", "<0x33>", "<0x34>"}));
  EXPECT_EQ(d.offsets.front(), (std::pair<uint32_t, uint32_t>{0, 0}));
}

// As Hugging Face's Llama tokenizer: <s> first with add_special_tokens, the
// control symbols matched in text and skipped when decoding.
TEST(SentencePiece, SpecialTokensAsLlamaTokenizer) {
  const Tokenizer t = Tokenizer::from_path(kDir + "/bpe.model");
  const std::vector<int64_t> plain = t.encode_ids("Hello world");
  std::vector<int64_t> with_bos = {1};
  with_bos.insert(with_bos.end(), plain.begin(), plain.end());
  EXPECT_EQ(t.encode("Hello world", {.add_special_tokens = true}).ids, with_bos);
  EXPECT_EQ(t.token_to_id("</s>"), 2);
  EXPECT_EQ(t.token_to_id("<unk>"), 0);
  const std::vector<int64_t> ids = t.encode_ids("a</s>b");
  EXPECT_NE(std::find(ids.begin(), ids.end(), 2), ids.end());
  EXPECT_EQ(t.decode(ids), "a b");  // "▁a" "▁b": each text segment has its dummy prefix
  EXPECT_EQ(t.decode(ids, false), "a</s>b");
  EXPECT_EQ(t.vocab_size(), 1000);
}

TEST(SentencePiece, DirectoriesSavingAndTheJsonForm) {
  TempDir d;
  const std::string bytes = slurp(kDir + "/bpe.model");
  d.write("tokenizer.model", bytes);
  const Tokenizer a = Tokenizer::from_path(d.path);  // a directory with tokenizer.model only
  EXPECT_EQ(a.model->kind(), ModelKind::SentencePiece);
  EXPECT_EQ(tokenizer_file_in(d.path), d.path + "/tokenizer.model");
  // a model directory's "tokenizer.json" is its tokenizer.model when that is all it has
  const Tokenizer b = Tokenizer::from_path(d.path + "/tokenizer.json");
  EXPECT_EQ(b.encode_ids("To be, or not to be"), a.encode_ids("To be, or not to be"));
  // a tokenizer.json qkv does not read, beside tokenizer.model: the latter
  d.write("tokenizer.json", R"({"model": {"type": "Unigram", "vocab": []}})");
  EXPECT_EQ(Tokenizer::from_path(d.path).model->kind(), ModelKind::SentencePiece);
  TempDir out{qkv_test::temp_dir("spm_out")};
  a.save(out.path + "/tokenizer.json");  // writes tokenizer.model, unchanged
  EXPECT_FALSE(std::filesystem::exists(out.path + "/tokenizer.json"));
  EXPECT_EQ(slurp(out.path + "/tokenizer.model"), bytes);
  try {
    (void)a.to_json();
    ADD_FAILURE() << "expected a ValueError";
  } catch (const qkv::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.model"), std::string::npos) << e.what();
  }
}

TEST(SentencePiece, BadFilesAreClearErrors) {
  TempDir d;
  auto expect = [](const std::string& path, const std::string& part) {
    try {
      (void)Tokenizer::from_path(path);
      ADD_FAILURE() << "expected an error for " << path;
    } catch (const qkv::Error& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  };
  expect(d.write("garbage.model", "this is not a protobuf \x01\x02\x03"), "not a SentencePiece model");
  expect(d.write("empty.model", ""), "SentencePiece");
  std::string cut = slurp(kDir + "/bpe.model");
  cut.resize(cut.size() / 2);
  expect(d.write("cut.model", cut), "not a SentencePiece model");
  expect(d.path + "/missing.model", "no such file");
  TempDir empty{qkv_test::temp_dir("spm_empty")};
  try {
    (void)Tokenizer::from_path(empty.path);
    ADD_FAILURE();
  } catch (const qkv::IOError& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.model"), std::string::npos) << e.what();
  }
}

// Llama's tokenizer.json forms (spm_to_tokenizer_json.py: bpe.model written as
// transformers' LlamaConverter writes it) against Hugging Face `tokenizers`
// itself (hf_reference.mjs: npm @anush008/tokenizers): ids with the special
// tokens matched in the text, and decode(skip_special_tokens). The legacy
// form equals spm_encode wherever the text holds no special token; the
// Metaspace form ("first") differs from it on text that starts with spaces,
// as Hugging Face does.
TEST(SentencePiece, LlamaTokenizerJsonEqualsHuggingFace) {
  const std::vector<std::string> in = lines(kDir + "/inputs.txt");
  const auto spm = id_lines(kDir + "/bpe.ids");
  for (const std::string name : {"llama_legacy", "llama_metaspace"}) {
    const Tokenizer t = Tokenizer::from_path(kDir + "/" + name + ".json");
    const auto want = id_lines(kDir + "/" + name + ".hf.ids");
    const auto text = lines(kDir + "/" + name + ".hf.decoded");
    ASSERT_EQ(want.size(), in.size()) << name;
    ASSERT_EQ(text.size(), in.size()) << name;
    const Tokenizer again = Tokenizer::from_json(t.to_json(), name);  // saved and read back
    int same_as_spm = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      EXPECT_EQ(t.encode_ids(in[i]), want[i]) << name << " line " << i + 1 << ": " << in[i];
      EXPECT_EQ(t.decode(want[i]), text[i]) << name << " line " << i + 1;
      EXPECT_EQ(again.encode_ids(in[i]), want[i]) << name << " line " << i + 1;
      EXPECT_EQ(again.decode(want[i]), text[i]) << name << " line " << i + 1;
      same_as_spm += want[i] == spm[i];
    }
    EXPECT_GE(same_as_spm, int(in.size()) - (name == std::string("llama_legacy") ? 1 : 2)) << name;
  }
}

TEST(SentencePiece, ByteFallbackDecoderGivesReplacementCharactersForBrokenBytes) {
  const Tokenizer t = Tokenizer::from_path(kDir + "/llama_legacy.json");
  auto id = [&](const std::string& tok) { return *t.token_to_id(tok); };
  // "日" is E6 97 A5: the whole run decodes; two of its bytes alone are two U+FFFD
  EXPECT_EQ(t.decode({id("<0xE6>"), id("<0x97>"), id("<0xA5>")}), "日");
  EXPECT_EQ(t.decode({id("<0xE6>"), id("<0x97>")}), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(t.decode({id("▁the"), id("<0xE6>"), id("▁the")}), "the\xEF\xBF\xBD the");
}

TEST(SentencePiece, LlamaJsonBadFieldsNameTheKey) {
  auto expect = [](const std::string& json, std::initializer_list<std::string> parts) {
    try {
      (void)Tokenizer::from_json(json, "t.json");
      ADD_FAILURE() << "expected a ValueError for " << json;
    } catch (const qkv::ValueError& e) {
      for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
  };
  const std::string model = R"("model": {"type": "BPE", "vocab": {"a": 0}, "merges": []})";
  expect(R"({"decoder": {"type": "Strip", "content": " ", "start": -1, "stop": 0}, )" + model + "}",
         {"t.json", "decoder", "start and stop"});
  expect(R"({"decoder": {"type": "Replace", "pattern": {"Regex": "\\s"}, "content": " "}, )" + model + "}",
         {"decoder.pattern", "Regex"});
  expect(R"({"pre_tokenizer": {"type": "Metaspace", "replacement": "_", "prepend_scheme": "sometimes"}, )" + model +
             "}",
         {"pre_tokenizer.prepend_scheme", "sometimes"});
  expect(R"({"pre_tokenizer": {"type": "Metaspace", "replacement": ""}, )" + model + "}",
         {"pre_tokenizer.replacement"});
  // the older form: add_prefix_space instead of prepend_scheme
  const Tokenizer old = Tokenizer::from_json(
      R"({"pre_tokenizer": {"type": "Metaspace", "replacement": "_", "add_prefix_space": true},
          "model": {"type": "BPE", "vocab": {"_a": 0, "_b": 1, "_": 2, "a": 3, "b": 4}, "merges": ["_ a", "_ b"]}})",
      "t.json");
  EXPECT_EQ(old.encode_ids("a b"), (std::vector<int64_t>{0, 1}));  // split at each "_": "_a" "_b"
}
