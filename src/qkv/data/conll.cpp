// CoNLL-2003 reader and IOB tags (qkv/data/conll.h).
#include "qkv/data/conll.h"

#include "qkv/core/error.h"
#include "qkv/data/readers.h"

namespace qkv::data {
namespace {

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string at_line(const std::string& path, int64_t line) { return path + ":" + std::to_string(line) + ": "; }

// "" when tag is O / B-type / I-type, otherwise what is wrong with it.
std::string iob_problem(const std::string& tag) {
  if (tag == "O") return "";
  if (tag.size() < 3 || (tag[0] != 'B' && tag[0] != 'I') || tag[1] != '-')
    return "tag '" + tag + "' is not O, B-<type> or I-<type>";
  return "";
}

}  // namespace

size_t ConllData::num_tokens() const {
  size_t n = 0;
  for (const ConllSentence& s : sentences) n += s.words.size();
  return n;
}

std::vector<std::string> ConllData::all_tags() const {
  std::vector<std::string> out;
  for (const ConllSentence& s : sentences) out.insert(out.end(), s.tags.begin(), s.tags.end());
  return out;
}

ConllData read_conll(const std::string& path) {
  ConllData d;
  d.path = path;
  const std::vector<std::string> lines = read_lines(path);
  size_t columns = 0;  // of the first token line
  ConllSentence cur;
  auto flush = [&] {
    if (!cur.words.empty()) d.sentences.push_back(std::move(cur));
    cur = {};
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    const int64_t no = int64_t(i) + 1;
    std::vector<std::string_view> f = split_fields(lines[i]);
    if (f.empty()) {
      flush();
      continue;
    }
    if (f[0] == "-DOCSTART-") {
      flush();
      continue;
    }
    if (f.size() < 2)
      throw IOError(at_line(path, no) + "malformed line '" + lines[i] + "': expected 'word … tag' columns, got 1 field");
    if (columns == 0) columns = f.size();
    if (f.size() != columns)
      throw IOError(at_line(path, no) + "malformed line '" + lines[i] + "': expected " + std::to_string(columns) +
                    " columns (as the first token line), got " + std::to_string(f.size()));
    cur.words.emplace_back(f.front());
    cur.tags.emplace_back(f.back());
    cur.lines.push_back(no);
  }
  flush();
  return d;
}

LabelSet conll2003_ner_labels() {
  return LabelSet({"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"});
}

std::vector<std::vector<int64_t>> tag_ids(const ConllData& data, const LabelSet& labels) {
  std::vector<std::vector<int64_t>> out;
  out.reserve(data.sentences.size());
  for (const ConllSentence& s : data.sentences) {
    std::vector<int64_t> ids;
    ids.reserve(s.tags.size());
    for (size_t i = 0; i < s.tags.size(); ++i) {
      std::optional<int64_t> id = labels.find(s.tags[i]);
      if (!id)
        throw IOError(at_line(data.path, s.lines[i]) + "unknown tag '" + s.tags[i] + "' (labels: " + labels.listed() +
                      ")");
      ids.push_back(*id);
    }
    out.push_back(std::move(ids));
  }
  return out;
}

std::vector<std::string> iob1_to_iob2(const std::vector<std::string>& tags) {
  std::vector<std::string> out = tags;
  for (size_t i = 0; i < out.size(); ++i) {
    if (std::string p = iob_problem(tags[i]); !p.empty())
      throw ValueError("iob1_to_iob2: position " + std::to_string(i) + ": " + p);
    if (tags[i][0] != 'I') continue;
    const bool continues = i > 0 && tags[i - 1] != "O" && tags[i - 1].compare(1, std::string::npos, tags[i], 1) == 0;
    if (!continues) out[i][0] = 'B';
  }
  return out;
}

void convert_iob1_to_iob2(ConllData& data) {
  for (ConllSentence& s : data.sentences) {
    for (size_t i = 0; i < s.tags.size(); ++i)
      if (std::string p = iob_problem(s.tags[i]); !p.empty()) throw IOError(at_line(data.path, s.lines[i]) + p);
    s.tags = iob1_to_iob2(s.tags);
  }
}

}  // namespace qkv::data
