// Entity spans and entity-level scores (qkv/metrics/seqeval.h; conlleval.pl's
// startOfChunk/endOfChunk, seqeval 1.2's get_entities and its IOB2 scheme).
#include "qkv/metrics/seqeval.h"

#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "qkv/core/error.h"

namespace qkv::metrics {
namespace {

struct Tag {
  char prefix = 'O';  // O, B, I, E or S
  std::string_view type;
};

// A tag already checked by tag_problem.
Tag split_tag(std::string_view tag) {
  if (tag == "O") return {};
  return {tag[0], tag.substr(2)};
}

// seqeval's end_of_chunk: does the chunk that `prev` is in end before `cur`?
bool end_of_chunk(Tag prev, Tag cur) {
  const char p = prev.prefix, t = cur.prefix;
  if (p == 'E' || p == 'S') return true;
  if ((p == 'B' || p == 'I') && (t == 'B' || t == 'S' || t == 'O')) return true;
  return p != 'O' && prev.type != cur.type;
}

// seqeval's start_of_chunk: does a chunk start at `cur`?
bool start_of_chunk(Tag prev, Tag cur) {
  const char p = prev.prefix, t = cur.prefix;
  if (t == 'B' || t == 'S') return true;
  if ((p == 'E' || p == 'S' || p == 'O') && (t == 'E' || t == 'I')) return true;
  return t != 'O' && prev.type != cur.type;
}

std::vector<Entity> default_entities(const std::vector<Tag>& tags) {
  std::vector<Entity> out;
  Tag prev;
  int64_t begin = 0;
  for (size_t i = 0; i <= tags.size(); ++i) {
    const Tag cur = i < tags.size() ? tags[i] : Tag{};  // an O after the sentence closes the last chunk
    if (end_of_chunk(prev, cur)) out.push_back({std::string(prev.type), begin, int64_t(i) - 1});
    if (start_of_chunk(prev, cur)) begin = int64_t(i);
    prev = cur;
  }
  return out;
}

// IOB2, strict: B-X then the longest run of I-X.
std::vector<Entity> strict_iob2_entities(const std::vector<Tag>& tags) {
  std::vector<Entity> out;
  for (size_t i = 0; i < tags.size();) {
    if (tags[i].prefix != 'B') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < tags.size() && tags[j].prefix == 'I' && tags[j].type == tags[i].type) ++j;
    out.push_back({std::string(tags[i].type), int64_t(i), int64_t(j) - 1});
    i = j;
  }
  return out;
}

std::vector<Tag> checked_tags(const std::vector<std::string>& tags, SpanMode mode, const std::string& where) {
  std::vector<Tag> out;
  out.reserve(tags.size());
  for (size_t i = 0; i < tags.size(); ++i) {
    if (std::string problem = tag_problem(tags[i], mode); !problem.empty())
      throw ValueError(where + "tag " + std::to_string(i + 1) + ": " + problem);
    out.push_back(split_tag(tags[i]));
  }
  return out;
}

std::vector<Entity> entities_of(const std::vector<Tag>& tags, SpanMode mode) {
  return mode == SpanMode::StrictIob2 ? strict_iob2_entities(tags) : default_entities(tags);
}

double divide(double num, double den) { return den == 0 ? 0.0 : num / den; }
double f_measure(double p, double r) { return p + r == 0 ? 0.0 : 2 * p * r / (p + r); }

}  // namespace

std::string tag_problem(std::string_view tag, SpanMode mode) {
  if (tag == "O") return "";
  const std::string quoted = "'" + std::string(tag) + "'";
  const bool strict = mode == SpanMode::StrictIob2;
  const std::string_view allowed = strict ? "BI" : "BIES";
  const std::string expected = strict ? "O, B-TYPE or I-TYPE (strict IOB2)" : "O or B-, I-, E-, S-TYPE";
  if (tag.size() < 3 || tag[1] != '-' || allowed.find(tag[0]) == std::string_view::npos)
    return "invalid tag " + quoted + " (expected " + expected + ")";
  return "";
}

std::vector<Entity> extract_entities(const std::vector<std::string>& tags, SpanMode mode) {
  return entities_of(checked_tags(tags, mode, ""), mode);
}

EntityReport entity_scores(const std::vector<std::vector<std::string>>& gold,
                           const std::vector<std::vector<std::string>>& pred, SpanMode mode) {
  if (gold.size() != pred.size())
    throw ValueError("entity_scores: " + std::to_string(gold.size()) + " gold sentences but " +
                     std::to_string(pred.size()) + " predicted sentences");
  using Key = std::tuple<size_t, int64_t, int64_t, std::string>;  // sentence, start, end, type
  std::set<Key> gold_set;
  std::map<std::string, EntityTypeScores> types;
  EntityReport r;
  for (size_t s = 0; s < gold.size(); ++s) {
    const std::string sentence = "sentence " + std::to_string(s + 1);
    if (gold[s].size() != pred[s].size())
      throw ValueError("entity_scores: " + sentence + " has " + std::to_string(gold[s].size()) +
                       " gold tags but " + std::to_string(pred[s].size()) + " predicted tags");
    const std::vector<Tag> g = checked_tags(gold[s], mode, "entity_scores: gold " + sentence + ", ");
    const std::vector<Tag> p = checked_tags(pred[s], mode, "entity_scores: predicted " + sentence + ", ");
    for (size_t i = 0; i < gold[s].size(); ++i) r.correct_tags += gold[s][i] == pred[s][i];
    r.tokens += int64_t(gold[s].size());
    for (const Entity& e : entities_of(g, mode)) {
      gold_set.emplace(s, e.start, e.end, e.type);
      ++types[e.type].support;
    }
    for (const Entity& e : entities_of(p, mode)) {
      EntityTypeScores& t = types[e.type];
      ++t.predicted;
      if (gold_set.count({s, e.start, e.end, e.type})) ++t.correct;
    }
  }
  for (auto& [type, t] : types) {
    t.type = type;
    t.precision = divide(double(t.correct), double(t.predicted));
    t.recall = divide(double(t.correct), double(t.support));
    t.f1 = f_measure(t.precision, t.recall);
    r.correct += t.correct, r.predicted += t.predicted, r.support += t.support;
    r.macro.precision += t.precision, r.macro.recall += t.recall, r.macro.f1 += t.f1;
    const double w = double(t.support);
    r.weighted.precision += t.precision * w, r.weighted.recall += t.recall * w, r.weighted.f1 += t.f1 * w;
    r.per_type.push_back(t);
  }
  r.micro.precision = divide(double(r.correct), double(r.predicted));
  r.micro.recall = divide(double(r.correct), double(r.support));
  r.micro.f1 = f_measure(r.micro.precision, r.micro.recall);
  const double n = double(r.per_type.size()), w = double(r.support);
  r.macro = {divide(r.macro.precision, n), divide(r.macro.recall, n), divide(r.macro.f1, n)};
  r.weighted = {divide(r.weighted.precision, w), divide(r.weighted.recall, w), divide(r.weighted.f1, w)};
  r.token_accuracy = divide(double(r.correct_tags), double(r.tokens));
  return r;
}

std::string format_conlleval(const EntityReport& r) {
  char buf[256];
  std::string out;
  std::snprintf(buf, sizeof buf, "processed %lld tokens with %lld phrases; found: %lld phrases; correct: %lld.\n",
                (long long)r.tokens, (long long)r.support, (long long)r.predicted, (long long)r.correct);
  out += buf;
  if (r.tokens > 0) {
    std::snprintf(buf, sizeof buf, "accuracy: %6.2f%%; precision: %6.2f%%; recall: %6.2f%%; FB1: %6.2f\n",
                  100 * r.token_accuracy, 100 * r.micro.precision, 100 * r.micro.recall, 100 * r.micro.f1);
    out += buf;
  }
  for (const EntityTypeScores& t : r.per_type) {
    if (t.type.size() < 17) out.append(17 - t.type.size(), ' ');  // perl's %17s
    out += t.type;
    std::snprintf(buf, sizeof buf, ": precision: %6.2f%%; recall: %6.2f%%; FB1: %6.2f  %lld\n", 100 * t.precision,
                  100 * t.recall, 100 * t.f1, (long long)t.predicted);
    out += buf;
  }
  return out;
}

}  // namespace qkv::metrics
