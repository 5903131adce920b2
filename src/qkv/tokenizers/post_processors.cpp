#include "qkv/tokenizers/post_processors.h"

#include "qkv/core/error.h"

namespace qkv::tokenizers {

PostProcessor PostProcessor::bert(int64_t cls_id, int64_t sep_id, const std::string& cls, const std::string& sep) {
  PostProcessor p;
  p.kind = Kind::Bert;
  p.single = {{false, cls, 0}, {true, "A", 0}, {false, sep, 0}};
  p.pair = {{false, cls, 0}, {true, "A", 0}, {false, sep, 0}, {true, "B", 1}, {false, sep, 1}};
  p.special_tokens[cls] = {{cls_id}, {cls}};
  p.special_tokens[sep] = {{sep_id}, {sep}};
  return p;
}

PostProcessor PostProcessor::roberta(int64_t bos_id, int64_t eos_id, const std::string& bos, const std::string& eos) {
  PostProcessor p;
  p.kind = Kind::Roberta;
  p.single = {{false, bos, 0}, {true, "A", 0}, {false, eos, 0}};
  // Hugging Face's RobertaProcessing gives every token of a pair type id 0
  p.pair = {{false, bos, 0}, {true, "A", 0}, {false, eos, 0}, {false, eos, 0}, {true, "B", 0}, {false, eos, 0}};
  p.special_tokens[bos] = {{bos_id}, {bos}};
  p.special_tokens[eos] = {{eos_id}, {eos}};
  p.trim_offsets = true;
  return p;
}

size_t PostProcessor::added_tokens(bool is_pair) const {
  size_t n = 0;
  for (const TemplatePiece& t : is_pair ? pair : single)
    if (!t.is_sequence) {
      auto it = special_tokens.find(t.name);
      n += it == special_tokens.end() ? 0 : it->second.ids.size();
    }
  return n;
}

namespace {

void append(Encoding& out, const Encoding& e, int64_t type_id, int32_t seq) {
  for (size_t i = 0; i < e.size(); ++i) {
    out.ids.push_back(e.ids[i]);
    out.tokens.push_back(e.tokens.empty() ? std::string() : e.tokens[i]);
    out.offsets.push_back(e.offsets[i]);
    out.type_ids.push_back(type_id);
    out.attention_mask.push_back(1);
    out.special_tokens_mask.push_back(0);
    out.sequence_ids.push_back(seq);
  }
}

// Offsets without the byte-level spaces ('Ġ' = U+0120) at either end of the token.
void trim_byte_level_offsets(Encoding& e) {
  static const std::string space = "\xC4\xA0";
  for (size_t i = 0; i < e.size() && i < e.tokens.size(); ++i) {
    const std::string& t = e.tokens[i];
    auto& [s, f] = e.offsets[i];
    for (size_t p = 0; p + 2 <= t.size() && t.compare(p, 2, space) == 0 && s < f; p += 2) ++s;
    for (size_t p = t.size(); p >= 2 && t.compare(p - 2, 2, space) == 0 && f > s; p -= 2) --f;
  }
}

}  // namespace

Encoding post_process(const PostProcessor* p, Encoding a, const Encoding* b, bool add_special_tokens) {
  Encoding trimmed_b;
  if (p && p->trim_offsets) {
    trim_byte_level_offsets(a);
    if (b) {
      trimmed_b = *b;
      trim_byte_level_offsets(trimmed_b);
      b = &trimmed_b;
    }
  }
  Encoding out;
  if (!p || !add_special_tokens || p->kind == PostProcessor::Kind::ByteLevel) {
    append(out, a, 0, 0);
    if (b) append(out, *b, 1, 1);
    return out;
  }
  for (const TemplatePiece& t : b ? p->pair : p->single) {
    if (t.is_sequence) {
      if (t.name == "A") append(out, a, t.type_id, 0);
      else if (b) append(out, *b, t.type_id, 1);
      continue;
    }
    auto it = p->special_tokens.find(t.name);
    if (it == p->special_tokens.end())
      throw ValueError("post_processor: template uses special token '" + t.name + "' that is not defined");
    for (size_t k = 0; k < it->second.ids.size(); ++k) {
      out.ids.push_back(it->second.ids[k]);
      out.tokens.push_back(k < it->second.tokens.size() ? it->second.tokens[k] : t.name);
      out.offsets.push_back({0, 0});
      out.type_ids.push_back(t.type_id);
      out.attention_mask.push_back(1);
      out.special_tokens_mask.push_back(1);
      out.sequence_ids.push_back(-1);
    }
  }
  return out;
}

}  // namespace qkv::tokenizers
