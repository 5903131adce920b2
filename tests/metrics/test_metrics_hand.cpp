// Hand-checked metric cases (each expected value worked out from the
// definitions cited in include/qkv/metrics/*.h), complementing the parity file.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "qkv/core/error.h"
#include "qkv/metrics/bleu.h"
#include "qkv/metrics/chrf.h"
#include "qkv/metrics/rouge.h"
#include "qkv/metrics/text.h"

namespace m = qkv::metrics;

TEST(MetricText, PythonWhitespace) {
  EXPECT_TRUE(m::is_py_space(U'\u00A0'));
  EXPECT_TRUE(m::is_py_space(U'\u3000'));
  EXPECT_TRUE(m::is_py_space(U'\x1C'));
  EXPECT_FALSE(m::is_py_space(U'\u200B'));
  EXPECT_FALSE(m::is_py_space(U'\uFEFF'));
  EXPECT_EQ(m::py_split("  a\u00A0b\t c  "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(m::py_rstrip("a b \u2009\n"), "a b");
  EXPECT_EQ(m::py_lower("\u0130K\u212A"), "i\u0307kk");
  EXPECT_EQ(m::py_lower("\u039F\u0394\u039F\u03A3"), "\u03BF\u03B4\u03BF\u03C2");  // final sigma
}

TEST(MetricBleu, Tokenizer13aEdgeCases) {
  EXPECT_EQ(m::tokenize_13a("Hello, world."), "Hello , world .");
  EXPECT_EQ(m::tokenize_13a("3.14 and 1,000"), "3.14 and 1,000");   // period/comma between digits stay
  EXPECT_EQ(m::tokenize_13a("1-2 a-b"), "1 - 2 a-b");               // dash split only after a digit
  EXPECT_EQ(m::tokenize_13a("&quot;x&quot; &amp;lt;"), "\" x \" <");  // entities, in sacreBLEU's order
  EXPECT_EQ(m::tokenize_13a("a<skipped>b hy-\nphen"), "ab hyphen");
  EXPECT_EQ(m::tokenize_13a("don't"), "don't");                      // apostrophe is not split
  EXPECT_EQ(m::tokenize_13a("(x)"), "( x )");
  EXPECT_EQ(m::tokenize_13a(""), "");
  EXPECT_EQ(m::tokenize_13a("caf\u00E9."), "caf\u00E9 .");
}

TEST(MetricBleu, PerfectMatchIs100AndNoOverlapIs0) {
  const m::BleuScore s = m::corpus_bleu({"the cat sat on the mat"}, {{"the cat sat on the mat"}});
  EXPECT_NEAR(s.score, 100.0, 1e-9);
  EXPECT_EQ(s.counts, (std::vector<long long>{6, 5, 4, 3}));
  const m::BleuScore z = m::corpus_bleu({"dog runs fast"}, {{"the cat sat"}});
  EXPECT_EQ(z.score, 0.0);
  EXPECT_EQ(z.counts, (std::vector<long long>{0, 0, 0, 0}));
  EXPECT_EQ(z.totals, (std::vector<long long>{3, 2, 1, 0}));
}

TEST(MetricBleu, ClosestReferenceLengthShorterWinsTie) {
  // hyp 4 tokens; refs of 5 and 3 tokens are both 1 away: the 3 is used.
  const m::BleuScore s = m::corpus_bleu({"a b c d"}, {{"a b c d e"}, {"a b c"}});
  EXPECT_EQ(s.ref_len, 3);
  EXPECT_EQ(s.bp, 1.0);
  // refs of 6 and 3: 3 is closer (1 vs 2) although longer refs exist.
  EXPECT_EQ(m::corpus_bleu({"a b c d"}, {{"a b c d e f"}, {"a b c"}}).ref_len, 3);
  // brevity: hyp 2, ref 4 → BP = exp(1 − 4/2).
  EXPECT_NEAR(m::corpus_bleu({"a b"}, {{"a b c d"}}).bp, std::exp(-1.0), 1e-15);
}

TEST(MetricBleu, ClippingUsesTheMaxOverReferences) {
  // "the" ×4 in the hypothesis; ref 1 has it twice, ref 2 three times → 3 count.
  const m::BleuScore s = m::corpus_bleu({"the the the the"}, {{"the cat the"}, {"the the the dog"}},
                                        {.tokenize = m::BleuTokenize::None});
  EXPECT_EQ(s.counts[0], 3);
  EXPECT_EQ(s.totals[0], 4);
}

TEST(MetricBleu, CorpusSumsStatisticsAndExpSmoothing) {
  const m::BleuScore s = m::corpus_bleu({"a b c", "x y"}, {{"a b d", "x y"}}, {.tokenize = m::BleuTokenize::None});
  EXPECT_EQ(s.counts, (std::vector<long long>{4, 2, 0, 0}));
  EXPECT_EQ(s.totals, (std::vector<long long>{5, 3, 1, 0}));
  // 3-grams: first zero → 100/(2·1); 4-grams: total 0 stops the loop, precision stays 0 → score ≈ 0.
  EXPECT_DOUBLE_EQ(s.precisions[2], 50.0);
  EXPECT_EQ(s.precisions[3], 0.0);
  EXPECT_LT(s.score, 1e-300);
  // sentence_bleu's effective order averages the orders the hypothesis has.
  const m::BleuScore t = m::sentence_bleu("Hello world", {"Hello world"});
  EXPECT_NEAR(t.score, 100.0, 1e-9);
  EXPECT_EQ(m::format_bleu(t), "BLEU = 100.00 100.0/100.0/0.0/0.0 (BP = 1.000 ratio = 1.000 hyp_len = 2 ref_len = 2)");
}

TEST(MetricBleu, LowercaseAndSignature) {
  EXPECT_LT(m::corpus_bleu({"THE CAT"}, {{"the cat"}}).score, 1.0);
  EXPECT_NEAR(m::sentence_bleu("THE CAT", {"the cat"}, {.lowercase = true, .effective_order = true}).score, 100.0, 1e-9);
  EXPECT_EQ(m::bleu_signature({}, 2, "qkv-x"), "nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:qkv-x");
  EXPECT_THROW(m::corpus_bleu({"a", "b"}, {{"a"}}), qkv::ValueError);
}

TEST(MetricChrf, IdenticalNoOverlapAndWhitespace) {
  EXPECT_NEAR(m::sentence_chrf("The cat", {"The cat"}).score, 100.0, 1e-12);
  EXPECT_EQ(m::sentence_chrf("xyz", {"abc"}).score, 0.0);
  EXPECT_NEAR(m::sentence_chrf("a b  c", {"abc"}).score, 100.0, 1e-12);  // whitespace is removed
  // "ab" vs "ac": unigrams 1/2 both ways, bigrams 0/1 → P = R = 0.25 averaged over 2 orders → F = 25.
  EXPECT_NEAR(m::sentence_chrf("ab", {"ac"}).score, 25.0, 1e-12);
  // Code points, not bytes: "é" vs "e" share nothing.
  EXPECT_EQ(m::sentence_chrf("\u00E9", {"e"}).score, 0.0);
}

TEST(MetricChrf, WordOrderAndBestReference) {
  const m::ChrfOptions pp{.word_order = 2};
  EXPECT_EQ(m::chrf_name(pp), "chrF2++");
  EXPECT_NEAR(m::sentence_chrf("the cat.", {"the cat."}, pp).score, 100.0, 1e-12);
  // The word "cat." splits into "cat" and "." so it matches "cat ." word for word.
  const m::ChrfScore s = m::sentence_chrf("the cat.", {"the cat ."}, pp);
  EXPECT_EQ(std::vector<long long>(s.stats.end() - 6, s.stats.end()), (std::vector<long long>{3, 3, 3, 2, 2, 2}));
  // With two references the better one's statistics are kept.
  const m::ChrfScore best = m::sentence_chrf("abc", {"xyz", "abc"});
  EXPECT_NEAR(best.score, 100.0, 1e-12);
  EXPECT_EQ(m::chrf_signature({}, 1, "v"), "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:v");
}

TEST(MetricRouge, PorterStemmerNltkMode) {
  const std::pair<const char*, const char*> cases[] = {
      {"caresses", "caress"}, {"ponies", "poni"},   {"dies", "die"},       {"cats", "cat"},
      {"feed", "feed"},       {"agreed", "agre"},   {"motoring", "motor"}, {"hopping", "hop"},
      {"filing", "file"},     {"happy", "happi"},   {"relational", "relat"}, {"running", "run"},
      {"skies", "sky"},       {"proceed", "proceed"}, {"spied", "spi"},    {"died", "die"},
      {"jumps", "jump"},      {"lazy", "lazi"}};
  for (const auto& [w, want] : cases) EXPECT_EQ(m::porter_stem(w), want) << w;
  // NLTK's own doctest (nltk/test/stem.doctest, "Unit tests for the Porter stemmer") and
  // test_stem.py's test_oed_bug.
  const std::vector<std::string> plurals = {"caresses", "flies", "dies", "mules", "denied", "died", "agreed",
                                            "owned", "humbled", "sized", "meeting", "stating", "siezing",
                                            "itemization", "sensational", "traditional", "reference",
                                            "colonizer", "plotted", "oed"};
  std::string got;
  for (const std::string& w : plurals) {
    if (!got.empty()) got += ' ';
    got += m::porter_stem(w);
  }
  EXPECT_EQ(got,
            "caress fli die mule deni die agre own humbl size meet state siez item sensat tradit refer colon plot o");
}

TEST(MetricRouge, TokensScoresAndMultiReference) {
  EXPECT_EQ(m::rouge_tokens("Hello, World! It's 2024.", false),
            (std::vector<std::string>{"hello", "world", "it", "s", "2024"}));
  EXPECT_EQ(m::rouge_tokens("cats dogs was", true), (std::vector<std::string>{"cat", "dog", "was"}));  // "was" ≤ 3
  const m::RougeScores id = m::rouge("the cat sat", {"the cat sat"});
  EXPECT_EQ(id.rouge1.f, 1.0);
  EXPECT_EQ(id.rougeL.f, 1.0);
  // LCS of "a b c d" and "a c b d" is 3.
  const m::RougeScores l = m::rouge("a c b d", {"a b c d"});
  EXPECT_DOUBLE_EQ(l.rougeL.p, 0.75);
  EXPECT_DOUBLE_EQ(l.rouge2.p, 0.0);
  const m::RougeScores none = m::rouge("x y", {""});
  EXPECT_EQ(none.rouge1.f, 0.0);
  EXPECT_EQ(none.rougeL.f, 0.0);
  // Best F per type: the second reference wins.
  EXPECT_EQ(m::rouge("a b", {"c d", "a b"}).rouge1.f, 1.0);
  const m::RougeScores mean = m::corpus_rouge({"a b", "x"}, {{"a b", "y"}});
  EXPECT_DOUBLE_EQ(mean.rouge1.f, 0.5);
  EXPECT_THROW(m::rouge("a", {}), qkv::ValueError);
}
