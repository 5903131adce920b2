// tests/core/test_tensor.cpp — Tensor basics: factories, shapes/strides/views,
// copy_/fill_, dtype conversion, the caching allocator and the RNG.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "io/io_test_util.h"
#include "qkv/qkv.h"

using namespace qkv;

namespace {
std::vector<float> V(std::initializer_list<float> v) { return v; }
}  // namespace

// ------------------------------------------------------------- factories

// External memory (what the Python module's qkv.tensor(numpy_array) uses):
// no copy both ways, the owner lives exactly as long as the last view, and
// strided layouts are read as given.
TEST(FromBlob, SharesTheMemoryAndKeepsItsOwnerAlive) {
  auto buf = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3, 4, 5, 6});
  std::weak_ptr<std::vector<float>> alive = buf;
  Tensor view;
  {
    Tensor t = Tensor::from_blob(buf->data(), {2, 3}, {3, 1}, DType::Float32, buf);
    buf.reset();  // the tensor's storage now holds the only reference
    EXPECT_FALSE(alive.expired());
    EXPECT_EQ(t.to_vector(), V({1, 2, 3, 4, 5, 6}));
    t.data<float>()[4] = 50;  // writes land in the external buffer
    EXPECT_EQ((*alive.lock())[4], 50);
    (*alive.lock())[0] = 10;  // and the other way round
    EXPECT_EQ(t.to_vector()[0], 10);
    view = t.t();  // a view keeps it alive after t goes
    EXPECT_EQ((t * 2.0f).to_vector(), V({20, 4, 6, 8, 100, 12}));
  }
  EXPECT_FALSE(alive.expired());
  EXPECT_EQ(view.to_vector(), V({10, 4, 2, 50, 3, 6}));
  view = Tensor();
  EXPECT_TRUE(alive.expired());
}

TEST(FromBlob, ReadsStridedLayoutsAndRejectsBadOnes) {
  std::vector<int64_t> v = {0, 1, 2, 3, 4, 5, 6, 7};
  Tensor every_other = Tensor::from_blob(v.data(), {2, 2}, {4, 2}, DType::Int64, nullptr);
  EXPECT_FALSE(every_other.is_contiguous());
  EXPECT_EQ(every_other.to_int_vector(), (std::vector<int64_t>{0, 2, 4, 6}));
  EXPECT_EQ(every_other.contiguous().to_int_vector(), (std::vector<int64_t>{0, 2, 4, 6}));
  qkv::testing::expect_error<ValueError>([&] { Tensor::from_blob(v.data(), {2}, {-1}, DType::Int64, nullptr); },
                             {"from_blob", "negative stride -1"});
  qkv::testing::expect_error<ValueError>([&] { Tensor::from_blob(v.data(), {2, 2}, {1}, DType::Int64, nullptr); },
                             {"from_blob", "1 strides for 2 dimensions"});
  qkv::testing::expect_error<ValueError>(
      [&] { Tensor::from_blob(reinterpret_cast<char*>(v.data()) + 1, {2}, {1}, DType::Int64, nullptr); },
      {"from_blob", "not aligned to its 8-byte elements"});
  qkv::testing::expect_error<ValueError>([&] { Tensor::from_blob(nullptr, {2}, {1}, DType::Float32, nullptr); },
                             {"null data pointer"});
}


TEST(Factories, FilledTensors) {
  Tensor z = zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.dtype(), DType::Float32);
  EXPECT_EQ(z.to_vector(), std::vector<float>(6, 0.0f));
  EXPECT_EQ(ones({4}).to_vector(), std::vector<float>(4, 1.0f));
  EXPECT_EQ(full({2, 2}, 2.5f).to_vector(), std::vector<float>(4, 2.5f));
  Tensor zi = zeros({3}, DType::Int64);
  EXPECT_EQ(zi.dtype(), DType::Int64);
  EXPECT_EQ(zi.to_int_vector(), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(ones({2}, DType::Bool).to_int_vector(), (std::vector<int64_t>{1, 1}));
  Tensor like = ones_like(zi);
  EXPECT_EQ(like.dtype(), DType::Int64);
  EXPECT_EQ(like.shape(), zi.shape());
  EXPECT_EQ(zeros_like(z).shape(), z.shape());
  Tensor s = scalar_tensor(4.0f);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item(), 4.0f);
}

TEST(Factories, ArangeEyeAndLiterals) {
  EXPECT_EQ(arange(5).to_int_vector(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(5).dtype(), DType::Int64);
  EXPECT_EQ(arange(1, 2, 0.25, DType::Float32).to_vector(), V({1, 1.25f, 1.5f, 1.75f}));
  EXPECT_EQ(arange(3, 0, -1).to_int_vector(), (std::vector<int64_t>{3, 2, 1}));
  EXPECT_EQ(arange(3, 1, 1).numel(), 0);
  EXPECT_THROW(arange(0, 1, 0), ValueError);
  EXPECT_EQ(eye(3).to_vector(), V({1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(tensor({1, 2, 3}).shape(), (Shape{3}));
  EXPECT_THROW(tensor({1, 2, 3}, {2, 2}), ShapeError);
  EXPECT_THROW(tensor_i64({1, 2}, {3}), ShapeError);
  EXPECT_THROW(tensor_bool({true}, {2}), ShapeError);
  EXPECT_EQ(tensor_bool({true, false, true}, {3}).to_int_vector(), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_THROW(Tensor::empty({2, -1}), ValueError);
  Tensor e = zeros({0, 3});
  EXPECT_EQ(e.numel(), 0);
  EXPECT_TRUE(e.to_vector().empty());
}

TEST(Factories, Accessors) {
  Tensor t = zeros({2, 3, 4});
  EXPECT_EQ(t.str(), "Tensor(float32, [2,3,4])");
  EXPECT_EQ(Tensor().str(), "Tensor(undefined)");
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.stride(0), 12);
  EXPECT_THROW(t.size(3), ValueError);
  EXPECT_THROW(t.data<int64_t>(), ValueError);
  EXPECT_THROW(t.item(), ValueError);
  EXPECT_THROW(Tensor().shape(), ValueError);
  EXPECT_FALSE(Tensor().defined());
}

// ------------------------------------------------------- shapes and views

TEST(Views, StridesAndContiguity) {
  Tensor x = arange(0, 24, 1, DType::Float32).reshape({2, 3, 4});
  EXPECT_EQ(x.strides(), (Shape{12, 4, 1}));
  EXPECT_TRUE(x.is_contiguous());
  Tensor t = x.transpose(0, 2);
  EXPECT_EQ(t.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(t.strides(), (Shape{1, 4, 12}));
  EXPECT_FALSE(t.is_contiguous());
  Tensor p = x.permute({1, 2, 0});
  EXPECT_EQ(p.strides(), (Shape{4, 1, 12}));
  Tensor s = x.slice(2, 1, 4, 2);  // columns 1, 3
  EXPECT_EQ(s.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(s.strides(), (Shape{12, 4, 2}));
  EXPECT_EQ(s.offset(), 1);
  EXPECT_EQ(s.to_vector()[0], 1.0f);
  EXPECT_EQ(s.to_vector()[1], 3.0f);
  Tensor sel = x.select(1, 2);
  EXPECT_EQ(sel.shape(), (Shape{2, 4}));
  EXPECT_EQ(sel.offset(), 8);
  Tensor e = tensor({1, 2, 3}, {3, 1}).expand({3, 5});
  EXPECT_EQ(e.strides()[1], 0);
  EXPECT_EQ(e.to_vector()[7], 2.0f);
  // size-1 dims do not break contiguity whatever their stride
  EXPECT_TRUE(x.select(0, 1).unsqueeze(0).is_contiguous());
  EXPECT_EQ(x.unsqueeze(1).shape(), (Shape{2, 1, 3, 4}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), (Shape{2, 3, 4, 1}));
  EXPECT_EQ(x.flatten(0, 1).shape(), (Shape{6, 4}));
  EXPECT_EQ(scalar_tensor(1).flatten().shape(), (Shape{1}));
}

TEST(Views, ShareStorageWithTheirBase) {
  Tensor x = zeros({3, 4});
  x.narrow(1, 1, 2).fill_(7.0f);  // write through a view
  EXPECT_EQ(x.to_vector(), V({0, 7, 7, 0, 0, 7, 7, 0, 0, 7, 7, 0}));
  x.t().select(0, 3).fill_(1.0f);  // column 3, via a transposed view
  EXPECT_EQ(x.to_vector()[3], 1.0f);
  EXPECT_EQ(x.to_vector()[11], 1.0f);
  Tensor v = x.view({12});
  v.data<float>()[0] = 5.0f;
  EXPECT_EQ(x.to_vector()[0], 5.0f);
  EXPECT_EQ(x.reshape({2, 6}).impl().storage, x.impl().storage);  // reshape of contiguous = view
  EXPECT_TRUE(x.contiguous().same(x));
  // reshape of a transposed tensor copies; clone always copies
  Tensor r = x.t().reshape({12});
  EXPECT_NE(r.impl().storage, x.impl().storage);
  EXPECT_EQ(r.to_vector()[1], 0.0f);  // x[1][0]
  Tensor c = x.clone();
  c.fill_(0);
  EXPECT_EQ(x.to_vector()[0], 5.0f);
}

TEST(Views, SplitChunkSqueeze) {
  Tensor x = arange(0, 10, 1, DType::Float32);
  auto parts = x.split(4);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2].to_vector(), V({8, 9}));
  auto ch = x.chunk(3);
  ASSERT_EQ(ch.size(), 3u);
  EXPECT_EQ(ch[0].numel(), 4);
  EXPECT_EQ(ch[2].numel(), 2);
  Tensor y = zeros({1, 3, 1});
  EXPECT_EQ(y.squeeze().shape(), (Shape{3}));
  EXPECT_EQ(y.squeeze(0).shape(), (Shape{3, 1}));
  EXPECT_EQ(y.squeeze(1).shape(), (Shape{1, 3, 1}));  // not size 1: unchanged (torch)
  EXPECT_EQ(x.reshape({2, -1}).shape(), (Shape{2, 5}));
  EXPECT_EQ(x.slice(0, -3, 100).to_vector(), V({7, 8, 9}));
  EXPECT_EQ(x.slice(0, 5, 2).numel(), 0);  // empty, not an error (torch)
}

// ---------------------------------------------------- copy_, fill_, to()

TEST(Copy, BroadcastsAndConverts) {
  Tensor dst = zeros({2, 3});
  dst.copy_(tensor({1, 2, 3}));
  EXPECT_EQ(dst.to_vector(), V({1, 2, 3, 1, 2, 3}));
  dst.copy_(scalar_tensor(9));
  EXPECT_EQ(dst.to_vector(), std::vector<float>(6, 9.0f));
  EXPECT_THROW(dst.copy_(zeros({3, 2})), ShapeError);
  EXPECT_THROW(zeros({3}).copy_(zeros({2, 3})), ShapeError);
  // into a non-contiguous destination
  Tensor base = zeros({3, 2});
  base.t().copy_(tensor({1, 2, 3, 4, 5, 6}, {2, 3}));
  EXPECT_EQ(base.to_vector(), V({1, 4, 2, 5, 3, 6}));
  // from a non-contiguous source
  Tensor d2 = zeros({2, 3});
  d2.copy_(base.t());
  EXPECT_EQ(d2.to_vector(), V({1, 2, 3, 4, 5, 6}));
  // dtype conversion
  Tensor i = zeros({3}, DType::Int64);
  i.copy_(tensor({1.9f, -1.9f, 3.0f}));
  EXPECT_EQ(i.to_int_vector(), (std::vector<int64_t>{1, -1, 3}));  // truncation, as C++/torch
  Tensor f = zeros({3});
  f.copy_(tensor_i64({7, -2, 5}, {3}));
  EXPECT_EQ(f.to_vector(), V({7, -2, 5}));
  Tensor b = zeros({3}, DType::Bool);
  b.copy_(tensor({0.0f, 0.5f, -2.0f}));
  EXPECT_EQ(b.to_int_vector(), (std::vector<int64_t>{0, 1, 1}));
  // same non-float dtype: raw copy with broadcasting
  Tensor i2 = zeros({2, 2}, DType::Int64);
  i2.copy_(tensor_i64({3, 4}, {2}));
  EXPECT_EQ(i2.to_int_vector(), (std::vector<int64_t>{3, 4, 3, 4}));
}

TEST(Copy, FillOnlyTouchesTheView) {
  Tensor x = zeros({4, 4});
  x.slice(0, 0, 4, 2).slice(1, 1, 4, 2).fill_(1);
  EXPECT_EQ(x.sum().item(), 4.0f);
  EXPECT_EQ(x.to_vector()[1], 1.0f);
  EXPECT_EQ(x.to_vector()[3], 1.0f);
  Tensor i = zeros({2, 2}, DType::Int32);
  i.t().select(0, 1).fill_(3);
  EXPECT_EQ(i.to_int_vector(), (std::vector<int64_t>{0, 3, 0, 3}));
}

TEST(DType, Conversions) {
  Tensor x = tensor({1.5f, -2.5f, 0.0f, 3.0f});
  EXPECT_TRUE(x.to(DType::Float32).same(x));
  EXPECT_EQ(x.to(DType::Int64).to_int_vector(), (std::vector<int64_t>{1, -2, 0, 3}));
  EXPECT_EQ(x.to(DType::Int32).dtype(), DType::Int32);
  EXPECT_EQ(x.to(DType::Bool).to_int_vector(), (std::vector<int64_t>{1, 1, 0, 1}));
  EXPECT_EQ(x.to(DType::Int64).to(DType::Float32).to_vector(), V({1, -2, 0, 3}));
  // bfloat16 keeps 8 bits of mantissa, rounding to nearest even
  Tensor b = tensor({1.0f, 1.00390625f, 1.01171875f, 3.14159f}).to(DType::BFloat16);
  EXPECT_EQ(dtype_size(b.dtype()), 2u);
  std::vector<float> bv = b.to_vector();
  EXPECT_EQ(bv[0], 1.0f);
  EXPECT_EQ(bv[1], 1.0f);          // tie → even
  EXPECT_EQ(bv[2], 1.015625f);     // tie → even (up)
  EXPECT_NEAR(bv[3], 3.14159f, 0.01f);
  // non-contiguous conversion follows the logical order
  Tensor m = tensor({1, 2, 3, 4}, {2, 2}).t().to(DType::Int64);
  EXPECT_EQ(m.to_int_vector(), (std::vector<int64_t>{1, 3, 2, 4}));
  EXPECT_TRUE(m.is_contiguous());
  EXPECT_THROW(tensor_i64({1}, {1}).requires_grad_(), ValueError);
}

// --------------------------------------------------------------- allocator

TEST(Allocator, SteadyStateTrainingStepStopsCallingTheSystem) {
  if (!allocator_caches()) GTEST_SKIP() << "AddressSanitizer build: exact-size blocks, no cache";
  Generator g(11);
  Tensor x = randn({32, 48}, g).requires_grad_();
  Tensor w = randn({64, 48}, g).requires_grad_();
  Tensor ln_w = ones({64}).requires_grad_();
  Tensor ids = randint(0, 64, {32}, g);
  AttentionOptions causal;
  causal.causal = true;
  auto step = [&] {
    Tensor h = gelu(linear(x, w));
    Tensor y = layer_norm(h, {64}, ln_w, Tensor());
    Tensor a = scaled_dot_product_attention(y.unsqueeze(0), y.unsqueeze(0), y.unsqueeze(0), causal);
    Tensor loss = cross_entropy(a.squeeze(0), ids);
    loss.backward();
    x.zero_grad();
    w.zero_grad();
    ln_w.zero_grad();
  };
  for (int i = 0; i < 3; ++i) step();
  const AllocatorStats before = allocator_stats();
  for (int i = 0; i < 10; ++i) step();
  const AllocatorStats after = allocator_stats();
  EXPECT_EQ(after.system_allocs, before.system_allocs) << "the caching allocator should serve every block";
  EXPECT_GT(after.cache_hits, before.cache_hits);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use) << "a step must not leak storage";
}

TEST(Allocator, FreedBlocksAreReusedAndEmptyCacheReleases) {
  if (!allocator_caches()) GTEST_SKIP() << "AddressSanitizer build: exact-size blocks, no cache";
  { Tensor t = Tensor::empty({1000}); }
  const AllocatorStats s0 = allocator_stats();
  { Tensor t = Tensor::empty({1000}); }  // same rounded size: served from the cache
  const AllocatorStats s1 = allocator_stats();
  EXPECT_EQ(s1.system_allocs, s0.system_allocs);
  EXPECT_EQ(s1.cache_hits, s0.cache_hits + 1);
  allocator_empty_cache();
  EXPECT_EQ(allocator_stats().bytes_cached, 0u);
  Tensor big = Tensor::empty({1 << 20});  // 4 MiB: 64-byte aligned as well
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big.raw_data()) % kAlignment, 0u);
}

// --------------------------------------------------------------------- RNG

TEST(Rng, SeedsReproduceAndStateResumes) {
  Generator a(42), b(42), c(43);
  for (int i = 0; i < 5; ++i) {
    uint64_t va = a.next_u64();
    EXPECT_EQ(va, b.next_u64());
    EXPECT_NE(va, c.next_u64());
  }
  auto st = a.state();
  std::vector<float> first;
  for (int i = 0; i < 8; ++i) first.push_back(a.normal());
  a.set_state(st);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(a.normal(), first[i]);
  Generator d(7), e(7);
  EXPECT_EQ(randn({10}, d).to_vector(), randn({10}, e).to_vector());
  EXPECT_EQ(rand({10}, d).to_vector(), rand({10}, e).to_vector());
  d.manual_seed(7);
  Generator f(7);
  EXPECT_EQ(d.next_u64(), f.next_u64());
  manual_seed(5);
  uint64_t x1 = default_generator().next_u64();
  manual_seed(5);
  EXPECT_EQ(default_generator().next_u64(), x1);
}

TEST(Rng, Distributions) {
  Generator g(1);
  std::vector<float> u = rand({20000}, g).to_vector();
  std::vector<float> n = randn({20000}, g).to_vector();
  double su = 0, sn = 0, sn2 = 0;
  for (float v : u) {
    ASSERT_GE(v, 0.0f);
    ASSERT_LT(v, 1.0f);
    su += v;
  }
  for (float v : n) {
    ASSERT_TRUE(std::isfinite(v));
    sn += v;
    sn2 += double(v) * v;
  }
  EXPECT_NEAR(su / u.size(), 0.5, 0.01);
  EXPECT_NEAR(sn / n.size(), 0.0, 0.03);
  EXPECT_NEAR(sn2 / n.size(), 1.0, 0.05);
  std::vector<int64_t> r = randint(-3, 4, {5000}, g).to_int_vector();
  std::vector<int> hist(7, 0);
  for (int64_t v : r) {
    ASSERT_GE(v, -3);
    ASSERT_LT(v, 4);
    hist[v + 3]++;
  }
  for (int h : hist) EXPECT_GT(h, 500);
  EXPECT_THROW(randint(3, 3, {1}, g), ValueError);
}

TEST(Rng, FillNormalUsesBothBoxMullerBranches) {
  Generator g(3), h(3);
  std::vector<float> a(40001);
  g.fill_normal(a.data(), static_cast<int64_t>(a.size()), 2.0f, 0.5f);
  double s = 0, s2 = 0, odd_even = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(std::isfinite(a[i]));
    double z = (a[i] - 2.0) / 0.5;
    s += z, s2 += z * z;
    if (i % 2 == 1) odd_even += z * ((a[i - 1] - 2.0) / 0.5);  // cos·sin pairs: uncorrelated
  }
  EXPECT_NEAR(s / a.size(), 0.0, 0.03);
  EXPECT_NEAR(s2 / a.size(), 1.0, 0.05);
  EXPECT_NEAR(odd_even / (a.size() / 2), 0.0, 0.05);
  // The same seed gives the same values, chunked or not (pairs never split
  // across calls of even length); an odd tail consumes one pair.
  std::vector<float> b(a.size());
  h.fill_normal(b.data(), 20000, 2.0f, 0.5f);
  h.fill_normal(b.data() + 20000, 20001, 2.0f, 0.5f);
  EXPECT_EQ(a, b);
  EXPECT_EQ(g.state(), h.state());
}

TEST(Rng, ValuesDoNotDependOnTheThreadCount) {
  const int prev = num_threads();
  set_num_threads(1);
  Generator a(9);
  std::vector<float> one = randn({70000}, a).to_vector();
  set_num_threads(2);
  Generator b(9);
  std::vector<float> two = randn({70000}, b).to_vector();
  set_num_threads(prev);
  EXPECT_EQ(one, two);
}
