// `qkv tokenize` (text lines → ids/tokens/offsets as JSON lines) and
// `qkv decode` (id lines → text), over any tokenizer qkv can load.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "qkv/core/json_parse.h"
#include "qkv/io/json.h"
#include "qkv/core/error.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::cli {

std::string compact_json(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

namespace {

struct TokenizeArgs {
  std::string tokenizer;
  bool jsonl = false, add_special = false, ids_only = false, no_parse_special = false;
  std::string save;
};

// Text kept in memory up to 1 MiB, then in a temporary file: the tokens and
// offsets arrays of a long line wait here while its ids are written.
class SpillBuffer {
 public:
  SpillBuffer() = default;
  SpillBuffer(const SpillBuffer&) = delete;
  SpillBuffer& operator=(const SpillBuffer&) = delete;
  ~SpillBuffer() {
    if (file_) std::fclose(file_);
  }
  void append(std::string_view s) {
    buf_ += s;
    if (buf_.size() >= (size_t(1) << 20)) spill();
  }
  void write_to(std::FILE* out) {
    if (file_) {
      std::rewind(file_);
      char chunk[1 << 16];
      for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, file_)) > 0;) std::fwrite(chunk, 1, n, out);
      if (std::ferror(file_)) fail("read");
    }
    std::fwrite(buf_.data(), 1, buf_.size(), out);
  }

 private:
  [[noreturn]] static void fail(const char* what) {
    throw IOError(std::string("tokenize: cannot ") + what + " a temporary file (a long line's tokens): " + std::strerror(errno));
  }
  void spill() {
    if (!file_ && !(file_ = std::tmpfile())) fail("create");
    if (std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size()) fail("write");
    buf_.clear();
  }
  std::string buf_;
  std::FILE* file_ = nullptr;
};

// One line's output without holding its whole encoding: the text is encoded
// in pieces of about 1 MiB (Tokenizer::encode_streamed), ids written as they
// come; in JSON the tokens and offsets arrays follow from SpillBuffers. The
// bytes are those of encode(text)'s {ids, tokens, offsets} as compact JSON.
void write_streamed(const tokenizers::Tokenizer& tok, std::string_view text, const tokenizers::EncodeOptions& opts,
                    bool ids_only) {
  std::string out = ids_only ? "" : "{\"ids\":[";
  SpillBuffer tokens, offsets;
  bool first = true;
  tok.encode_streamed(text, {.encode = opts}, [&](const tokenizers::Encoding& e) {
    for (size_t i = 0; i < e.ids.size(); ++i) {
      const char* sep = first ? "" : ids_only ? " " : ",";
      out += sep;
      out += std::to_string(e.ids[i]);
      if (!ids_only) {
        tokens.append(sep);
        tokens.append(compact_json(e.tokens[i]));
        offsets.append(std::string(sep) + "[" + std::to_string(e.offsets[i].first) + "," +
                       std::to_string(e.offsets[i].second) + "]");
      }
      first = false;
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
  });
  std::fwrite(out.data(), 1, out.size(), stdout);  // an empty line: the prefix alone
  if (ids_only) {
    std::fputc('\n', stdout);
    return;
  }
  std::fputs("],\"tokens\":[", stdout);
  tokens.write_to(stdout);
  std::fputs("],\"offsets\":[", stdout);
  offsets.write_to(stdout);
  std::fputs("]}\n", stdout);
}

void run_tokenize(const TokenizeArgs& a) {
  tokenizers::Tokenizer tok = tokenizers::Tokenizer::from_path(a.tokenizer);
  if (!a.save.empty()) {
    tok.save(a.save);  // a SentencePiece tokenizer writes tokenizer.model beside a.save instead
    const bool spm = tok.model && tok.model->kind() == tokenizers::ModelKind::SentencePiece;
    const std::string written =
        spm ? (std::filesystem::path(a.save).parent_path() / "tokenizer.model").string() : a.save;
    std::fprintf(stderr, "wrote %s (vocab size %lld)\n", written.c_str(), (long long)tok.vocab_size());
    return;
  }
  // A character vocabulary refuses a character it lacks (as `generate` does)
  // instead of dropping it: checked with the strict CharTokenizer first.
  const std::optional<tokenizers::CharTokenizer> chars = tokenizers::load_char_tokenizer(a.tokenizer);
  tokenizers::EncodeOptions opts{.add_special_tokens = a.add_special, .parse_special = !a.no_parse_special};
  std::string line;
  size_t line_no = 0;
  std::ios::sync_with_stdio(false);
  while (std::getline(std::cin, line)) {
    ++line_no;
    std::string text;
    if (!a.jsonl) {
      text = std::move(line);
    } else {
      if (line.empty()) continue;
      nlohmann::json j;
      try {
        j = parse_json(line, "stdin line " + std::to_string(line_no));
      } catch (const nlohmann::json::parse_error& e) {
        throw ValueError("stdin line " + std::to_string(line_no) + ": not valid JSON (" + strip_json_prefix(e.what()) + ")");
      }
      if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
        throw ValueError("stdin line " + std::to_string(line_no) + ": expected an object with a string field \"text\"");
      text = j["text"].get<std::string>();
    }
    if (chars) {
      try {
        chars->encode(text);
      } catch (const ValueError& e) {
        throw ValueError("stdin line " + std::to_string(line_no) + ": " + e.what());
      }
    }
    try {
      write_streamed(tok, text, opts, a.ids_only);  // any length, in bounded memory
    } catch (const ValueError& e) {
      throw ValueError("stdin line " + std::to_string(line_no) + ": " + e.what());
    }
  }
}

// Ids separated by spaces and/or commas, optionally inside [ ].
std::vector<int64_t> parse_ids(const std::string& line, size_t line_no) {
  std::vector<int64_t> ids;
  size_t i = 0;
  while (i < line.size()) {
    char c = line[i];
    if (c == ' ' || c == ',' || c == '\t' || c == '[' || c == ']' || c == '\r') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != ',' && line[j] != '\t' && line[j] != ']' && line[j] != '\r') ++j;
    std::string word = line.substr(i, j - i);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || word.empty())
      throw ValueError("stdin line " + std::to_string(line_no) + ": '" + word + "' is not an integer id");
    ids.push_back(v);
    i = j;
  }
  return ids;
}

void add_tokenize_command(CLI::App& app) {
  static TokenizeArgs a;
  auto* cmd = app.add_subcommand("tokenize", "Tokenize stdin lines; one JSON object {ids, tokens, offsets} per line");
  cmd->add_option("--tokenizer", a.tokenizer,
                  "Directory or file: tokenizer.json, a SentencePiece tokenizer.model, vocab.json (+ merges.txt beside it) or "
                  "vocab.txt")
      ->required();
  cmd->add_flag("--jsonl", a.jsonl, "Read JSON objects {\"text\": ...} instead of plain lines");
  cmd->add_flag("--add-special-tokens", a.add_special, "Apply the post-processor template ([CLS] ... [SEP])");
  cmd->add_flag("--ids", a.ids_only, "Print space-separated ids only");
  cmd->add_flag("--no-parse-special", a.no_parse_special,
                "Treat special tokens written in the text (<|endoftext|>, [MASK]) as plain text");
  cmd->add_option("--save", a.save, "Write the loaded tokenizer as tokenizer.json to this path and exit")
      ->default_str("none");
  cmd->callback([] { run_tokenize(a); });
}

void add_decode_command(CLI::App& app) {
  static std::string dec_tok;
  static bool keep_special = false;
  auto* dec = app.add_subcommand("decode", "Decode stdin lines of ids (space/comma separated) to text");
  dec->add_option("--tokenizer", dec_tok, "Directory or file, as for tokenize")->required();
  dec->add_flag("--keep-special", keep_special, "Keep special tokens ([CLS], <|endoftext|>) in the text");
  dec->callback([] {
    tokenizers::Tokenizer tok = tokenizers::Tokenizer::from_path(dec_tok);
    std::string line;
    size_t line_no = 0;
    while (std::getline(std::cin, line)) {
      ++line_no;
      std::vector<int64_t> ids = parse_ids(line, line_no);
      std::string text;
      try {
        text = tok.decode(ids, !keep_special);
      } catch (const ValueError& e) {
        throw ValueError("stdin line " + std::to_string(line_no) + ": " + e.what());
      }
      text += '\n';
      std::fwrite(text.data(), 1, text.size(), stdout);
    }
  });
}

}  // namespace

QKV_REGISTER_COMMAND("tokenize", 30, add_tokenize_command);
QKV_REGISTER_COMMAND("decode", 31, add_decode_command);

}  // namespace qkv::cli
