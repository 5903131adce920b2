// PretrainingCorpus and its reader (qkv/data/pretraining_corpus.h).
#include "qkv/data/pretraining_corpus.h"

#include <algorithm>
#include <string_view>

#include "qkv/core/error.h"
#include "qkv/core/threading.h"
#include "qkv/data/readers.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::data {
namespace {

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\v\f";
  const size_t a = s.find_first_not_of(ws);
  if (a == std::string_view::npos) return {};
  return s.substr(a, s.find_last_not_of(ws) - a + 1);
}

// One non-blank line of the input, and whether a document ends before it.
struct Line {
  int32_t file;
  int64_t line;
  std::string_view text;
  bool new_document;
};

// The lines of one file, as text and line numbers (a TSV's column, or every line).
struct FileLines {
  std::vector<std::string> text;
  std::vector<int64_t> line;
};

FileLines file_lines(const std::string& path, const CorpusOptions& opt) {
  FileLines f;
  if (path.ends_with(".tsv")) {
    Table t = read_tsv(path);
    size_t c = 0;
    try {
      c = t.column_index(opt.tsv_column);
    } catch (const ValueError& e) {
      throw ValueError(path + ": " + e.what());
    }
    for (size_t r = 0; r < t.rows.size(); ++r) f.text.push_back(std::move(t.rows[r][c]));
    f.line = std::move(t.lines);
    return f;
  }
  f.text = read_lines(path);
  for (size_t i = 0; i < f.text.size(); ++i) f.line.push_back(static_cast<int64_t>(i) + 1);
  return f;
}

// Every file's non-blank lines, marked where a document starts.
std::vector<Line> collect_lines(const std::vector<FileLines>& files, const CorpusOptions& opt) {
  std::vector<Line> out;
  for (size_t fi = 0; fi < files.size(); ++fi) {
    bool new_doc = true;  // every file starts a document
    for (size_t i = 0; i < files[fi].text.size(); ++i) {
      std::string_view t = trim(files[fi].text[i]);
      if (t.empty()) {
        new_doc = true;
        continue;
      }
      out.push_back({static_cast<int32_t>(fi), files[fi].line[i], t, new_doc || opt.rule == DocumentRule::Line});
      new_doc = false;
    }
  }
  return out;
}

std::string list_files(const std::vector<std::string>& paths) {
  std::string s;
  for (const auto& p : paths) s += (s.empty() ? "" : ", ") + p;
  return s;
}

}  // namespace

PretrainingCorpus PretrainingCorpus::from_documents(const std::vector<std::vector<std::vector<int64_t>>>& docs) {
  PretrainingCorpus c;
  for (const auto& d : docs) {
    c.begin_document(-1, 0);
    for (const auto& s : d) c.add_sentence(s);
  }
  c.drop_empty_last_document();
  return c;
}

void PretrainingCorpus::begin_document(int32_t file, int64_t line) {
  const bool last_empty = num_documents() > 0 && doc_begin(num_documents() - 1) == num_sentences();
  if (!last_empty) {
    doc_offsets_.push_back(num_sentences());
    origin_file_.push_back(file);
    origin_line_.push_back(line);
  } else {
    origin_file_.back() = file;
    origin_line_.back() = line;
  }
}

void PretrainingCorpus::add_sentence(std::span<const int64_t> ids) {
  if (ids.empty()) return;
  if (num_documents() == 0) begin_document(-1, 0);
  tokens_.insert(tokens_.end(), ids.begin(), ids.end());
  sentence_offsets_.push_back(static_cast<int64_t>(tokens_.size()));
  doc_offsets_.back() = num_sentences();
}

void PretrainingCorpus::drop_empty_last_document() {
  if (num_documents() > 0 && doc_begin(num_documents() - 1) == num_sentences()) {
    doc_offsets_.pop_back();
    origin_file_.pop_back();
    origin_line_.pop_back();
  }
}

int64_t PretrainingCorpus::document_of(int64_t s) const {
  if (s < 0 || s >= num_sentences())
    throw ValueError("PretrainingCorpus: sentence " + std::to_string(s) + " is outside [0, " +
                     std::to_string(num_sentences()) + ")");
  return std::upper_bound(doc_offsets_.begin(), doc_offsets_.end(), s) - doc_offsets_.begin() - 1;
}

std::string PretrainingCorpus::origin(int64_t d) const {
  const int32_t f = origin_file_[static_cast<size_t>(d)];
  if (f < 0) return "<memory>";
  return files_[static_cast<size_t>(f)] + ":" + std::to_string(origin_line_[static_cast<size_t>(d)]);
}

PretrainingCorpus PretrainingCorpus::slice(int64_t first, int64_t end) const {
  if (first < 0 || end < first || end > num_documents())
    throw ValueError("PretrainingCorpus::slice: documents [" + std::to_string(first) + ", " + std::to_string(end) +
                     ") are not within [0, " + std::to_string(num_documents()) + "]");
  PretrainingCorpus c;
  c.files_ = files_;
  for (int64_t d = first; d < end; ++d) {
    c.begin_document(origin_file_[static_cast<size_t>(d)], origin_line_[static_cast<size_t>(d)]);
    for (int64_t s = doc_begin(d); s < doc_end(d); ++s) c.add_sentence(sentence(s));
  }
  c.drop_empty_last_document();
  return c;
}

void PretrainingCorpus::append(const PretrainingCorpus& other) {
  if (&other == this) {
    const PretrainingCorpus copy = other;
    append(copy);
    return;
  }
  const int32_t file_base = static_cast<int32_t>(files_.size());
  files_.insert(files_.end(), other.files_.begin(), other.files_.end());
  for (int64_t d = 0; d < other.num_documents(); ++d) {
    const int32_t f = other.origin_file_[static_cast<size_t>(d)];
    begin_document(f < 0 ? f : f + file_base, other.origin_line_[static_cast<size_t>(d)]);
    for (int64_t s = other.doc_begin(d); s < other.doc_end(d); ++s) add_sentence(other.sentence(s));
  }
  drop_empty_last_document();
}

PretrainingCorpus read_pretraining_corpus(const std::vector<std::string>& paths, const tokenizers::Tokenizer& tok,
                                          const CorpusOptions& opt) {
  if (paths.empty()) throw ValueError("pretraining corpus: no input files");
  if (opt.max_sentences_per_document < 0)
    throw ValueError("pretraining corpus: max_sentences_per_document must be >= 0, got " +
                     std::to_string(opt.max_sentences_per_document));
  std::vector<FileLines> files;
  for (const auto& p : paths) files.push_back(file_lines(p, opt));
  const std::vector<Line> lines = collect_lines(files, opt);

  // Tokenize in parallel; each line's ids land in its own slot.
  std::vector<std::vector<int64_t>> ids(lines.size());
  const tokenizers::EncodeOptions enc{.add_special_tokens = false, .parse_special = false};
  const long n = static_cast<long>(lines.size());
#pragma omp parallel for schedule(dynamic, 256) num_threads(qkv::num_threads())
  for (long i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = tok.encode_ids(lines[static_cast<size_t>(i)].text, enc);

  PretrainingCorpus c;
  c.files_ = paths;
  int64_t in_doc = 0;  // sentences in the current document
  bool new_doc = true;  // a document ends before the next sentence (kept across lines without ids)
  for (size_t i = 0; i < lines.size(); ++i) {
    new_doc = new_doc || lines[i].new_document;
    if (ids[i].empty()) continue;
    const bool full = opt.max_sentences_per_document > 0 && in_doc == opt.max_sentences_per_document;
    if (new_doc || full) {
      c.begin_document(lines[i].file, lines[i].line);
      in_doc = 0;
      new_doc = false;
    }
    c.add_sentence(ids[i]);
    ++in_doc;
  }
  c.drop_empty_last_document();
  if (c.num_sentences() == 0)
    throw ValueError("pretraining corpus: no sentences in " + list_files(paths) +
                     " (every line is blank or has no tokens)");
  return c;
}

}  // namespace qkv::data
