// Corpus readers (qkv/data/readers.h): one line splitter, four formats.
#include "qkv/data/readers.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::data {
namespace {

std::string slurp(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw IOError("cannot read " + path + ": it is a directory");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IOError("cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw IOError("cannot read " + path + ": read error");
  return ss.str();
}

std::string at_line(const std::string& path, int64_t line) { return path + ":" + std::to_string(line) + ": "; }

void check_utf8(const std::string& path, int64_t line_no, std::string_view line) {
  for (size_t i = 0; i < line.size();) {
    tokenizers::Utf8Char c = tokenizers::next_char(line, i);
    if (!c.valid)
      throw IOError(at_line(path, line_no) + "invalid UTF-8 at byte " + std::to_string(i + 1) + " of the line");
    i += c.len;
  }
}

// Calls fn(line_no, line) for every line of `text` (readers.h: the rules);
// errors name `path`.
template <class Fn>
void for_each_line_of(std::string_view text, const std::string& path, Fn&& fn) {
  size_t pos = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  int64_t line_no = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos), end = nl == std::string::npos ? text.size() : nl;
    std::string_view line(text.data() + pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no;
    check_utf8(path, line_no, line);
    fn(line_no, line);
    pos = end + 1;
  }
}

template <class Fn>
void for_each_line(const std::string& path, Fn&& fn) {
  const std::string text = slurp(path);
  for_each_line_of(text, path, fn);
}

std::vector<std::string> split_tabs(std::string_view line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t tab = line.find('\t', start);
    out.emplace_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
    if (tab == std::string_view::npos) return out;
    start = tab + 1;
  }
}

// The line as quoted in an error: at most 80 bytes, cut at a character boundary.
std::string shortened(std::string_view line) {
  if (line.size() <= 80) return std::string(line);
  size_t n = 77;
  while (n > 0 && (static_cast<unsigned char>(line[n]) & 0xC0) == 0x80) --n;
  return std::string(line.substr(0, n)) + "...";
}

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// Which file columns to keep, in output order, given the header (or none).
std::vector<size_t> pick_columns(const std::string& path, const std::vector<std::string>& header,
                                 const std::vector<std::string>& wanted) {
  std::vector<size_t> pick;
  if (wanted.empty()) {
    for (size_t c = 0; c < header.size(); ++c) pick.push_back(c);
    return pick;
  }
  for (const std::string& w : wanted) {
    size_t c = 0;
    while (c < header.size() && header[c] != w) ++c;
    if (c == header.size())
      throw IOError(at_line(path, 1) + "no column '" + w + "' in the header (" + joined(header) + ")");
    pick.push_back(c);
  }
  return pick;
}

}  // namespace

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> out;
  for_each_line(path, [&](int64_t, std::string_view line) { out.emplace_back(line); });
  return out;
}

std::vector<std::string> split_lines(std::string_view text, const std::string& name) {
  std::vector<std::string> out;
  for_each_line_of(text, name, [&](int64_t, std::string_view line) { out.emplace_back(line); });
  return out;
}

size_t Table::column_index(const std::string& name) const {
  for (size_t c = 0; c < columns.size(); ++c)
    if (columns[c] == name) return c;
  throw ValueError("Table: no column '" + name + "' (have: " + joined(columns) + ")");
}

std::vector<std::string> Table::column(const std::string& name) const {
  const size_t c = column_index(name);
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r[c]);
  return out;
}

Table read_tsv(const std::string& path, const TsvSpec& spec) {
  if (!spec.header && spec.columns.empty())
    throw ValueError("read_tsv: " + path + ": without a header line the columns must be named");
  Table t;
  std::vector<std::string> file_cols = spec.header ? std::vector<std::string>{} : spec.columns;
  std::vector<size_t> pick;
  bool need_header = spec.header;
  if (!spec.header) pick = pick_columns(path, file_cols, {});
  for_each_line(path, [&](int64_t no, std::string_view line) {
    if (need_header) {
      file_cols = split_tabs(line);
      pick = pick_columns(path, file_cols, spec.columns);
      need_header = false;
      return;
    }
    if (line.empty()) return;
    std::vector<std::string> fields = split_tabs(line);
    if (fields.size() != file_cols.size())
      throw IOError(at_line(path, no) + "expected " + std::to_string(file_cols.size()) + " tab-separated fields (" +
                    joined(file_cols) + "), got " + std::to_string(fields.size()) + ": '" + shortened(line) + "'");
    std::vector<std::string> row;
    for (size_t c : pick) row.push_back(std::move(fields[c]));
    t.rows.push_back(std::move(row));
    t.lines.push_back(no);
  });
  if (need_header) throw IOError(path + ": empty file, expected a header line");
  for (size_t c : pick) t.columns.push_back(file_cols[c]);
  return t;
}

JsonRecords read_jsonl(const std::string& path, const std::vector<std::string>& fields) {
  JsonRecords out;
  for_each_line(path, [&](int64_t no, std::string_view line) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) return;
    nlohmann::json j;
    try {
      j = parse_json(line, "the record");  // depth bounded (qkv/core/json_parse.h)
    } catch (const std::exception& e) {  // parse_error, or the depth guard
      throw IOError(at_line(path, no) + "invalid JSON: " + strip_json_prefix(e.what()));
    }
    if (!j.is_object()) throw IOError(at_line(path, no) + "expected a JSON object, got " + j.type_name());
    if (!fields.empty()) {
      nlohmann::json kept = nlohmann::json::object();
      for (const std::string& f : fields) {
        if (!j.contains(f)) throw IOError(at_line(path, no) + "missing field '" + f + "'");
        kept[f] = std::move(j[f]);
      }
      j = std::move(kept);
    }
    out.rows.push_back(std::move(j));
    out.lines.push_back(no);
  });
  return out;
}

ParallelCorpus read_parallel(const std::string& source_path, const std::string& target_path) {
  ParallelCorpus pc;
  pc.source = read_lines(source_path);
  pc.target = read_lines(target_path);
  if (pc.source.size() != pc.target.size())
    throw IOError("read_parallel: " + source_path + " has " + std::to_string(pc.source.size()) + " lines but " +
                  target_path + " has " + std::to_string(pc.target.size()) + "; the files must be line-aligned");
  return pc;
}

}  // namespace qkv::data
