// tests/ops/test_errors.cpp — bad input gets the right exception type and a
// message that names the op and the shapes; ids/indices are validated before
// any memory is read (the ASan+UBSan build of this file proves the "never
// reads out of bounds" half).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "qkv/qkv.h"

using namespace qkv;

namespace {

// Runs f, expects exception E whose message contains every `parts` string.
template <class E>
void expect_error(const std::function<void()>& f, std::vector<std::string> parts = {}) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    std::string msg = e.what();
    for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

Tensor f32(const Shape& s) { return zeros(s); }

}  // namespace

TEST(Errors, MatmulInnerDimensionMessage) {
  try {
    matmul(f32({2, 3}), f32({4, 5}));
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_STREQ(e.what(), "matmul: [2,3] @ [4,5]: inner dimensions 3 and 4 differ");
  }
  expect_error<ShapeError>([] { matmul(f32({2, 2, 3}), f32({3, 3, 4})); }, {"matmul", "[2]", "[3]"});  // batch
  expect_error<ShapeError>([] { matmul(f32({3}), f32({4})); }, {"inner dimensions 3 and 4"});
  expect_error<ShapeError>([] { matmul(scalar_tensor(1), f32({3})); }, {"matmul"});
  expect_error<ValueError>([] { matmul(zeros({2, 2}, DType::Int64), f32({2, 2})); }, {"matmul", "float32", "int64"});
}

TEST(Errors, BroadcastingFailures) {
  expect_error<ShapeError>([] { add(f32({2, 3}), f32({4})); }, {"add", "[2,3]", "[4]"});
  expect_error<ShapeError>([] { mul(f32({2, 3}), f32({3, 2})); }, {"mul", "[2,3]", "[3,2]"});
  expect_error<ShapeError>([] { where(ones({2}, DType::Bool), f32({3}), f32({3})); }, {"where"});
  expect_error<ShapeError>([] { eq(f32({2}), f32({3})); }, {"eq"});
  // masked_fill's mask must broadcast to the input, not the other way round
  expect_error<ShapeError>([] { masked_fill(f32({3}), ones({2, 3}, DType::Bool), 0); }, {"masked_fill"});
  expect_error<ShapeError>([] { f32({2, 3}).expand({3, 3}); }, {"expand"});
  expect_error<ShapeError>([] { f32({2, 3}).expand({3}); }, {"expand"});
  expect_error<ShapeError>([] { sum_to(f32({3}), {2, 3}); }, {"sum_to"});
  expect_error<ShapeError>([] { mse_loss(f32({2, 3}), f32({3})); }, {"mse_loss", "[2,3]", "[3]"});
}

TEST(Errors, WrongDtypes) {
  Tensor i = zeros({2, 3}, DType::Int64);
  Tensor b = zeros({2, 3}, DType::Bool);
  expect_error<ValueError>([&] { exp(i); }, {"exp", "int64"});
  expect_error<ValueError>([&] { softmax(b, -1); }, {"softmax", "bool"});
  expect_error<ValueError>([&] { sum(i); }, {"sum"});
  expect_error<ValueError>([&] { add(f32({2, 3}), i); }, {"add"});
  expect_error<ValueError>([&] { layer_norm(i, {3}, Tensor(), Tensor()); }, {"layer_norm"});
  expect_error<ValueError>([&] { where(f32({2, 3}), f32({2, 3}), f32({2, 3})); }, {"where", "mask"});
  expect_error<ValueError>([&] { masked_fill(f32({2, 3}), i, 0); }, {"masked_fill", "mask"});
  expect_error<ValueError>([&] { logical_not(f32({2})); }, {"logical_not"});
  expect_error<ValueError>([&] { zeros({2, 3}, DType::BFloat16).matmul(f32({3, 2})); }, {"matmul"});
  expect_error<ValueError>([&] { i.requires_grad_(); }, {"requires_grad_"});
  expect_error<ValueError>([] { add(Tensor(), f32({2})); }, {"undefined"});
  expect_error<ValueError>([] { cat({f32({2}), zeros({2}, DType::Int64)}); }, {"cat", "int64"});
}

TEST(Errors, EmbeddingIdsAreCheckedBeforeAnyRead) {
  Tensor w = f32({5, 4});
  expect_error<ValueError>([&] { embedding(w, tensor_i64({0, 5}, {2})); }, {"embedding", "id 5", "5 rows"});
  expect_error<ValueError>([&] { embedding(w, tensor_i64({-1}, {1})); }, {"embedding", "-1"});
  expect_error<ValueError>([&] { embedding(w, tensor_i64({int64_t(1) << 40}, {1})); }, {"embedding"});
  expect_error<ValueError>([&] { embedding(w, tensor_i64({std::numeric_limits<int64_t>::min()}, {1})); });
  expect_error<ValueError>([&] { embedding(w, tensor_i64({2, -7}, {2}).to(DType::Int32)); }, {"-7"});
  expect_error<ValueError>([&] { embedding(w, f32({2})); }, {"embedding", "int64"});
  expect_error<ShapeError>([&] { embedding(f32({5}), tensor_i64({0}, {1})); }, {"embedding", "2-D"});
  // a strided view of ids: checked through its own layout
  Tensor ids = tensor_i64({0, 9, 1, 9}, {2, 2});
  expect_error<ValueError>([&] { embedding(w, ids.t()); }, {"id 9"});
  EXPECT_EQ(embedding(w, ids.select(1, 0)).shape(), (Shape{2, 4}));
}

TEST(Errors, IndexSelectIdsAndShapes) {
  Tensor x = f32({3, 4});
  expect_error<ValueError>([&] { index_select(x, 1, tensor_i64({0, 4}, {2})); },
                           {"index_select", "id 4", "dim 1", "size 4", "[3,4]"});
  expect_error<ValueError>([&] { index_select(x, -2, tensor_i64({-1}, {1})); }, {"index_select", "id -1", "size 3"});
  expect_error<ValueError>([&] { index_select(x, 0, tensor_i64({int64_t(1) << 40}, {1})); }, {"index_select"});
  expect_error<ValueError>([&] { index_select(x, 0, tensor_i64({std::numeric_limits<int64_t>::min()}, {1})); });
  expect_error<ValueError>([&] { index_select(x, 0, tensor_i64({1, -7}, {2}).to(DType::Int32)); }, {"-7"});
  expect_error<ValueError>([&] { index_select(x, 0, f32({2})); }, {"index_select", "int64", "float32"});
  expect_error<ValueError>([&] { index_select(x, 2, tensor_i64({0}, {1})); }, {"index_select", "dim 2"});
  expect_error<ShapeError>([&] { index_select(x, 0, tensor_i64({0, 1}, {1, 2})); },
                           {"index_select", "1-D", "[1,2]", "[3,4]"});
  expect_error<ShapeError>([] { index_select(scalar_tensor(1), 0, tensor_i64({0}, {1})); }, {"index_select", "0-d"});
  expect_error<ValueError>([&] { index_select(x, 0, Tensor()); }, {"index_select", "undefined"});
  // a strided view of ids is read through its own layout; other dtypes gather too
  Tensor ids = tensor_i64({0, 9, 2, 9}, {2, 2});
  expect_error<ValueError>([&] { index_select(x, 0, ids.select(1, 1)); }, {"id 9"});
  Tensor picked = index_select(tensor_i64({10, 11, 12, 13, 14, 15}, {3, 2}), 0, ids.select(1, 0));
  EXPECT_EQ(picked.to_int_vector(), (std::vector<int64_t>{10, 11, 14, 15}));
  EXPECT_EQ(index_select(x, 1, tensor_i64({}, {0})).shape(), (Shape{3, 0}));
}

TEST(Errors, CrossEntropyTargets) {
  Tensor logits = f32({3, 4});
  expect_error<ValueError>([&] { cross_entropy(logits, tensor_i64({0, 4, 1}, {3})); },
                           {"cross_entropy", "target 4", "4 classes"});
  expect_error<ValueError>([&] { cross_entropy(logits, tensor_i64({0, -1, 1}, {3})); }, {"target -1"});
  expect_error<ValueError>([&] { cross_entropy(logits, tensor_i64({0, int64_t(1) << 50, 1}, {3})); });
  // -100 is ignored by default, but not when another ignore_index is chosen
  EXPECT_NO_THROW(cross_entropy(logits, tensor_i64({0, -100, 1}, {3})));
  CrossEntropyOptions o;
  o.ignore_index = 2;
  expect_error<ValueError>([&] { cross_entropy(logits, tensor_i64({0, -100, 1}, {3}), o); }, {"-100"});
  expect_error<ValueError>([&] { cross_entropy(logits, f32({3})); }, {"cross_entropy", "targets"});
  expect_error<ShapeError>([&] { cross_entropy(logits, tensor_i64({0, 1}, {2})); }, {"cross_entropy", "[3,4]", "[2]"});
  expect_error<ShapeError>([&] { cross_entropy(f32({4}), tensor_i64({0}, {1})); }, {"cross_entropy"});
  expect_error<ValueError>([&] { cross_entropy(zeros({3, 4}, DType::Int64), tensor_i64({0, 1, 2}, {3})); });
  o = {};
  o.label_smoothing = 1.5f;
  expect_error<ValueError>([&] { cross_entropy(logits, tensor_i64({0, 1, 2}, {3}), o); }, {"label_smoothing"});
  o.label_smoothing = std::nanf("");
  expect_error<ValueError>([&] { cross_entropy(logits, tensor_i64({0, 1, 2}, {3}), o); }, {"label_smoothing"});
}

TEST(Errors, SelectSliceNarrowIndices) {
  Tensor x = f32({3, 4});
  expect_error<ValueError>([&] { x.select(0, 3); }, {"select", "index 3", "size 3"});
  expect_error<ValueError>([&] { x.select(1, -5); }, {"select", "-5"});
  expect_error<ValueError>([&] { x.select(2, 0); }, {"select", "dim 2"});
  expect_error<ShapeError>([] { scalar_tensor(1).select(0, 0); }, {"select"});
  expect_error<ValueError>([&] { x.narrow(1, 2, 3); }, {"narrow"});
  expect_error<ValueError>([&] { x.narrow(1, -1, 2); }, {"narrow"});
  expect_error<ValueError>([&] { x.slice(0, 0, 2, 0); }, {"slice", "step"});
  expect_error<ValueError>([&] { x.split(0); }, {"split"});
  expect_error<ValueError>([&] { x.chunk(0); }, {"chunk"});
  expect_error<ValueError>([&] { x.transpose(0, 2); }, {"transpose"});
  expect_error<ShapeError>([&] { x.permute({0}); }, {"permute"});
  expect_error<ValueError>([&] { x.permute({0, 0}); }, {"permute", "repeated"});
  expect_error<ShapeError>([] { f32({2, 2, 2}).t(); }, {"t:"});
}

TEST(Errors, BadReshape) {
  Tensor x = f32({2, 3});
  expect_error<ShapeError>([&] { x.reshape({4}); }, {"reshape", "[2,3]", "[4]"});
  expect_error<ShapeError>([&] { x.reshape({-1, -1}); }, {"reshape", "one -1"});
  expect_error<ShapeError>([&] { x.reshape({4, -1}); }, {"reshape"});
  expect_error<ShapeError>([&] { x.reshape({-2, 3}); }, {"reshape"});
  expect_error<ShapeError>([&] { f32({0, 3}).reshape({0, -1}); }, {"reshape"});
  expect_error<ShapeError>([&] { x.t().view({6}); }, {"view", "reshape()"});
  expect_error<ShapeError>([&] { x.view({7}); }, {"view"});
  EXPECT_EQ(x.t().reshape({6}).shape(), (Shape{6}));  // reshape copies instead
  expect_error<ValueError>([&] { x.flatten(1, 0); }, {"flatten"});
  expect_error<ValueError>([&] { x.unsqueeze(3); }, {"unsqueeze"});
}

TEST(Errors, ProbabilitiesAndOptions) {
  Generator g(1);
  Tensor x = f32({4});
  for (float p : {-0.1f, 1.5f, std::nanf("")})
    expect_error<ValueError>([&] { dropout(x, p, true, g); }, {"dropout", "p"});
  EXPECT_NO_THROW(dropout(x, 1.0f, true, g));
  expect_error<ValueError>([] { clamp(f32({2}), 1.0f, -1.0f); }, {"clamp"});
  Tensor q = f32({2, 3, 4});
  AttentionOptions o;
  o.dropout_p = 0.1f;
  expect_error<ValueError>([&] { scaled_dot_product_attention(q, q, q, o); }, {"Generator"});
  o.dropout_p = 1.0f;
  o.gen = &g;
  expect_error<ValueError>([&] { scaled_dot_product_attention(q, q, q, o); }, {"dropout_p"});
}

TEST(Errors, MultiHeadAttentionShapes) {
  Tensor q = f32({2, 5, 8}), k = f32({2, 7, 8}), v = f32({2, 7, 6});
  expect_error<ShapeError>([&] { multi_head_attention(q, k, v, 3); },
                           {"multi_head_attention", "q", "[2,5,8]", "n_head 3"});
  expect_error<ShapeError>([&] { multi_head_attention(q, k, v, 4); }, {"v", "[2,7,6]", "n_head 4"});
  expect_error<ValueError>([&] { multi_head_attention(q, k, v, 0); }, {"n_head must be positive"});
  expect_error<ShapeError>([&] { multi_head_attention(q, f32({3, 7, 8}), v, 2); }, {"[3,7,8]", "(B,S,Hkv·hs)"});
  // Grouped-query: k holds 3 heads of q's size 2, which does not divide n_head 4.
  expect_error<ShapeError>([&] { multi_head_attention(q, f32({2, 7, 6}), v, 4); },
                           {"[2,7,6]", "head size 2", "n_head 4", "divides n_head"});
  expect_error<ShapeError>([&] { multi_head_attention(q, k, f32({2, 6, 6}), 2); }, {"[2,6,6]"});
  expect_error<ShapeError>([&] { multi_head_attention(f32({5, 8}), k, v, 2); }, {"[5,8]"});
  expect_error<ShapeError>([&] { multi_head_self_attention(f32({2, 5, 8}), 2); },
                           {"multi_head_self_attention", "(B,T,3·C)", "[2,5,8]"});
  expect_error<ShapeError>([&] { multi_head_self_attention(f32({2, 5, 12}), 3); }, {"n_head 3"});
  AttentionOptions o;
  o.mask = ones({5, 6}, DType::Bool);
  expect_error<ShapeError>([&] { multi_head_self_attention(f32({2, 5, 12}), 2, o); },
                           {"mask", "[5,6]", "[2,2,5,5]"});
}

TEST(Errors, AttentionShapesAndMasks) {
  Tensor q = f32({2, 5, 8}), k = f32({2, 7, 8}), v = f32({2, 7, 6});
  expect_error<ShapeError>([&] { scaled_dot_product_attention(q, f32({2, 7, 4}), v); },
                           {"scaled_dot_product_attention", "[2,5,8]", "[2,7,4]", "head size"});
  expect_error<ShapeError>([&] { scaled_dot_product_attention(q, k, f32({2, 6, 6})); }, {"positions"});
  expect_error<ShapeError>([&] { scaled_dot_product_attention(f32({8}), k, v); }, {"at least 2 dims"});
  expect_error<ShapeError>([&] { scaled_dot_product_attention(f32({3, 5, 8}), k, v); },
                           {"scaled_dot_product_attention"});  // batch 3 vs 2
  AttentionOptions o;
  o.mask = zeros({5, 7}, DType::Int64);
  expect_error<ValueError>([&] { scaled_dot_product_attention(q, k, v, o); }, {"mask", "int64"});
  o.mask = ones({5, 6}, DType::Bool);
  expect_error<ShapeError>([&] { scaled_dot_product_attention(q, k, v, o); }, {"mask", "[5,6]", "[2,5,7]"});
  o.mask = ones({3, 5, 7}, DType::Bool);  // would broadcast the output: not allowed
  expect_error<ShapeError>([&] { scaled_dot_product_attention(q, k, v, o); }, {"mask"});
}

TEST(Errors, ReductionsLayerNormLinearCat) {
  Tensor x = f32({2, 3});
  expect_error<ValueError>([&] { sum(x, {2}); }, {"sum", "dim 2"});
  expect_error<ValueError>([&] { sum(x, {1, -1}); }, {"sum", "repeated"});
  expect_error<ValueError>([&] { max(f32({2, 0}), 1); }, {"max", "empty"});
  expect_error<ValueError>([&] { amax(f32({0}), {}); }, {"max", "empty"});
  expect_error<ShapeError>([&] { layer_norm(x, {2}, Tensor(), Tensor()); }, {"layer_norm", "[2,3]", "[2]"});
  expect_error<ShapeError>([&] { layer_norm(x, {}, Tensor(), Tensor()); }, {"layer_norm"});
  expect_error<ShapeError>([&] { layer_norm(x, {3}, f32({2}), Tensor()); }, {"layer_norm", "weight"});
  expect_error<ShapeError>([&] { layer_norm(x, {3}, Tensor(), f32({3, 1})); }, {"layer_norm", "bias"});
  expect_error<ValueError>([&] { layer_norm(x, {3}, Tensor(), Tensor(), -1.0f); }, {"layer_norm", "eps"});
  expect_error<ShapeError>([&] { linear(x, f32({4, 2})); }, {"linear", "[2,3]", "[4,2]"});
  expect_error<ShapeError>([&] { linear(x, f32({4})); }, {"linear", "2-D"});
  expect_error<ShapeError>([&] { linear(x, f32({4, 3}), f32({3})); }, {"linear", "bias"});
  expect_error<ValueError>([] { cat({}); }, {"cat"});
  expect_error<ShapeError>([&] { cat({x, f32({2, 4})}, 0); }, {"cat", "[2,4]"});
  expect_error<ShapeError>([&] { cat({x, f32({3})}, 0); }, {"cat"});
  expect_error<ShapeError>([&] { stack({x, f32({3, 2})}); }, {"stack"});
  expect_error<ShapeError>([] { tril(f32({3}), 0); }, {"tril"});
  expect_error<ShapeError>([] { triu(f32({3}), 0); }, {"triu"});
}

TEST(Errors, BackwardMisuse) {
  Tensor x = f32({2}).requires_grad_();
  Tensor y = mul(x, 2.0f);
  expect_error<ShapeError>([&] { y.backward(f32({3})); }, {"backward", "[3]", "[2]"});
  expect_error<ShapeError>([&] { y.backward(); }, {"backward", "scalar"});
  expect_error<ValueError>([] { f32({1}).backward(); }, {"backward"});
}
