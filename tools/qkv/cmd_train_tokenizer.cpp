// `qkv train-tokenizer`: learn a byte-level BPE, WordPiece or character
// vocabulary from text files and write tokenizer.json (+ the classic files).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "qkv/io/file.h"
#include "qkv/core/error.h"
#include "qkv/tokenizers/char_tokenizer.h"
#include "qkv/tokenizers/trainers.h"

namespace qkv::cli {

namespace {

// The files train-tokenizer may write; an --out holding any of them is refused
// (before any work is done) unless --overwrite.
void refuse_to_overwrite(const std::string& out, bool overwrite) {
  namespace fs = std::filesystem;
  if (overwrite || !fs::exists(out)) return;
  if (!fs::is_directory(out)) throw IOError(out + ": exists and is not a directory");
  std::string found;
  for (const char* f : {"tokenizer.json", "vocab.json", "merges.txt", "vocab.txt"})
    if (fs::exists(fs::path(out) / f)) found += (found.empty() ? "" : ", ") + std::string(f);
  if (!found.empty())
    throw IOError(out + " already holds a tokenizer (" + found +
                  "); pass --overwrite to replace it or choose another --out");
}

void add_train_tokenizer_command(CLI::App& app) {
  struct Args {
    std::string type = "bpe", out;
    int64_t vocab_size = 8000;
    int64_t min_frequency = 2;
    std::vector<std::string> special, files;
    int threads = 0;
    bool overwrite = false, cased = false;
  };
  static Args a;
  auto* cmd = app.add_subcommand("train-tokenizer", "Train a bpe | wordpiece | char tokenizer on text files");
  cmd->add_option("--type", a.type, "bpe (byte-level, GPT-2 style), wordpiece (BERT style) or char")
      ->check(CLI::IsMember({"bpe", "wordpiece", "char"}))
      ->capture_default_str();
  cmd->add_option("--vocab-size", a.vocab_size, "Vocabulary size incl. special tokens and alphabet (bpe, wordpiece)")
      ->capture_default_str();
  cmd->add_option("--min-frequency", a.min_frequency, "Never merge a pair seen fewer times")->capture_default_str();
  // One token per flag, repeated for more (--special '<pad>' --special '[UNK]'): taken
  // verbatim, so "[UNK]" is not read as a list and a file name after it is not swallowed.
  cmd->add_option("--special", a.special, "A special token (ids 0.. in the order given); repeat the flag for more")
      ->allow_extra_args(false)
      ->default_str("none");
  cmd->add_option("--out", a.out, "Output directory (created)")->required();
  cmd->add_option("--threads", a.threads, "Threads for word counting (0 = physical cores)")->capture_default_str();
  cmd->add_flag("--cased", a.cased, "WordPiece: keep case and accents (BERT-cased) instead of lowercasing");
  cmd->add_flag("--overwrite", a.overwrite, "Replace the tokenizer files already in --out");
  cmd->add_option("files", a.files, "Training text files")->required();
  cmd->callback([] {
    apply_threads(a.threads);
    if (a.vocab_size < 1 || a.vocab_size > (int64_t{1} << 24))
      throw ValueError("--vocab-size must be between 1 and 16777216, got " + std::to_string(a.vocab_size));
    for (size_t i = 0; i < a.special.size(); ++i) {
      if (a.special[i].empty()) throw ValueError("--special: an empty token cannot be a special token");
      for (size_t j = 0; j < i; ++j)
        if (a.special[j] == a.special[i]) throw ValueError("--special: \"" + a.special[i] + "\" is given twice");
    }
    if (a.cased && a.type != "wordpiece")
      throw ValueError("--cased applies to --type wordpiece (bpe and char never change the text)");
    refuse_to_overwrite(a.out, a.overwrite);
    std::vector<std::string> texts;
    for (const std::string& f : a.files) texts.push_back(io::read_file(f));  // regular files only: a FIFO would block
    std::filesystem::create_directories(a.out);
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> written = {"tokenizer.json"};
    int64_t vocab = 0;
    if (a.type == "char") {
      std::string all;
      for (const std::string& t : texts) all += t;
      auto tok = tokenizers::CharTokenizer::build(all);
      tok.save(a.out + "/tokenizer.json");
      vocab = tok.vocab_size();
    } else {
      tokenizers::TrainerOptions o{.vocab_size = static_cast<size_t>(a.vocab_size), .min_frequency = a.min_frequency, .special_tokens = a.special, .lowercase = !a.cased};
      tokenizers::Tokenizer tok =
          a.type == "bpe" ? tokenizers::train_byte_level_bpe(texts, o) : tokenizers::train_wordpiece(texts, o);
      tok.save(a.out + "/tokenizer.json");
      for (const std::string& f : tokenizers::save_model_files(tok, a.out)) written.push_back(f);
      vocab = tok.vocab_size();
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string names;
    for (const std::string& w : written) names += (names.empty() ? "" : ", ") + w;
    std::printf("trained %s tokenizer: vocab %lld in %.2f s; wrote %s to %s\n", a.type.c_str(), (long long)vocab, secs,
                names.c_str(), a.out.c_str());
  });
}

}  // namespace

QKV_REGISTER_COMMAND("train-tokenizer", 40, add_train_tokenizer_command);

}  // namespace qkv::cli
