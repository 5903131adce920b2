// `qkv report RUN -o report.html`: one self-contained static page about a
// training run — its configuration, the loss and learning-rate curves, the
// evaluation table, samples from its model (fixed seed) and attention
// pictures. No network and no server: the style is inline and every figure is
// inline SVG drawn by the same code as `qkv plot` (docs/PLOTS.md).
//   GPT, Llama:   samples continue --prompt; attention over the first sample's start (or --text)
//   Transformer:  samples translate --source lines (default: the training data's first lines);
//                 attention is the first one's cross-attention
//   BERT:         no samples (it does not generate); attention over --text (default: the data's first line)
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "attention_maps.h"
#include "commands.h"
#include "report_html.h"
#include "qkv/autograd/autograd.h"
#include "qkv/generate/generate.h"
#include "qkv/io/file.h"
#include "qkv/io/json.h"
#include "qkv/models/bert.h"
#include "qkv/models/causal_decoder.h"
#include "qkv/models/registry.h"
#include "qkv/models/transformer.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/train/run_log.h"
#include "qkv/version.h"
#include "qkv/viz/viz.h"

namespace qkv::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ReportArgs {
  std::string run, out, prompt = "\n", text;
  std::vector<std::string> sources;
  int64_t samples = 3, max_new_tokens = 120, attention_tokens = 16;
  float temperature = 0.8f;
  uint64_t seed = 1337;
  int threads = 0;
};

// The page is being built; sections append here in order.
struct Page {
  std::vector<std::pair<std::string, std::string>> toc;  // (id, title)
  std::string body;
  void add(const std::string& id, const std::string& title, const std::string& html) {
    toc.emplace_back(id, title);
    body += report::section(id, title, html);
  }
};

// Before any work: an .html name in an existing folder.
void check_out(const std::string& out) {
  std::string ext = fs::path(out).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext != ".html" && ext != ".htm")
    throw ValueError("-o " + out + ": the report is an HTML page; name it *.html");
  const fs::path dir = fs::path(out).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::is_directory(dir, ec)) throw IOError("cannot write " + out + ": no such folder " + dir.string());
}

json read_json_if(const std::string& path) { return fs::exists(path) ? io::read_json(path) : json(); }

// The training data files the run recorded (trainer_state.json's fingerprint:
// one {"path": …} or a list of them), for default sample inputs.
std::vector<std::string> data_files(const json& state) {
  std::vector<std::string> out;
  if (!state.is_object() || !state.contains("data_fingerprint")) return out;
  const json& fp = state["data_fingerprint"];
  auto add = [&out](const json& f) {
    if (f.is_object() && f.contains("path") && f["path"].is_string()) out.push_back(f["path"].get<std::string>());
  };
  if (fp.is_array())
    for (const json& f : fp) add(f);
  else
    add(fp);
  return out;
}

// The first `n` non-empty lines of `path` (none if it is gone).
std::vector<std::string> first_lines(const std::string& path, size_t n) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (out.size() < n && std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) out.push_back(line);
  }
  return out;
}

std::string first_words(const std::string& s, size_t n) {
  std::string out;
  size_t words = 0;
  for (size_t i = 0; i < s.size() && words < n;) {
    const size_t start = s.find_first_not_of(' ', i);
    if (start == std::string::npos) break;
    const size_t end = std::min(s.find(' ', start), s.size());
    out += (out.empty() ? "" : " ") + s.substr(start, end - start);
    ++words, i = end;
  }
  return out;
}

std::string note(const std::string& text) { return "<p class=\"note\">" + report::escape(text) + "</p>\n"; }

// Header line: family, size, progress, best score.
std::string summary(const ReportArgs& a, const models::Model* m, const json& state, const train::RunLog& log) {
  std::string s = "<h1>" + report::escape(fs::path(a.run).lexically_normal().string()) + "</h1>\n<p class=\"summary\">";
  if (m) {
    char n[48];
    std::snprintf(n, sizeof n, "%.3g M", static_cast<double>(m->num_parameters()) / 1e6);
    s += report::escape(m->model_type()) + " · " + n + " parameters · ";
  }
  if (state.is_object() && state.contains("step")) {
    s += "step " + report::cell(state["step"]);
    if (state.contains("train_config") && state["train_config"].contains("max_iters"))
      s += " of " + report::cell(state["train_config"]["max_iters"]);
    s += " · ";
  }
  s += std::to_string(log.step.size()) + " logged steps, " + std::to_string(log.evals.size()) + " evaluations";
  if (state.is_object() && state.contains("best_val_loss") && state["best_val_loss"].is_number())
    s += " · best val loss " + report::cell(state["best_val_loss"]);
  return s + "</p>\n";
}

// Fields as a three-column list (a config has a few dozen short fields: a
// table of them would fill the first screen of the page).
std::string key_value_table(const json& j, const std::string& caption) {
  std::string html = "<div class=\"kv\"><h3>" + report::escape(caption) + "</h3>\n<dl>\n";
  for (const auto& [k, v] : j.items())
    html += "<div><dt>" + report::escape(k) + "</dt><dd>" + report::cell(v) + "</dd></div>\n";
  return html + "</dl></div>\n";
}

std::string config_section(const json& model_cfg, const json& state) {
  std::string html = "<div class=\"configs\">\n";
  if (model_cfg.is_object()) html += key_value_table(model_cfg, "model (config.json)");
  if (state.is_object() && state.contains("train_config"))
    html += key_value_table(state["train_config"], "training (trainer_state.json)");
  html += "</div>\n";
  if (!model_cfg.is_object() && !(state.is_object() && state.contains("train_config")))
    return note("no config.json or trainer_state.json in the run");
  const std::vector<std::string> files = data_files(state);
  if (!files.empty()) {
    std::string list;
    for (const std::string& f : files) list += (list.empty() ? "" : ", ") + report::escape(f);
    html += "<p>data: " + list + "</p>\n";
  }
  return html;
}

std::string loss_section(const ReportArgs& a, const train::RunLog& log) {
  const std::string name = fs::path(a.run).lexically_normal().filename().string();
  const std::string svg = report::svg_figure(
      [&](const std::string& path) { viz::loss_plot(path, {train::loss_curve(log, name)}, "loss"); }, "loss-");
  return "<figure>" + svg + "<figcaption>every step's training loss (light) and its moving average, the "
                            "evaluations (train ●, val ■), the learning rate (dashed, right axis)</figcaption></figure>\n";
}

// One row per evaluation: step, losses, lr first, then every other logged key.
std::string eval_section(const train::RunLog& log) {
  if (log.evals.empty()) return note("no evaluations logged yet (log.jsonl)");
  std::vector<std::string> keys{"step", "train_loss", "val_loss", "lr"};
  for (const json& r : log.evals)
    for (const auto& [k, v] : r.items())
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  std::vector<std::vector<std::string>> rows;
  for (const json& r : log.evals) {
    std::vector<std::string> row;
    for (const std::string& k : keys) row.push_back(r.contains(k) ? report::cell(r[k]) : "");
    rows.push_back(row);
  }
  std::vector<std::string> header;
  for (const std::string& k : keys) header.push_back(report::escape(k));
  return report::table(header, rows, "evals");
}

std::string attention_figure(const AttentionPlot& p, const AttentionMaps& maps, const std::string& caption) {
  const std::string svg = report::svg_figure(
      [&](const std::string& path) {
        AttentionPlot q = p;
        q.out = path, q.grid = true, q.quiet = true;
        draw_attention(q, maps);
      },
      "attn-");
  return "<figure>" + svg + "<figcaption>" + report::escape(caption) + "</figcaption></figure>\n";
}

// GPT, Llama: samples continue the prompt; attention over the first sample's start.
void decoder_sections(const ReportArgs& a, const models::CausalDecoderLM& lm, Page& page) {
  const tokenizers::TextCodec tok = tokenizers::load_codec(a.run + "/tokenizer.json");
  std::vector<int64_t> prompt;
  try {
    prompt = tok.encode(a.prompt);
  } catch (const ValueError& e) {
    throw ValueError(std::string("--prompt: ") + e.what());
  }
  if (prompt.empty()) throw ValueError("--prompt has no tokens");
  generate::GenerateOptions opt;
  opt.max_new_tokens = a.max_new_tokens;
  opt.sampling.temperature = a.temperature;
  Generator gen(a.seed);
  const auto seqs = generate::generate(lm, std::vector<std::vector<int64_t>>(a.samples, prompt), opt, gen);
  char settings[160];
  std::snprintf(settings, sizeof settings, "%lld samples of %lld new tokens, temperature %g, seed %llu; the prompt in bold",
                static_cast<long long>(a.samples), static_cast<long long>(a.max_new_tokens), a.temperature,
                static_cast<unsigned long long>(a.seed));
  std::string html = "<p>" + report::escape(settings) + "</p>\n";
  for (const auto& s : seqs) {
    const std::vector<int64_t> cont(s.begin() + static_cast<std::ptrdiff_t>(prompt.size()), s.end());
    html += "<pre class=\"sample\"><b>" + report::escape(tok.decode(prompt)) + "</b>" +
            report::escape(tok.decode(cont)) + "</pre>\n";
  }
  page.add("samples", "Samples", html);

  AttentionPlot p{.dir = a.run, .text = a.text};
  if (p.text.empty()) {  // the first sample's first tokens (within the context)
    const auto& s = seqs.front();
    const int64_t n = std::min({a.attention_tokens, lm.context_length(), static_cast<int64_t>(s.size())});
    p.text = tok.decode(std::vector<int64_t>(s.begin(), s.begin() + n));
  }
  const AttentionMaps maps = attention_maps(p, lm);
  std::string shown;  // the default prompt is a newline: shown as the figure's labels show it
  for (char c : p.text) shown += c == '\n' ? std::string("↵") : std::string(1, c);
  page.add("attention", "Attention",
           attention_figure(p, maps, "causal self-attention of every layer × head over \"" + shown + "\""));
}

// The translation model: samples are greedy translations; attention the first one's cross-attention.
void translation_sections(const ReportArgs& a, const models::Model& m, const json& state, Page& page) {
  std::vector<std::string> sources = a.sources;
  const std::vector<std::string> files = data_files(state);
  if (sources.empty() && !files.empty()) sources = first_lines(files.front(), static_cast<size_t>(a.samples));
  if (sources.empty()) {
    page.add("samples", "Samples", note("no --source given and the training source file is gone"));
    return;
  }
  std::vector<std::vector<std::string>> rows;
  std::string figure;
  for (const std::string& src : sources) {
    const AttentionPlot p{.dir = a.run, .source = src, .part = "cross", .quiet = true};
    const AttentionMaps maps = attention_maps(p, m);
    rows.push_back({report::escape(src), report::escape(maps.translation)});
    if (figure.empty())
      figure = attention_figure(p, maps, "cross-attention (target × source) of every decoder layer × head for \"" + src +
                                             "\"");
  }
  page.add("samples", "Samples",
           "<p>greedy translations (beam 1)</p>\n" + report::table({"source", "translation"}, rows));
  page.add("attention", "Attention", figure);
}

// BERT: no samples; the encoder's self-attention over a sentence.
void bert_sections(const ReportArgs& a, const models::Model& m, const json& state, Page& page) {
  page.add("samples", "Samples", note("a BERT encoder does not generate text: no samples"));
  std::string text = a.text;
  const std::vector<std::string> files = data_files(state);
  if (text.empty() && !files.empty()) {
    const auto lines = first_lines(files.front(), 1);
    if (!lines.empty()) text = first_words(lines.front(), 12);
  }
  if (text.empty()) {
    page.add("attention", "Attention", note("no --text given and the training data is gone"));
    return;
  }
  const AttentionPlot p{.dir = a.run, .text = text, .quiet = true};
  page.add("attention", "Attention",
           attention_figure(p, attention_maps(p, m), "self-attention of every layer × head over \"" + text + "\""));
}

void run_report(const ReportArgs& a) {
  check_out(a.out);
  if (a.samples < 1 || a.samples > 20) throw ValueError("--samples must be in 1 … 20");
  if (a.max_new_tokens < 1) throw ValueError("--max-new-tokens must be >= 1");
  if (a.attention_tokens < 1) throw ValueError("--attention-tokens must be >= 1");
  apply_threads(a.threads);
  const train::RunLog log = train::read_run_log(a.run);  // not a directory, not a run: an error naming it
  const json state = read_json_if(a.run + "/trainer_state.json");
  const json model_cfg = read_json_if(a.run + "/config.json");
  std::unique_ptr<models::Model> model;
  if (fs::exists(a.run + "/model.safetensors") && model_cfg.is_object()) model = models::load_model(a.run);

  Page page;
  page.add("config", "Configuration", config_section(model_cfg, state));
  page.add("loss", "Loss and learning rate",
           log.step.empty() && log.eval_step.empty() ? note("nothing logged yet") : loss_section(a, log));
  page.add("evals", "Evaluations", eval_section(log));
  if (!model) {
    page.add("samples", "Samples", note("no model in the run (config.json, model.safetensors)"));
  } else {
    NoGradGuard ng;
    if (const auto* lm = dynamic_cast<const models::CausalDecoderLM*>(model.get())) decoder_sections(a, *lm, page);
    else if (dynamic_cast<const models::Transformer*>(model.get())) translation_sections(a, *model, state, page);
    else if (dynamic_cast<const models::Bert*>(model.get())) bert_sections(a, *model, state, page);
    else page.add("samples", "Samples", note("no samples or attention for a '" + model->model_type() + "' model"));
  }
  const std::string body = summary(a, model.get(), state, log) + page.body +
                           "<footer class=\"note\">made by qkv " + kVersion + " (qkv report)</footer>\n";
  io::write_file_atomic(a.out, report::page("qkv report: " + a.run, page.toc, body));
  std::printf("wrote %s\n", a.out.c_str());
}

void add_report_command(CLI::App& app) {
  auto* c = app.add_subcommand(
      "report", "One self-contained HTML page about a training run: configuration, loss and learning-rate curves, "
                "evaluations, samples and attention pictures (no network, no server)");
  static ReportArgs a;
  c->add_option("run", a.run, "Run directory (made by `qkv train …`)")->required();
  c->add_option("-o,--out", a.out, "Output page (.html)")->required();
  c->add_option("--prompt", a.prompt, "GPT, Llama: the samples' prompt")->default_str("\\n");
  c->add_option("--samples", a.samples, "Samples to draw (or source lines to translate)")->capture_default_str();
  c->add_option("--max-new-tokens", a.max_new_tokens, "GPT, Llama: tokens per sample")->capture_default_str();
  c->add_option("--temperature", a.temperature, "GPT, Llama: sampling temperature (0 = greedy)")->capture_default_str();
  c->add_option("--seed", a.seed, "Random seed of the samples")->capture_default_str();
  c->add_option("--text", a.text,
                "GPT, Llama, BERT: the text of the attention pictures (default: the first sample's first "
                "--attention-tokens tokens; BERT: the training data's first line)")
      ->default_str("auto");
  c->add_option("--attention-tokens", a.attention_tokens, "GPT, Llama: tokens of the first sample the attention shows")
      ->capture_default_str();
  c->add_option("--source", a.sources,
                "Translation: a source sentence to translate (repeat; default: the training data's first lines)")
      ->default_str("none");
  c->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  c->callback([] { run_report(a); });
}

}  // namespace

QKV_REGISTER_COMMAND("report", 75, add_report_command);

}  // namespace qkv::cli
