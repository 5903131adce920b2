// qkv/data/squad.h — extractive question answering data in SQuAD's JSON
// layout (Rajpurkar et al. 2016, v1.1; 2018, v2.0 adds unanswerable questions):
//
//   {"version": "v2.0", "data": [{"title": "Normans", "paragraphs": [
//     {"context": "The Normans … in France. …",
//      "qas": [{"id": "56ddde6b…", "question": "In what country is Normandy located?",
//               "answers": [{"text": "France", "answer_start": 159}, …],
//               "is_impossible": false}]}]}]}
//
// answer_start counts Unicode code points (Python str indices), not bytes.
// Every answer is checked: the context's code points [answer_start,
// answer_start + length(text)) must equal text, else IOError naming the
// file, the question id, the answer and both strings. is_impossible (v2.0)
// defaults to false; an impossible question has no answers (its
// "plausible_answers" are ignored; listing answers is an IOError). Missing
// fields and wrong types are IOErrors naming the JSON place, e.g.
// "data[0].paragraphs[3].qas[2]: missing field 'id'". One SquadExample per question, each with
// its own copy of the context (as Hugging Face's squad data sets).
//
//   auto ex = read_squad("squad/dev-v2.0-first5.json");
//   ex[0].question;  ex[0].answers[0].text;  ex[0].answers[0].answer_start;
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qkv::data {

struct SquadAnswer {
  std::string text;
  int64_t answer_start = 0;  // in code points of the context
};

struct SquadExample {
  std::string id, title, context, question;
  std::vector<SquadAnswer> answers;
  bool is_impossible = false;
};

std::vector<SquadExample> read_squad(const std::string& path);

// The code points [start, end) of a UTF-8 string (Python's s[start:end] for
// 0 ≤ start ≤ end ≤ the number of code points); ValueError when out of range.
std::string substr_chars(std::string_view s, size_t start, size_t end);

}  // namespace qkv::data
