// qkv/data/conll.h — token-tagged sentences in the CoNLL-2003 column format
// (Tjong Kim Sang & De Meulder 2003), for named-entity recognition:
//
//   EU NNP B-NP B-ORG          one token per line: word POS chunk NER,
//   rejects VBZ B-VP O         fields separated by spaces or tabs
//                              a blank line ends a sentence
//   -DOCSTART- -X- -X- O       document boundaries: skipped (they also end a sentence)
//
// The word is the first column and the tag the last, so 2-column files
// ("word tag") read too; every token line must have as many columns as the
// file's first one. Line rules are readers.h's (CRLF, BOM, UTF-8 checked).
// Errors: IOError "<path>:<line>: …" for a malformed line and, in tag_ids,
// for a tag that is not in the label set.
//
// Tag schemes: IOB1 (the original CoNLL-2003 files: I-X starts an entity
// unless it follows another X token; B-X only separates two adjacent X
// entities) and IOB2 (every entity starts with B-X, what Hugging Face's
// conll2003 data set and seqeval expect). ../shared/data/conll2003 is already
// IOB2 (no I-X follows O or another type in any split); iob1_to_iob2 converts
// the original files.
//
//   ConllData d = read_conll("conll2003/train.txt");
//   auto ids = tag_ids(d, conll2003_ner_labels());   // ids[s][i]: tag of word i of sentence s
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "qkv/data/labels.h"

namespace qkv::data {

struct ConllSentence {
  std::vector<std::string> words, tags;
  std::vector<int64_t> lines;  // lines[i]: the file line of words[i]
};

struct ConllData {
  std::string path;
  std::vector<ConllSentence> sentences;
  size_t num_tokens() const;
  // Every tag of every sentence, in file order (for LabelSet::infer).
  std::vector<std::string> all_tags() const;
};

ConllData read_conll(const std::string& path);

// Hugging Face's conll2003 ClassLabel order: O, B-PER, I-PER, B-ORG, I-ORG,
// B-LOC, I-LOC, B-MISC, I-MISC.
LabelSet conll2003_ner_labels();

// Tag ids per sentence; IOError "<path>:<line>: unknown tag 'X' (labels: …)".
std::vector<std::vector<int64_t>> tag_ids(const ConllData& data, const LabelSet& labels);

// IOB1 → IOB2: an I-X that does not continue an X entity (first token, after
// O, or after another type) becomes B-X; everything else is kept. Tags must be
// "O", "B-<type>" or "I-<type>": ValueError naming the position and tag.
std::vector<std::string> iob1_to_iob2(const std::vector<std::string>& tags);
// The same on every sentence in place; errors as IOError "<path>:<line>: …".
void convert_iob1_to_iob2(ConllData& data);

}  // namespace qkv::data
