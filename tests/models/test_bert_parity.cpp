// BERT against PyTorch (llm.c's test_gpt2 pattern): the fixtures written by
// tests/fixtures/bert/make_bert_fixture.py hold a tiny BERT per head
// (pretraining MLM + NSP, sequence classification, token classification,
// question answering): config, weights under Hugging Face's names, a padded
// batch of sentence pairs, the head's logits, the loss, every parameter
// gradient and (pretraining) 10 AdamW-step losses. Then the config rules, the
// bad inputs and the model directory.
#include <gtest/gtest.h>

#include <filesystem>

#include "qkv/autograd/autograd.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/bert.h"
#include "qkv/models/registry.h"
#include "qkv/nn/param_groups.h"
#include "qkv/ops/ops.h"
#include "qkv/optim/adam.h"
#include "qkv/optim/clip.h"
#include "support/compare.h"

using namespace qkv;
using qkv::testing::max_abs_diff;

namespace {

std::string fixture(const std::string& head) {
  return std::string(QKV_TEST_FIXTURES) + "/bert/bert_tiny_" + head + ".safetensors";
}

struct Loaded {
  io::NamedTensors fx;
  std::unique_ptr<models::Bert> model;
  int n_params = 0;
  models::BertInputs in;
};

Loaded load(const std::string& head) {
  Loaded l;
  l.fx = io::load_safetensors(fixture(head));
  Generator gen(0);
  auto cfg = models::BertConfig::from_json(nlohmann::json::parse(l.fx.metadata.at("config")));
  l.model = std::make_unique<models::Bert>(cfg, gen);
  nn::NamedTensors sd;
  for (const auto& [pname, t] : l.fx.tensors)
    if (pname.rfind("param.", 0) == 0) sd.push_back({pname.substr(6), t}), ++l.n_params;
  l.model->load_state_dict(sd, true);  // strict: every Hugging Face name must match
  l.in = {l.fx.at("input.input_ids"), l.fx.at("input.token_type_ids"), l.fx.at("input.attention_mask")};
  return l;
}

// The loss of one head as the fixture defines it.
Tensor head_loss(const Loaded& l, const std::string& head, Generator& gen, std::vector<Tensor>* outs = nullptr) {
  const models::Bert& m = *l.model;
  Tensor h = m.hidden(l.in, gen);
  if (head == "pretraining") {
    Tensor mlm = m.mlm_logits(h), nsp = m.nsp_logits(m.pooled(h));
    if (outs) *outs = {mlm, nsp};
    return add(cross_entropy(mlm, l.fx.at("input.labels")), cross_entropy(nsp, l.fx.at("input.next_sentence_label")));
  }
  if (head == "seqcls") {
    Tensor logits = m.sequence_logits(h, gen);
    if (outs) *outs = {logits};
    return cross_entropy(logits, l.fx.at("input.labels"));
  }
  if (head == "tokcls") {
    Tensor logits = m.token_logits(h, gen);
    if (outs) *outs = {logits};
    return cross_entropy(logits, l.fx.at("input.labels"));
  }
  Tensor logits = m.qa_logits(h);  // (B,T,2)
  Tensor start = logits.select(2, 0), end = logits.select(2, 1);
  if (outs) *outs = {start, end};
  return mul(add(cross_entropy(start, l.fx.at("input.start_positions")),
                 cross_entropy(end, l.fx.at("input.end_positions"))),
             0.5f);
}

std::vector<std::string> output_names(const std::string& head) {
  if (head == "pretraining") return {"output.mlm_logits", "output.nsp_logits"};
  if (head == "qa") return {"output.start_logits", "output.end_logits"};
  return {"output.logits"};
}

void check_head(const std::string& head) {
  SCOPED_TRACE(head);
  Loaded l = load(head);
  Generator gen(0);
  std::vector<Tensor> outs;
  Tensor loss = head_loss(l, head, gen, &outs);
  const auto names = output_names(head);
  ASSERT_EQ(outs.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    float d = max_abs_diff(outs[i], l.fx.at(names[i]));
    EXPECT_LE(d, 1e-5f) << names[i] << " maxdiff " << d;
  }
  EXPECT_NEAR(loss.item(), l.fx.at("loss").item(), 1e-5f);
  loss.backward();
  int checked = 0;
  for (const auto& [name, p] : l.model->named_parameters()) {
    ASSERT_TRUE(l.fx.contains("grad." + name)) << name;
    ASSERT_TRUE(p.grad().defined()) << name << " has no gradient";
    float d = max_abs_diff(p.grad(), l.fx.at("grad." + name));
    EXPECT_LE(d, 2e-5f) << "grad " << name << " maxdiff " << d;
    ++checked;
  }
  EXPECT_EQ(checked, l.n_params);
}

models::BertConfig small_config(models::BertHead head = models::BertHead::PreTraining) {
  models::BertConfig c;
  c.vocab_size = 20, c.hidden_size = 16, c.num_hidden_layers = 2, c.num_attention_heads = 2;
  c.intermediate_size = 32, c.max_position_embeddings = 10, c.head = head;
  c.hidden_dropout_prob = 0.0f, c.attention_probs_dropout_prob = 0.0f;
  if (head == models::BertHead::SequenceClassification || head == models::BertHead::TokenClassification)
    c.labels = {"a", "b"};
  return c;
}

}  // namespace

TEST(BertParity, PretrainingLogitsLossAndEveryGradient) {
  check_head("pretraining");
  Loaded l = load("pretraining");
  // embeddings 5 (3 tables, LayerNorm 2); per layer 16 (query, key, value, attention dense,
  // intermediate, output dense: 2 each; two LayerNorms: 2 each); pooler 2; cls.predictions 5
  // (bias, transform dense 2, transform LayerNorm 2); seq_relationship 2.
  EXPECT_EQ(l.n_params, 5 + 16 * 2 + 2 + 5 + 2);
}
TEST(BertParity, SequenceClassification) { check_head("seqcls"); }
TEST(BertParity, TokenClassification) { check_head("tokcls"); }
TEST(BertParity, QuestionAnswering) { check_head("qa"); }

TEST(BertParity, TenAdamWStepsFollowPyTorch) {
  Loaded l = load("pretraining");
  optim::AdamW opt(nn::decay_groups(*l.model, 0.1f), 1e-3f, 0.9f, 0.99f, 1e-8f);
  Tensor want = l.fx.at("adamw_losses");
  for (int64_t step = 0; step < 10; ++step) {
    opt.zero_grad();
    Generator gen(0);
    Tensor loss = head_loss(l, "pretraining", gen);
    loss.backward();
    optim::clip_grad_norm(l.model->parameters(), 1.0f);
    opt.step();
    EXPECT_NEAR(loss.item(), want.to_vector()[step], 2e-4f) << "step " << step;
  }
}

TEST(BertModel, PaddingDoesNotChangeTheRealTokens) {
  Generator gen(3);
  models::Bert m(small_config(), gen);
  m.eval();
  Tensor ids = tensor_i64({2, 5, 7, 9, 3}, {1, 5});
  Tensor padded = tensor_i64({2, 5, 7, 9, 3, 0, 0}, {1, 7});
  Tensor mask = tensor_bool({true, true, true, true, true, false, false}, {1, 7});
  Generator g(0);
  Tensor a = m.hidden({ids, {}, {}}, g);
  Tensor b = m.hidden({padded, {}, mask}, g).narrow(1, 0, 5);
  EXPECT_LE(max_abs_diff(a, b), 1e-5f);
}

TEST(BertModel, InitialisationFollowsHuggingFace) {
  Generator gen(4);
  auto c = small_config();
  c.pad_token_id = 3;
  models::Bert m(c, gen);
  Tensor row = m.bert->embeddings->word_embeddings->weight.select(0, 3).contiguous();
  for (float v : row.to_vector()) EXPECT_EQ(v, 0.0f);
  for (float v : m.cls->predictions->bias.to_vector()) EXPECT_EQ(v, 0.0f);
  for (float v : m.bert->encoder->layer->items[0]->output->LayerNorm->weight.to_vector()) EXPECT_EQ(v, 1.0f);
  // N(0, 0.02²): the sample std of a 16×16 matrix is within 30% of 0.02.
  auto w = m.bert->pooler->dense->weight.to_vector();
  double ss = 0;
  for (float v : w) ss += v * v;
  EXPECT_NEAR(std::sqrt(ss / w.size()), 0.02, 0.006);
}

TEST(BertModel, HeadsExistOnlyWhereTheArchitectureHasThem) {
  Generator gen(5);
  models::Bert qa(small_config(models::BertHead::QuestionAnswering), gen);
  Generator g(0);
  Tensor h = qa.hidden({tensor_i64({1, 2, 3}, {1, 3}), {}, {}}, g);
  EXPECT_THROW(qa.mlm_logits(h), ValueError);
  EXPECT_THROW(qa.pooled(h), ValueError);  // no pooler, as HF's add_pooling_layer=False
  EXPECT_THROW(qa.sequence_logits(h, g), ValueError);
  EXPECT_EQ(qa.qa_logits(h).shape(), (Shape{1, 3, 2}));
  for (const auto& [name, _] : qa.state_dict()) EXPECT_EQ(name.find("pooler"), std::string::npos) << name;
  models::Bert mlm(small_config(models::BertHead::MaskedLM), gen);
  EXPECT_EQ(mlm.mlm_logits(h).shape(), (Shape{1, 3, 20}));
  EXPECT_THROW(mlm.nsp_logits(h.select(1, 0)), ValueError);
}

TEST(BertModel, BadInputsNameWhatIsWrong) {
  Generator gen(6);
  models::Bert m(small_config(), gen);
  Generator g(0);
  auto msg = [&](const models::BertInputs& in) {
    try {
      m.hidden(in, g);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto ids = [](std::vector<int64_t> v) { const int64_t n = v.size(); return tensor_i64(v, {1, n}); };
  EXPECT_NE(msg({ids({1, 25})}).find("input_ids holds 25"), std::string::npos);
  EXPECT_NE(msg({ids(std::vector<int64_t>(11, 1))}).find("longer than max_position_embeddings 10"), std::string::npos);
  EXPECT_NE(msg({ids({1, 2}), ids({0, 2})}).find("token_type_ids holds 2"), std::string::npos);
  EXPECT_NE(msg({ids({1, 2}), {}, ids({1, 1})}).find("attention_mask must be bool"), std::string::npos);
}

TEST(BertConfig, ReadsAndWritesHuggingFaceFields) {
  auto c = models::BertConfig::from_json(
      {{"model_type", "bert"}, {"architectures", {"BertForTokenClassification"}}, {"hidden_size", 64},
       {"num_attention_heads", 4}, {"id2label", {{"1", "B-PER"}, {"0", "O"}}}, {"classifier_dropout", nullptr}});
  EXPECT_EQ(c.head, models::BertHead::TokenClassification);
  EXPECT_EQ(c.labels, (std::vector<std::string>{"O", "B-PER"}));
  auto j = c.to_json();
  EXPECT_EQ(j["label2id"]["B-PER"], 1);
  EXPECT_EQ(j["num_labels"], 2);
  EXPECT_EQ(models::BertConfig::from_json(j), c);
  auto n = models::BertConfig::from_json({{"architectures", {"BertForSequenceClassification"}}, {"num_labels", 3}});
  EXPECT_EQ(n.labels, (std::vector<std::string>{"LABEL_0", "LABEL_1", "LABEL_2"}));
}

TEST(BertConfig, RejectsBadFields) {
  auto err = [](const nlohmann::json& j) {
    try {
      models::BertConfig::from_json(j);
    } catch (const ValueError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(err({{"architectures", {"BertForSomething"}}}).find("unknown architecture \"BertForSomething\""),
            std::string::npos);
  EXPECT_NE(err({{"architectures", {"BertForSequenceClassification"}}}).find("needs labels"), std::string::npos);
  EXPECT_NE(err({{"hidden_size", 30}, {"num_attention_heads", 4}}).find("divisible"), std::string::npos);
  EXPECT_NE(err({{"hidden_sise", 30}}).find("hidden_size"), std::string::npos);  // nearest known key
  EXPECT_NE(err({{"id2label", {{"0", "a"}, {"2", "b"}}}, {"architectures", {"BertForTokenClassification"}}})
                .find("id2label key \"2\""),
            std::string::npos);
  EXPECT_NE(err({{"position_embedding_type", "relative_key"}}).find("position_embedding_type"), std::string::npos);
}

TEST(BertModel, DirectoryRoundTripAndEncoderTransfer) {
  Generator gen(7);
  models::Bert pre(small_config(), gen);
  const std::string dir = ::testing::TempDir() + "/bert_dir";
  std::filesystem::remove_all(dir);
  models::save_model(dir, pre, 3);
  auto back = models::load_model_as<models::Bert>(dir);
  EXPECT_EQ(back->config, pre.config);
  auto sd = pre.state_dict();
  auto sd2 = back->state_dict();
  ASSERT_EQ(sd.size(), sd2.size());
  for (size_t i = 0; i < sd.size(); ++i) EXPECT_EQ(max_abs_diff(sd[i].second, sd2[i].second), 0.0f) << sd[i].first;
  // A classifier on the pretrained encoder: encoder and pooler copied, head fresh.
  models::Bert cls(small_config(models::BertHead::SequenceClassification), gen);
  cls.load_encoder_from(*back);
  EXPECT_EQ(max_abs_diff(cls.bert->pooler->dense->weight, pre.bert->pooler->dense->weight), 0.0f);
  EXPECT_EQ(max_abs_diff(cls.bert->embeddings->word_embeddings->weight, pre.bert->embeddings->word_embeddings->weight),
            0.0f);
  auto wider = small_config(models::BertHead::TokenClassification);
  wider.hidden_size = 32;
  models::Bert other(wider, gen);
  EXPECT_THROW(other.load_encoder_from(pre), ValueError);
  std::filesystem::remove_all(dir);
}
