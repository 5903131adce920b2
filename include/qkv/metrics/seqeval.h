// qkv/metrics/seqeval.h — entity-level precision, recall and F1 from tag
// sequences, as conlleval (CoNLL-2000's conlleval.pl) and seqeval 1.2
// (seqeval/metrics/sequence_labeling.py, seqeval/scheme.py) compute them.
//
// A sentence is a vector of tags. A tag is "O" or PREFIX-TYPE with a one-letter
// prefix and a non-empty TYPE (which may itself contain '-': "B-PER-X" has type
// "PER-X"). An entity is (type, first token, last token) inside one sentence.
//
// SpanMode::Default — conlleval's and seqeval's default (lenient) chunking.
// Prefixes B, I, E, S. Walking the sentence with an "O" before and after it,
// a chunk ends before token t (prev = token t−1) when
//   prev is E or S; or prev/t is B/B, B/S, B/O, I/B, I/S, I/O;
//   or prev is not O and the types differ;
// and a chunk starts at t when
//   t is B or S; or prev/t is E/E, E/I, S/E, S/I, O/E, O/I;
//   or t is not O and the types differ.
// These are seqeval's end_of_chunk/start_of_chunk. On B/I/O tags they are
// conlleval's endOfChunk/startOfChunk rule for rule (so an I-X after O, or
// after an entity of another type, starts a new entity); conlleval itself has
// no S rules and does not end a chunk at E-X B-X, which seqeval (and this
// code) treat as two entities.
//
// SpanMode::StrictIob2 — seqeval's mode='strict', scheme=IOB2. Prefixes B, I
// only (E- and S- are invalid tags). An entity is a B-X followed by the
// longest run of I-X of the same type; an I-X that does not continue an
// entity of type X belongs to no entity.
//
// Scores: per type, correct = gold and predicted entities equal in type,
// first and last token (set intersection, as both tools); precision =
// correct / predicted, recall = correct / gold (support), F1 = 2PR/(P+R),
// each 0 when its denominator is 0. micro = the same on the sums (conlleval's
// overall line); macro = the unweighted mean over types; weighted = the mean
// weighted by support. Types are the sorted union of gold and predicted
// entity types. Token accuracy (conlleval's "accuracy") = tokens whose
// predicted tag equals the gold tag / tokens.
//
//   auto r = qkv::metrics::entity_scores(gold_sentences, pred_sentences);
//   r.micro.f1;  std::fputs(qkv::metrics::format_conlleval(r).c_str(), stdout);
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qkv::metrics {

enum class SpanMode { Default, StrictIob2 };

// A span of tokens [start, end] (inclusive, token indices in the sentence).
struct Entity {
  std::string type;
  int64_t start = 0, end = 0;
  bool operator==(const Entity&) const = default;
};

// Why `tag` is not a valid tag in `mode`, or "" when it is valid.
std::string tag_problem(std::string_view tag, SpanMode mode);

// The entities of one sentence, in order. ValueError "tag N: …" for an invalid tag.
std::vector<Entity> extract_entities(const std::vector<std::string>& tags, SpanMode mode = SpanMode::Default);

struct EntityTypeScores {
  std::string type;
  double precision = 0, recall = 0, f1 = 0;  // fractions in [0, 1]
  int64_t correct = 0, predicted = 0, support = 0;
};

struct EntityAverage {
  double precision = 0, recall = 0, f1 = 0;
};

struct EntityReport {
  std::vector<EntityTypeScores> per_type;  // sorted by type
  EntityAverage micro, macro, weighted;
  int64_t correct = 0, predicted = 0, support = 0;  // entity counts
  int64_t tokens = 0, correct_tags = 0;
  double token_accuracy = 0;
};

// gold[s] and pred[s] are the tags of sentence s; the sentence counts and
// each sentence's lengths must agree. ValueError naming the sentence (and
// token, for a bad tag) and the side ("gold"/"predicted"), counted from 1.
EntityReport entity_scores(const std::vector<std::vector<std::string>>& gold,
                           const std::vector<std::vector<std::string>>& pred, SpanMode mode = SpanMode::Default);

// conlleval's report, in its layout (percentages to 2 decimals):
//   processed 12 tokens with 3 phrases; found: 3 phrases; correct: 2.
//   accuracy:  91.67%; precision:  66.67%; recall:  66.67%; FB1:  66.67
//                 LOC: precision: 100.00%; recall:  50.00%; FB1:  66.67  1
// (the number ending a type's line is its count of predicted phrases, as in conlleval).
std::string format_conlleval(const EntityReport& r);

}  // namespace qkv::metrics
