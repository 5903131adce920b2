// qkv/tokenizers/bpe.h — byte-pair encoding (Sennrich et al. 2016; GPT-2's byte-level form).
//
// A word starts as single symbols (characters, or bytes on the byte-level path),
// then the adjacent pair with the lowest merge rank is merged, leftmost first on
// ties, until no pair of the word is in the merge table. Words of up to 64
// symbols use a simple scan; longer ones a heap (O(n log n), so a 10 MB word is
// fine). Results are cached per thread (words repeat a lot in text).
//
//   BpeModel bpe(vocab, merges, {});
//   std::vector<Piece> out;
//   bpe.tokenize_bytes("hello", out);   // GPT-2: initial symbols are the 256 byte tokens
#pragma once
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "qkv/tokenizers/model.h"

namespace qkv::tokenizers {

struct BpeOptions {
  std::optional<std::string> unk_token;   // unknown characters → this token (else dropped, as HF)
  std::string continuing_subword_prefix;  // e.g. "##" on every non-initial symbol
  std::string end_of_word_suffix;         // e.g. "</w>" on the last symbol
  bool fuse_unk = false;                  // consecutive unknowns become one unk
  bool byte_fallback = false;             // unknown characters → <0xAB> byte tokens
  bool ignore_merges = false;             // a word that is itself in the vocab is one token
};

using Merge = std::pair<std::string, std::string>;

class BpeModel : public Model {
 public:
  // Throws ValueError naming the merge (its 1-based index, as a merges.txt line
  // after the header) when a side or the merged token is not in the vocab.
  BpeModel(Vocab vocab, std::vector<Merge> merges, BpeOptions options, std::string_view source = "merges");
  ModelKind kind() const override { return ModelKind::BPE; }
  // Initial symbols are the characters of word (UTF-8).
  void tokenize(std::string_view word, std::vector<Piece>& out) const override;
  // Byte-level path: initial symbols are the byte-level tokens of each raw byte
  // (Ġ for ' '); spans are in raw bytes. Requires has_byte_alphabet().
  void tokenize_bytes(std::string_view bytes, std::vector<Piece>& out) const;
  bool has_byte_alphabet() const { return byte_alphabet_; }

  const std::vector<Merge>& merges() const { return merges_; }
  const BpeOptions& options() const { return options_; }

 private:
  struct Symbol {
    int32_t id;
    uint32_t start, end;
  };
  struct MergeTarget {
    int32_t rank;
    int32_t id;
  };
  const MergeTarget* find_merge(int32_t a, int32_t b) const;
  void merge_symbols(std::vector<Symbol>& syms) const;
  void merge_with_heap(std::vector<Symbol>& syms) const;

  std::vector<Merge> merges_;
  BpeOptions options_;
  // Open-addressing table (a, b) → (rank, id); power-of-two size, key ~0 = empty.
  std::vector<std::pair<uint64_t, MergeTarget>> table_;
  uint64_t table_mask_ = 0;
  std::array<int32_t, 256> byte_ids_{};
  bool byte_alphabet_ = false;
  uint64_t uid_;  // keys the per-thread caches
};

}  // namespace qkv::tokenizers
