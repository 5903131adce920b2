// SQuAD JSON reader (qkv/data/squad.h).
#include "qkv/data/squad.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::data {
namespace {

using nlohmann::json;

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

std::string kind(const json& j) {
  if (j.is_number_float()) return "a non-integer number";
  if (j.is_number()) return "an integer";
  return j.type_name();
}

// Where a field sits, for errors: "data[0].paragraphs[3].qas[2]".
struct Place {
  const std::string& path;
  std::string where;
  [[noreturn]] void fail(const std::string& what) const { throw IOError(path + ": " + where + ": " + what); }
  const json& field(const json& obj, const char* name, json::value_t type) const {
    auto it = obj.find(name);
    if (it == obj.end()) fail("missing field '" + std::string(name) + "'");
    const bool ok = it->type() == type || (type == json::value_t::number_integer && it->is_number_unsigned());
    if (!ok) fail("field '" + std::string(name) + "' is " + kind(*it) + ", expected " + kind(json(type)));
    return *it;
  }
  Place at(const std::string& sub) const { return {path, where + sub}; }
};

const json& array_field(const Place& p, const json& obj, const char* name) {
  return p.field(obj, name, json::value_t::array);
}
std::string string_field(const Place& p, const json& obj, const char* name) {
  return p.field(obj, name, json::value_t::string).get<std::string>();
}

size_t count_chars(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); i += tokenizers::next_char(s, i).len) ++n;
  return n;
}

void check_answer(const Place& p, const std::string& id, const std::string& context, size_t n_chars,
                  const SquadAnswer& a) {
  const size_t len = count_chars(a.text);
  if (a.answer_start < 0 || size_t(a.answer_start) + len > n_chars)
    p.fail("question " + id + ": answer '" + a.text + "' at answer_start " + std::to_string(a.answer_start) +
           " runs past the context's " + std::to_string(n_chars) + " characters");
  const std::string there = substr_chars(context, size_t(a.answer_start), size_t(a.answer_start) + len);
  if (there != a.text)
    p.fail("question " + id + ": answer_start " + std::to_string(a.answer_start) + " does not match the answer: text '" +
           a.text + "' but the context there reads '" + there + "'");
}

void read_question(const Place& p, const json& q, const std::string& title, const std::string& context,
                   size_t n_chars, std::vector<SquadExample>& out) {
  if (!q.is_object()) p.fail("expected an object, got " + std::string(q.type_name()));
  SquadExample ex;
  ex.id = string_field(p, q, "id");
  ex.title = title;
  ex.context = context;
  ex.question = string_field(p, q, "question");
  if (q.contains("is_impossible")) ex.is_impossible = p.field(q, "is_impossible", json::value_t::boolean).get<bool>();
  const json& answers = array_field(p, q, "answers");
  for (size_t k = 0; k < answers.size(); ++k) {
    Place pa = p.at(".answers[" + std::to_string(k) + "]");
    if (!answers[k].is_object()) pa.fail("expected an object, got " + std::string(answers[k].type_name()));
    SquadAnswer a;
    a.text = string_field(pa, answers[k], "text");
    a.answer_start = pa.field(answers[k], "answer_start", json::value_t::number_integer).get<int64_t>();
    check_answer(pa, ex.id, context, n_chars, a);
    ex.answers.push_back(std::move(a));
  }
  if (ex.is_impossible && !ex.answers.empty())
    p.fail("question " + ex.id + " is_impossible but has " + std::to_string(ex.answers.size()) + " answer(s)");
  out.push_back(std::move(ex));
}

}  // namespace

std::string substr_chars(std::string_view s, size_t start, size_t end) {
  size_t byte = 0, ch = 0, from = std::string_view::npos;
  while (true) {
    if (ch == start) from = byte;
    if (ch == end) break;
    if (byte >= s.size())
      throw ValueError("substr_chars: [" + std::to_string(start) + ", " + std::to_string(end) +
                       ") is out of range for a string of " + std::to_string(ch) + " characters");
    byte += tokenizers::next_char(s, byte).len;
    ++ch;
  }
  if (from == std::string_view::npos)
    throw ValueError("substr_chars: start " + std::to_string(start) + " is after end " + std::to_string(end));
  return std::string(s.substr(from, byte - from));
}

std::vector<SquadExample> read_squad(const std::string& path) {
  json root;
  try {
    root = parse_json(slurp(path), path);
  } catch (const json::exception& e) {
    throw IOError(path + ": invalid JSON: " + strip_json_prefix(e.what()));
  } catch (const ValueError& e) {  // nesting deeper than kMaxJsonDepth
    throw IOError(e.what());
  }
  Place top{path, "top level"};
  if (!root.is_object()) top.fail("expected a JSON object with a 'data' array, got " + std::string(root.type_name()));
  const json& data = array_field(top, root, "data");
  std::vector<SquadExample> out;
  for (size_t a = 0; a < data.size(); ++a) {
    Place pa{path, "data[" + std::to_string(a) + "]"};
    if (!data[a].is_object()) pa.fail("expected an object, got " + std::string(data[a].type_name()));
    const std::string title = data[a].contains("title") ? string_field(pa, data[a], "title") : "";
    const json& paragraphs = array_field(pa, data[a], "paragraphs");
    for (size_t g = 0; g < paragraphs.size(); ++g) {
      Place pg = pa.at(".paragraphs[" + std::to_string(g) + "]");
      if (!paragraphs[g].is_object()) pg.fail("expected an object, got " + std::string(paragraphs[g].type_name()));
      const std::string context = string_field(pg, paragraphs[g], "context");
      const size_t n_chars = count_chars(context);
      const json& qas = array_field(pg, paragraphs[g], "qas");
      for (size_t k = 0; k < qas.size(); ++k)
        read_question(pg.at(".qas[" + std::to_string(k) + "]"), qas[k], title, context, n_chars, out);
    }
  }
  return out;
}

}  // namespace qkv::data
