// libFuzzer targets for the data readers, one binary each (QKV_FUZZ_READER
// picks which at compile time): GLUE/SST-2 classification TSV, CoNLL-2003,
// SQuAD JSON, and a parallel corpus (source, a NUL byte, target). Each reads
// the input as a file, as `qkv finetune`/`train` do.
#include "fuzz_util.h"
#include "qkv/data/classification.h"
#include "qkv/data/conll.h"
#include "qkv/data/readers.h"
#include "qkv/data/squad.h"

namespace data = qkv::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(bytes), size);
  qkv::fuzz::expect_clean([&] {
#if QKV_FUZZ_READER == 1  // SST-2 (one text column) and a pair spec over the same file
    const std::string path = qkv::fuzz::write_file("train.tsv", in);
    qkv::fuzz::expect_clean([&] {
      const data::ClassificationData d = data::read_classification_tsv(path);
      for (int64_t id : d.label_ids) qkv::fuzz::check(id >= 0 && size_t(id) < d.labels.names.size(), "label ids index the label set");
    });
    (void)data::read_classification_tsv(path, {.text_columns = {"question", "sentence"}, .labels = {"0", "1"}});
#elif QKV_FUZZ_READER == 2
    const std::string path = qkv::fuzz::write_file("train.conll", in);
    data::ConllData d = data::read_conll(path);
    data::convert_iob1_to_iob2(d);
    (void)data::tag_ids(d, data::conll2003_ner_labels());
#elif QKV_FUZZ_READER == 3
    const std::string path = qkv::fuzz::write_file("train-v2.0.json", in);
    for (const data::SquadExample& ex : data::read_squad(path)) (void)ex;
#elif QKV_FUZZ_READER == 4
    const auto [src, tgt] = qkv::fuzz::split_at_nul(in);
    const std::string s = qkv::fuzz::write_file("train.src", src), t = qkv::fuzz::write_file("train.tgt", tgt);
    const data::ParallelCorpus c = data::read_parallel(s, t);
    (void)c;
#else
#error "QKV_FUZZ_READER must be 1..4"
#endif
  });
  return 0;
}
