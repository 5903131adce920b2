// The layer rule of DESIGN.md ("dependencies point downward only"), checked on
// the source tree: every `#include "qkv/<layer>/…"` in src/qkv, include/qkv and
// tools/ must point to a layer its own layer may use. A violation names the
// file, the line and the two layers. docs/ARCHITECTURE.md, "Layers", has the
// table and the two documented departures (train and viz use io).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// Direct permissions, as DESIGN.md's table; "and below" is the transitive
// closure computed by allowed(). `version` is include/qkv/version.h (std only,
// any layer may use it); `umbrella` is include/qkv/qkv.h (everything).
const std::map<std::string, std::set<std::string>> kMayUse = {
    {"core", {}},
    {"kernels", {"core"}},
    {"autograd", {"core"}},
    {"ops", {"core", "kernels", "autograd"}},
    {"nn", {"ops"}},
    {"optim", {"ops"}},
    {"tokenizers", {"core"}},
    {"data", {"tokenizers", "core"}},
    // io: model directories (config.json + model.safetensors, models/registry.h).
    {"models", {"nn", "io"}},
    {"generate", {"models"}},
    // pipelines: Hugging Face's pipeline tasks and embeddings on a model and its tokenizer.
    {"pipelines", {"models", "tokenizers", "data", "generate"}},
    {"serve", {"pipelines", "generate", "tokenizers"}},  // the HTTP server: generation and encoders behind OpenAI's API
    // io: checkpoints are safetensors + JSON files; viz: the loss curve;
    // generate + metrics: evaluation decodes and scores (BLEU at checkpoints).
    {"train", {"models", "optim", "data", "io", "viz", "generate", "metrics"}},
    {"metrics", {"core", "tokenizers"}},  // errors; UTF-8 and Unicode lowercase
    {"io", {"core"}},
    {"viz", {"core", "io"}},  // io: atomic writes of the PNG/SVG files
    {"version", {}},
};

std::set<std::string> allowed(const std::string& layer) {
  if (layer == "tools" || layer == "umbrella") {
    std::set<std::string> all{"umbrella"};
    for (const auto& [l, _] : kMayUse) all.insert(l);
    return all;
  }
  std::set<std::string> out{layer, "version"};
  std::vector<std::string> todo{layer};
  while (!todo.empty()) {
    std::string l = todo.back();
    todo.pop_back();
    for (const std::string& d : kMayUse.at(l))
      if (out.insert(d).second) todo.push_back(d);
  }
  return out;
}

// "src/qkv/nn/x.cpp" → "nn"; "include/qkv/qkv.h" → "umbrella"; "tools/…" → "tools".
std::string layer_of(const fs::path& rel) {
  auto it = rel.begin();
  const std::string top = (it++)->string();
  if (top == "tools") return "tools";
  ++it;  // "qkv"
  const std::string name = it->string();
  if (name == "qkv.h") return "umbrella";
  if (name == "version.h") return "version";
  return name;
}

// The layer an include names: "qkv/nn/layers.h" → "nn", "qkv/qkv.h" → "umbrella".
std::string layer_of_include(const std::string& path) {
  const std::string rest = path.substr(4);  // after "qkv/"
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) return rest.substr(0, slash);
  return rest == "qkv.h" ? "umbrella" : rest == "version.h" ? "version" : rest;
}

struct Violation {
  std::string where, message;
};

// Scans one tree; appends violations, counts files and includes seen.
void scan(const fs::path& root, const fs::path& dir, std::vector<Violation>& out, int& files, int& includes) {
  static const std::regex kInclude(R"(^\s*#\s*include\s*[<"](qkv/[^">]+)[">])");
  for (const auto& e : fs::recursive_directory_iterator(root / dir)) {
    const std::string ext = e.path().extension().string();
    if (!e.is_regular_file() || (ext != ".h" && ext != ".cpp" && ext != ".hpp")) continue;
    const fs::path rel = fs::relative(e.path(), root);
    const std::string layer = layer_of(rel);
    if (!kMayUse.count(layer) && layer != "tools" && layer != "umbrella") {
      out.push_back({rel.string(), "folder '" + layer + "' is not in the layer table (add it to this test and to "
                                   "docs/ARCHITECTURE.md)"});
      continue;
    }
    ++files;
    const std::set<std::string> ok = allowed(layer);
    std::ifstream f(e.path());
    std::string line;
    for (int n = 1; std::getline(f, line); ++n) {
      std::smatch m;
      if (!std::regex_search(line, m, kInclude)) continue;
      ++includes;
      const std::string target = layer_of_include(m[1].str());
      if (!ok.count(target))
        out.push_back({rel.string() + ":" + std::to_string(n),
                       layer + " must not include " + target + " (" + m[1].str() + ")"});
    }
  }
}

}  // namespace

TEST(Layering, IncludesPointDownwardOnly) {
  const fs::path root = QKV_SOURCE_DIR;
  std::vector<Violation> bad;
  int files = 0, includes = 0;
  for (const char* dir : {"src/qkv", "include/qkv", "tools"}) scan(root, dir, bad, files, includes);
  EXPECT_GT(files, 100) << "the scan found too few files under " << root;
  EXPECT_GT(includes, 300);
  std::string report;
  for (const Violation& v : bad) report += "  " + v.where + ": " + v.message + "\n";
  EXPECT_TRUE(bad.empty()) << bad.size() << " include(s) run against DESIGN.md's layer table:\n" << report;
}

TEST(Layering, TheTableItselfPointsDownward) {
  // No layer may reach itself through others (a cycle would make "below" meaningless).
  for (const auto& [layer, direct] : kMayUse)
    for (const std::string& d : direct) EXPECT_FALSE(allowed(d).count(layer)) << layer << " ↔ " << d;
  EXPECT_FALSE(allowed("core").count("kernels"));
  EXPECT_FALSE(allowed("optim").count("nn"));
  EXPECT_FALSE(allowed("nn").count("optim"));
  EXPECT_TRUE(allowed("train").count("core"));
}
