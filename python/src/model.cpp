// qkv.load(dir) and qkv.Model: a model directory (any family the registry
// knows: qkv's own runs and Hugging Face directories alike) with its
// tokenizer, and what each family can do — generate (GPT, Llama), embed
// (BERT, the translation model's encoder), the Hugging Face pipelines (BERT).
// The work runs with the GIL released, so other Python threads go on.
#include <pybind11/stl.h>

#include <filesystem>
#include <optional>
#include <variant>

#include "bindings.h"
#include "qkv/autograd/autograd.h"
#include "qkv/generate/beam.h"
#include "qkv/generate/generate.h"
#include "qkv/models/bert.h"
#include "qkv/models/causal_decoder.h"
#include "qkv/models/hf.h"
#include "qkv/models/registry.h"
#include "qkv/models/transformer.h"
#include "qkv/ops/quantized.h"
#include "qkv/pipelines/encoder.h"
#include "qkv/pipelines/pipelines.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/tokenizers/tokenizer.h"

namespace py = pybind11;

namespace qkv::python {
namespace {

namespace fs = std::filesystem;
using Prompt = std::variant<std::string, std::vector<int64_t>>;
using generate::Hypothesis;

class Model {
 public:
  // As `qkv generate` loads a decoder (tokenizer.json required, weights
  // quantized as --weights, generation_config.json read); other families
  // take the tokenizer the encoder commands read (tokenizers::Tokenizer).
  static std::shared_ptr<Model> load(const std::string& dir, const std::string& weights) {
    if (!fs::is_directory(dir))
      throw IOError(dir + (fs::exists(dir) ? ": not a directory" : ": no such directory") +
                    " (expected a model directory: config.json, model.safetensors, tokenizer.json)");
    WeightFormat format;
    try {
      format = kernels::parse_weight_format(weights);
    } catch (const ValueError& e) {
      throw ValueError(std::string("weights: ") + e.what());
    }
    auto m = std::make_shared<Model>();
    m->dir_ = dir;
    m->model_ = models::load_model(dir);
    if (auto* lm = m->decoder()) {
      const std::string tok_path = tokenizers::tokenizer_file_in(dir);
      if (tok_path.empty()) throw IOError(dir + ": missing tokenizer.json (or a SentencePiece tokenizer.model)");
      m->codec_ = tokenizers::load_codec(tok_path);
      if (m->codec_->vocab_size != lm->vocab_size())
        throw ValueError(tok_path + " has " + std::to_string(m->codec_->vocab_size) +
                         " tokens but config.json says vocab_size " + std::to_string(lm->vocab_size()));
      lm->quantize(format);
      m->generation_ = models::read_generation_config(dir);
    } else {
      if (format != WeightFormat::F32)
        throw ValueError("weights: " + std::string(weights) + " applies to decoders (gpt, llama), not to '" +
                         m->model_->model_type() + "'");
      m->tokenizer_ = tokenizers::Tokenizer::from_path(dir);
    }
    return m;
  }
  // A model built from a config (random weights, seeded) without a tokenizer.
  static std::shared_ptr<Model> create(const py::dict& config, uint64_t seed) {
    const nlohmann::json j = from_python(config, "config");
    py::gil_scoped_release release;  // initialising a large model takes a while
    Generator gen(seed);
    auto m = std::make_shared<Model>();
    m->model_ = models::create_model(j, gen);
    m->model_->eval();
    return m;
  }

  models::Model& model() const { return *model_; }
  const std::string& dir() const { return dir_; }
  std::optional<tokenizers::TextCodec> codec() const { return codec_; }

  std::vector<int64_t> tokenize(std::string_view text) const {
    if (codec_) return codec_->encode(text);
    return tokenizer("tokenize").encode_ids(text, {.add_special_tokens = true});
  }
  py::str decode(const std::vector<int64_t>& ids) const {
    return utf8(codec_ ? codec_->decode(ids) : tokenizer("decode").decode(ids));
  }

  // `qkv generate`'s defaults and its treatment of generation_config.json:
  // the sampling settings given here win; none given = the file's, if any.
  py::object generate(const Prompt& prompt, int64_t max_new_tokens, std::optional<float> temperature,
                      std::optional<int64_t> top_k, std::optional<float> top_p, uint64_t seed,
                      std::optional<int64_t> eos) const {
    const models::CausalDecoderLM& lm = require_decoder("generate");
    if (max_new_tokens < 0) throw ValueError("max_new_tokens must be >= 0");
    generate::GenerateOptions opt;
    opt.max_new_tokens = max_new_tokens;
    opt.sampling.temperature = temperature.value_or(0.8f);
    opt.sampling.top_k = top_k.value_or(0);
    opt.sampling.top_p = top_p.value_or(1.0f);
    opt.sampling.validate();
    generate::apply_generation_config(generation_, dir_, lm.vocab_size(), temperature || top_k || top_p, opt);
    if (eos) {
      if (*eos < 0 || *eos >= lm.vocab_size())
        throw ValueError("eos " + std::to_string(*eos) + " is not a token id (vocab_size " +
                         std::to_string(lm.vocab_size()) + ")");
      opt.eos = eos;
    }
    const bool text = std::holds_alternative<std::string>(prompt);
    std::vector<int64_t> ids;
    if (text) {
      if (std::get<std::string>(prompt).empty()) throw ValueError("prompt must not be empty");
      try {
        ids = tokenize(std::get<std::string>(prompt));
      } catch (const ValueError& e) {
        throw ValueError(std::string("prompt: ") + e.what());
      }
    } else {
      ids = std::get<std::vector<int64_t>>(prompt);
      if (ids.empty()) throw ValueError("prompt must not be empty");
    }
    std::vector<int64_t> out;
    {
      py::gil_scoped_release release;
      Generator gen(seed);
      out = generate::generate(lm, {ids}, opt, gen)[0];
    }
    const std::vector<int64_t> added(out.begin() + static_cast<std::ptrdiff_t>(ids.size()), out.end());
    if (text) return decode(added);
    return py::cast(added);
  }

  // Next-token logits (B,T,V) of ids (B,T), no grad.
  py::object logits(const Tensor& ids) const {
    const models::CausalDecoderLM& lm = require_decoder("logits");
    Tensor out;
    {
      py::gil_scoped_release release;
      NoGradGuard ng;
      Generator gen(0);
      out = lm.lm_logits(ids.dim() == 1 ? ids.unsqueeze(0) : ids, gen);
    }
    return to_numpy(out);
  }

  py::object embed(const std::vector<std::string>& texts, const std::string& pooling, int64_t batch_size) const {
    const tokenizers::Tokenizer& tok = tokenizer("embed");
    const pipelines::Pooling p = pipelines::pooling_from_name(pooling);
    if (batch_size < 1) throw ValueError("batch_size must be >= 1");
    Tensor e;
    {
      py::gil_scoped_release release;
      const auto enc = pipelines::TextEncoder::of(*model_, tok);
      e = pipelines::embed_texts(enc, texts, p, batch_size);
    }
    return to_numpy(e);
  }

  py::object fill_mask(const std::string& text, int64_t top_k) const {
    std::vector<std::vector<pipelines::MaskPrediction>> res;
    {
      py::gil_scoped_release release;
      res = pipelines::fill_mask(require_bert("fill_mask"), tokenizer("fill_mask"), text, top_k);
    }
    py::list all;
    for (const auto& preds : res) {
      py::list one;
      for (const auto& p : preds)
        one.append(py::dict(py::arg("score") = p.score, py::arg("token") = p.token,
                            py::arg("token_str") = utf8(p.token_str), py::arg("sequence") = utf8(p.sequence)));
      all.append(one);
    }
    return all.size() == 1 ? all[0] : py::object(all);  // transformers' shape: a list per mask only with several
  }

  py::list classify_text(const std::string& text, const std::string& text_pair, int64_t top_k) const {
    std::vector<pipelines::LabelScore> res;
    {
      py::gil_scoped_release release;
      res = pipelines::classify_text(require_bert("classify_text"), tokenizer("classify_text"), text, text_pair, top_k);
    }
    py::list out;
    for (const auto& r : res) out.append(py::dict(py::arg("label") = r.label, py::arg("score") = r.score));
    return out;
  }

  py::list classify_tokens(const std::string& text, const std::string& aggregation) const {
    const pipelines::Aggregation agg = pipelines::aggregation_from_name(aggregation);
    std::vector<pipelines::TokenEntity> res;
    {
      py::gil_scoped_release release;
      res = pipelines::classify_tokens(require_bert("classify_tokens"), tokenizer("classify_tokens"), text, agg);
    }
    py::list out;
    for (const auto& e : res) {
      py::dict d;
      d[agg != pipelines::Aggregation::None ? "entity_group" : "entity"] = e.entity;
      d["score"] = e.score;
      if (agg == pipelines::Aggregation::None) d["index"] = e.index;
      d["word"] = utf8(e.word), d["start"] = e.start, d["end"] = e.end;
      out.append(d);
    }
    return out;
  }

  // `qkv translate`: beam search over the sources, batched by length. One
  // string per text (n_best 1) or n_best {text, score} dicts, best first.
  py::list translate(const std::vector<std::string>& texts, const generate::BeamOptions& given, int64_t batch_size,
                     int64_t max_tokens) const {
    const auto* t = dynamic_cast<const models::Transformer*>(model_.get());
    if (!t)
      throw ValueError("translate: this is a '" + model_->model_type() + "' model; translation needs a transformer");
    const models::Seq2SeqConfig& cfg = t->config;
    generate::BeamOptions opt = given;
    opt.max_new_tokens = cfg.max_len;  // the decoder's cache holds max_len target positions
    opt.eos = cfg.eos_id;
    opt.validate();
    if (batch_size < 1) throw ValueError("batch_size must be >= 1");
    if (max_tokens < 0) throw ValueError("max_tokens must be >= 0 (0 = no limit)");
    const tokenizers::Tokenizer& tok = tokenizer("translate");
    std::vector<std::vector<Hypothesis>> hyps;
    {
      py::gil_scoped_release release;
      std::vector<std::vector<int64_t>> src;
      for (const std::string& text : texts) {
        src.push_back(text.empty() ? std::vector<int64_t>{} : tok.encode(text).ids);
        if (static_cast<int64_t>(src.back().size()) > cfg.max_len) src.back().resize(cfg.max_len);  // as the CLI (which warns)
      }
      hyps = generate::beam_search_sources(
          *t, src, opt, {.pad_id = cfg.pad_id, .bos_id = cfg.bos_id, .batch_size = batch_size, .max_tokens = max_tokens});
    }
    py::list out;
    for (const auto& h : hyps) {
      if (opt.n_best == 1) {
        out.append(utf8(h.empty() ? std::string() : tok.decode(h[0].tokens)));
        continue;
      }
      py::list best;
      for (const auto& x : h) best.append(py::dict(py::arg("text") = utf8(tok.decode(x.tokens)), py::arg("score") = x.score));
      out.append(best);
    }
    return out;
  }

  void save(const std::string& dir, int64_t step) const {
    py::gil_scoped_release release;
    models::save_model(dir, *model_, step);
  }

 private:
  models::CausalDecoderLM* decoder() const { return dynamic_cast<models::CausalDecoderLM*>(model_.get()); }
  const models::CausalDecoderLM& require_decoder(const char* what) const {
    if (auto* lm = decoder()) return *lm;
    throw ValueError(std::string(what) + ": this is a '" + model_->model_type() +
                     "' model; only decoders (gpt, llama) generate");
  }
  const models::Bert& require_bert(const char* what) const {
    if (auto* b = dynamic_cast<const models::Bert*>(model_.get())) return *b;
    throw ValueError(std::string(what) + ": this is a '" + model_->model_type() + "' model; the pipelines need a bert");
  }
  const tokenizers::Tokenizer& tokenizer(const char* what) const {
    if (tokenizer_) return *tokenizer_;
    throw ValueError(std::string(what) + ": the model has no " + (codec_ ? "encoder tokenizer" : "tokenizer") +
                     (dir_.empty() ? " (built with qkv.create_model: save it with a tokenizer and qkv.load it)" : ""));
  }

  std::string dir_;
  std::unique_ptr<models::Model> model_;
  std::optional<tokenizers::TextCodec> codec_;       // decoders: what `qkv generate` uses
  std::optional<tokenizers::Tokenizer> tokenizer_;   // encoders: what `qkv embed` / `qkv pipeline` use
  models::GenerationDefaults generation_;
};

}  // namespace

void bind_model(py::module_& m) {
  py::class_<Model, std::shared_ptr<Model>>(m, "Model", "A loaded model directory (qkv.load) with its tokenizer")
      .def_property_readonly("model_type", [](const Model& s) { return s.model().model_type(); })
      .def_property_readonly("config", [](const Model& s) { return to_python(s.model().config_json()); })
      .def_property_readonly("num_parameters", [](const Model& s) { return s.model().num_parameters(); })
      .def_property_readonly("dir", &Model::dir)
      .def_property_readonly("tokenizer", &Model::codec, "the decoder's qkv.Tokenizer (None for encoders)")
      .def("tokenize", &Model::tokenize, py::arg("text"))
      .def("decode", &Model::decode, py::arg("ids"))
      .def("generate", &Model::generate, py::arg("prompt"), py::kw_only(), py::arg("max_new_tokens") = 200,
           py::arg("temperature") = py::none(), py::arg("top_k") = py::none(), py::arg("top_p") = py::none(),
           py::arg("seed") = 1337, py::arg("eos") = py::none(),
           "Continues the prompt as `qkv generate` does (same seed → same tokens). A str prompt returns the "
           "continuation's text, a list of ids the new ids. Sampling defaults: temperature 0.8, top_k 0 (off), "
           "top_p 1 (off), or generation_config.json's when none of the three is given; temperature 0 = greedy.")
      .def("logits", &Model::logits, py::arg("ids"), "Next-token logits (B,T,V) of ids (B,T) or (T,) int64")
      .def("embed", &Model::embed, py::arg("texts"), py::kw_only(), py::arg("pooling") = "mean",
           py::arg("batch_size") = 32, "Sentence embeddings (N,C), rows of norm 1 (as `qkv embed`)")
      .def("fill_mask", &Model::fill_mask, py::arg("text"), py::kw_only(), py::arg("top_k") = 5)
      .def("classify_text", &Model::classify_text, py::arg("text"), py::kw_only(), py::arg("text_pair") = "",
           py::arg("top_k") = 1)
      .def("classify_tokens", &Model::classify_tokens, py::arg("text"), py::kw_only(),
           py::arg("aggregation") = "none")
      .def(
          "translate",
          [](const Model& s, const std::vector<std::string>& texts, int64_t beam, float alpha, int64_t n_best,
             float max_len_a, int64_t max_len_b, int64_t batch_size, int64_t max_tokens) {
            return s.translate(texts,
                               {.beam_size = beam, .length_penalty = alpha, .n_best = n_best, .max_len_a = max_len_a,
                                .max_len_b = max_len_b},
                               batch_size, max_tokens);
          },
          py::arg("texts"), py::kw_only(), py::arg("beam") = 4, py::arg("alpha") = 0.6f, py::arg("n_best") = 1,
          py::arg("max_len_a") = 1.5f, py::arg("max_len_b") = 10, py::arg("batch_size") = 32, py::arg("max_tokens") = 0,
          "`qkv translate` on a list of texts (encoder–decoder models): one string each, or with n_best > 1 a "
          "list of {text, score}, best first")
      .def("save", &Model::save, py::arg("dir"), py::kw_only(), py::arg("step") = 0,
           "Writes config.json + model.safetensors (no tokenizer)")
      .def("__repr__", [](const Model& s) {
        return "qkv.Model(" + s.model().model_type() + ", " + std::to_string(s.model().num_parameters()) +
               " parameters" + (s.dir().empty() ? "" : ", '" + s.dir() + "'") + ")";
      });
  m.def(
      "load", [](const std::string& dir, const std::string& weights) {
        py::gil_scoped_release release;
        return Model::load(dir, weights);
      },
      py::arg("dir"), py::kw_only(), py::arg("weights") = "f32",
      "A model directory and its tokenizer. weights: f32, bf16 or int8 for decoders (as `qkv generate --weights`)");
  m.def("create_model", &Model::create, py::arg("config"), py::kw_only(), py::arg("seed") = 0,
        "A model with random weights from a config dict (config.json's fields, \"model_type\" included)");
}

}  // namespace qkv::python
