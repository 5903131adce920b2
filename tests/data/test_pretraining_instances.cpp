// tests/data/test_pretraining_instances.cpp — BERT's [CLS] A [SEP] B [SEP]
// instances and RoBERTa's packing (qkv/data/pretraining_instances.h). The
// corpora count their token ids up across the text, so "A is a piece of
// consecutive text" is "A's ids are consecutive".
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "data/pretraining_test_util.h"
#include "qkv/data/pretraining_instances.h"

using namespace qkv;
using namespace qkv::data;
using qkv::testing::expect_error;
using qkv_test::counting_corpus;
using qkv_test::expect_binomial;
using Ids = std::vector<int64_t>;

namespace {

constexpr int64_t kCls = 1, kSep = 2;

bool consecutive(const Ids& v) {
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] != v[i - 1] + 1) return false;
  return true;
}

// The segment's ids lie within sentences [first, end) of the corpus.
void expect_within(const PretrainingCorpus& c, const Ids& seg, int64_t first, int64_t end, const char* what) {
  ASSERT_FALSE(seg.empty()) << what << " is empty";
  ASSERT_LT(first, end) << what;
  EXPECT_TRUE(consecutive(seg)) << what << " is not consecutive text";
  EXPECT_GE(seg.front(), c.sentence(first).front()) << what;
  EXPECT_LE(seg.back(), c.sentence(end - 1).back()) << what;
}

// Layout, lengths, token types and where A and B came from.
void check_nsp_instance(const PretrainingCorpus& c, const PretrainingInstance& in, int64_t max_len) {
  const Ids& x = in.input_ids;
  ASSERT_LE(static_cast<int64_t>(x.size()), max_len);
  ASSERT_GE(in.b_start, 3);
  ASSERT_EQ(x.front(), kCls);
  ASSERT_EQ(x[static_cast<size_t>(in.b_start) - 1], kSep);
  ASSERT_EQ(x.back(), kSep);
  const Ids a(x.begin() + 1, x.begin() + in.b_start - 1), b(x.begin() + in.b_start, x.end() - 1);
  expect_within(c, a, in.a_first, in.a_end, "A");
  expect_within(c, b, in.b_first, in.b_end, "B");
  const Ids types = in.token_type_ids();
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(types[i], static_cast<int64_t>(i) >= in.b_start ? 1 : 0);
  const int64_t doc_a = c.document_of(in.a_first), doc_b = c.document_of(in.b_first);
  EXPECT_EQ(c.document_of(in.a_end - 1), doc_a) << "A spans documents";
  EXPECT_EQ(c.document_of(in.b_end - 1), doc_b) << "B spans documents";
  if (in.next_sentence_label == 0) {
    EXPECT_EQ(in.b_first, in.a_end) << "IsNext: B must continue A";
    EXPECT_EQ(doc_a, doc_b);
  } else {
    ASSERT_EQ(in.next_sentence_label, 1);
    EXPECT_NE(doc_a, doc_b) << "NotNext: B must come from another document";
  }
}

std::vector<PretrainingInstance> make(const PretrainingCorpus& c, InstanceOptions o, uint64_t seed) {
  Generator gen(seed);
  return create_instances(c, kCls, kSep, o, gen);
}

}  // namespace

TEST(TruncateSeqPair, LongestFirstFromEitherEnd) {
  Generator g(5), sizes(6);
  int64_t removed = 0, from_front = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const int64_t la = 1 + static_cast<int64_t>(sizes.next_u64() % 60), lb = 1 + static_cast<int64_t>(sizes.next_u64() % 60);
    const int64_t max = 2 + static_cast<int64_t>(sizes.next_u64() % 100);
    Ids a(static_cast<size_t>(la)), b(static_cast<size_t>(lb));
    for (int64_t i = 0; i < la; ++i) a[static_cast<size_t>(i)] = 1000 + i;
    for (int64_t i = 0; i < lb; ++i) b[static_cast<size_t>(i)] = 5000 + i;
    // The rule, step by step: cut the longer (b on a tie) until the pair fits.
    int64_t ea = la, eb = lb;
    while (ea + eb > max) (ea > eb ? ea : eb) -= 1;
    truncate_seq_pair(a, b, max, g);
    ASSERT_EQ(static_cast<int64_t>(a.size()), ea) << la << " + " << lb << " → " << max;
    ASSERT_EQ(static_cast<int64_t>(b.size()), eb) << la << " + " << lb << " → " << max;
    ASSERT_TRUE(consecutive(a) && consecutive(b));
    from_front += (a.front() - 1000) + (b.front() - 5000);
    removed += (la - ea) + (lb - eb);
  }
  expect_binomial(from_front, removed, 0.5, "tokens removed from the front");
}

TEST(TruncateSeqPair, TiesCutBAndFittingPairsDrawNothing) {
  Generator g(1);
  Ids a{1, 2}, b{3, 4};
  const auto before = g.state();
  truncate_seq_pair(a, b, 4, g);
  EXPECT_EQ(g.state(), before);
  truncate_seq_pair(a, b, 3, g);
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(b.size(), 1u);
  truncate_seq_pair(a, b, 0, g);
  EXPECT_TRUE(a.empty() && b.empty());
  expect_error<ValueError>([&] { truncate_seq_pair(a, b, -1, g); }, {"max_num_tokens", "-1"});
}

TEST(PretrainingInstances, PairsAreConsecutiveOrFromAnotherDocument) {
  const PretrainingCorpus c = counting_corpus(600, 20, 3, 12);
  InstanceOptions o;
  o.max_seq_length = 48;
  const auto inst = make(c, o, 7);
  int64_t chose = 0, not_next = 0;
  for (const auto& in : inst) {
    check_nsp_instance(c, in, o.max_seq_length);
    if (in.chunk_sentences >= 2) ++chose, not_next += in.next_sentence_label;
    else EXPECT_EQ(in.next_sentence_label, 1) << "a one-sentence chunk is always NotNext (as the reference)";
  }
  EXPECT_GT(chose, 2000);
  expect_binomial(not_next, chose, 0.5, "NotNext among chunks of ≥ 2 sentences");
}

TEST(PretrainingInstances, EachDocumentIsTiledOnceUnusedSentencesGoBack) {
  const PretrainingCorpus c = counting_corpus(200, 15, 2, 20);
  InstanceOptions o;
  o.max_seq_length = 40;
  std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> ranges;  // document → sentence ranges
  for (const auto& in : make(c, o, 3)) {
    ranges[c.document_of(in.a_first)].push_back({in.a_first, in.a_end});
    if (in.next_sentence_label == 0) ranges[c.document_of(in.a_first)].push_back({in.b_first, in.b_end});
  }
  ASSERT_EQ(static_cast<int64_t>(ranges.size()), c.num_documents());
  for (auto& [d, r] : ranges) {
    std::sort(r.begin(), r.end());
    int64_t next = c.doc_begin(d);
    for (auto [a, b] : r) {
      ASSERT_EQ(a, next) << "document " << d << ": sentence " << next << " skipped or used twice";
      next = b;
    }
    EXPECT_EQ(next, c.doc_end(d)) << "document " << d;
  }
}

TEST(PretrainingInstances, ShortSeqProbChoosesShorterTargets) {
  const PretrainingCorpus c = counting_corpus(4000, 3, 3, 12);
  InstanceOptions o;
  o.max_seq_length = 40;  // max_num_tokens 37; a short target is uniform in [2, 37]
  std::map<int64_t, int64_t> target;  // per document
  for (const auto& in : make(c, o, 11)) target[c.document_of(in.a_first)] = in.target_length;
  int64_t shorter = 0;
  for (auto [d, t] : target) {
    EXPECT_GE(t, 2);
    EXPECT_LE(t, 37);
    shorter += t < 37;
  }
  expect_binomial(shorter, static_cast<int64_t>(target.size()), 0.1 * 35.0 / 36.0, "documents with a short target");
}

TEST(PretrainingInstances, LongDocumentsFillTheSequence) {
  const PretrainingCorpus c = counting_corpus(100, 60, 3, 12);
  InstanceOptions o;
  o.max_seq_length = 64;
  for (double p : {0.0, 1.0}) {
    o.short_seq_prob = p;
    const auto inst = make(c, o, 2);
    int64_t full = 0;
    for (const auto& in : inst) full += static_cast<int64_t>(in.input_ids.size()) == o.max_seq_length;
    const double frac = static_cast<double>(full) / static_cast<double>(inst.size());
    if (p == 0.0) EXPECT_GT(frac, 0.8) << "targets of max_seq_length − 3 give full sequences";
    else EXPECT_LT(frac, 0.2) << "random short targets give short sequences";
  }
}

TEST(PretrainingInstances, SameGeneratorSameInstances) {
  const PretrainingCorpus c = counting_corpus(50, 10, 3, 12);
  const auto a = make(c, {}, 5), b = make(c, {}, 5), other = make(c, {}, 6);
  ASSERT_EQ(a.size(), b.size());
  bool differs = a.size() != other.size();
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].input_ids, b[i].input_ids);
    EXPECT_EQ(a[i].next_sentence_label, b[i].next_sentence_label);
    if (i < other.size()) differs = differs || a[i].input_ids != other[i].input_ids;
  }
  EXPECT_TRUE(differs);
}

TEST(PretrainingInstances, WithoutNspSentencesArePackedInOrder) {
  // Document 2 holds one sentence longer than a sequence (it is cut in pieces).
  std::vector<std::vector<std::vector<int64_t>>> docs;
  int64_t next = 10;
  for (int d = 0; d < 30; ++d) {
    docs.emplace_back();
    for (int s = 0; s < 6; ++s) {
      Ids ids(static_cast<size_t>(d == 2 && s == 1 ? 75 : 2 + (d * 5 + s * 3) % 9));
      for (auto& id : ids) id = next++;
      docs.back().push_back(ids);
    }
  }
  const PretrainingCorpus c = PretrainingCorpus::from_documents(docs);
  InstanceOptions o;
  o.max_seq_length = 32;
  o.next_sentence = false;
  Generator gen(1);
  const auto before = gen.state();
  const auto inst = create_instances(c, kCls, kSep, o, gen);
  EXPECT_EQ(gen.state(), before) << "packing draws nothing";
  Ids all;
  for (size_t i = 0; i < inst.size(); ++i) {
    const Ids& x = inst[i].input_ids;
    ASSERT_LE(x.size(), 32u);
    ASSERT_EQ(x.front(), kCls);
    ASSERT_EQ(x.back(), kSep);
    EXPECT_EQ(inst[i].next_sentence_label, -1);
    EXPECT_EQ(inst[i].b_start, static_cast<int64_t>(x.size()));
    for (size_t k = 1; k + 1 < x.size(); ++k) {
      if (x[k] != kSep) {
        all.push_back(x[k]);
        continue;
      }
      // A separator only between documents: the next id starts one.
      ASSERT_LT(k + 2, x.size()) << "instance " << i << " ends in a separator";
      bool starts_doc = false;
      for (int64_t d = 0; d < c.num_documents(); ++d) starts_doc |= c.sentence(c.doc_begin(d)).front() == x[k + 1];
      EXPECT_TRUE(starts_doc) << "instance " << i << ": separator before id " << x[k + 1];
    }
    // Greedy: the next instance's first sentence would not have fit here.
    if (i + 1 < inst.size() && inst[i + 1].a_first != inst[i].a_end - 1) {
      const int64_t s = inst[i + 1].a_first;
      const int64_t sep = c.doc_begin(c.document_of(s)) == s ? 1 : 0;
      EXPECT_GT(static_cast<int64_t>(x.size()) - 2 + c.sentence_length(s) + sep, 30) << "instance " << i;
    }
  }
  ASSERT_EQ(static_cast<int64_t>(all.size()), c.num_tokens()) << "every token once";
  EXPECT_EQ(all.front(), 10);
  EXPECT_TRUE(consecutive(all)) << "in corpus order";
}

TEST(PretrainingInstancesBadInput, ClearErrors) {
  const PretrainingCorpus one = PretrainingCorpus::from_documents({{{10, 11}, {12, 13}}});
  expect_error<ValueError>([&] { make(one, {}, 1); }, {"at least 2 documents", "has 1", "<memory>", "without NSP"});
  InstanceOptions no_nsp;
  no_nsp.next_sentence = false;
  EXPECT_EQ(make(one, no_nsp, 1).size(), 1u);
  expect_error<ValueError>([&] { make(PretrainingCorpus{}, {}, 1); }, {"corpus is empty"});
  const PretrainingCorpus lines = PretrainingCorpus::from_documents({{{10, 11}}, {{12}}, {{13, 14}}});
  expect_error<ValueError>([&] { make(lines, {}, 1); },
                           {"documents of at least 2 sentences", "each of the 3 documents has one", "without NSP"});
  const PretrainingCorpus two = counting_corpus(2, 3, 2, 4);
  InstanceOptions o;
  o.max_seq_length = 4;
  expect_error<ValueError>([&] { make(two, o, 1); }, {"max_seq_length", "at least 5", "got 4"});
  o.next_sentence = false;
  o.max_seq_length = 2;
  expect_error<ValueError>([&] { make(two, o, 1); }, {"max_seq_length", "at least 3", "got 2"});
  InstanceOptions p;
  p.short_seq_prob = 1.5;
  expect_error<ValueError>([&] { make(two, p, 1); }, {"short_seq_prob", "[0, 1]", "1.5"});
}

TEST(PretrainingInstances, SmallestSequencesStillHoldAAndB) {
  const PretrainingCorpus c = counting_corpus(20, 4, 5, 9);
  InstanceOptions o;
  o.max_seq_length = 5;
  for (const auto& in : make(c, o, 4)) check_nsp_instance(c, in, 5);
}
