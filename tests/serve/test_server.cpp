// qkv serve in process: OpenAI's completions API over HTTP, continuous
// batching giving every request the tokens it gets alone, streaming,
// cancellation, limits, keys, errors and draining.
#include <atomic>
#include <chrono>
#include <future>

#include <fstream>
#include <sstream>

#include "qkv/generate/generate.h"
#include "qkv/models/bert.h"
#include "qkv/models/transformer.h"
#include "qkv/tokenizers/trainers.h"
#include "support/shell.h"
#include "qkv/pipelines/encoder.h"
#include "qkv/tokenizers/tokenizer.h"
#include "serve/serve_fixture.h"

using namespace qkv;
using namespace qkv::testing;
using nlohmann::json;

namespace {

class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { dir_ = write_tiny_gpt(temp_dir("gpt")); }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  // The continuation `qkv generate --seed SEED` draws for this prompt.
  static std::string alone(const std::string& prompt, int64_t max_tokens, float temperature, uint64_t seed) {
    serve::ServedModel m = serve::load_served_model(dir_);
    auto& lm = dynamic_cast<models::CausalDecoderLM&>(*m.model);
    generate::GenerateOptions o;
    o.max_new_tokens = max_tokens;
    o.sampling.temperature = temperature;
    Generator gen(seed);
    const std::vector<int64_t> ids = m.codec.encode(prompt);
    auto out = generate::generate(lm, {ids}, o, gen);
    return m.codec.decode({out[0].begin() + static_cast<long>(ids.size()), out[0].end()});
  }
  static std::string dir_;
};
std::string Serve::dir_;

json completion(const std::string& prompt, int64_t max_tokens, float temperature, uint64_t seed) {
  return {{"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", temperature}, {"seed", seed}};
}

void expect_error(const std::pair<int, json>& r, int status, const std::string& needle,
                  const std::string& param = "") {
  EXPECT_EQ(r.first, status) << r.second.dump();
  ASSERT_TRUE(r.second.contains("error")) << r.second.dump();
  const json& e = r.second["error"];
  EXPECT_NE(e["message"].get<std::string>().find(needle), std::string::npos) << e.dump();
  for (const char* k : {"type", "param", "code"}) EXPECT_TRUE(e.contains(k)) << k;
  if (!param.empty()) EXPECT_EQ(e["param"], param) << e.dump();
}

}  // namespace

TEST_F(Serve, CompletionIsWhatGenerateDrawsWithTheSameSeed) {
  RunningServer s(dir_, {});
  auto c = s.client();
  auto [status, body] = post(c, "/v1/completions", completion("the qu", 20, 0.9f, 42));
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["model"], std::filesystem::path(dir_).filename().string());
  ASSERT_EQ(body["choices"].size(), 1u);
  EXPECT_EQ(body["choices"][0]["text"], alone("the qu", 20, 0.9f, 42));
  EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(body["usage"]["prompt_tokens"], 6);
  EXPECT_EQ(body["usage"]["completion_tokens"], 20);
  EXPECT_EQ(body["usage"]["total_tokens"], 26);
}

TEST_F(Serve, ConcurrentClientsShareTheBatchAndEachGetsItsOwnTokens) {
  RunningServer s(dir_, {.parallel = 3, .queue = 16});
  const std::vector<std::string> prompts{"the", "fox j", "lazy dog. THE", "o", "brown ", "END!\n"};
  std::vector<std::future<std::pair<int, json>>> replies;
  for (size_t i = 0; i < prompts.size(); ++i)
    replies.push_back(std::async(std::launch::async, [&, i] {
      auto c = s.client();
      return post(c, "/v1/completions", completion(prompts[i], 12 + 3 * static_cast<int64_t>(i), 1.0f, 100 + i));
    }));
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto [status, body] = replies[i].get();
    ASSERT_EQ(status, 200) << body.dump();
    EXPECT_EQ(body["choices"][0]["text"], alone(prompts[i], 12 + 3 * static_cast<int64_t>(i), 1.0f, 100 + i))
        << "prompt " << i;
  }
  auto c = s.client();
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("qkv_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 6"), std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("qkv_completion_tokens_total 117"), std::string::npos) << m->body;  // Σ 12+3i
  EXPECT_NE(m->body.find("qkv_time_to_first_token_seconds_count 6"), std::string::npos);
  EXPECT_NE(m->body.find("qkv_running_sequences 0"), std::string::npos);
}

TEST_F(Serve, StreamingSendsTheSameTextAsEventsThenDone) {
  RunningServer s(dir_, {});
  auto c = s.client();
  json req = completion("the lazy", 25, 0.7f, 9);
  req["stream"] = true;
  req["stream_options"] = {{"include_usage", true}};
  auto r = c.Post("/v1/completions", req.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  const auto events = sse_payloads(r->body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  std::string finish;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    json e = json::parse(events[i]);
    EXPECT_EQ(e["object"], "text_completion");
    text += e["choices"][0]["text"].get<std::string>();
    if (!e["choices"][0]["finish_reason"].is_null()) finish = e["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(text, alone("the lazy", 25, 0.7f, 9));
  EXPECT_EQ(finish, "length");
  json usage = json::parse(events[events.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 25);
}

TEST_F(Serve, StopSequencesEchoChoicesAndLogprobs) {
  RunningServer s(dir_, {});
  auto c = s.client();
  const std::string free_text = alone("the", 30, 0.0f, 1);
  ASSERT_GE(free_text.size(), 6u);
  const std::string stop = free_text.substr(3, 2);
  json req = completion("the", 30, 0.0f, 1);
  req["stop"] = {stop, "never appears"};
  auto [status, body] = post(c, "/v1/completions", req);
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["choices"][0]["text"], free_text.substr(0, free_text.find(stop)));
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");

  req = completion("the", 5, 0.0f, 1);
  req["echo"] = true;
  req["n"] = 2;
  req["prompt"] = {"the", "fox"};
  std::tie(status, body) = post(c, "/v1/completions", req);
  ASSERT_EQ(status, 200) << body.dump();
  ASSERT_EQ(body["choices"].size(), 4u);
  EXPECT_EQ(body["choices"][0]["text"], "the" + alone("the", 5, 0.0f, 1));
  EXPECT_EQ(body["choices"][1]["text"], body["choices"][0]["text"]);  // greedy: both choices agree
  EXPECT_EQ(body["choices"][3]["index"], 3);
  EXPECT_EQ(body["choices"][2]["text"].get<std::string>().rfind("fox", 0), 0u);

  req = completion("the", 6, 0.0f, 1);
  req["logprobs"] = 2;
  std::tie(status, body) = post(c, "/v1/completions", req);
  ASSERT_EQ(status, 200) << body.dump();
  const json& lp = body["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), 6u);
  ASSERT_EQ(lp["top_logprobs"].size(), 6u);
  std::string joined;
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_LE(lp["token_logprobs"][i].get<double>(), 0.0);
    EXPECT_EQ(lp["top_logprobs"][i].size(), 2u);
    EXPECT_EQ(lp["text_offset"][i].get<size_t>(), joined.size());
    joined += lp["tokens"][i].get<std::string>();
  }
  EXPECT_EQ(joined, body["choices"][0]["text"]);
}

TEST_F(Serve, BadRequestsGetOpenAIErrors) {
  RunningServer s(dir_, {.max_body_bytes = 4096});
  auto c = s.client();
  auto raw = c.Post("/v1/completions", "{\"prompt\": ", "application/json");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 400);
  expect_error({raw->status, json::parse(raw->body)}, 400, "could not parse the JSON body");
  expect_error(post(c, "/v1/completions", {{"prompt", "the"}, {"max_tokens", "ten"}}), 400, "must be an integer",
               "max_tokens");
  expect_error(post(c, "/v1/completions", {{"prompt", "the"}, {"temperature", 3}}), 400, "between", "temperature");
  expect_error(post(c, "/v1/completions", {{"prompt", 7}}), 400, "'prompt' must be", "prompt");
  expect_error(post(c, "/v1/completions", {{"max_tokens", 3}}), 400, "'prompt' is required", "prompt");
  expect_error(post(c, "/v1/completions", {{"prompt", "the"}, {"bogus", 1}}), 400, "Unrecognized request argument",
               "bogus");
  expect_error(post(c, "/v1/completions", {{"prompt", "the"}, {"model", "gpt-4"}}), 404, "does not exist", "model");
  expect_error(post(c, "/v1/completions", {{"prompt", "the"}, {"max_tokens", 62}}), 400, "maximum context length is 64");
  expect_error(post(c, "/v1/completions", {{"prompt", "the€"}}), 400, "prompt", "prompt");  // not in the vocabulary
  expect_error(post(c, "/v1/completions", {{"prompt", {1, 2, 999}}}), 400, "token id 999", "prompt");
  expect_error(post(c, "/v1/completions", {{"prompt", "the"}, {"n", 9}}), 400, "decoding slots", "n");
  expect_error(post(c, "/v1/embeddings", {{"input", "the"}}), 400, "does not produce embeddings", "model");
  expect_error(post(c, "/v1/completions", {{"prompt", std::string(5000, 'a')}}), 413, "larger than");
  auto nowhere = c.Get("/v2/nothing");
  ASSERT_TRUE(nowhere);
  expect_error({nowhere->status, json::parse(nowhere->body)}, 404, "Unknown endpoint");
  auto [status, body] = post(c, "/v1/completions", completion("the", 3, 0.0f, 1));  // still answering
  EXPECT_EQ(status, 200) << body.dump();
}

TEST_F(Serve, ApiKeyGuardsTheApiButNotHealth) {
  RunningServer s(dir_, {.api_key = "s3cret"});
  auto c = s.client();
  expect_error(post(c, "/v1/completions", completion("the", 2, 0.0f, 1)), 401, "Incorrect API key");
  expect_error(post(c, "/v1/completions", completion("the", 2, 0.0f, 1), {{"Authorization", "Bearer s3cre"}}), 401,
               "Incorrect API key");
  EXPECT_EQ(post(c, "/v1/completions", completion("the", 2, 0.0f, 1), {{"Authorization", "Bearer s3cret"}}).first, 200);
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_TRUE(serve::bearer_matches("Bearer k", "k"));
  EXPECT_FALSE(serve::bearer_matches("Bearer kk", "k"));
  EXPECT_FALSE(serve::bearer_matches("bearer k", "k"));
  EXPECT_FALSE(serve::bearer_matches("", "k"));
}

TEST_F(Serve, AFullQueueAnswers503AndAVanishedClientFreesItsSlot) {
  // Slow enough (~1 ms a token) that 900 tokens outlast the client.
  const std::string slow = write_tiny_gpt(temp_dir("slow"), 1024, 256, 4);
  RunningServer s(slow, {.parallel = 1, .queue = 0});
  std::atomic<int> chunks{0};
  std::promise<void> first_chunk;
  // A streaming client that reads one chunk and hangs up.
  auto vanishing = std::async(std::launch::async, [&] {
    auto c = s.client();
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/completions";
    json body = completion("the", 900, 1.0f, 5);
    body["stream"] = true;
    req.body = body.dump();
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) {
      if (chunks++ == 0) {
        first_chunk.set_value();
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the slot stays busy meanwhile
      }
      return false;  // gone
    };
    c.send(req);
  });
  first_chunk.get_future().wait();
  auto c = s.client();
  auto busy = c.Post("/v1/completions", completion("fox", 3, 0.0f, 1).dump(), "application/json");
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->get_header_value("Retry-After"), "1");
  vanishing.wait();
  // The slot comes back within a few decoding steps.
  int status = 0;
  json last;
  for (int i = 0; i < 100 && status != 200; ++i) {
    std::tie(status, last) = post(c, "/v1/completions", completion("fox", 3, 0.0f, 1));
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto m = c.Get("/metrics");
  EXPECT_EQ(status, 200) << last.dump() << "\n" << m->body;
  EXPECT_NE(m->body.find("status=\"503\"}"), std::string::npos) << m->body;  // the first, and retries while the slot frees
  EXPECT_NE(m->body.find("status=\"499\"} 1"), std::string::npos) << m->body;
  EXPECT_EQ(m->body.find("qkv_completion_tokens_total 9"), std::string::npos) << "the stream ran to its end";
  s.stop();
  std::filesystem::remove_all(slow);
}

TEST_F(Serve, ShutdownFinishesTheRequestsInFlight) {
  RunningServer s(dir_, {});
  auto reply = std::async(std::launch::async, [&] {
    auto c = s.client();
    return post(c, "/v1/completions", completion("the", 50, 1.0f, 3));
  });
  // Stop only once the request is being decoded (a fixed sleep lost the race
  // on a loaded machine: the server stopped before the request arrived).
  auto metrics = s.client();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto m = metrics.Get("/metrics");
    if (m && m->body.find("\nqkv_running_sequences 1") != std::string::npos) break;
    if (reply.wait_for(std::chrono::seconds(0)) == std::future_status::ready) break;  // done before a poll saw it
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the request never started";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  s.stop();  // returns once the request above is answered
  auto [status, body] = reply.get();
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["choices"][0]["text"], alone("the", 50, 1.0f, 3));
}

TEST_F(Serve, ASecondServerOnTheSamePortIsAClearError) {
  RunningServer s(dir_, {});
  serve::Server second(serve::load_served_model(dir_), {.port = s.port()});
  try {
    second.bind();
    FAIL() << "bound twice";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on 127.0.0.1:" + std::to_string(s.port())), std::string::npos)
        << e.what();
  }
}

TEST_F(Serve, ModelsAndHealth) {
  RunningServer s(dir_, {});
  auto c = s.client();
  auto m = c.Get("/v1/models");
  ASSERT_TRUE(m);
  json j = json::parse(m->body);
  EXPECT_EQ(j["object"], "list");
  EXPECT_EQ(j["data"][0]["id"], std::filesystem::path(dir_).filename().string());
  EXPECT_EQ(j["data"][0]["meta"]["context_length"], 64);
  auto h = c.Get("/health");
  EXPECT_EQ(json::parse(h->body)["status"], "ok");
}

TEST(ServeEmbeddings, BertDirectoryAnswersEmbeddingsAndRefusesCompletions) {
  namespace fs = std::filesystem;
  const std::string dir = temp_dir("bert");
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream v(dir + "/vocab.txt");
    for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "dog"})
      v << t << "\n";
  }
  models::BertConfig c;
  c.vocab_size = 11, c.hidden_size = 16, c.num_attention_heads = 2, c.num_hidden_layers = 1;
  c.intermediate_size = 32, c.max_position_embeddings = 16;
  Generator gen(1);
  models::Bert m(c, gen);
  models::save_model(dir + "/m", m, 0);
  tokenizers::Tokenizer::bert(dir + "/vocab.txt", true).save(dir + "/m/tokenizer.json");
  RunningServer s(dir + "/m", {});
  auto client = s.client();
  auto [status, body] = post(client, "/v1/embeddings", {{"input", {"the cat sat", "the dog"}}, {"model", "m"}});
  ASSERT_EQ(status, 200) << body.dump();
  ASSERT_EQ(body["data"].size(), 2u);
  EXPECT_EQ(body["data"][1]["index"], 1);
  const auto e0 = body["data"][0]["embedding"].get<std::vector<float>>();
  ASSERT_EQ(e0.size(), 16u);
  double norm = 0;
  for (float x : e0) norm += static_cast<double>(x) * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_EQ(body["usage"]["prompt_tokens"], 9);  // [CLS] the cat sat [SEP] + [CLS] the dog [SEP]
  // The same numbers as the library's embed_texts (what `qkv embed` uses).
  auto loaded = models::load_model(dir + "/m");
  const auto tok = tokenizers::Tokenizer::from_path(dir + "/m");
  const Tensor direct = pipelines::embed_texts(pipelines::TextEncoder::of(*loaded, tok), {"the cat sat"},
                                               pipelines::Pooling::Mean);
  for (size_t i = 0; i < 16; ++i) EXPECT_NEAR(e0[i], direct.contiguous().data<float>()[i], 1e-6);
  expect_error(post(client, "/v1/completions", {{"prompt", "the"}}), 400, "does not generate text", "model");
  expect_error(post(client, "/v1/embeddings", {{"input", {1, 2}}}), 400, "token ids", "input");
  expect_error(post(client, "/v1/embeddings", {{"input", "the"}, {"encoding_format", "base64"}}), 400, "float",
               "encoding_format");
  s.stop();
  fs::remove_all(dir);
}

TEST(ServeTranslations, EncoderDecoderDirectoryTranslatesAsQkvTranslate) {
  namespace fs = std::filesystem;
  const std::string dir = temp_dir("seq2seq");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::vector<std::string> text{"the cat sat on the mat", "a dog ran in the park", "der Hund lief im Park"};
  tokenizers::Tokenizer tok = tokenizers::train_byte_level_bpe(
      text, {.vocab_size = 300, .min_frequency = 1, .special_tokens = {"<pad>", "<s>", "</s>"}});
  tok.save(dir + "/tokenizer.json");
  models::Seq2SeqConfig c;
  c.vocab_size = tok.vocab_size(), c.d_model = 16, c.n_heads = 2, c.d_ff = 32;
  c.n_encoder_layers = 1, c.n_decoder_layers = 1, c.max_len = 24;
  c.pad_id = 0, c.bos_id = 1, c.eos_id = 2;
  Generator gen(3);
  models::Transformer m(c, gen);
  models::save_model(dir, m, 0);
  RunningServer s(dir, {});
  auto client = s.client();
  auto [status, body] = post(client, "/v1/translations", {{"input", {"der Hund", "the cat"}}, {"beam_size", 2}});
  ASSERT_EQ(status, 200) << body.dump();
  ASSERT_EQ(body["data"].size(), 2u);
  std::ofstream(dir + "/in.txt") << "der Hund\nthe cat\n";
  const ShellRun cli =
      shell(std::string(QKV_CLI_PATH) + " translate " + dir + " --beam 2 --jsonl < " + dir + "/in.txt 2>/dev/null");
  ASSERT_EQ(cli.code, 0) << cli.out;
  std::istringstream lines(cli.out);
  for (size_t i = 0; i < 2; ++i) {  // (random weights: invalid UTF-8 becomes U+FFFD in both)
    std::string line;
    std::getline(lines, line);
    EXPECT_EQ(json::parse(line)["hypotheses"][0]["text"], body["data"][i]["translations"][0]["text"]) << i;
  }
  expect_error(post(client, "/v1/translations", {{"input", "x"}, {"beam_size", 0}}), 400, "between", "beam_size");
  expect_error(post(client, "/v1/translations", {{"input", 3}}), 400, "'input' must be", "input");
  expect_error(post(client, "/v1/completions", {{"prompt", "x"}}), 400, "does not generate text", "model");
  s.stop();
  fs::remove_all(dir);
}
