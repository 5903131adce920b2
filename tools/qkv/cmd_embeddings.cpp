// The input embedding table, looked at two ways:
//   `qkv plot embeddings DIR --tokens a,b,c -o FILE`: the words as points of
//       a 2-D PCA of their vectors (the notes' king − man + woman picture)
//   `qkv neighbors DIR WORD [-k K]`: the K tokens whose vectors are nearest
//       to WORD's by cosine similarity
// A word the tokenizer splits into several tokens stands for the mean of
// their vectors. Works for GPT, Llama, BERT and the translation Transformer.
//   `qkv plot embeddings DIR --sentences FILE -o FILE`: encoder models (BERT,
//       the translation model's encoder): each line's sentence embedding —
//       the mean of the last layer's hidden states over its real tokens, as
//       `qkv embed --pooling mean` — as points of a 2-D PCA
#include <cmath>
#include <cstdio>
#include <numeric>

#include "commands.h"
#include "qkv/models/bert.h"
#include "qkv/models/gpt.h"
#include "qkv/models/llama.h"
#include "qkv/models/registry.h"
#include "qkv/data/readers.h"
#include "qkv/models/transformer.h"
#include "qkv/pipelines/encoder.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/viz/viz.h"

namespace qkv::cli {
namespace {

// The token embedding table (V, C) of any family qkv loads.
std::vector<float> embedding_table(const models::Model& m, int64_t& V, int64_t& C) {
  Tensor w;
  if (const auto* g = dynamic_cast<const models::GPT*>(&m)) w = g->wte->weight;
  else if (const auto* l = dynamic_cast<const models::Llama*>(&m)) w = l->model->embed_tokens->weight;
  else if (const auto* b = dynamic_cast<const models::Bert*>(&m)) w = b->bert->embeddings->word_embeddings->weight;
  else if (const auto* t = dynamic_cast<const models::Transformer*>(&m)) w = t->shared->weight;
  else throw ValueError("a '" + m.model_type() + "' model has no token embedding table qkv knows");
  V = w.size(0), C = w.size(1);
  return w.contiguous().to_vector();
}

struct Table {
  tokenizers::TextCodec tok;
  std::vector<float> e;  // (V, C)
  int64_t V = 0, C = 0;
  // The mean vector of `word`'s tokens; ValueError when it has none.
  std::vector<double> vector_of(const std::string& word) const {
    const std::vector<int64_t> ids = tok.encode(word);
    if (ids.empty()) throw ValueError("'" + word + "' has no tokens");
    std::vector<double> v(static_cast<size_t>(C), 0.0);
    for (int64_t id : ids)
      for (int64_t c = 0; c < C; ++c) v[c] += e[id * C + c] / static_cast<double>(ids.size());
    return v;
  }
};

Table load_table(const std::string& dir) {
  Table t;
  const auto model = models::load_model(dir);
  t.e = embedding_table(*model, t.V, t.C);
  t.tok = tokenizers::load_codec(dir + "/tokenizer.json");
  return t;
}

// The first `k` principal directions of the rows of x (n × C, centred here),
// by power iteration with deflation on the C × C covariance — plenty for a
// few dozen points. Returns the n × k coordinates.
std::vector<std::vector<double>> pca(std::vector<std::vector<double>> x, int k) {
  const size_t n = x.size(), C = x[0].size();
  for (size_t c = 0; c < C; ++c) {
    double mean = 0;
    for (const auto& r : x) mean += r[c] / static_cast<double>(n);
    for (auto& r : x) r[c] -= mean;
  }
  std::vector<std::vector<double>> out(n, std::vector<double>(static_cast<size_t>(k), 0.0));
  for (int comp = 0; comp < k; ++comp) {
    std::vector<double> v(C);
    for (size_t c = 0; c < C; ++c) v[c] = 1.0 + 0.01 * static_cast<double>(c % 7);  // fixed start: same picture each run
    for (int it = 0; it < 200; ++it) {  // v ← XᵀX v, normalised
      std::vector<double> next(C, 0.0);
      for (const auto& r : x) {
        const double d = std::inner_product(r.begin(), r.end(), v.begin(), 0.0);
        for (size_t c = 0; c < C; ++c) next[c] += d * r[c];
      }
      const double norm = std::sqrt(std::inner_product(next.begin(), next.end(), next.begin(), 0.0));
      if (norm == 0) break;
      for (size_t c = 0; c < C; ++c) v[c] = next[c] / norm;
    }
    for (size_t i = 0; i < n; ++i) {  // project, then remove the component
      const double d = std::inner_product(x[i].begin(), x[i].end(), v.begin(), 0.0);
      out[i][static_cast<size_t>(comp)] = d;
      for (size_t c = 0; c < C; ++c) x[i][c] -= d * v[c];
    }
  }
  return out;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == ',') {
      if (i > start) out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

struct PlotArgs {
  std::string dir, tokens, sentences, out;
};

// A sentence as a point's label: its first `n` characters (UTF-8), then "…".
std::string short_label(const std::string& s, size_t n) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && chars++ == n) return s.substr(0, i) + "…";
  return s;
}

// --sentences: one mean-pooled sentence embedding per line (pipelines/encoder.h).
void plot_sentences(const PlotArgs& a) {
  std::vector<std::string> lines;
  for (const std::string& l : data::read_lines(a.sentences))
    if (l.find_first_not_of(" \t") != std::string::npos) lines.push_back(l);
  if (lines.size() < 3 || lines.size() > 200)
    throw ValueError("--sentences " + a.sentences + ": give 3 … 200 non-empty lines, got " + std::to_string(lines.size()));
  const auto model = models::load_model(a.dir);
  const auto tok = tokenizers::Tokenizer::from_path(a.dir + "/tokenizer.json");
  const auto enc = pipelines::TextEncoder::of(*model, tok);  // ValueError naming a decoder-only family
  const Tensor e = pipelines::embed_texts(enc, lines, pipelines::Pooling::Mean).contiguous();  // (N,C)
  const int64_t C = e.size(1);
  const std::vector<float> v = e.to_vector();
  std::vector<std::vector<double>> x;
  for (size_t i = 0; i < lines.size(); ++i) x.emplace_back(v.begin() + static_cast<std::ptrdiff_t>(i * C),
                                                           v.begin() + static_cast<std::ptrdiff_t>((i + 1) * C));
  const auto p = pca(x, 2);
  std::vector<double> px, py;
  for (const auto& r : p) px.push_back(r[0]), py.push_back(r[1]);
  std::vector<std::string> labels;
  for (const std::string& l : lines) labels.push_back(short_label(l, 40));
  viz::scatter(a.out, px, py, labels, {"sentence embeddings (mean-pooled, PCA)", "PC 1", "PC 2"});
  std::printf("wrote %s (%zu sentences, %ld-dim embeddings)\n", a.out.c_str(), lines.size(), static_cast<long>(C));
}

void run_plot(const PlotArgs& a) {
  check_plot_path(a.out);
  if (a.tokens.empty() == a.sentences.empty()) throw ValueError("give --tokens WORDS or --sentences FILE (one of them)");
  if (!a.sentences.empty()) return plot_sentences(a);
  const std::vector<std::string> words = split_commas(a.tokens);
  if (words.size() < 3 || words.size() > 200)
    throw ValueError("--tokens: give 3 … 200 comma-separated words, got " + std::to_string(words.size()));
  const Table t = load_table(a.dir);
  std::vector<std::vector<double>> x;
  for (const std::string& w : words) x.push_back(t.vector_of(w));
  const auto p = pca(x, 2);
  std::vector<double> px, py;
  for (const auto& r : p) px.push_back(r[0]), py.push_back(r[1]);
  viz::scatter(a.out, px, py, words, {"token embeddings (PCA)", "PC 1", "PC 2"});
  std::printf("wrote %s (%zu words, %ld-dim embeddings)\n", a.out.c_str(), words.size(), static_cast<long>(t.C));
}

struct NeighborArgs {
  std::string dir, word;
  int64_t k = 10;
};

void run_neighbors(const NeighborArgs& a) {
  if (a.k < 1) throw ValueError("-k must be >= 1");
  const Table t = load_table(a.dir);
  const std::vector<double> q = t.vector_of(a.word);
  const std::vector<int64_t> own = t.tok.encode(a.word);
  const double qn = std::sqrt(std::inner_product(q.begin(), q.end(), q.begin(), 0.0));
  std::vector<std::pair<double, int64_t>> sims;
  for (int64_t id = 0; id < t.V; ++id) {
    if (own.size() == 1 && own[0] == id) continue;  // the word itself
    double dot = 0, n = 0;
    for (int64_t c = 0; c < t.C; ++c) {
      const double e = t.e[id * t.C + c];
      dot += e * q[c], n += e * e;
    }
    sims.emplace_back(n > 0 && qn > 0 ? dot / std::sqrt(n) / qn : 0.0, id);
  }
  const size_t k = std::min(static_cast<size_t>(a.k), sims.size());
  std::partial_sort(sims.begin(), sims.begin() + static_cast<std::ptrdiff_t>(k), sims.end(),
                    [](const auto& x, const auto& y) { return x.first > y.first || (x.first == y.first && x.second < y.second); });
  for (size_t i = 0; i < k; ++i) std::printf("%s %.4f\n", pad_label(t.tok.label(sims[i].second), 20).c_str(), sims[i].first);
}

void add_plot_embeddings_command(CLI::App& plot) {
  auto* c = plot.add_subcommand("embeddings", "Labelled 2-D PCA scatter of chosen words' token embeddings, or of "
                                                "sentences' embeddings (encoder models)");
  static PlotArgs a;
  c->add_option("dir", a.dir, "Model directory (gpt, llama, bert or translation)")->required();
  c->add_option("--tokens", a.tokens, "Comma-separated words (3 … 200), e.g. king,queen,man,woman")->default_str("none");
  c->add_option("--sentences", a.sentences,
                "BERT, translation: a file of sentences (3 … 200 lines), each drawn as its mean-pooled embedding")
      ->default_str("none");
  c->add_option("-o,--out", a.out, "Output file: .png, .svg or .pdf")->required();
  c->callback([] { run_plot(a); });
}

void add_neighbors_command(CLI::App& app) {
  auto* c = app.add_subcommand("neighbors", "The tokens nearest to a word by cosine of the input embeddings");
  static NeighborArgs a;
  c->add_option("dir", a.dir, "Model directory (gpt, llama, bert or translation)")->required();
  c->add_option("word", a.word, "The word (several tokens: their mean vector)")->required();
  c->add_option("-k", a.k, "How many neighbours")->capture_default_str();
  c->callback([] { run_neighbors(a); });
}

}  // namespace

QKV_REGISTER_SUBCOMMAND("plot", "embeddings", 40, add_plot_embeddings_command);
QKV_REGISTER_COMMAND("neighbors", 79, add_neighbors_command);

}  // namespace qkv::cli
