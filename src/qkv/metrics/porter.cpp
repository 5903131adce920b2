// NLTK's Porter stemmer, default NLTK_EXTENSIONS mode (nltk/stem/porter.py,
// NLTK 3.8), which rouge-score 0.1.2 uses. Porter, "An algorithm for suffix
// stripping", Program 14.3 (1980), with NLTK's departures marked [NLTK].
//
// Each step is a list of rules (suffix, replacement, condition); the first
// rule whose suffix matches decides: if its condition fails, the step leaves
// the word alone and no later rule is tried (NLTK's _apply_rule_list).
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "qkv/metrics/rouge.h"

namespace qkv::metrics {
namespace {

using Cond = std::function<bool(const std::string& stem)>;
struct Rule {
  std::string suffix, replacement;
  Cond cond;  // empty = unconditional
};

bool ends_with(const std::string& w, const std::string& s) {
  return w.size() >= s.size() && w.compare(w.size() - s.size(), s.size(), s) == 0;
}
std::string drop(const std::string& w, size_t n) { return w.substr(0, w.size() - n); }

// A consonant: not a e i o u, and not a y after a consonant (y at 0 is one).
bool is_consonant(const std::string& w, size_t i) {
  const char c = w[i];
  if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u') return false;
  if (c == 'y') return i == 0 ? true : !is_consonant(w, i - 1);
  return true;
}

// m in [C](VC)^m[V]: the number of vowel→consonant transitions.
int measure(const std::string& s) {
  int m = 0;
  for (size_t i = 1; i < s.size(); ++i) m += !is_consonant(s, i - 1) && is_consonant(s, i);
  return m;
}
bool positive_measure(const std::string& s) { return measure(s) > 0; }

bool contains_vowel(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (!is_consonant(s, i)) return true;
  return false;
}

bool ends_double_consonant(const std::string& w) {
  return w.size() >= 2 && w[w.size() - 1] == w[w.size() - 2] && is_consonant(w, w.size() - 1);
}

// *o: ends consonant-vowel-consonant, the last not w, x or y; [NLTK] also a
// two-letter vowel-consonant word.
bool ends_cvc(const std::string& w) {
  const size_t n = w.size();
  if (n >= 3 && is_consonant(w, n - 3) && !is_consonant(w, n - 2) && is_consonant(w, n - 1) && w[n - 1] != 'w' &&
      w[n - 1] != 'x' && w[n - 1] != 'y')
    return true;
  return n == 2 && !is_consonant(w, 0) && is_consonant(w, 1);
}

// "*d" as a suffix means "ends in a double consonant" (the stem drops both letters).
std::string apply_rules(const std::string& w, const std::vector<Rule>& rules) {
  for (const Rule& r : rules) {
    if (r.suffix == "*d" && ends_double_consonant(w)) {
      const std::string stem = drop(w, 2);
      return !r.cond || r.cond(stem) ? stem + r.replacement : w;
    }
    if (ends_with(w, r.suffix)) {
      const std::string stem = drop(w, r.suffix.size());
      return !r.cond || r.cond(stem) ? stem + r.replacement : w;
    }
  }
  return w;
}

std::string step1a(const std::string& w) {
  if (ends_with(w, "ies") && w.size() == 4) return drop(w, 3) + "ie";  // [NLTK] dies → die
  return apply_rules(w, {{"sses", "ss", {}}, {"ies", "i", {}}, {"ss", "ss", {}}, {"s", "", {}}});
}

std::string step1b(const std::string& w) {
  if (ends_with(w, "ied")) return drop(w, 3) + (w.size() == 4 ? "ie" : "i");  // [NLTK] died → die, spied → spi
  if (ends_with(w, "eed")) {
    const std::string stem = drop(w, 3);
    return measure(stem) > 0 ? stem + "ee" : w;
  }
  std::string stem;
  bool cut = false;
  for (const char* suf : {"ed", "ing"}) {
    if (ends_with(w, suf) && contains_vowel(drop(w, std::string(suf).size()))) {
      stem = drop(w, std::string(suf).size());
      cut = true;
      break;
    }
  }
  if (!cut) return w;
  const char last = stem.back();
  return apply_rules(stem, {{"at", "ate", {}},
                            {"bl", "ble", {}},
                            {"iz", "ize", {}},
                            {"*d", std::string(1, last), [last](const std::string&) { return last != 'l' && last != 's' && last != 'z'; }},
                            {"", "e", [](const std::string& s) { return measure(s) == 1 && ends_cvc(s); }}});
}

std::string step1c(const std::string& w) {
  // [NLTK] y → i only after a consonant that is not the word's first letter.
  return apply_rules(w, {{"y", "i", [](const std::string& s) { return s.size() > 1 && is_consonant(s, s.size() - 1); }}});
}

std::string step2(const std::string& w) {
  // [NLTK] alli → al first, then step 2 again on the result.
  if (ends_with(w, "alli") && positive_measure(drop(w, 4))) return step2(drop(w, 4) + "al");
  const Cond pm = positive_measure;
  const std::string word = w;
  return apply_rules(w, {{"ational", "ate", pm}, {"tional", "tion", pm}, {"enci", "ence", pm},
                         {"anci", "ance", pm},   {"izer", "ize", pm},    {"bli", "ble", pm},  // [NLTK] bli, not abli
                         {"alli", "al", pm},     {"entli", "ent", pm},   {"eli", "e", pm},
                         {"ousli", "ous", pm},   {"ization", "ize", pm}, {"ation", "ate", pm},
                         {"ator", "ate", pm},    {"alism", "al", pm},    {"iveness", "ive", pm},
                         {"fulness", "ful", pm}, {"ousness", "ous", pm}, {"aliti", "al", pm},
                         {"iviti", "ive", pm},   {"biliti", "ble", pm},  {"fulli", "ful", pm},  // [NLTK]
                         // [NLTK] logi → log with the 'l' kept in the measured stem.
                         {"logi", "log", [word](const std::string&) { return positive_measure(drop(word, 3)); }}});
}

std::string step3(const std::string& w) {
  const Cond pm = positive_measure;
  return apply_rules(w, {{"icate", "ic", pm}, {"ative", "", pm}, {"alize", "al", pm}, {"iciti", "ic", pm},
                         {"ical", "ic", pm},  {"ful", "", pm},   {"ness", "", pm}});
}

std::string step4(const std::string& w) {
  const Cond m1 = [](const std::string& s) { return measure(s) > 1; };
  const Cond ion = [](const std::string& s) { return measure(s) > 1 && (s.back() == 's' || s.back() == 't'); };
  return apply_rules(w, {{"al", "", m1},   {"ance", "", m1}, {"ence", "", m1}, {"er", "", m1},  {"ic", "", m1},
                         {"able", "", m1}, {"ible", "", m1}, {"ant", "", m1},  {"ement", "", m1}, {"ment", "", m1},
                         {"ent", "", m1},  {"ion", "", ion}, {"ou", "", m1},   {"ism", "", m1},  {"ate", "", m1},
                         {"iti", "", m1},  {"ous", "", m1},  {"ive", "", m1},  {"ize", "", m1}});
}

std::string step5a(const std::string& w) {
  if (!ends_with(w, "e")) return w;
  const std::string stem = drop(w, 1);
  const int m = measure(stem);
  return m > 1 || (m == 1 && !ends_cvc(stem)) ? stem : w;
}

std::string step5b(const std::string& w) {
  return apply_rules(w, {{"ll", "l", [w](const std::string&) { return measure(drop(w, 1)) > 1; }}});
}

const std::map<std::string, std::string>& irregular_forms() {
  static const std::map<std::string, std::string> pool = {
      {"sky", "sky"},         {"skies", "sky"},       {"dying", "die"},   {"lying", "lie"},
      {"tying", "tie"},       {"news", "news"},       {"innings", "inning"}, {"inning", "inning"},
      {"outings", "outing"},  {"outing", "outing"},   {"cannings", "canning"}, {"canning", "canning"},
      {"howe", "howe"},       {"proceed", "proceed"}, {"exceed", "exceed"}, {"succeed", "succeed"}};
  return pool;
}

}  // namespace

std::string porter_stem(const std::string& word) {
  if (auto it = irregular_forms().find(word); it != irregular_forms().end()) return it->second;
  if (word.size() <= 2) return word;  // [NLTK] one- and two-letter words are left alone
  std::string s = step1a(word);
  s = step1b(s);
  s = step1c(s);
  s = step2(s);
  s = step3(s);
  s = step4(s);
  s = step5a(s);
  return step5b(s);
}

}  // namespace qkv::metrics
