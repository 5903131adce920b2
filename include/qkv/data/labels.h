// qkv/data/labels.h — a task's label names and their ids (Hugging Face's
// config.json id2label / label2id): the classes of a sentence classifier, the
// tags of a token classifier.
//
//   LabelSet s({"O", "B-PER", "I-PER"});
//   s.id("B-PER");   // 1
//   s.name(2);       // "I-PER"
//   s.id("B-FOO");   // ValueError: unknown label 'B-FOO' (labels: O, B-PER, I-PER)
//   LabelSet::infer({"1", "0", "1"}).names;   // {"0", "1"}
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qkv::data {

struct LabelSet {
  std::vector<std::string> names;  // names[id]

  LabelSet() = default;
  // ValueError for a duplicate or empty name.
  explicit LabelSet(std::vector<std::string> names);

  // The sorted distinct values, as Hugging Face's run_glue/run_ner do when the
  // data set does not declare its labels; integers ("10", "-1") sort by value.
  static LabelSet infer(const std::vector<std::string>& values);

  size_t size() const { return names.size(); }
  std::optional<int64_t> find(const std::string& name) const;
  // The id of `name`, or ValueError "unknown label '<name>' (labels: …)".
  int64_t id(const std::string& name) const;
  // names[id], or ValueError naming the id and the size.
  const std::string& name(int64_t id) const;
  // "O, B-PER, I-PER" (at most the first 20 names) for error messages.
  std::string listed() const;
};

}  // namespace qkv::data
