// One CLI11 option per field of a config table (qkv/core/config_fields.h):
// `--n-layer` and nanoGPT's `--n_layer` (CLI11 also takes `--n_layer=4`),
// plus each alias as written (`--learning_rate`), with the default and the
// bounds shown in --help. The values are only applied where a flag was given,
// so a command can layer defaults < a --config file (or a checkpoint) < flags:
//
//   static ConfigFlags<TrainConfig> flags(*cmd, TrainConfig::fields());
//   …after parsing:  flags.apply_given(train_json);
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "qkv/core/config_fields.h"

namespace qkv::cli {

// "--n-layer,--n_layer" (+ "--learning_rate"…): CLI11's comma-separated names.
inline std::string flag_names(const std::string& key, const std::vector<std::string>& aliases) {
  std::string names = config::flag_name(key);
  if (key.find('_') != std::string::npos) names += ",--" + key;
  for (const std::string& a : aliases) names += ",--" + a;  // as written (nanoGPT's learning_rate)
  return names;
}

template <class C>
class ConfigFlags {
 public:
  // Adds an option for every field of `table` except those in `skip` (e.g.
  // vocab_size, which the tokenizer decides). `defaults` are the values
  // --help shows (a command's own defaults, e.g. translation's Adam β2 0.98).
  // The object must outlive the parse (CLI11 writes into it): keep it static
  // or in the command's state.
  ConfigFlags(CLI::App& app, const config::Table<C>& table, const std::set<std::string>& skip = {},
              const std::string& group = "Options", const C& defaults = C{})
      : values_(defaults) {
    for (const config::Field<C>& f : table.fields()) {
      if (skip.count(f.key)) continue;
      std::string help = f.help + constraint(f);
      CLI::Option* opt =
          std::visit([&](auto m) { return app.add_option(flag_names(f.key, f.aliases), values_.*m, help); }, f.member);
      opt->default_str(f.value_str(values_))->group(group);
      options_.emplace_back(&f, opt);
    }
  }
  ConfigFlags(const ConfigFlags&) = delete;
  ConfigFlags& operator=(const ConfigFlags&) = delete;

  // Writes every field given on the command line into `j` (under its key).
  void apply_given(nlohmann::json& j) const {
    for (const auto& [f, opt] : options_)
      if (opt->count() > 0) j[f->key] = f->get(values_);
  }
  bool given(const std::string& key) const {
    for (const auto& [f, opt] : options_)
      if (f->key == key) return opt->count() > 0;
    return false;
  }

 private:
  static std::string constraint(const config::Field<C>& f) {
    if (!f.choices.empty()) return " (" + config::detail::choices_str(f.choices) + ")";
    if (f.bounds.lo || f.bounds.hi) return " (" + config::detail::bounds_str(f.bounds) + ")";
    return "";
  }

  C values_{};
  std::vector<std::pair<const config::Field<C>*, CLI::Option*>> options_;
};

}  // namespace qkv::cli
