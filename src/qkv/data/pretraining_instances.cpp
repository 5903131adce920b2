// BERT's pretraining instances (qkv/data/pretraining_instances.h).
#include "qkv/data/pretraining_instances.h"

#include <string>

#include "qkv/core/error.h"

namespace qkv::data {
namespace {

int64_t randint(Generator& gen, int64_t lo, int64_t hi) {  // uniform in [lo, hi]
  return lo + static_cast<int64_t>(gen.next_u64() % static_cast<uint64_t>(hi - lo + 1));
}

void append_sentences(const PretrainingCorpus& c, int64_t first, int64_t end, std::vector<int64_t>& out) {
  for (int64_t s = first; s < end; ++s) {
    auto ids = c.sentence(s);
    out.insert(out.end(), ids.begin(), ids.end());
  }
}

PretrainingInstance make_pair(std::vector<int64_t>& a, std::vector<int64_t>& b, int64_t cls, int64_t sep) {
  PretrainingInstance in;
  in.input_ids.reserve(a.size() + b.size() + 3);
  in.input_ids.push_back(cls);
  in.input_ids.insert(in.input_ids.end(), a.begin(), a.end());
  in.input_ids.push_back(sep);
  in.b_start = static_cast<int64_t>(in.input_ids.size());
  in.input_ids.insert(in.input_ids.end(), b.begin(), b.end());
  in.input_ids.push_back(sep);
  return in;
}

// create_instances_from_document: the NSP instances of document d.
void document_instances(const PretrainingCorpus& c, int64_t d, int64_t cls, int64_t sep,
                        const InstanceOptions& opt, Generator& gen, std::vector<PretrainingInstance>& out) {
  const int64_t max_num_tokens = opt.max_seq_length - 3;
  int64_t target = max_num_tokens;
  if (gen.uniform_double() < opt.short_seq_prob) target = randint(gen, 2, max_num_tokens);
  const int64_t begin = c.doc_begin(d), end = c.doc_end(d);
  int64_t chunk_first = begin, length = 0;
  for (int64_t i = begin; i < end; ++i) {
    length += c.sentence_length(i);
    if (i != end - 1 && length < target) continue;
    const int64_t n = i - chunk_first + 1;
    const int64_t a_end = chunk_first + (n >= 2 ? randint(gen, 1, n - 1) : 1);
    std::vector<int64_t> a, b;
    append_sentences(c, chunk_first, a_end, a);
    int64_t b_first = a_end, b_end = i + 1;
    const bool not_next = n == 1 || gen.uniform_double() < 0.5;
    if (not_next) {
      const int64_t target_b = target - static_cast<int64_t>(a.size());
      int64_t other = randint(gen, 0, c.num_documents() - 2);
      if (other >= d) ++other;  // any document but this one
      b_first = randint(gen, c.doc_begin(other), c.doc_end(other) - 1);
      for (b_end = b_first; b_end < c.doc_end(other);) {
        append_sentences(c, b_end, b_end + 1, b);
        ++b_end;
        if (static_cast<int64_t>(b.size()) >= target_b) break;
      }
      i = a_end - 1;  // the unused sentences go back: the next chunk starts at a_end
    } else {
      append_sentences(c, a_end, b_end, b);
    }
    truncate_seq_pair(a, b, max_num_tokens, gen);
    PretrainingInstance in = make_pair(a, b, cls, sep);
    in.next_sentence_label = not_next ? 1 : 0;
    in.a_first = chunk_first, in.a_end = a_end, in.b_first = b_first, in.b_end = b_end;
    in.chunk_sentences = n, in.target_length = target;
    out.push_back(std::move(in));
    chunk_first = i + 1;
    length = 0;
  }
}

// RoBERTa FULL-SENTENCES: contiguous sentences up to max_seq_length − 2 ids.
std::vector<PretrainingInstance> full_sentences(const PretrainingCorpus& c, int64_t cls, int64_t sep,
                                                const InstanceOptions& opt) {
  const size_t max_num_tokens = static_cast<size_t>(opt.max_seq_length - 2);
  std::vector<PretrainingInstance> out;
  std::vector<int64_t> cur;
  int64_t first = 0;
  auto emit = [&](int64_t end) {
    PretrainingInstance in;
    in.input_ids.push_back(cls);
    in.input_ids.insert(in.input_ids.end(), cur.begin(), cur.end());
    in.input_ids.push_back(sep);
    in.b_start = static_cast<int64_t>(in.input_ids.size());
    in.a_first = first, in.a_end = end, in.chunk_sentences = end - first;
    in.target_length = static_cast<int64_t>(max_num_tokens);
    out.push_back(std::move(in));
    cur.clear();
  };
  int64_t doc = 0;
  for (int64_t s = 0; s < c.num_sentences(); ++s) {
    const bool new_doc = s == c.doc_end(doc);
    if (new_doc) ++doc;
    auto ids = c.sentence(s);
    const size_t need = ids.size() + (new_doc && !cur.empty() ? 1 : 0);
    if (!cur.empty() && cur.size() + need > max_num_tokens) emit(s);
    if (cur.empty()) first = s;
    else if (new_doc) cur.push_back(sep);  // RoBERTa's extra separator between documents
    for (size_t k = 0; k < ids.size(); ++k) {
      if (cur.size() == max_num_tokens) emit(s + 1), first = s;  // a sentence longer than a sequence: pieces
      cur.push_back(ids[k]);
    }
  }
  if (!cur.empty()) emit(c.num_sentences());
  return out;
}

}  // namespace

void InstanceOptions::validate() const {
  const int64_t min_len = next_sentence ? 5 : 3;
  if (max_seq_length < min_len)
    throw ValueError("pretraining instances: max_seq_length must be at least " + std::to_string(min_len) +
                     (next_sentence ? " ([CLS] A [SEP] B [SEP] with A and B non-empty)" : " ([CLS] text [SEP])") +
                     ", got " + std::to_string(max_seq_length));
  if (!(short_seq_prob >= 0.0 && short_seq_prob <= 1.0))
    throw ValueError("pretraining instances: short_seq_prob must be in [0, 1], got " + std::to_string(short_seq_prob));
}

std::vector<int64_t> PretrainingInstance::token_type_ids() const {
  std::vector<int64_t> t(input_ids.size(), 0);
  for (size_t i = static_cast<size_t>(b_start); i < t.size(); ++i) t[i] = 1;
  return t;
}

std::vector<PretrainingInstance> create_instances(const PretrainingCorpus& corpus, int64_t cls_id, int64_t sep_id,
                                                  const InstanceOptions& opt, Generator& gen) {
  opt.validate();
  if (corpus.num_sentences() == 0) throw ValueError("pretraining instances: the corpus is empty");
  if (!opt.next_sentence) return full_sentences(corpus, cls_id, sep_id, opt);
  if (corpus.num_documents() < 2)
    throw ValueError("pretraining instances: next-sentence prediction needs at least 2 documents (NotNext takes B "
                     "from another one), the corpus has " + std::to_string(corpus.num_documents()) + " (starting at " +
                     corpus.origin(0) + "); separate documents by blank lines, cut them with "
                     "max_sentences_per_document, or train without NSP");
  bool any_pair = false;  // IsNext needs a document of two sentences somewhere
  for (int64_t d = 0; d < corpus.num_documents() && !any_pair; ++d)
    any_pair = corpus.doc_end(d) - corpus.doc_begin(d) >= 2;
  if (!any_pair)
    throw ValueError("pretraining instances: next-sentence prediction needs documents of at least 2 sentences "
                     "(IsNext pairs), but each of the " + std::to_string(corpus.num_documents()) +
                     " documents has one (every line a document?); train without NSP");
  std::vector<PretrainingInstance> out;
  for (int64_t d = 0; d < corpus.num_documents(); ++d) document_instances(corpus, d, cls_id, sep_id, opt, gen, out);
  return out;
}

void truncate_seq_pair(std::vector<int64_t>& a, std::vector<int64_t>& b, int64_t max_num_tokens, Generator& gen) {
  if (max_num_tokens < 0)
    throw ValueError("truncate_seq_pair: max_num_tokens must be >= 0, got " + std::to_string(max_num_tokens));
  size_t alo = 0, ahi = a.size(), blo = 0, bhi = b.size();
  while (static_cast<int64_t>((ahi - alo) + (bhi - blo)) > max_num_tokens) {
    const bool cut_a = ahi - alo > bhi - blo;  // the longer one; b on a tie (the reference's `>`)
    size_t& lo = cut_a ? alo : blo;
    size_t& hi = cut_a ? ahi : bhi;
    // "sometimes truncate from the front and sometimes from the back to add
    // more randomness and avoid biases" (the reference's comment)
    if (gen.uniform_double() < 0.5) ++lo;
    else --hi;
  }
  a = std::vector<int64_t>(a.begin() + static_cast<std::ptrdiff_t>(alo), a.begin() + static_cast<std::ptrdiff_t>(ahi));
  b = std::vector<int64_t>(b.begin() + static_cast<std::ptrdiff_t>(blo), b.begin() + static_cast<std::ptrdiff_t>(bhi));
}

}  // namespace qkv::data
