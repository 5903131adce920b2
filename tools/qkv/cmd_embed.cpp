// `qkv embed DIR --input DOCS --out INDEX` and `qkv search DIR --index INDEX`:
// sentence embeddings of documents cut into overlapping chunks, and cosine
// top-k retrieval over them — the retrieval half of retrieval-augmented
// generation, for any text encoder (BERT, the translation model's encoder).
//
// DOCS: one document per line, or JSON lines {"id": …, "text": …}.
// INDEX.safetensors holds "embeddings" (N,C) float32 (rows of norm 1) and in
// its metadata the model, the pooling and the chunks as JSON
// ([{id, chunk, start, end, text}], character offsets); INDEX.jsonl holds one
// {id, chunk, start, end, text, embedding} per line instead (not searchable).
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "qkv/core/file_kind.h"
#include "qkv/data/readers.h"
#include "qkv/io/file.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/registry.h"
#include "qkv/pipelines/encoder.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::cli {
namespace {

using ojson = nlohmann::ordered_json;
namespace fs = std::filesystem;

struct EmbedArgs {
  std::string dir, input, out, pooling = "mean";
  int64_t chunk_tokens = 0, stride = 0, batch = 32;
  int threads = 0;
};

struct Document {
  std::string id, text;
};

std::vector<Document> read_documents(const std::string& path) {
  std::vector<Document> docs;
  const std::vector<std::string> lines = data::read_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty()) continue;
    if (l.front() != '{') {
      docs.push_back({std::to_string(i + 1), l});
      continue;
    }
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(l);
    } catch (const nlohmann::json::exception&) {
      throw IOError(path + ":" + std::to_string(i + 1) + ": a line starting with '{' must be a JSON object");
    }
    if (!j.contains("text") || !j["text"].is_string())
      throw IOError(path + ":" + std::to_string(i + 1) + ": the JSON object needs a string \"text\"");
    std::string id = std::to_string(i + 1);
    if (j.contains("id")) id = j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump();
    docs.push_back({id, j["text"].get<std::string>()});
  }
  if (docs.empty()) throw IOError(path + ": no documents (every line is empty)");
  return docs;
}

void run_embed(const EmbedArgs& a) {
  apply_threads(a.threads);
  const bool jsonl = a.out.size() > 6 && a.out.substr(a.out.size() - 6) == ".jsonl";
  const bool st = a.out.size() > 12 && a.out.substr(a.out.size() - 12) == ".safetensors";
  if (!jsonl && !st) throw ValueError("--out " + a.out + ": expected a .safetensors or .jsonl file");
  const auto pooling = pipelines::pooling_from_name(a.pooling);
  const auto docs = read_documents(a.input);
  auto model = models::load_model(a.dir);
  const auto tok = tokenizers::Tokenizer::from_path(a.dir);
  const auto enc = pipelines::TextEncoder::of(*model, tok);
  const int64_t room = enc.max_length() - 2;  // [CLS] and [SEP]
  const int64_t chunk = a.chunk_tokens ? a.chunk_tokens : room;
  if (chunk > room)
    throw ValueError("--chunk-tokens " + std::to_string(chunk) + " is longer than the model reads (" +
                     std::to_string(room) + " tokens besides [CLS] and [SEP])");
  const int64_t stride = a.stride ? a.stride : std::max<int64_t>(1, chunk * 3 / 4);
  std::vector<pipelines::Chunk> chunks;
  std::vector<std::string> texts, ids;
  for (size_t d = 0; d < docs.size(); ++d)
    for (auto& c : pipelines::chunk_document(tok, docs[d].text, static_cast<int64_t>(d), chunk, stride)) {
      texts.push_back(c.text), ids.push_back(docs[d].id);
      chunks.push_back(std::move(c));
    }
  if (chunks.empty()) throw ValueError(a.input + ": the documents have no tokens");
  const Tensor e = pipelines::embed_texts(enc, texts, pooling, a.batch);
  ojson meta = ojson::array();
  std::string lines;
  const auto v = e.to_vector();
  const int64_t C = e.size(1);
  for (size_t i = 0; i < chunks.size(); ++i) {
    ojson c{{"id", ids[i]}, {"chunk", chunks[i].index}, {"start", chunks[i].start}, {"end", chunks[i].end},
            {"text", chunks[i].text}};
    if (jsonl) {
      c["embedding"] = std::vector<float>(v.begin() + i * C, v.begin() + (i + 1) * C);
      lines += compact_json(c) + "\n";
    } else {
      meta.push_back(c);
    }
  }
  if (jsonl)
    io::write_file_atomic(a.out, lines);
  else
    io::save_safetensors(a.out, {{"embeddings", e}},
                         {{"format", "qkv-embeddings"}, {"model", a.dir}, {"pooling", a.pooling},
                          {"chunks", compact_json(meta)}});
  std::fprintf(stderr, "embedded %zu chunks of %zu documents (%s pooling, %ld dims) → %s\n", chunks.size(),
               docs.size(), a.pooling.c_str(), static_cast<long>(C), a.out.c_str());
}

struct SearchArgs {
  std::string dir, index, query;
  int64_t top_k = 5;
  int threads = 0;
};

void run_search(const SearchArgs& a) {
  apply_threads(a.threads);
  const io::NamedTensors idx = io::load_safetensors(a.index);
  if (!idx.contains("embeddings") || !idx.metadata.count("chunks") || !idx.metadata.count("pooling"))
    throw IOError(a.index + ": not a qkv embed index (needs the tensor \"embeddings\" and metadata \"chunks\", "
                            "\"pooling\"; write one with qkv embed --out FILE.safetensors)");
  const nlohmann::json chunks = nlohmann::json::parse(idx.metadata.at("chunks"));
  const Tensor& e = idx.at("embeddings");
  if (e.dim() != 2 || !chunks.is_array() || static_cast<int64_t>(chunks.size()) != e.size(0))
    throw IOError(a.index + ": " + std::to_string(chunks.size()) + " chunks but embeddings " + shape_str(e.shape()));
  auto model = models::load_model(a.dir);
  const auto tok = tokenizers::Tokenizer::from_path(a.dir);
  const auto enc = pipelines::TextEncoder::of(*model, tok);
  const auto pooling = pipelines::pooling_from_name(idx.metadata.at("pooling"));
  std::vector<std::string> queries = a.query.empty() ? read_stdin_lines() : std::vector<std::string>{a.query};
  for (const std::string& q : queries) {
    if (q.empty()) continue;
    const Tensor qe = pipelines::embed_texts(enc, {q}, pooling).select(0, 0);
    if (qe.size(0) != e.size(1))
      throw ValueError(a.index + " holds " + std::to_string(e.size(1)) + "-dim embeddings but " + a.dir + " makes " +
                       std::to_string(qe.size(0)) + "-dim ones (embed and search with the same model)");
    ojson hits = ojson::array();
    for (const auto& [row, score] : pipelines::top_k_cosine(e, qe, a.top_k)) {
      ojson h = chunks[row];
      h["score"] = score;
      hits.push_back(h);
    }
    std::printf("%s\n", compact_json(ojson{{"query", q}, {"hits", hits}}).c_str());
    std::fflush(stdout);
  }
}

void add_embed_command(CLI::App& app) {
  auto* c = app.add_subcommand("embed",
                               "Sentence embeddings of documents in overlapping chunks (BERT or a translation "
                               "model's encoder), L2-normalised, for qkv search");
  static EmbedArgs a;
  c->add_option("dir", a.dir, "Model directory (bert, or transformer: its encoder)")->required();
  c->add_option("--input", a.input, "Documents: one per line, or JSON lines {\"id\", \"text\"}")->required();
  c->add_option("--out", a.out, "INDEX.safetensors (for qkv search) or FILE.jsonl (one chunk + vector per line)")
      ->required();
  c->add_option("--pooling", a.pooling, "cls (the first token's state) or mean (over real tokens)")
      ->capture_default_str();
  c->add_option("--chunk-tokens", a.chunk_tokens, "Tokens per chunk (0 = as many as the model reads)")
      ->capture_default_str();
  c->add_option("--stride", a.stride, "Tokens between chunk starts (0 = 3/4 of a chunk: chunks overlap by 1/4)")
      ->capture_default_str();
  c->add_option("--batch", a.batch, "Chunks per forward pass")->capture_default_str();
  c->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  c->callback([] { run_embed(a); });
}

void add_search_command(CLI::App& app) {
  auto* c = app.add_subcommand("search", "Cosine top-k chunks of a qkv embed index for a query (or stdin lines)");
  static SearchArgs a;
  c->add_option("dir", a.dir, "The model directory the index was embedded with")->required();
  c->add_option("--index", a.index, "INDEX.safetensors written by qkv embed")->required();
  c->add_option("--query", a.query, "The query (default: one per stdin line)")->default_str("stdin");
  c->add_option("--top-k", a.top_k, "Chunks to return per query")->capture_default_str();
  c->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  c->callback([] { run_search(a); });
}

}  // namespace

QKV_REGISTER_COMMAND("embed", 78, add_embed_command);
QKV_REGISTER_COMMAND("search", 79, add_search_command);

}  // namespace qkv::cli
