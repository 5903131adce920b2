// tests/data/test_sampler.cpp — LMBlockSampler (equal to the trainer's former
// get_batch), bucket_batches and DataCursor (qkv/data/sampler.h, cursor.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "qkv/data/cursor.h"
#include "qkv/data/sampler.h"

using namespace qkv;
using namespace qkv::data;

namespace {

template <class Fn>
void expect_value_error(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "no exception";
  } catch (const ValueError& e) {
    for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

// Trainer::get_batch as it was in src/qkv/train/trainer.cpp (commit 11b7c53),
// copied verbatim but for names: the sampler must reproduce it bit for bit.
void old_get_batch(const std::vector<int64_t>& data, int64_t B, int64_t T, Generator& gen, Tensor& x, Tensor& y) {
  const uint64_t span = data.size() - T;  // offsets 0 … len − T − 1
  x = Tensor::empty({B, T}, DType::Int64);
  y = Tensor::empty({B, T}, DType::Int64);
  int64_t* xp = x.data<int64_t>();
  int64_t* yp = y.data<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t o = static_cast<int64_t>(gen.next_u64() % span);
    std::copy(data.begin() + o, data.begin() + o + T, xp + b * T);
    std::copy(data.begin() + o + 1, data.begin() + o + T + 1, yp + b * T);
  }
}

std::vector<int64_t> stream(int64_t n, uint64_t seed) {
  Generator g(seed);
  std::vector<int64_t> v(n);
  for (auto& t : v) t = static_cast<int64_t>(g.next_u64() % 50257);
  return v;
}

}  // namespace

TEST(DataLMBlockSampler, EqualsTheTrainersFormerGetBatch) {
  const std::vector<int64_t> data = stream(1000, 3);
  for (auto [B, T] : std::vector<std::pair<int64_t, int64_t>>{{4, 8}, {12, 64}, {1, 999}, {3, 1}}) {
    LMBlockSampler s(data, T);
    Generator g_new(1337), g_old(1337);
    for (int step = 0; step < 5; ++step) {
      Batch b = s.sample(B, g_new);
      Tensor x, y;
      old_get_batch(data, B, T, g_old, x, y);
      ASSERT_EQ(b.input_ids.to_int_vector(), x.to_int_vector()) << "B=" << B << " T=" << T << " step " << step;
      ASSERT_EQ(b.labels.to_int_vector(), y.to_int_vector());
      EXPECT_EQ(b.input_ids.shape(), (Shape{B, T}));
      EXPECT_EQ(b.attention_mask.dtype(), DType::Bool);
      const auto m = b.attention_mask.to_int_vector();
      EXPECT_EQ(std::count(m.begin(), m.end(), 1), B * T);
    }
    EXPECT_EQ(g_new.state(), g_old.state());  // same number of draws: later streams line up too
  }
}

TEST(DataLMBlockSampler, ShortestStreamHasOneOffset) {
  LMBlockSampler s({10, 11, 12, 13}, 3);
  Generator g(5);
  Batch b = s.sample(2, g);
  EXPECT_EQ(b.input_ids.to_int_vector(), (std::vector<int64_t>{10, 11, 12, 10, 11, 12}));
  EXPECT_EQ(b.labels.to_int_vector(), (std::vector<int64_t>{11, 12, 13, 11, 12, 13}));
}

TEST(DataLMBlockSampler, RejectsShortStreamsAndBadSizes) {
  expect_value_error([] { LMBlockSampler({1, 2, 3}, 3); }, {"LMBlockSampler", "3 tokens", "blocks of 3", "at least 4"});
  expect_value_error([] { LMBlockSampler({}, 1); }, {"0 tokens"});
  expect_value_error([] { LMBlockSampler({1, 2}, 0); }, {"block_size", "0"});
  Generator g;
  expect_value_error([&] { LMBlockSampler({1, 2, 3}, 1).sample(0, g); }, {"batch_size"});
}

TEST(DataBuckets, EveryIndexExactlyOnceWithinLimits) {
  Generator lg(11);
  std::vector<int64_t> lengths(1000);
  for (auto& l : lengths) l = 1 + static_cast<int64_t>(lg.next_u64() % 60);
  for (BatchLimit lim : {BatchLimit{32, 0}, BatchLimit{0, 500}, BatchLimit{16, 400}}) {
    Generator g(42);
    auto batches = bucket_batches(lengths, lim, g, 200);
    std::vector<int64_t> seen;
    for (const auto& b : batches) {
      ASSERT_FALSE(b.empty());
      int64_t longest = 0;
      for (int64_t i : b) longest = std::max(longest, lengths[i]);
      if (lim.max_examples) {
        EXPECT_LE(static_cast<int64_t>(b.size()), lim.max_examples);
      }
      if (lim.max_tokens) {
        EXPECT_LE(static_cast<int64_t>(b.size()) * longest, lim.max_tokens);
      }
      seen.insert(seen.end(), b.begin(), b.end());
    }
    std::sort(seen.begin(), seen.end());
    std::vector<int64_t> all(lengths.size());
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(seen, all);
  }
}

TEST(DataBuckets, DeterministicForASeedAndShuffledAcrossSeeds) {
  std::vector<int64_t> lengths(300);
  for (size_t i = 0; i < lengths.size(); ++i) lengths[i] = static_cast<int64_t>((i * 37) % 41);
  Generator a(1), b(1), c(2);
  auto ba = bucket_batches(lengths, {8, 0}, a, 64);
  EXPECT_EQ(ba, bucket_batches(lengths, {8, 0}, b, 64));
  EXPECT_NE(ba, bucket_batches(lengths, {8, 0}, c, 64));
  EXPECT_EQ(a.state(), b.state());
}

TEST(DataBuckets, BucketingReducesPadding) {
  std::vector<int64_t> lengths(512);
  for (size_t i = 0; i < lengths.size(); ++i) lengths[i] = 1 + static_cast<int64_t>((i * 7919) % 100);
  auto padded = [&](int64_t bucket) {
    Generator g(9);
    int64_t total = 0;
    for (const auto& b : bucket_batches(lengths, {16, 0}, g, bucket)) {
      int64_t longest = 0;
      for (int64_t i : b) longest = std::max(longest, lengths[i]);
      total += longest * static_cast<int64_t>(b.size());
    }
    return total;
  };
  // a pool of one batch = no bucketing; a pool of the whole set sorts globally
  EXPECT_LT(padded(512), padded(16) * 0.7);
}

TEST(DataBuckets, ErrorsNameTheProblem) {
  Generator g;
  expect_value_error([&] { bucket_batches({3, 9}, {0, 8}, g, 10); }, {"example 1", "length 9", "max_tokens 8"});
  expect_value_error([&] { bucket_batches({3, -1}, {4, 0}, g, 10); }, {"example 1", "negative"});
  expect_value_error([&] { bucket_batches({3}, {0, 0}, g, 10); }, {"max_examples", "max_tokens"});
  expect_value_error([&] { bucket_batches({3}, {4, 0}, g, 0); }, {"bucket_size"});
  EXPECT_TRUE(bucket_batches({}, {4, 0}, g, 10).empty());
}

TEST(DataCursorJson, JsonRoundTripAndResumeContinuesTheStream) {
  Generator g(123);
  for (int i = 0; i < 7; ++i) g.next_u64();
  DataCursor c = DataCursor::capture(3, 120, g);
  const std::vector<int64_t> expected = {static_cast<int64_t>(g.next_u64() >> 1), static_cast<int64_t>(g.next_u64() >> 1)};
  nlohmann::json j = nlohmann::json::parse(c.to_json().dump());
  EXPECT_EQ(j["epoch"], 3);
  EXPECT_EQ(j["rng_state"].get<std::string>().size(), 64u);
  DataCursor r = DataCursor::from_json(j);
  EXPECT_EQ(r, c);
  Generator resumed(999);
  r.restore(resumed);
  EXPECT_EQ(static_cast<int64_t>(resumed.next_u64() >> 1), expected[0]);
  EXPECT_EQ(static_cast<int64_t>(resumed.next_u64() >> 1), expected[1]);
}

TEST(DataCursorJson, FromJsonRejectsBadFields) {
  const nlohmann::json good = DataCursor::capture(1, 2, Generator(5)).to_json();
  auto with = [&](const char* k, nlohmann::json v) {
    nlohmann::json j = good;
    j[k] = std::move(v);
    return j;
  };
  auto without = [&](const char* k) {
    nlohmann::json j = good;
    j.erase(k);
    return j;
  };
  expect_value_error([&] { DataCursor::from_json(without("epoch")); }, {"missing", "'epoch'"});
  expect_value_error([&] { DataCursor::from_json(without("rng_state")); }, {"missing", "'rng_state'"});
  expect_value_error([&] { DataCursor::from_json(with("position", -1)); }, {"'position'", "-1"});
  expect_value_error([&] { DataCursor::from_json(with("position", 1.5)); }, {"'position'", "integer"});
  expect_value_error([&] { DataCursor::from_json(with("epoch", "3")); }, {"'epoch'", "integer"});
  expect_value_error([&] { DataCursor::from_json(with("epoch", 18446744073709551615ULL)); }, {"'epoch'"});
  expect_value_error([&] { DataCursor::from_json(with("rng_state", "abc")); }, {"'rng_state'", "64 hex", "3"});
  expect_value_error([&] { DataCursor::from_json(with("rng_state", std::string(63, '0') + "g")); }, {"non-hex", "63"});
  expect_value_error([&] { DataCursor::from_json(with("rng_state", std::string(64, '0'))); }, {"all zero"});
  expect_value_error([&] { DataCursor::from_json(with("rng_state", 7)); }, {"'rng_state'", "string"});
  expect_value_error([&] { DataCursor::from_json(nlohmann::json::array()); }, {"object", "array"});
}
