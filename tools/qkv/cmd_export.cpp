// `qkv export DIR --format hf OUT`: a qkv model directory (or an imported
// one) written as a Hugging Face directory transformers loads as it is
// (models::export_hf): config.json, model.safetensors, tokenizer.json.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "qkv/models/hf.h"
#include "qkv/models/lora.h"
#include "qkv/models/registry.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::cli {
namespace {

struct Args {
  std::string dir, out, format = "hf";
  bool force = false;
};

void run(const Args& a) {
  namespace fs = std::filesystem;
  if (a.format != "hf") throw ValueError("--format must be hf, got " + a.format);
  if (fs::exists(a.out) && !fs::is_empty(a.out) && !a.force)
    throw ValueError(a.out + " exists and is not empty; pass --force to write into it");
  auto model = models::load_model(a.dir);
  if (!models::lora_layers(*model).empty()) {  // a LoRA run: the exported model is base + adapters
    models::merge_lora(*model);
    std::printf("merged the LoRA adapters of %zu layers into the base weights\n", models::lora_layers(*model).size());
  }
  const std::string tok = tokenizers::tokenizer_file_in(a.dir);
  models::export_hf(*model, a.out, tok);
  std::printf("wrote %s (Hugging Face %s: config.json, model.safetensors%s)\n", a.out.c_str(),
              model->model_type() == "gpt" ? "gpt2" : model->model_type().c_str(),
              tok.empty() ? "" : (", " + fs::path(tok).filename().string()).c_str());
}

void add_export_command(CLI::App& app) {
  auto* c = app.add_subcommand("export", "Write a model directory in another format: --format hf gives a Hugging Face "
                                         "directory (GPT → gpt2, Llama → llama)");
  static Args a;
  c->add_option("dir", a.dir, "Model directory (qkv's or Hugging Face's)")->required();
  c->add_option("out", a.out, "Output directory")->required();
  c->add_option("--format", a.format, "Output format: hf")->capture_default_str();
  c->add_flag("--force", a.force, "Write into a non-empty output directory");
  c->callback([] { run(a); });
}

}  // namespace

QKV_REGISTER_COMMAND("export", 77, add_export_command);

}  // namespace qkv::cli
