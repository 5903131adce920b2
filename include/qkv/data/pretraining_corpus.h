// qkv/data/pretraining_corpus.h — the text a BERT is pretrained on:
// documents of sentences of token ids, tokenized once, kept as one flat array.
//
// The input is BERT's create_pretraining_data.py format (Devlin et al. 2019;
// google-research/bert): one sentence per line, a blank line between
// documents. qkv reads it so (docs/DATA_PRETRAINING.md has the table for the
// shared data sets):
//  - a line is trimmed of ASCII whitespace; a line empty after that is blank;
//  - DocumentRule::BlankLine (default): a blank line ends a document, and so
//    does the end of every file (the reference lets a file's last document run
//    on into the next file; qkv does not);
//  - DocumentRule::Line: every line is a document of one sentence, for files
//    of unrelated sentences (SST-2 phrases, Multi30k captions);
//  - max_sentences_per_document > 0 cuts longer documents into consecutive
//    parts of at most that many sentences (a file without blank lines, such as
//    the Bible one verse a line, is otherwise a single document);
//  - a sentence is a non-blank line's ids from Tokenizer::encode_ids with no
//    special tokens added and none parsed ("[SEP]" in the text is text); a
//    line with no ids is dropped, and so is a document left with no sentence
//    (as the reference);
//  - a file whose name ends in ".tsv" is a TSV with a header (GLUE's SST-2):
//    its column `tsv_column` gives the lines.
// Lines are read by data/readers.h (UTF-8 checked, CRLF, BOM) and tokenized
// in parallel; the result does not depend on the thread count.
//
//   auto corpus = read_pretraining_corpus({"input.txt"}, tokenizer);
//   for (int64_t d = 0; d < corpus.num_documents(); ++d)
//     for (int64_t s = corpus.doc_begin(d); s < corpus.doc_end(d); ++s) use(corpus.sentence(s));
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace qkv::tokenizers {
class Tokenizer;
}

namespace qkv::data {

enum class DocumentRule { BlankLine, Line };

struct CorpusOptions {
  DocumentRule rule = DocumentRule::BlankLine;
  int64_t max_sentences_per_document = 0;  // 0 = no limit
  std::string tsv_column = "sentence";
};

// Sentences are numbered across the corpus; document d holds sentences
// [doc_begin(d), doc_end(d)).
class PretrainingCorpus {
 public:
  PretrainingCorpus() = default;
  // From ids already made: docs[d][s] is sentence s of document d. Empty
  // sentences and then empty documents are dropped; origins are "<memory>".
  static PretrainingCorpus from_documents(const std::vector<std::vector<std::vector<int64_t>>>& docs);

  int64_t num_documents() const { return static_cast<int64_t>(doc_offsets_.size()) - 1; }
  int64_t num_sentences() const { return static_cast<int64_t>(sentence_offsets_.size()) - 1; }
  int64_t num_tokens() const { return static_cast<int64_t>(tokens_.size()); }
  int64_t doc_begin(int64_t d) const { return doc_offsets_[static_cast<size_t>(d)]; }
  int64_t doc_end(int64_t d) const { return doc_offsets_[static_cast<size_t>(d) + 1]; }
  std::span<const int64_t> sentence(int64_t s) const {
    const size_t a = static_cast<size_t>(sentence_offsets_[static_cast<size_t>(s)]);
    return {tokens_.data() + a, static_cast<size_t>(sentence_length(s))};
  }
  int64_t sentence_length(int64_t s) const {
    return sentence_offsets_[static_cast<size_t>(s) + 1] - sentence_offsets_[static_cast<size_t>(s)];
  }
  // The document holding sentence s.
  int64_t document_of(int64_t s) const;
  // Where document d starts, "file:line" (lines from 1).
  std::string origin(int64_t d) const;
  // Documents [first, end) as a corpus of their own (a validation split).
  // ValueError for a range outside [0, num_documents()].
  PretrainingCorpus slice(int64_t first, int64_t end) const;
  // Appends other's documents after this one's (files read with different
  // rules: a speech corpus and a file of captions).
  void append(const PretrainingCorpus& other);

  // Appends one sentence to the last document (begun by begin_document). An
  // empty sentence is ignored; so is a document that ends up empty.
  void begin_document(int32_t file, int64_t line);
  void add_sentence(std::span<const int64_t> ids);

 private:
  void drop_empty_last_document();
  std::vector<int64_t> tokens_, sentence_offsets_{0}, doc_offsets_{0};
  std::vector<std::string> files_;
  std::vector<int32_t> origin_file_;  // per document
  std::vector<int64_t> origin_line_;  // per document
  friend PretrainingCorpus read_pretraining_corpus(const std::vector<std::string>&, const tokenizers::Tokenizer&,
                                                   const CorpusOptions&);
};

// Reads and tokenizes `paths` in order. IOError from the readers
// ("<path>:<line>: …", "cannot open <path>"); ValueError when no path is
// given, max_sentences_per_document < 0, a TSV lacks tsv_column, or no
// sentence is left (the message lists the files).
PretrainingCorpus read_pretraining_corpus(const std::vector<std::string>& paths, const tokenizers::Tokenizer& tok,
                                          const CorpusOptions& opt = {});

}  // namespace qkv::data
