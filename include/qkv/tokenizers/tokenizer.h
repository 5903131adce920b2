// qkv/tokenizers/tokenizer.h — the whole pipeline, as Hugging Face users know it:
//
//   added tokens (never split) → normalizer → pre-tokenizer → model → post-processor
//   and back: ids → tokens → decoder → text.
//
//   auto gpt2 = Tokenizer::from_path("../shared/data/tokenizers/gpt2");   // vocab.json + merges.txt
//   Encoding e = gpt2.encode("Hello world");       // ids {15496, 995}, tokens {"Hello", "Ġworld"}
//   std::string back = gpt2.decode(e.ids);         // "Hello world", exact bytes
//   auto bert = Tokenizer::from_path("…/bert-base-uncased/vocab.txt");
//   bert.encode("Hi!", {.add_special_tokens = true}).ids;   // {101, 7632, 999, 102}
//
// Files: tokenizer.json (Hugging Face format, load + save), GPT-2 vocab.json +
// merges.txt, BERT vocab.txt; see tokenizer_files.h. Encoding is thread-safe
// (const); encode_batch runs on the library's OpenMP threads.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qkv/tokenizers/decoders.h"
#include "qkv/tokenizers/encoding.h"
#include "qkv/tokenizers/model.h"
#include "qkv/tokenizers/normalizers.h"
#include "qkv/tokenizers/post_processors.h"
#include "qkv/tokenizers/pre_tokenizers.h"

namespace qkv::tokenizers {

// A token matched in the raw text before anything else (never split).
struct AddedToken {
  int64_t id;
  std::string content;
  bool special = true;  // special tokens are skipped by decode(skip_special_tokens)
  // Kept for tokenizer.json round trips; qkv matches every added token on the
  // raw text, exactly (no lstrip/rstrip/single_word handling).
  bool single_word = false, lstrip = false, rstrip = false, normalized = false;
};

struct EncodeOptions {
  bool add_special_tokens = false;  // apply the post-processor template ([CLS] … [SEP])
  bool parse_special = true;        // match added tokens in the text (tiktoken's default is false)
};

// Truncation of one text or a pair to max_length tokens, special tokens
// included (Hugging Face's truncation strategies). For a pair, LongestFirst
// follows the Rust tokenizers' rule (truncate_encodings): with budget = what
// max_length leaves after the special tokens and n1 ≤ n2 the two lengths,
// the longer is cut to max(n1, budget − n1); if that is not enough both get
// budget/2, the longer one (the second on a tie) also the odd token. E.g.
// (8, 4) tokens in a budget of 7 → (4, 3); (4, 4) → (3, 4). OnlyFirst /
// OnlySecond cut one text and throw when the other alone does not fit.
struct TruncationOptions {
  enum class Strategy { LongestFirst, OnlyFirst, OnlySecond };
  size_t max_length = 0;  // 0 = no truncation
  Strategy strategy = Strategy::LongestFirst;
};

struct PaddingOptions {
  enum class Length { None, Longest, Fixed };
  Length length = Length::None;
  size_t max_length = 0;  // for Fixed
  bool left = false;
  int64_t pad_id = 0;
  std::string pad_token = "[PAD]";
  int64_t pad_type_id = 0;
};

class Tokenizer {
 public:
  std::optional<Normalizer> normalizer;
  std::optional<PreTokenizer> pre_tokenizer;
  std::shared_ptr<const Model> model;
  std::optional<PostProcessor> post_processor;
  std::optional<Decoder> decoder;
  std::vector<AddedToken> added_tokens;

  Encoding encode(std::string_view text, EncodeOptions options = {}) const;
  Encoding encode_pair(std::string_view a, std::string_view b, EncodeOptions options = {}) const;
  // Ids only (no token strings): the fast path for corpora.
  std::vector<int64_t> encode_ids(std::string_view text, EncodeOptions options = {}) const;
  // Encodes texts in parallel, then truncates and pads each.
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts, EncodeOptions options = {},
                                     TruncationOptions truncation = {}, PaddingOptions padding = {}) const;
  std::vector<Encoding> encode_batch_pairs(const std::vector<std::pair<std::string, std::string>>& pairs,
                                           EncodeOptions options = {}, TruncationOptions truncation = {},
                                           PaddingOptions padding = {}) const;

  // encode(text, options) in pieces, for texts of any length (`qkv tokenize`
  // on a 100 MB line) in memory that follows the piece, not the text
  // (encode_streamed.cpp): fn gets consecutive Encodings whose concatenated
  // ids, tokens and offsets (into text) are exactly encode(text, options)'s.
  // A piece ends near chunk_bytes, at a space between two ASCII letters or
  // digits, where every normalizer and pre-tokenizer that streamable()
  // accepts splits anyway. A stretch longer than max_piece_bytes without such
  // a space (or any text over it when !streamable()) is refused with a
  // ValueError naming the limit, before anything of it is encoded.
  struct StreamOptions {
    EncodeOptions encode;
    size_t chunk_bytes = size_t(1) << 20;
    size_t max_piece_bytes = size_t(16) << 20;
  };
  void encode_streamed(std::string_view text, const StreamOptions& options,
                       const std::function<void(const Encoding&)>& fn) const;
  // Whether encode_streamed may cut: per-character normalizers only (Bert,
  // NF*, Lowercase, StripAccents) and a pre-tokenizer that splits at spaces.
  bool streamable() const;

  // ids → text. Throws ValueError naming the first id that is not in the vocabulary.
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = true) const;

  std::optional<int64_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(int64_t id) const;
  // One past the largest id, added tokens included (the embedding size a model needs).
  int64_t vocab_size() const;

  // Registers an added token (special or not); its id is the token's vocab id if
  // the model has one, otherwise the next free id.
  int64_t add_token(const std::string& content, bool special = true);

  // Files (implemented in tokenizer_files.cpp). path: a directory (its
  // tokenizer.json, else tokenizer.model, else vocab.json + merges.txt, else
  // vocab.txt), or one of those files. DIR/tokenizer.json with a
  // DIR/tokenizer.model beside it reads the latter when the former is
  // missing or is not a tokenizer.json qkv reads (a Hub Llama ships both).
  static Tokenizer from_path(const std::string& path);
  static Tokenizer from_json(std::string_view json, const std::string& source = "tokenizer.json");
  static Tokenizer gpt2(const std::string& vocab_json, const std::string& merges_txt);
  static Tokenizer bert(const std::string& vocab_txt, bool lowercase = true);
  std::string to_json() const;  // ValueError for a SentencePiece model (no tokenizer.json form)
  // Atomic (temp file + rename). A SentencePiece tokenizer writes its
  // tokenizer.model bytes next to path instead (path's directory).
  void save(const std::string& path) const;

 private:
  struct Segment {
    uint32_t start, end;
    int64_t added_id;  // >= 0: an added token
  };
  void split_added(std::string_view text, bool parse_special, std::vector<Segment>& out) const;
  void encode_text(std::string_view text, uint32_t base, bool want_tokens, Encoding& out) const;
  Encoding encode_single(std::string_view text, bool parse_special, bool want_tokens) const;
};

// DIR/tokenizer.json if it exists, else DIR/tokenizer.model if it exists, else "".
std::string tokenizer_file_in(const std::string& dir);

// Applies truncation (to max_length incl. the special tokens a post-processor
// adds) to one or two model outputs, in place.
void truncate_pair(Encoding& a, Encoding* b, const TruncationOptions& t, size_t added_special);
void pad(Encoding& e, size_t length, const PaddingOptions& p);

}  // namespace qkv::tokenizers
