// Writes the seed corpora that come from qkv itself (run at build time, so the
// seeds always match the formats the library writes today):
//   make_seeds OUT  →  OUT/<target>/<name> for each target below.
// Hand-written seeds for the data readers live in fuzz/seeds/, and a few test
// fixtures (tests/fixtures/…) are copied in by CMake.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "qkv/core/rng.h"
#include "qkv/core/tensor.h"
#include "qkv/data/cursor.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/bert_config.h"
#include "qkv/models/gpt_config.h"
#include "qkv/models/llama_config.h"
#include "qkv/models/transformer_config.h"
#include "qkv/tokenizers/trainers.h"
#include "qkv/train/train_config.h"

namespace fs = std::filesystem;
using namespace qkv;
using namespace std::string_literals;

namespace {

std::string out_dir;

void put(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(out_dir + "/" + target);
  std::ofstream(out_dir + "/" + target + "/" + name, std::ios::binary) << bytes;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

void model_configs() {
  put("model_config", "gpt.json", models::GPTConfig{}.to_json().dump(1));
  models::GPTConfig rope;
  rope.pos_encoding = "rope";
  put("model_config", "gpt_rope.json", rope.to_json().dump());
  put("model_config", "llama.json", models::LlamaConfig{}.to_json().dump(1));
  put("model_config", "bert.json", models::BertConfig{}.to_json().dump(1));
  put("model_config", "transformer.json", models::Seq2SeqConfig{}.to_json().dump(1));
}

void tokenizers_files() {
  const std::vector<std::string> texts = {"the quick brown fox jumps over the lazy dog, the end.",
                                          "Café naïve 中文 unaffable running runs"};
  const auto bpe = tokenizers::train_byte_level_bpe(texts, {.vocab_size = 300, .min_frequency = 1,
                                                            .special_tokens = {"<|endoftext|>"}});
  const auto wp = tokenizers::train_wordpiece(texts, {.vocab_size = 120, .min_frequency = 1});
  put("tokenizer_json", "bpe.json", bpe.to_json());
  put("tokenizer_json", "wordpiece.json", wp.to_json());
  const std::string tmp = out_dir + "/.tmp";
  fs::create_directories(tmp);
  tokenizers::save_model_files(bpe, tmp);
  put("vocab_merges", "gpt2", slurp(tmp + "/vocab.json") + std::string(1, '\0') + slurp(tmp + "/merges.txt"));
  tokenizers::save_model_files(wp, tmp);
  put("vocab_txt", "uncased", "\x01" + slurp(tmp + "/vocab.txt"));
  put("vocab_txt", "cased", "\x00"s + slurp(tmp + "/vocab.txt"));
  fs::remove_all(tmp);
  put("encode_bpe", "text", "Hello world<|endoftext|> it's 42 — ok?\n");
  put("encode_wordpiece", "text", "[CLS] Hello, unaffable Café! 中文 [SEP]");
}

void trainer_states() {
  Generator data(7), dropout(8);
  nlohmann::json st = {{"step", 12},
                       {"best_val_loss", 2.5},
                       {"best_score", -2.5},
                       {"data_cursor", data::DataCursor::capture(1, 3, data).to_json()},
                       {"dropout_rng", dropout.state_hex()},
                       {"train_config", train::TrainConfig{}.to_json()},
                       {"model_config", models::GPTConfig{}.to_json()},
                       {"data_fingerprint", {{"path", "input.txt"}, {"bytes", 1000}, {"fnv1a64", "0123456789abcdef"}}}};
  put("trainer_state", "current.json", st.dump(1));
  st.erase("data_cursor");
  st.erase("best_score");
  st["data_rng"] = data.state_hex();
  put("trainer_state", "before_cursor.json", st.dump());
}

void safetensors_files() {
  const std::string path = out_dir + "/.tmp.safetensors";
  Tensor w = zeros({2, 3});
  io::save_safetensors(path, {{"wte.weight", w}, {"ids", zeros({4}, DType::Int64)}},
                       {{"format", "pt"}, {"step", "3"}});
  put("safetensors", "qkv_written", slurp(path));
  fs::remove(path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds OUT_DIR\n";
    return 2;
  }
  out_dir = argv[1];
  model_configs();
  tokenizers_files();
  trainer_states();
  safetensors_files();
  return 0;
}
