// Masked-LM corruption and its collator (qkv/data/mlm.h).
#include "qkv/data/mlm.h"

#include <string>
#include <utility>

#include "qkv/data/padding.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/tokenizers/wordpiece.h"

namespace qkv::data {
namespace {

void check_probability(double p, const char* field, bool open) {
  const bool ok = open ? (p > 0.0 && p < 1.0) : (p >= 0.0 && p <= 1.0);
  if (!ok)
    throw ValueError(std::string("MlmOptions: ") + field + " must be in " + (open ? "(0, 1)" : "[0, 1]") +
                     ", got " + std::to_string(p));
}

MaskAction replacement(const MlmOptions& opt, Generator& gen) {
  const double u = gen.uniform_double();
  if (u < opt.mask_replace_prob) return MaskAction::Mask;
  if (u < opt.mask_replace_prob + opt.random_replace_prob) return MaskAction::Random;
  return MaskAction::Keep;
}

// Positions [i, end) of the word starting at i: one token, or with whole-word
// masking the token and the "##" pieces that follow it.
size_t word_end(const std::vector<int64_t>& ids, size_t i, const MlmVocab& v, bool whole_word) {
  size_t end = i + 1;
  if (whole_word)
    while (end < ids.size() && !v.is_special(ids[end]) && v.is_continuation(ids[end])) ++end;
  return end;
}

}  // namespace

MlmVocab MlmVocab::from_tokenizer(const tokenizers::Tokenizer& tok) {
  MlmVocab v;
  v.vocab_size = tok.vocab_size();
  std::string missing;
  auto id_of = [&](const char* token) -> int64_t {
    if (auto id = tok.token_to_id(token)) return *id;
    missing += (missing.empty() ? "" : ", ") + std::string(token);
    return -1;
  };
  v.pad_id = id_of("[PAD]"), v.cls_id = id_of("[CLS]"), v.sep_id = id_of("[SEP]"), v.mask_id = id_of("[MASK]");
  if (!missing.empty())
    throw ValueError("masked-LM pretraining: the tokenizer has no " + missing +
                     " token (a BERT vocabulary needs [PAD], [CLS], [SEP] and [MASK])");
  v.special.assign(static_cast<size_t>(v.vocab_size), 0);
  v.continuation.assign(static_cast<size_t>(v.vocab_size), 0);
  for (const auto& a : tok.added_tokens)
    if (a.special && a.id >= 0 && a.id < v.vocab_size) v.special[static_cast<size_t>(a.id)] = 1;
  for (int64_t id : {v.pad_id, v.cls_id, v.sep_id, v.mask_id}) v.special[static_cast<size_t>(id)] = 1;
  std::string prefix = "##";
  if (auto* wp = dynamic_cast<const tokenizers::WordPieceModel*>(tok.model.get())) prefix = wp->prefix();
  for (int64_t id = 0; id < v.vocab_size; ++id) {
    auto t = tok.id_to_token(id);
    if (t && !prefix.empty() && t->size() > prefix.size() && t->starts_with(prefix))
      v.continuation[static_cast<size_t>(id)] = 1;
  }
  return v;
}

void MlmVocab::validate() const {
  if (vocab_size < 1) throw ValueError("MlmVocab: vocab_size must be at least 1, got " + std::to_string(vocab_size));
  const std::pair<const char*, int64_t> ids[] = {{"pad_id", pad_id}, {"cls_id", cls_id}, {"sep_id", sep_id},
                                                 {"mask_id", mask_id}};
  for (const auto& [name, id] : ids)
    if (id < 0 || id >= vocab_size)
      throw ValueError(std::string("MlmVocab: ") + name + " " + std::to_string(id) + " is outside [0, " +
                       std::to_string(vocab_size) + ")");
  if (special.size() != static_cast<size_t>(vocab_size) || continuation.size() != static_cast<size_t>(vocab_size))
    throw ValueError("MlmVocab: special and continuation need " + std::to_string(vocab_size) + " entries, got " +
                     std::to_string(special.size()) + " and " + std::to_string(continuation.size()));
}

void MlmOptions::validate() const {
  check_probability(mlm_probability, "mlm_probability", true);
  check_probability(mask_replace_prob, "mask_replace_prob", false);
  check_probability(random_replace_prob, "random_replace_prob", false);
  if (mask_replace_prob + random_replace_prob > 1.0 + 1e-12)
    throw ValueError("MlmOptions: mask_replace_prob + random_replace_prob must be at most 1, got " +
                     std::to_string(mask_replace_prob) + " + " + std::to_string(random_replace_prob));
}

MaskedTokens mask_tokens(const std::vector<int64_t>& ids, const MlmVocab& v, const MlmOptions& opt,
                         Generator& gen) {
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= v.vocab_size)
      throw ValueError("mask_tokens: id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                       " is outside the vocabulary [0, " + std::to_string(v.vocab_size) + ")");
  MaskedTokens m{ids, std::vector<int64_t>(ids.size(), kIgnoreIndex),
                 std::vector<MaskAction>(ids.size(), MaskAction::None)};
  for (size_t i = 0; i < ids.size();) {
    if (v.is_special(ids[i])) {
      ++i;
      continue;
    }
    const size_t end = word_end(ids, i, v, opt.whole_word);
    if (gen.uniform_double() < opt.mlm_probability) {
      const MaskAction act = replacement(opt, gen);
      for (size_t j = i; j < end; ++j) {
        m.labels[j] = ids[j];
        m.actions[j] = act;
        if (act == MaskAction::Mask) m.input_ids[j] = v.mask_id;
        if (act == MaskAction::Random) m.input_ids[j] = static_cast<int64_t>(gen.next_u64() % v.vocab_size);
      }
    }
    i = end;
  }
  return m;
}

Batch collate_mlm_rows(const std::vector<MlmRow>& rows, int64_t pad_id) {
  std::vector<std::vector<int64_t>> ids, labels, types;
  std::vector<int64_t> nsp;
  for (size_t i = 0; i < rows.size(); ++i) {
    const MlmRow& r = rows[i];
    const bool types_ok = r.token_type_ids.empty() || r.token_type_ids.size() == r.input_ids.size();
    if (r.labels.size() != r.input_ids.size() || !types_ok)
      throw ValueError("collate_mlm_rows: row " + std::to_string(i) + " has " + std::to_string(r.input_ids.size()) +
                       " input_ids, " + std::to_string(r.labels.size()) + " labels and " +
                       std::to_string(r.token_type_ids.size()) + " token_type_ids");
    if ((r.next_sentence_label >= 0) != (rows[0].next_sentence_label >= 0))
      throw ValueError("collate_mlm_rows: row " + std::to_string(i) +
                       (r.next_sentence_label >= 0 ? " has" : " has no") + " next_sentence_label but row 0" +
                       (r.next_sentence_label >= 0 ? " has none" : " has one"));
    ids.push_back(r.input_ids);
    labels.push_back(r.labels);
    types.push_back(r.token_type_ids.empty() ? std::vector<int64_t>(r.input_ids.size(), 0) : r.token_type_ids);
    nsp.push_back(r.next_sentence_label);
  }
  Padded p = pad_sequences(ids, pad_id);
  Batch b;
  b.input_ids = p.ids;
  b.attention_mask = p.mask;
  b.labels = pad_values(labels, kIgnoreIndex);
  b.extra["token_type_ids"] = pad_values(types, 0);
  if (!rows.empty() && rows[0].next_sentence_label >= 0) {
    Tensor t = Tensor::empty({static_cast<int64_t>(rows.size())}, DType::Int64);
    std::copy(nsp.begin(), nsp.end(), t.data<int64_t>());
    b.extra["next_sentence_label"] = t;
  }
  return b;
}

MlmCollator::MlmCollator(MlmVocab vocab, MlmOptions opt) : vocab_(std::move(vocab)), opt_(opt) {
  vocab_.validate();
  opt_.validate();
}

Batch MlmCollator::collate(const std::vector<Example>& examples, Generator& gen) {
  std::vector<MlmRow> rows;
  rows.reserve(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& e = examples[i];
    const std::string where = "MlmCollator: example " + std::to_string(i);
    if (!e.has("input_ids")) throw ValueError(where + " has no field 'input_ids'");
    MaskedTokens m;
    try {
      m = mask_tokens(e.at("input_ids"), vocab_, opt_, gen);
    } catch (const ValueError& err) {
      throw ValueError(where + ": " + err.what());
    }
    MlmRow r{std::move(m.input_ids), std::move(m.labels), {}, -1};
    if (e.has("token_type_ids")) r.token_type_ids = e.at("token_type_ids");
    if (e.has("next_sentence_label")) {
      const auto& l = e.at("next_sentence_label");
      if (l.size() != 1 || (l[0] != 0 && l[0] != 1))
        throw ValueError(where + ": 'next_sentence_label' must be one value, 0 (IsNext) or 1 (NotNext)");
      r.next_sentence_label = l[0];
    }
    rows.push_back(std::move(r));
  }
  try {
    return collate_mlm_rows(rows, vocab_.pad_id);
  } catch (const ValueError& err) {
    throw ValueError(std::string("MlmCollator: ") + err.what());
  }
}

}  // namespace qkv::data
