// qkv/tokenizers/post_processors.h — the stage after the model: add special
// tokens around the sequence(s) and set type ids.
//
// Every kind is held as a template (Hugging Face's TemplateProcessing): BERT is
// single "[CLS] $A [SEP]", pair "[CLS] $A [SEP] $B:1 [SEP]:1"; RoBERTa
// "<s> $A </s>" / "<s> $A </s> </s> $B </s>". ByteLevel adds nothing (it may trim
// the spaces from offsets). `kind` remembers the tokenizer.json type for saving.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "qkv/tokenizers/encoding.h"

namespace qkv::tokenizers {

struct TemplatePiece {
  bool is_sequence;   // true: $A / $B; false: a special token
  std::string name;   // "A" / "B" or the special token's name
  int64_t type_id = 0;
};

struct SpecialTokenIds {
  std::vector<int64_t> ids;
  std::vector<std::string> tokens;
};

struct PostProcessor {
  enum class Kind { Template, Bert, Roberta, ByteLevel };
  Kind kind = Kind::Template;
  std::vector<TemplatePiece> single, pair;
  std::map<std::string, SpecialTokenIds> special_tokens;
  bool trim_offsets = false;  // ByteLevel / Roberta: offsets exclude surrounding spaces
  bool add_prefix_space = true;

  static PostProcessor bert(int64_t cls_id, int64_t sep_id, const std::string& cls = "[CLS]",
                            const std::string& sep = "[SEP]");
  static PostProcessor roberta(int64_t bos_id, int64_t eos_id, const std::string& bos = "<s>",
                               const std::string& eos = "</s>");
  // Number of special tokens added to one text (is_pair = false) or a pair.
  size_t added_tokens(bool is_pair) const;
};

// Combines the model outputs (b may be null) into the final encoding.
// add_special_tokens = false only concatenates (type ids 0 / 1).
Encoding post_process(const PostProcessor* p, Encoding a, const Encoding* b, bool add_special_tokens);

}  // namespace qkv::tokenizers
