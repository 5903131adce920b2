// `qkv train gpt`, `qkv generate` and `qkv plot attention` end to end, with
// every bad-input case of the GPT issue.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "qkv/io/json.h"
#include "qkv/tokenizers/text_codec.h"
#include "support/shell.h"

namespace fs = std::filesystem;

namespace {

struct Out {
  int code;
  std::string text;
};

Out qkv_run(const std::string& args) {
  qkv::testing::ShellRun r = qkv::testing::qkv_cli(args);
  return {r.code, r.out};
}

class TrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (fs::temp_directory_path() / ("qkv_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    corpus = dir + "/corpus.txt";
    std::ofstream(corpus) << std::string(40, '\n') + "to be or not to be, that is the question.\n" +
                                 "whether tis nobler in the mind to suffer\n";
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string tiny(const std::string& out) {
    return "train gpt --data " + corpus + " --out " + out +
           " --n-layer 1 --n-head 2 --n-embd 16 --block-size 8 --batch-size 2 --max-iters 3 --eval-interval 2"
           " --eval-iters 1 --warmup-iters 1 --lr-decay-iters 10 --threads 1";
  }
  std::string dir, corpus;
};

void expect_fail(const Out& o, const std::string& needle) {
  EXPECT_NE(o.code, 0) << o.text;
  EXPECT_NE(o.text.find(needle), std::string::npos) << "expected '" << needle << "' in:\n" << o.text;
}

// A run with stdout and stderr apart: stdout goes through a file (the shell
// helper merges stderr into what it captures).
struct Split {
  int code;
  std::string out, err;
};

Split qkv_split(const std::string& args, const std::string& out_file) {
  qkv::testing::ShellRun r =
      qkv::testing::shell("{ " + std::string(QKV_CLI_PATH) + " " + args + " > " + out_file + "; }");
  std::ifstream f(out_file, std::ios::binary);
  return {r.code, std::string(std::istreambuf_iterator<char>(f), {}), r.out};
}

// The lines of `text`, each required to end with '\n'.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t at = 0;
  for (size_t nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) lines.push_back(text.substr(at, nl - at));
  EXPECT_EQ(at, text.size()) << "output does not end with a newline:\n" << text;
  return lines;
}

bool valid_utf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();  // the strict default error handler throws on invalid UTF-8
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

// Checks one `generate --jsonl` line against docs/CLI.md and returns it parsed.
nlohmann::json check_jsonl_line(const std::string& line, const qkv::tokenizers::TextCodec& tok, size_t sample,
                                uint64_t seed) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);  // rejects invalid UTF-8
  } catch (const nlohmann::json::exception& e) {
    ADD_FAILURE() << e.what() << " in line: " << line;
    return j;
  }
  const std::vector<std::string> fields{"prompt", "sample", "text", "ids", "prompt_ids", "new_tokens",
                                        "tokens_per_sec", "seed"};
  std::vector<std::string> keys;
  const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(line);
  for (const auto& [k, v] : ordered.items()) keys.push_back(k);
  EXPECT_EQ(keys, fields) << line;
  EXPECT_EQ(j["sample"].get<size_t>(), sample);
  EXPECT_EQ(j["seed"].get<uint64_t>(), seed);
  const auto ids = j["ids"].get<std::vector<int64_t>>();
  EXPECT_EQ(j["new_tokens"].get<size_t>(), ids.size());
  EXPECT_TRUE(j["tokens_per_sec"].is_number()) << line;
  EXPECT_GE(j["tokens_per_sec"].get<double>(), 0.0);
  const std::string text = tok.decode(ids);
  if (valid_utf8(text)) {
    EXPECT_EQ(j["text"], text) << line;  // the ids decode to the text
  } else {
    EXPECT_NE(j["text"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos) << line;  // U+FFFD
  }
  return j;
}

}  // namespace

TEST_F(TrainCli, TrainGenerateResumeAndPlot) {
  const std::string m = dir + "/model";
  Out t = qkv_run(tiny(m));
  ASSERT_EQ(t.code, 0) << t.text;
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "optimizer.safetensors",
                        "trainer_state.json", "log.jsonl", "loss.svg", "best/model.safetensors"})
    EXPECT_TRUE(fs::exists(m + "/" + f)) << f;
  Out g = qkv_run("generate " + m + " --prompt \"to be\" --max-new-tokens 10 --seed 1 --num-samples 2");
  ASSERT_EQ(g.code, 0) << g.text;
  EXPECT_EQ(g.text.rfind("to be", 0), 0u) << g.text;
  // One sample streams as it goes; the text is the same as when printed at the end.
  Out one = qkv_run("generate " + m + " --prompt \"to be\" --max-new-tokens 10 --temperature 0 2>/dev/null");
  Out two = qkv_run("generate " + m + " --prompt \"to be\" --max-new-tokens 10 --temperature 0 --num-samples 2 2>/dev/null");
  ASSERT_EQ(one.code, 0) << one.text;
  EXPECT_EQ(two.text.rfind(one.text, 0), 0u) << one.text << " vs " << two.text;
  Out r = qkv_run(tiny(m) + " --max-iters 5 --resume");
  EXPECT_EQ(r.code, 0) << r.text;
  EXPECT_NE(r.text.find("resuming"), std::string::npos) << r.text;
  EXPECT_EQ(qkv::io::read_json(m + "/trainer_state.json")["step"].get<int64_t>(), 5);
  Out p = qkv_run("plot attention " + m + " --text \"to be\" --layer 0 --head 1 -o " + dir + "/a.png");
  EXPECT_EQ(p.code, 0) << p.text;
  EXPECT_TRUE(fs::exists(dir + "/a.png"));
  expect_fail(qkv_run("plot attention " + m + " --text \"to be\" --layer 3 -o " + dir + "/b.png"), "--layer 3");
  expect_fail(qkv_run("plot attention " + m + " --text \"to be\" --head 9 -o " + dir + "/b.png"), "--head 9");
}

TEST_F(TrainCli, BadCorporaLeaveNothingBehind) {
  const std::string m = dir + "/model";
  std::ofstream(dir + "/empty.txt").close();
  std::ofstream(dir + "/short.txt") << "abc";
  expect_fail(qkv_run(tiny(m) + " --data " + dir + "/missing.txt"), "missing.txt: no such file");
  expect_fail(qkv_run(tiny(m) + " --data " + dir + "/empty.txt"), "empty.txt: the corpus is empty");
  expect_fail(qkv_run(tiny(m) + " --data " + dir + "/short.txt"), "fewer than block_size + 1");
  EXPECT_FALSE(fs::exists(m)) << "a failed run left " << m;
}

TEST_F(TrainCli, BadFlags) {
  const std::string m = dir + "/model";
  expect_fail(qkv_run(tiny(m) + " --n-layer abc"), "--n-layer");
  expect_fail(qkv_run(tiny(m) + " --n-head 3"), "divisible");
  expect_fail(qkv_run(tiny(m) + " --lr -1"), "--lr");
  expect_fail(qkv_run(tiny(m) + " --dropout 2"), "dropout");
  expect_fail(qkv_run(tiny(m) + " --batch-size 0"), "--batch-size");
  expect_fail(qkv_run(tiny(m) + " --threads -1"), "--threads");
  std::ofstream(dir + "/cfg.json") << "{\"n_layers\": 2}";
  expect_fail(qkv_run(tiny(m) + " --config " + dir + "/cfg.json"), "unknown field \"n_layers\"");
  std::ofstream(dir + "/bad.json") << "{not json";
  expect_fail(qkv_run(tiny(m) + " --config " + dir + "/bad.json"), "bad.json");
  EXPECT_FALSE(fs::exists(m));
}

TEST_F(TrainCli, ResumeAndReuseErrors) {
  const std::string m = dir + "/model";
  ASSERT_EQ(qkv_run(tiny(m)).code, 0);
  expect_fail(qkv_run(tiny(m)), "pass --resume");
  expect_fail(qkv_run(tiny(m) + " --resume --n-embd 32"), "n_embd 16 → 32 (checkpoint → this run)");
  expect_fail(qkv_run(tiny(m) + " --resume --lr 0.5"), "lr 0.001 → 0.5");
  expect_fail(qkv_run(tiny(dir + "/other") + " --resume"), "cannot --resume");
  expect_fail(qkv_run(tiny(m) + " --allow-new-data"), "--allow-new-data applies only with --resume");
  // Another corpus (same characters, other order): refused, then allowed.
  const std::string other = dir + "/other.txt";
  std::ofstream(other) << "whether tis nobler in the mind to suffer\n" + std::string(40, '\n') +
                              "to be or not to be, that is the question.\n";
  std::string with_other = tiny(m);
  with_other.replace(with_other.find(corpus), corpus.size(), other);
  expect_fail(qkv_run(with_other + " --resume --max-iters 5"), "pass --allow-new-data");
  Out r = qkv_run(with_other + " --resume --max-iters 5 --allow-new-data");
  EXPECT_EQ(r.code, 0) << r.text;
  EXPECT_EQ(qkv::io::read_json(m + "/trainer_state.json")["data_fingerprint"]["path"].get<std::string>(), other);
}

TEST_F(TrainCli, BrokenModelDirectories) {
  const std::string m = dir + "/model";
  ASSERT_EQ(qkv_run(tiny(m)).code, 0);
  expect_fail(qkv_run("generate " + m + " --prompt \"Zzz#\""), "--prompt");
  expect_fail(qkv_run("generate " + m + " --temperature -1"), "temperature");
  expect_fail(qkv_run("generate " + m + " --top-p 0"), "top_p");
  expect_fail(qkv_run("generate " + dir + "/nope"), dir + "/nope: no such directory");
  expect_fail(qkv_run("generate " + corpus), "corpus.txt: not a directory");
  // config whose shapes disagree with the weights
  auto cfg = qkv::io::read_json(m + "/config.json");
  auto bad = cfg;
  bad["n_embd"] = 32;
  qkv::io::write_json_atomic(m + "/config.json", bad);
  expect_fail(qkv_run("generate " + m), "model.safetensors");
  qkv::io::write_json_atomic(m + "/config.json", cfg);
  // truncated weights
  fs::resize_file(m + "/model.safetensors", fs::file_size(m + "/model.safetensors") / 2);
  expect_fail(qkv_run("generate " + m), "model.safetensors");
  // missing file
  fs::remove(m + "/model.safetensors");
  expect_fail(qkv_run("generate " + m), "missing model.safetensors");
  fs::remove(m + "/tokenizer.json");
  expect_fail(qkv_run("generate " + m), "missing tokenizer.json");
}

TEST_F(TrainCli, GenerateWithQuantizedWeights) {
  const std::string m = dir + "/model";
  ASSERT_EQ(qkv_run(tiny(m)).code, 0);
  for (const char* w : {"f32", "bf16", "int8"}) {
    Out g = qkv_run("generate " + m + " --prompt \"to be\" --max-new-tokens 8 --temperature 0 --stats --weights " + w);
    ASSERT_EQ(g.code, 0) << w << ":\n" << g.text;
    EXPECT_NE(g.text.find("to be"), std::string::npos) << g.text;  // stdout after --stats' stderr line
    EXPECT_NE(g.text.find(std::string(w) + " weights)"), std::string::npos) << g.text;
  }
  for (const char* bad : {"int4", "F32", "\"\""})
    expect_fail(qkv_run("generate " + m + " --weights " + bad), "qkv: error: --weights: weight format must be f32, bf16 or int8");
  Out h = qkv_run("generate --help");
  EXPECT_EQ(h.code, 0) << h.text;
  EXPECT_NE(h.text.find("--weights"), std::string::npos) << h.text;
}

// `generate --jsonl` (docs/CLI.md): one JSON line per sample and nothing else
// on stdout; sample i's ids are those of the plain run with the same seed.
TEST_F(TrainCli, GenerateJsonl) {
  const std::string m = dir + "/model";
  ASSERT_EQ(qkv_run(tiny(m)).code, 0);
  const qkv::tokenizers::TextCodec tok = qkv::tokenizers::load_codec(m);
  const std::vector<int64_t> prompt_ids = tok.encode("to be");
  const std::string run = "generate " + m + " --prompt \"to be\" --max-new-tokens 12 --seed 7";
  Split js = qkv_split(run + " --num-samples 2 --jsonl --stats", dir + "/out.jsonl");
  ASSERT_EQ(js.code, 0) << js.err;
  EXPECT_NE(js.err.find("generated 24 tokens"), std::string::npos) << js.err;  // --stats: stderr only
  const std::vector<std::string> lines = lines_of(js.out);
  ASSERT_EQ(lines.size(), 2u) << js.out;
  // The plain runs: sample i's text then a separator line; one sample streams.
  Split plain = qkv_split(run + " --num-samples 2", dir + "/plain.txt");
  Split one = qkv_split(run, dir + "/one.txt");
  ASSERT_EQ(plain.code, 0) << plain.err;
  ASSERT_EQ(one.code, 0) << one.err;
  const std::string sep = "\n---------------\n";
  double run_tps = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const nlohmann::json j = check_jsonl_line(lines[i], tok, i, 7);
    EXPECT_EQ(j["prompt"], "to be");
    EXPECT_EQ(j["prompt_ids"].get<std::vector<int64_t>>(), prompt_ids);
    std::vector<int64_t> full = prompt_ids;
    for (int64_t id : j["ids"].get<std::vector<int64_t>>()) full.push_back(id);
    EXPECT_EQ(full.size(), prompt_ids.size() + 12);
    // A character vocabulary encodes its own decoding back to the same ids.
    const size_t at = plain.out.find(sep);
    ASSERT_NE(at, std::string::npos) << plain.out;
    EXPECT_EQ(tok.encode(plain.out.substr(0, at)), full) << "sample " << i << ": " << lines[i];
    plain.out.erase(0, at + sep.size());
    if (i == 0) {
      EXPECT_EQ(one.out, tok.decode(full) + sep);  // the streamed single sample
      run_tps = j["tokens_per_sec"].get<double>();
    }
    EXPECT_EQ(j["tokens_per_sec"].get<double>(), run_tps);  // the run's, on every line
    EXPECT_GT(run_tps, 0.0);
  }
  EXPECT_EQ(plain.out, "");
  // Nothing generated: still one line, tokens_per_sec still a number.
  Split none = qkv_split("generate " + m + " --max-new-tokens 0 --jsonl", dir + "/none.jsonl");
  ASSERT_EQ(none.code, 0) << none.err;
  EXPECT_EQ(none.err, "");
  ASSERT_EQ(lines_of(none.out).size(), 1u) << none.out;
  const nlohmann::json j = check_jsonl_line(lines_of(none.out)[0], tok, 0, 1337);
  EXPECT_EQ(j["prompt"], "\n");
  EXPECT_EQ(j["text"], "");
  EXPECT_EQ(j["tokens_per_sec"].get<double>(), 0.0);
  // Errors: on stderr, exit non-zero, stdout empty.
  Split bad = qkv_split("generate " + m + " --prompt \"Zzz#\" --jsonl", dir + "/bad.jsonl");
  EXPECT_NE(bad.code, 0);
  EXPECT_EQ(bad.out, "");
  EXPECT_NE(bad.err.find("qkv: error: --prompt"), std::string::npos) << bad.err;
  if (fs::exists("/dev/full")) {  // a write that fails is an error, not a silent exit 0
    qkv::testing::ShellRun full =
        qkv::testing::shell("{ " + std::string(QKV_CLI_PATH) + " generate " + m + " --jsonl --max-new-tokens 2 > /dev/full; }");
    EXPECT_NE(full.code, 0) << full.out;
    EXPECT_NE(full.out.find("qkv: error: cannot write to stdout"), std::string::npos) << full.out;
  }
  Out h = qkv_run("generate --help");
  EXPECT_NE(h.text.find("--jsonl"), std::string::npos) << h.text;
}

// Samples run --batch-size at a time: sample i's ids depend on neither flag,
// a count far beyond memory streams out batch by batch (issue #15: 1e11
// samples allocated up front), and a bad batch size is refused.
TEST_F(TrainCli, GenerateManySamplesInBatches) {
  const std::string m = dir + "/model";
  ASSERT_EQ(qkv_run(tiny(m)).code, 0);
  const std::string run = "generate " + m + " --max-new-tokens 4 --seed 3 --jsonl --num-samples 7";
  auto ids_of = [&](const std::string& flags) {
    Split r = qkv_split(run + flags, dir + "/s.jsonl");
    EXPECT_EQ(r.code, 0) << r.err;
    std::vector<std::vector<int64_t>> ids;
    for (const std::string& line : lines_of(r.out)) {
      const nlohmann::json j = nlohmann::json::parse(line);
      EXPECT_EQ(j["sample"].get<size_t>(), ids.size());
      ids.push_back(j["ids"].get<std::vector<int64_t>>());
    }
    return ids;
  };
  const auto one_batch = ids_of(" --batch-size 7");
  ASSERT_EQ(one_batch.size(), 7u);
  EXPECT_NE(one_batch[0], one_batch[1]);  // streams differ per sample
  EXPECT_EQ(ids_of(" --batch-size 3"), one_batch);
  EXPECT_EQ(ids_of(""), one_batch);  // the default, 8
  // 10^11 samples under a 2 GB address-space cap (not under ASan, whose
  // shadow memory needs more): the first lines arrive, then the reader stops
  // (SIGPIPE), with no allocation of them all first.
#if defined(__SANITIZE_ADDRESS__)
  const std::string cap;
#else
  const std::string cap = "ulimit -v 2000000; ";
#endif
  qkv::testing::ShellRun many = qkv::testing::shell(
      cap + std::string(QKV_CLI_PATH) + " generate " + m +
      " --max-new-tokens 1 --jsonl --num-samples 100000000000 | head -n 3");
  EXPECT_EQ(lines_of(many.out).size(), 3u) << many.out;
  Out bad = qkv_run("generate " + m + " --batch-size 0");
  expect_fail(bad, "--batch-size must be in 1 … 1024, got 0");
}

TEST_F(TrainCli, TrainsWithATrainedBpeTokenizer) {
  Out tk = qkv_run("train-tokenizer --type bpe --vocab-size 300 --out " + dir + "/tok " + corpus);
  ASSERT_EQ(tk.code, 0) << tk.text;
  const std::string m = dir + "/bpe_model";
  Out t = qkv_run(tiny(m) + " --tokenizer " + dir + "/tok --block-size 4");
  ASSERT_EQ(t.code, 0) << t.text;
  const int64_t vocab = qkv::io::read_json(m + "/config.json")["vocab_size"].get<int64_t>();
  EXPECT_GT(vocab, 256);  // the byte alphabet plus merges learned from the corpus
  EXPECT_LE(vocab, 300);
  Out g = qkv_run("generate " + m + " --prompt \"to be\" --max-new-tokens 5 --temperature 0");
  EXPECT_EQ(g.code, 0) << g.text;
  EXPECT_EQ(g.text.rfind("to be", 0), 0u) << g.text;
  expect_fail(qkv_run(tiny(dir + "/x") + " --tokenizer " + dir + "/no_such_tok"), "no_such_tok");
  // --jsonl with bytes that are not UTF-8: a prompt cut inside "€" (E2 82 AC),
  // and byte tokens sampled hot; every line is still valid JSON.
  const qkv::tokenizers::TextCodec tok = qkv::tokenizers::load_codec(m);
  Split js = qkv_split("generate " + m + " --prompt \"$(printf 'to be \\342\\202')\" --max-new-tokens 40"
                       " --temperature 3 --num-samples 3 --jsonl", dir + "/bytes.jsonl");
  ASSERT_EQ(js.code, 0) << js.err;
  const std::vector<std::string> lines = lines_of(js.out);
  ASSERT_EQ(lines.size(), 3u) << js.out;
  bool bad_bytes = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const nlohmann::json j = check_jsonl_line(lines[i], tok, i, 1337);
    EXPECT_EQ(j["prompt"].get<std::string>().rfind("to be \xEF\xBF\xBD", 0), 0u) << lines[i];
    EXPECT_EQ(j["prompt_ids"].get<std::vector<int64_t>>(), tok.encode("to be \xE2\x82"));
    bad_bytes = bad_bytes || !valid_utf8(tok.decode(j["ids"].get<std::vector<int64_t>>()));
  }
  EXPECT_TRUE(bad_bytes) << "no sample decoded to invalid UTF-8; the case above went untested";
}

// Ctrl-C during training: the finished steps are saved, the message says
// where it stopped and how to continue, the exit is non-zero, and --resume
// carries on from that step.
TEST_F(TrainCli, InterruptSavesTheStepAndResumes) {
  const std::string m = dir + "/interrupted";
  const std::string run = tiny(m) + " --max-iters 100000000 --lr-decay-iters 200000000 --eval-interval 100000000";
  Out t = qkv_run(run.substr(0, 0) + "--version");  // the binary starts
  ASSERT_EQ(t.code, 0);
  qkv::testing::ShellRun r = qkv::testing::shell("timeout -s INT 3 " + std::string(QKV_CLI_PATH) + " " + run);
  EXPECT_NE(r.code, 0) << r.out;
  const size_t at = r.out.find("interrupted at step ");
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("continue with --resume"), std::string::npos) << r.out;
  const long step = std::stol(r.out.substr(at + 20));
  EXPECT_GT(step, 0);
  EXPECT_EQ(qkv::io::read_json(m + "/trainer_state.json")["step"].get<long>(), step);
  Out resumed = qkv_run(run + " --resume --max-iters " + std::to_string(step + 2));
  EXPECT_EQ(resumed.code, 0) << resumed.text;
  EXPECT_NE(resumed.text.find("resuming " + m + " at step " + std::to_string(step)), std::string::npos) << resumed.text;
}

// nanoGPT's spellings (flags and --config keys), and the precedence
// defaults < --config < explicit flags.
TEST_F(TrainCli, NanoGptSpellingsAndPrecedence) {
  const std::string m = dir + "/model";
  std::ofstream(dir + "/cfg.json") << R"({"learning_rate": 0.002, "n_layer": 2, "n_embd": 32, "gradient_accumulation_steps": 2})";
  Out t = qkv_run(tiny(m) + " --config " + dir + "/cfg.json --n_head=4 --min_lr 0.0001 --beta2=0.95");
  ASSERT_EQ(t.code, 0) << t.text;
  auto cfg = qkv::io::read_json(m + "/config.json");
  EXPECT_EQ(cfg["n_layer"].get<int64_t>(), 1);  // the explicit --n-layer 1 of tiny() beats the file's 2
  EXPECT_EQ(cfg["n_embd"].get<int64_t>(), 16);
  EXPECT_EQ(cfg["n_head"].get<int64_t>(), 4);   // --n_head=4
  auto st = qkv::io::read_json(m + "/trainer_state.json")["train_config"];
  EXPECT_FLOAT_EQ(st["lr"].get<float>(), 0.002f);  // learning_rate from the file
  EXPECT_EQ(st["grad_accum"].get<int64_t>(), 2);
  EXPECT_FLOAT_EQ(st["beta2"].get<float>(), 0.95f);
  std::ofstream(dir + "/typo.json") << R"({"learning_rat": 0.002})";
  expect_fail(qkv_run(tiny(dir + "/x") + " --config " + dir + "/typo.json"),
              "typo.json: unknown field \"learning_rat\" (did you mean \"lr\"?)");
  std::ofstream(dir + "/type.json") << R"({"bias": "yes"})";
  expect_fail(qkv_run(tiny(dir + "/x") + " --config " + dir + "/type.json"),
              "field \"bias\" must be true or false, got \"yes\"");
  EXPECT_FALSE(fs::exists(dir + "/x"));
  Out h = qkv_run("train gpt --help");
  EXPECT_EQ(h.code, 0) << h.text;
  for (const char* s : {"--n-layer,--n_layer INT=4", "--lr,--learning_rate FLOAT=0.001", "--dropout FLOAT=0",
                        "--activation TEXT=gelu", "--bias BOOLEAN=true", "--seed UINT=1337"})
    EXPECT_NE(h.text.find(s), std::string::npos) << s << " missing in:\n" << h.text;
}

// kill -9 at random moments of a run that saves after every step: every
// kill leaves a run that resumes, and no step is logged twice.
TEST_F(TrainCli, KillNineAtRandomMomentsAlwaysLeavesAResumableRun) {
  const std::string m = dir + "/killed";
  const std::string base = "train gpt --data " + corpus + " --out " + m +
                           " --n-layer 1 --n-head 2 --n-embd 16 --block-size 8 --batch-size 2 --eval-interval 1"
                           " --eval-iters 1 --warmup-iters 1 --lr-decay-iters 100000 --threads 1";
  ASSERT_EQ(qkv_run(base + " --max-iters 1").code, 0);
  std::mt19937 rng(7);
  for (int round = 0; round < 8; ++round) {
    const double delay = 0.05 + static_cast<double>(rng() % 400) / 1000.0;
    qkv::testing::shell("( " + std::string(QKV_CLI_PATH) + " " + base +
                        " --max-iters 100000 --resume > /dev/null 2>&1 & pid=$!; sleep " + std::to_string(delay) +
                        "; kill -9 $pid; wait $pid ) > /dev/null 2>&1");
  }
  const int64_t step = qkv::io::read_json(m + "/trainer_state.json")["step"].get<int64_t>();
  const Out r = qkv_run(base + " --max-iters " + std::to_string(step + 2) + " --resume");
  EXPECT_EQ(r.code, 0) << r.text;
  std::ifstream log(m + "/log.jsonl");
  int64_t last = -1;
  for (std::string line; std::getline(log, line);) {
    const int64_t s = nlohmann::json::parse(line)["step"].get<int64_t>();
    EXPECT_GT(s, last) << "step " << s << " logged after step " << last;
    last = s;
  }
  EXPECT_EQ(last, step + 2);
}
