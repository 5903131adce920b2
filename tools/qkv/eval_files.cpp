// Label files, CoNLL files and SQuAD JSON for `qkv eval` (eval_files.h).
#include "eval_files.h"

#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"
#include "qkv/data/conll.h"
#include "qkv/data/readers.h"
#include "qkv/io/file.h"

namespace qkv::cli {
namespace {

std::string at(const std::string& path, int64_t line) { return path + ":" + std::to_string(line) + ": "; }

// Fields split on runs of spaces and tabs.

// The file parsed with JSON object key order kept (ordered_json), depth bounded as qkv::parse_json.
nlohmann::ordered_json read_ordered_json(const std::string& path) {
  const std::string text = io::read_file(path);
  auto depth_guard = [&](int depth, nlohmann::ordered_json::parse_event_t, nlohmann::ordered_json&) {
    if (depth > kMaxJsonDepth)
      throw ValueError(path + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    return true;
  };
  try {
    return nlohmann::ordered_json::parse(text, depth_guard);
  } catch (const nlohmann::json::exception& e) {
    throw IOError(path + ": invalid JSON: " + strip_json_prefix(e.what()));
  }
}

const char* kind_of(const nlohmann::ordered_json& j) { return j.type_name(); }

// j[key] of the right type, or an IOError naming the file and the JSON path.
const nlohmann::ordered_json& field(const nlohmann::ordered_json& j, const char* key, nlohmann::json::value_t type,
                                    const std::string& path, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end()) throw IOError(path + ": " + where + ": missing field '" + key + "'");
  if (it->type() != type) {
    const std::string want = nlohmann::ordered_json(type).type_name();
    throw IOError(path + ": " + where + "." + key + ": expected " + (want == "array" ? "an " : "a ") + want + ", got " +
                  kind_of(*it));
  }
  return *it;
}

void require_object(const nlohmann::ordered_json& j, const std::string& path, const std::string& where) {
  if (!j.is_object()) throw IOError(path + ": " + where + ": expected an object, got " + kind_of(j));
}

}  // namespace

// ---- labels

Labels read_label_column(const std::string& path, const std::string& column) {
  const data::Table t = data::read_tsv(path, {.header = true, .columns = {column}});
  Labels out;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    if (t.rows[i][0].empty()) throw ValueError(at(path, t.lines[i]) + "empty label in column '" + column + "'");
    out.values.push_back(t.rows[i][0]);
    out.lines.push_back(t.lines[i]);
  }
  return out;
}

Labels read_labels(const std::string& path, const std::string& column) {
  std::vector<std::string> lines = data::read_lines(path);
  if (!lines.empty())
    for (size_t start = 0;;) {  // a header: one of the first line's tab-separated fields is `column`
      const size_t tab = lines[0].find('\t', start);
      if (std::string_view(lines[0]).substr(start, tab == std::string::npos ? tab : tab - start) == column)
        return read_label_column(path, column);
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  Labels out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty())
      throw ValueError(at(path, int64_t(i) + 1) + "empty line (one label per line expected; a TSV needs a header with a '" +
                       column + "' column)");
    out.values.push_back(lines[i]);
    out.lines.push_back(int64_t(i) + 1);
  }
  return out;
}

// ---- CoNLL

// The one CoNLL reader (data/conll.h): token first, tag last, -DOCSTART-
// skipped, blank lines between sentences, malformed lines refused by line.
ConllFile read_conll(const std::string& path) {
  const data::ConllData d = data::read_conll(path);
  ConllFile f{path, {}};
  for (const auto& s : d.sentences) {
    std::vector<ConllToken> sentence;
    for (size_t i = 0; i < s.words.size(); ++i) sentence.push_back({s.words[i], s.tags[i], s.lines[i]});
    if (!sentence.empty()) f.sentences.push_back(std::move(sentence));
  }
  return f;
}

void check_aligned(const ConllFile& gold, const ConllFile& pred) {
  const size_t n = std::min(gold.sentences.size(), pred.sentences.size());
  for (size_t s = 0; s < n; ++s) {
    const auto &g = gold.sentences[s], &p = pred.sentences[s];
    for (size_t t = 0; t < std::min(g.size(), p.size()); ++t)
      if (g[t].token != p[t].token)
        throw ValueError(at(pred.path, p[t].line) + "token '" + p[t].token + "' does not match " + gold.path + ":" +
                         std::to_string(g[t].line) + " '" + g[t].token + "' (sentence " + std::to_string(s + 1) +
                         ", token " + std::to_string(t + 1) + ")");
    if (g.size() != p.size())
      throw ValueError(at(pred.path, p.front().line) + "sentence " + std::to_string(s + 1) + " has " +
                       std::to_string(p.size()) + " tokens but in " + gold.path + ":" + std::to_string(g.front().line) +
                       " it has " + std::to_string(g.size()));
  }
  if (gold.sentences.size() != pred.sentences.size())
    throw ValueError(pred.path + " has " + std::to_string(pred.sentences.size()) + " sentences but " + gold.path +
                     " has " + std::to_string(gold.sentences.size()));
}

std::vector<std::vector<std::string>> tags_of(const ConllFile& f) {
  std::vector<std::vector<std::string>> out;
  for (const auto& s : f.sentences) {
    out.emplace_back();
    for (const ConllToken& t : s) out.back().push_back(t.tag);
  }
  return out;
}

// ---- SQuAD

SquadFile read_squad(const std::string& path) {
  using vt = nlohmann::json::value_t;
  const nlohmann::ordered_json j = read_ordered_json(path);
  require_object(j, path, "top level");
  SquadFile f;
  if (const auto v = j.find("version"); v != j.end() && v->is_string()) f.version = v->get<std::string>();
  const auto& data = field(j, "data", vt::array, path, "top level");
  for (size_t a = 0; a < data.size(); ++a) {
    const std::string wa = "data[" + std::to_string(a) + "]";
    require_object(data[a], path, wa);
    const auto& paragraphs = field(data[a], "paragraphs", vt::array, path, wa);
    for (size_t p = 0; p < paragraphs.size(); ++p) {
      const std::string wp = wa + ".paragraphs[" + std::to_string(p) + "]";
      require_object(paragraphs[p], path, wp);
      const auto& qas = field(paragraphs[p], "qas", vt::array, path, wp);
      for (size_t q = 0; q < qas.size(); ++q) {
        const std::string wq = wp + ".qas[" + std::to_string(q) + "]";
        require_object(qas[q], path, wq);
        metrics::SquadQuestion question;
        question.id = field(qas[q], "id", vt::string, path, wq).get<std::string>();
        const auto& answers = field(qas[q], "answers", vt::array, path, wq);
        for (size_t k = 0; k < answers.size(); ++k) {
          const std::string wk = wq + ".answers[" + std::to_string(k) + "]";
          require_object(answers[k], path, wk);
          question.answers.push_back(field(answers[k], "text", vt::string, path, wk).get<std::string>());
        }
        f.questions.push_back(std::move(question));
      }
    }
  }
  if (f.questions.empty()) throw IOError(path + ": no questions (data[*].paragraphs[*].qas are all empty)");
  return f;
}

metrics::SquadPredictions read_squad_predictions(const std::string& path) {
  const nlohmann::ordered_json j = read_ordered_json(path);
  if (!j.is_object())
    throw IOError(path + ": expected a JSON object {question id: answer text}, got " + std::string(kind_of(j)));
  metrics::SquadPredictions out;
  for (const auto& [id, v] : j.items()) {
    if (!v.is_string())
      throw IOError(path + ": the answer for \"" + id + "\" is " + kind_of(v) + ", expected a string (\"\" = no answer)");
    out[id] = v.get<std::string>();
  }
  return out;
}

std::vector<std::pair<std::string, double>> read_na_probs(const std::string& path) {
  const nlohmann::ordered_json j = read_ordered_json(path);
  if (!j.is_object())
    throw IOError(path + ": expected a JSON object {question id: no-answer probability}, got " + std::string(kind_of(j)));
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [id, v] : j.items()) {
    if (!v.is_number())
      throw IOError(path + ": the no-answer probability for \"" + id + "\" is " + kind_of(v) + ", expected a number");
    out.emplace_back(id, v.get<double>());
  }
  return out;
}

}  // namespace qkv::cli
