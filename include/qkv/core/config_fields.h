// qkv/core/config_fields.h — a config struct's fields, declared once.
//
// A config (GPTConfig, TrainConfig, …) stays a plain struct with default
// member values. Beside it, one table lists each field once — JSON key,
// member pointer, one-line help, bounds or allowed values, aliases (nanoGPT's
// spellings) — and everything else is derived from that table: to_json,
// from_json (unknown keys rejected with a "did you mean" suggestion, wrong
// types named), validate (bounds, naming the field), diff (which fields of
// two configs differ, with both values) and the CLI flags (tools/qkv/
// config_flags.h). Adding a field is one line:
//
//   const config::Table<TrainConfig>& TrainConfig::fields() {
//     static const config::Table<TrainConfig> t("trainer config", {
//       config::field("lr", &TrainConfig::lr, "Peak learning rate").above(0).alias("learning_rate"),
//       config::field("batch_size", &TrainConfig::batch_size, "Sequences per micro-batch").above(0),
//     }, config::Naming::Flag);
//     return t;
//   }
//
// Member types: int64_t, uint64_t, float, bool, std::string. Integers accept
// JSON integers (and integral floats such as 1000.0, which Python writes);
// float fields must be finite. Lives in core (std + nlohmann::json only) so
// that models/ and train/ can both use it.
#pragma once
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"

namespace qkv::config {

// How validate() names a field: "GPT config: n_layer must be > 0" (Key) or
// "--batch-size must be > 0" (Flag: the CLI spelling, for configs that users
// mostly set by flags).
enum class Naming { Key, Flag };

// A numeric interval; either end may be open, closed or absent.
struct Bounds {
  std::optional<double> lo, hi;
  bool lo_open = false, hi_open = false;
};

// One differing field: key and both values, as printed (e.g. "0.001").
struct FieldDiff {
  std::string key, a, b;
};
// "lr 0.001 → 0.5, n_embd 16 → 32" (empty for no differences).
std::string describe(const std::vector<FieldDiff>& diffs);
// The top-level keys whose values differ between two JSON objects (a key
// only one side has shows "(absent)" on the other), sorted by key: the diff
// of configs known only as JSON (any model family's config.json).
std::vector<FieldDiff> diff_json(const nlohmann::json& a, const nlohmann::json& b);

// "snake_key" → "--snake-key" (the CLI spelling).
std::string flag_name(std::string_view key);

// The candidate nearest to `key` by edit distance, if near enough to be a
// likely typo; candidates are (spelling, canonical key) pairs and the
// canonical key is returned.
struct Suggestion {
  std::string key;
  size_t distance = 0;
};
std::optional<Suggestion> closest(std::string_view key,
                                  const std::vector<std::pair<std::string, std::string>>& candidates);
// " (did you mean \"n_layer\"?)" or "".
std::string did_you_mean(const std::optional<Suggestion>& s);

namespace detail {
// Type-erased pieces of Field (config_fields.cpp).
std::string number_str(double v);
std::string bounds_str(const Bounds& b);  // "> 0", ">= 0", "in [0, 1)"
bool within(double v, const Bounds& b);
std::string choices_str(const std::vector<std::string>& choices);  // "\"a\", \"b\" or \"c\""
// JSON value → member type; nullopt if the value has the wrong type.
std::optional<int64_t> json_int(const nlohmann::json& v);
std::optional<uint64_t> json_uint(const nlohmann::json& v);
}  // namespace detail

template <class C>
struct Field {
  using Member = std::variant<int64_t C::*, uint64_t C::*, float C::*, bool C::*, std::string C::*>;
  std::string key;   // JSON key, snake_case (nanoGPT / Hugging Face names)
  Member member;
  std::string help;  // one line
  std::vector<std::string> aliases;  // other accepted spellings (JSON keys and flags)
  Bounds bounds;                     // numeric fields
  std::vector<std::string> choices;  // string fields: allowed values (empty = any)

  // Builders, so that a field is one line.
  Field& alias(std::string a) { aliases.push_back(std::move(a)); return *this; }
  Field& above(double v) { bounds.lo = v; bounds.lo_open = true; return *this; }     // > v
  Field& at_least(double v) { bounds.lo = v; bounds.lo_open = false; return *this; } // >= v
  Field& below(double v) { bounds.hi = v; bounds.hi_open = true; return *this; }     // < v
  Field& at_most(double v) { bounds.hi = v; bounds.hi_open = false; return *this; }  // <= v
  Field& one_of(std::vector<std::string> c) { choices = std::move(c); return *this; }

  // "an integer", "a number", …: what from_json expects.
  std::string type_name() const;
  nlohmann::json get(const C& c) const;
  std::string value_str(const C& c) const;  // 12, 0.001, true, gelu
  // Sets the member from JSON; false (member unchanged) if the type is wrong.
  bool set(C& c, const nlohmann::json& v) const;
  // "" when the value is allowed, else what is wrong ("must be > 0, got 0").
  std::string check(const C& c) const;
};

template <class C, class M>
Field<C> field(std::string key, M C::*member, std::string help) {
  return Field<C>{std::move(key), member, std::move(help), {}, {}, {}};
}

template <class C>
class Table {
 public:
  Table(std::string name, std::vector<Field<C>> fields, Naming naming = Naming::Key)
      : name_(std::move(name)), fields_(std::move(fields)), naming_(naming) {}

  const std::string& name() const { return name_; }  // "GPT config": message prefix
  const std::vector<Field<C>>& fields() const { return fields_; }
  // By key or alias; nullptr if unknown.
  const Field<C>* find(std::string_view key) const;
  // (spelling, key) for every key and alias: what closest() searches.
  std::vector<std::pair<std::string, std::string>> spellings() const;
  // How validate() names the field: "n_layer" or "--n-layer".
  std::string label(const Field<C>& f) const { return naming_ == Naming::Flag ? flag_name(f.key) : f.key; }

  nlohmann::json to_json(const C& c) const;
  // Sets the fields present in `j` (an object) on `c`; others keep their
  // values. Aliases are accepted. ValueError: not an object, unknown key (with
  // a suggestion), wrong type (field and expected type), a field given twice
  // (by key and alias). Does not validate.
  void from_json(const nlohmann::json& j, C& c) const;
  C from_json(const nlohmann::json& j) const {
    C c{};
    from_json(j, c);
    return c;
  }
  // ValueError naming the first field out of its bounds or choices.
  void validate(const C& c) const;
  // Fields whose values differ, in table order.
  std::vector<FieldDiff> diff(const C& a, const C& b) const;

 private:
  std::string name_;
  std::vector<Field<C>> fields_;
  Naming naming_;
};

// ---------------------------------------------------------------------------
// Implementation (templates).

template <class C>
std::string Field<C>::type_name() const {
  return std::visit(
      [](auto m) -> std::string {
        using T = std::remove_reference_t<decltype(std::declval<C&>().*m)>;
        if constexpr (std::is_same_v<T, int64_t>) return "an integer";
        else if constexpr (std::is_same_v<T, uint64_t>) return "a non-negative integer";
        else if constexpr (std::is_same_v<T, float>) return "a number";
        else if constexpr (std::is_same_v<T, bool>) return "true or false";
        else return "a string";
      },
      member);
}

template <class C>
nlohmann::json Field<C>::get(const C& c) const {
  return std::visit([&](auto m) { return nlohmann::json(c.*m); }, member);
}

template <class C>
std::string Field<C>::value_str(const C& c) const {
  return std::visit(
      [&](auto m) -> std::string {
        const auto& v = c.*m;
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) return v;
        else if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
        else if constexpr (std::is_same_v<T, float>) return detail::number_str(v);
        else return std::to_string(v);
      },
      member);
}

template <class C>
bool Field<C>::set(C& c, const nlohmann::json& v) const {
  return std::visit(
      [&](auto m) -> bool {
        auto& dst = c.*m;
        using T = std::decay_t<decltype(dst)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          auto x = detail::json_int(v);
          if (x) dst = *x;
          return x.has_value();
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          auto x = detail::json_uint(v);
          if (x) dst = *x;
          return x.has_value();
        } else if constexpr (std::is_same_v<T, float>) {
          if (!v.is_number()) return false;
          dst = v.get<float>();
          return true;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!v.is_boolean()) return false;
          dst = v.get<bool>();
          return true;
        } else {
          if (!v.is_string()) return false;
          dst = v.get<std::string>();
          return true;
        }
      },
      member);
}

template <class C>
std::string Field<C>::check(const C& c) const {
  return std::visit(
      [&](auto m) -> std::string {
        const auto& v = c.*m;
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          for (const std::string& ok : choices)
            if (v == ok) return "";
          return choices.empty() ? "" : "must be " + detail::choices_str(choices) + ", got \"" + v + "\"";
        } else if constexpr (std::is_same_v<T, bool>) {
          return "";
        } else {
          const double d = static_cast<double>(v);
          if constexpr (std::is_same_v<T, float>)
            if (!std::isfinite(d)) return "must be a finite number, got " + value_str(c);
          if (detail::within(d, bounds)) return "";
          return "must be " + detail::bounds_str(bounds) + ", got " + value_str(c);
        }
      },
      member);
}

template <class C>
const Field<C>* Table<C>::find(std::string_view key) const {
  for (const Field<C>& f : fields_) {
    if (f.key == key) return &f;
    for (const std::string& a : f.aliases)
      if (a == key) return &f;
  }
  return nullptr;
}

template <class C>
std::vector<std::pair<std::string, std::string>> Table<C>::spellings() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Field<C>& f : fields_) {
    out.emplace_back(f.key, f.key);
    for (const std::string& a : f.aliases) out.emplace_back(a, f.key);
  }
  return out;
}

template <class C>
nlohmann::json Table<C>::to_json(const C& c) const {
  nlohmann::json j = nlohmann::json::object();
  for (const Field<C>& f : fields_) j[f.key] = f.get(c);
  return j;
}

template <class C>
void Table<C>::from_json(const nlohmann::json& j, C& c) const {
  if (!j.is_object()) throw ValueError(name_ + ": expected a JSON object");
  std::vector<std::pair<const Field<C>*, std::string>> seen;  // field, spelling used
  for (const auto& [key, val] : j.items()) {
    const Field<C>* f = find(key);
    if (!f) throw ValueError(name_ + ": unknown field \"" + key + "\"" + did_you_mean(closest(key, spellings())));
    for (const auto& [g, spelling] : seen)
      if (g == f)
        throw ValueError(name_ + ": field \"" + f->key + "\" given twice (as \"" + spelling + "\" and \"" + key +
                         "\")");
    seen.emplace_back(f, key);
    if (!f->set(c, val))
      throw ValueError(name_ + ": field \"" + key + "\" must be " + f->type_name() + ", got " + json_excerpt(val));
  }
}

template <class C>
void Table<C>::validate(const C& c) const {
  for (const Field<C>& f : fields_) {
    std::string bad = f.check(c);
    if (bad.empty()) continue;
    throw ValueError((naming_ == Naming::Key ? name_ + ": " : std::string()) + label(f) + " " + bad);
  }
}

template <class C>
std::vector<FieldDiff> Table<C>::diff(const C& a, const C& b) const {
  std::vector<FieldDiff> out;
  for (const Field<C>& f : fields_)
    if (f.get(a) != f.get(b)) out.push_back({f.key, f.value_str(a), f.value_str(b)});
  return out;
}

}  // namespace qkv::config
