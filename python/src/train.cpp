// qkv.train_gpt / qkv.train_llama: `qkv train gpt` / `qkv train llama` from
// Python, through the same library function (train::train_causal_lm), so the
// same settings write the same checkpoint. Keyword arguments are the
// command's flags with underscores (n_layer=4, max_iters=200, lr=1e-3, or
// nanoGPT's and Hugging Face's spellings), layered as the command layers
// them: defaults < config file (or the checkpoint when resuming) < keywords.
#include <pybind11/stl.h>

#include <csignal>

#include "bindings.h"
#include "qkv/core/threading.h"
#include "qkv/io/json.h"
#include "qkv/models/gpt.h"
#include "qkv/models/llama.h"
#include "qkv/train/causal_lm_run.h"

namespace py = pybind11;

namespace qkv::python {
namespace {

std::atomic<bool> g_stop{false};
void on_sigint(int) { g_stop.store(true); }

// Ctrl-C while the trainer runs (without the GIL, so Python's own handler
// cannot act): finish the step, save it, then raise KeyboardInterrupt.
class StopOnSigint {
 public:
  StopOnSigint() {
    g_stop.store(false);
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    installed_ = sigaction(SIGINT, &sa, &old_) == 0;
  }
  ~StopOnSigint() {
    if (installed_) sigaction(SIGINT, &old_, nullptr);
  }

 private:
  struct sigaction old_ {};
  bool installed_ = false;
};

template <class ModelConfig>
py::dict train(const std::string& name, const std::string& data, const std::string& out, const std::string& tokenizer,
               bool resume, bool allow_new_data, const std::optional<std::string>& config, int threads,
               const py::kwargs& fields) {
  train::CausalLMRun run{.data = data, .tokenizer = tokenizer, .out = out, .resume = resume,
                         .allow_new_data = allow_new_data};
  run.model_config = ModelConfig{}.to_json();
  run.model_type = run.model_config["model_type"];
  run.train_config = train::TrainConfig{}.to_json();
  if (resume) std::tie(run.model_config, run.train_config) = train::saved_configs(out);
  if (config)
    train::merge_config_fields<ModelConfig>(io::read_json(*config), *config, run.model_config, run.train_config);
  train::merge_config_fields<ModelConfig>(from_python(fields, name), name, run.model_config, run.train_config);
  if (threads < 0) throw ValueError(name + ": threads must be >= 0");
  if (threads > 0) set_num_threads(threads);
  run.stop = &g_stop;
  train::CausalLMRunResult r;
  {
    StopOnSigint on_ctrl_c;
    py::gil_scoped_release release;
    r = train::train_causal_lm(run);
  }
  if (!r.finished) {
    PyErr_SetString(PyExc_KeyboardInterrupt, ("interrupted at step " + std::to_string(r.step) + "; the checkpoint in " +
                                              out + " holds it: continue with resume=True").c_str());
    throw py::error_already_set();
  }
  return py::dict(py::arg("out") = out, py::arg("step") = r.step, py::arg("best_val_loss") = r.best_val_loss);
}

template <class ModelConfig>
void def_train(py::module_& m, const char* name, const char* doc) {
  m.def(
      name,
      [name](const std::string& data, const std::string& out, const std::string& tokenizer, bool resume,
             bool allow_new_data, const std::optional<std::string>& config, int threads, const py::kwargs& fields) {
        return train<ModelConfig>(name, data, out, tokenizer, resume, allow_new_data, config, threads, fields);
      },
      py::arg("data"), py::arg("out"), py::kw_only(), py::arg("tokenizer") = "char", py::arg("resume") = false,
      py::arg("allow_new_data") = false, py::arg("config") = py::none(), py::arg("threads") = 0, doc);
}

}  // namespace

void bind_train(py::module_& m) {
  def_train<models::GPTConfig>(m, "train_gpt",
                               "`qkv train gpt` from Python: train a GPT on the text file `data` into the model "
                               "directory `out`; keywords are the command's flags (n_layer=4, max_iters=200, …). "
                               "Returns {out, step, best_val_loss}.");
  def_train<models::LlamaConfig>(m, "train_llama",
                                 "`qkv train llama` from Python (hidden_size=…, num_hidden_layers=…, …); as "
                                 "train_gpt otherwise.");
}

}  // namespace qkv::python
