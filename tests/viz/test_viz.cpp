// viz/: rendering (Cairo + Pango; PNG, SVG, PDF by extension), heatmaps,
// grids, line and loss plots, bar charts, scatters, the positional-encoding
// table and `qkv plot pe`. Plots are checked by structure: the PNG decodes at
// its stated size with ink where the data, axes and labels go; the SVG's text
// layer holds the labels (Korean and a leading-space token included).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <regex>

#include "io/io_test_util.h"
#include "qkv/core/error.h"
#include "qkv/core/tensor.h"
#include "qkv/nn/positional.h"
#include "qkv/viz/viz.h"
#include "qkv/viz/figure.h"
#include "viz/image_check.h"

using qkv::Tensor;
using qkv::testing::expect_error;
using qkv::testing::read_png;
using qkv::testing::ScratchDir;
using qkv::testing::svg_text_layer;

namespace {
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
bool in_layer(const std::vector<std::string>& layer, const std::string& label) {
  return std::find(layer.begin(), layer.end(), label) != layer.end();
}
std::string layer_str(const std::vector<std::string>& layer) {
  std::string s;
  for (const auto& t : layer) s += "[" + t + "] ";
  return s;
}
}  // namespace

TEST(VizFormat, ChosenByTheExtension) {
  using qkv::viz::Format;
  EXPECT_EQ(qkv::viz::format_of("a.png"), Format::Png);
  EXPECT_EQ(qkv::viz::format_of("dir.v2/A.SVG"), Format::Svg);
  EXPECT_EQ(qkv::viz::format_of("x.Pdf"), Format::Pdf);
  expect_error<qkv::ValueError>([] { qkv::viz::format_of("out/a.jpg"); }, {"out/a.jpg", "unknown extension '.jpg'"});
  expect_error<qkv::ValueError>([] { qkv::viz::format_of("dir.png/noext"); }, {"unknown extension ''"});
  ScratchDir d;
  expect_error<qkv::IOError>([&] { qkv::viz::check_output(d.file("missing/a.png")); },
                             {"cannot write", "missing/a.png", "no such folder"});
  EXPECT_NO_THROW(qkv::viz::check_output(d.file("a.pdf")));
}

// One figure, three formats: the same heatmap as PNG (decoded by Cairo), SVG
// (text layer) and PDF (a PDF header), and nothing else left in the folder.
TEST(VizHeatmap, OneCodePathThreeFormats) {
  ScratchDir d;
  qkv::viz::HeatmapOptions opt;
  opt.title = "attention";
  opt.x_ticks = {"␣But", "한국어", "東京", "é"};
  opt.y_ticks = opt.x_ticks;
  opt.x_label = "key";
  opt.y_label = "query";
  opt.colormap = "viridis";
  opt.cell_px = 30;
  const Tensor v = qkv::tensor({0.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.0f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, {4, 4});
  for (const char* name : {"h.png", "h.svg", "h.pdf"}) qkv::viz::heatmap(d.file(name), v, opt);
  EXPECT_EQ(d.entries(), (std::vector<std::string>{"h.pdf", "h.png", "h.svg"}));
  auto png = read_png(d.file("h.png"));
  ASSERT_GT(png.width, 4 * 30);
  ASSERT_GT(png.height, 4 * 30);
  EXPECT_TRUE(png.has(0x440154) && png.has(0xfde725)) << "viridis ends (cells 0.0 and 1.0)";
  EXPECT_GT(png.ink(0, 0, png.width, 25), 0.01) << "the title";
  EXPECT_GT(png.ink(0, 0, 25, png.height), 0.005) << "the y label";
  EXPECT_GT(png.ink(0, png.height - 60, png.width, png.height), 0.01) << "x tick labels";
  const std::string svg = qkv::testing::read_bytes(d.file("h.svg"));
  EXPECT_TRUE(contains(svg, "<svg"));
  const auto layer = svg_text_layer(svg);
  for (const char* label : {"attention", "␣But", "한국어", "東京", "é", "key", "query"})
    EXPECT_TRUE(in_layer(layer, label)) << label << " not in " << layer_str(layer);
  EXPECT_EQ(qkv::testing::read_bytes(d.file("h.pdf")).substr(0, 5), "%PDF-");
}

// The glyphs are really drawn: a Korean label inks its place in the PNG.
TEST(VizHeatmap, NonLatinLabelsAreDrawn) {
  ScratchDir d;
  qkv::viz::HeatmapOptions opt;
  opt.cell_px = 40;
  opt.colorbar = false;
  const Tensor v = qkv::tensor({0.5f}, {1, 1});
  opt.y_ticks = {"한국어東京"};
  qkv::viz::heatmap(d.file("k.png"), v, opt);
  opt.y_ticks = {"x"};
  qkv::viz::heatmap(d.file("x.png"), v, opt);
  auto k = read_png(d.file("k.png")), x = read_png(d.file("x.png"));
  EXPECT_GT(k.width, x.width + 30) << "five CJK glyphs are wider than one x";
  EXPECT_GT(k.ink(0, 0, k.width - 45, k.height), 0.03);
}

TEST(VizHeatmap, DivergingColormapAndManyLabels) {
  ScratchDir d;
  qkv::viz::HeatmapOptions opt;
  opt.cell_px = 20;
  qkv::viz::heatmap(d.file("h.png"), qkv::tensor({-1.0f, 0.0f, 1.0f, 0.0f}, {2, 2}), opt);
  auto png = read_png(d.file("h.png"));
  EXPECT_TRUE(png.has(0x053061) && png.has(0x67001f) && png.has(0xf7f7f7)) << "blue, red, white cells";
  // Many token labels on narrow cells: labels thinned and rotated, still drawn.
  std::vector<std::string> toks(64, "token");
  opt.cell_px = 0;
  opt.x_ticks = toks;
  opt.y_ticks = toks;
  qkv::viz::heatmap(d.file("big.png"), qkv::nn::SinusoidalPositionalEncoding(64, 64).forward(64).contiguous(), opt);
  EXPECT_GT(read_png(d.file("big.png")).width, 64);
  // NaN cells are drawn (grey), not rejected.
  qkv::viz::heatmap(d.file("nan.png"), qkv::tensor({NAN, 1.0f}, {1, 2}), {});
  EXPECT_TRUE(read_png(d.file("nan.png")).has(0xa0a0a0));
}

TEST(VizHeatmap, BadInputsWriteNothing) {
  ScratchDir d;
  qkv::viz::HeatmapOptions opt;
  expect_error<qkv::ShapeError>([&] { qkv::viz::heatmap(d.file("a.png"), qkv::tensor({1, 2, 3}), opt); }, {"2-D"});
  expect_error<qkv::ValueError>([&] { qkv::viz::heatmap(d.file("a.svg"), Tensor::empty({0, 3}), opt); }, {"empty"});
  opt.x_ticks = {"a"};
  expect_error<qkv::ValueError>([&] { qkv::viz::heatmap(d.file("a.png"), qkv::tensor({1, 2}, {1, 2}), opt); },
                                {"1 x_ticks for 2 columns"});
  opt.x_ticks.clear();
  opt.colormap = "jet";
  expect_error<qkv::ValueError>([&] { qkv::viz::heatmap(d.file("a.png"), qkv::tensor({1, 2}, {1, 2}), opt); },
                                {"unknown colormap 'jet'"});
  opt.colormap = "auto";
  expect_error<qkv::IOError>([&] { qkv::viz::heatmap(d.file("x/a.png"), qkv::tensor({1, 2}, {1, 2}), opt); },
                             {"cannot write", "x/a.png"});
  expect_error<qkv::ValueError>([&] { qkv::viz::heatmap(d.file("a.gif"), qkv::tensor({1, 2}, {1, 2}), opt); },
                                {"a.gif", "unknown extension '.gif'"});
  EXPECT_TRUE(d.entries().empty());
}

TEST(VizGrid, LayersByHeadsWithOneScale) {
  ScratchDir d;
  std::vector<float> v(2 * 3 * 4 * 4);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 7) / 6.0f;
  qkv::viz::GridOptions opt;
  opt.title = "all heads";
  opt.x_ticks = opt.y_ticks = {"␣But", "한국어", "↵", "x"};
  opt.row_names = {"layer 0", "layer 1"};
  opt.col_names = {"head 0", "head 1", "head 2"};
  const Tensor t = qkv::tensor(v, {2, 3, 4, 4});
  qkv::viz::heatmap_grid(d.file("g.png"), t, opt);
  qkv::viz::heatmap_grid(d.file("g.svg"), t, opt);
  auto png = read_png(d.file("g.png"));
  EXPECT_GT(png.width, 3 * 4 * 4);
  EXPECT_TRUE(png.has(0x440154) && png.has(0xfde725));
  const auto layer = svg_text_layer(qkv::testing::read_bytes(d.file("g.svg")));
  for (const char* label : {"all heads", "layer 1", "head 2", "␣But", "한국어", "↵"})
    EXPECT_TRUE(in_layer(layer, label)) << label << " not in " << layer_str(layer);
  expect_error<qkv::ShapeError>([&] { qkv::viz::heatmap_grid(d.file("b.png"), qkv::tensor({1, 2}, {1, 2}), opt); },
                                {"4-D"});
  opt.row_names = {"one"};
  expect_error<qkv::ValueError>([&] { qkv::viz::heatmap_grid(d.file("b.png"), t, opt); }, {"1 row_names for 2"});
  EXPECT_EQ(d.entries(), (std::vector<std::string>{"g.png", "g.svg"}));
}

TEST(VizLinePlot, CurvesAxesAndLegend) {
  ScratchDir d;
  qkv::viz::Series train{"train", {}, {}}, val{"val", {}, {}};
  for (int i = 0; i <= 100; ++i) {
    train.x.push_back(i * 10);
    train.y.push_back(4.0 * std::exp(-i / 30.0) + 1.0);
  }
  for (int i = 0; i <= 100; i += 20) {
    val.x.push_back(i * 10);
    val.y.push_back(4.0 * std::exp(-i / 30.0) + 1.2);
  }
  val.y[2] = NAN;  // skipped, not fatal
  qkv::viz::line_plot(d.file("l.svg"), {train, val}, {"loss", "step", "loss"});
  const auto layer = svg_text_layer(qkv::testing::read_bytes(d.file("l.svg")));
  for (const char* label : {"train", "val", "1000", "step", "loss"})
    EXPECT_TRUE(in_layer(layer, label)) << label << " not in " << layer_str(layer);
  qkv::viz::line_plot(d.file("l.png"), {train, val}, {"loss", "step", "loss"});
  auto png = read_png(d.file("l.png"));
  EXPECT_EQ(png.width, 800);
  EXPECT_EQ(png.height, 500);
  EXPECT_TRUE(png.has(0x1f77b4) && png.has(0xff7f0e)) << "blue and orange series";
  qkv::viz::line_plot(d.file("one.png"), {{"x", {5}, {2.0}}}, {});  // one point, constant: still a plot
  EXPECT_EQ(read_png(d.file("one.png")).width, 800);
  expect_error<qkv::ValueError>([&] { qkv::viz::line_plot(d.file("a.svg"), {{"train", {1, 2}, {1}}}, {}); },
                                {"'train'", "2 x values and 1 y values"});
  expect_error<qkv::ValueError>([&] { qkv::viz::line_plot(d.file("a.png"), {{"t", {1}, {NAN}}}, {}); },
                                {"no series has a finite point"});
  EXPECT_EQ(d.entries(), (std::vector<std::string>{"l.png", "l.svg", "one.png"}));
}

TEST(VizLossPlot, SmoothedStepsEvalsAndLearningRate) {
  EXPECT_EQ(qkv::viz::smooth_ema({1, 1, 1}, 0.9), (std::vector<double>{1, 1, 1}));  // bias-corrected: no ramp from 0
  const auto s = qkv::viz::smooth_ema({0, 10, NAN, 10}, 0.5);
  EXPECT_DOUBLE_EQ(s[0], 0);
  EXPECT_DOUBLE_EQ(s[1], 5 / 0.75);
  EXPECT_DOUBLE_EQ(s[2], s[1]);  // NaN skipped
  EXPECT_DOUBLE_EQ(s[3], 7.5 / 0.875);
  EXPECT_TRUE(std::isnan(qkv::viz::smooth_ema({NAN, 1}, 0.5)[0]));

  ScratchDir d;
  auto run = [](const std::string& name, double off) {
    qkv::viz::LossCurve r{name, {}, {}, {}, {}, {}, {}};
    for (int i = 0; i < 200; ++i) {
      r.step.push_back(i);
      r.loss.push_back(3 * std::exp(-i / 60.0) + off + 0.3 * std::sin(i * 1.7));
      r.lr.push_back(i < 20 ? 1e-3 * i / 20 : 1e-3);
    }
    for (int i = 0; i <= 200; i += 50) {
      r.eval_step.push_back(i);
      r.eval_train.push_back(3 * std::exp(-i / 60.0) + off);
      r.eval_val.push_back(3 * std::exp(-i / 60.0) + off + 0.2);
    }
    return r;
  };
  qkv::viz::loss_plot(d.file("loss.png"), {run("base", 1), run("rope", 0.8)}, "loss");
  auto png = read_png(d.file("loss.png"));
  EXPECT_EQ(png.width, 900);
  EXPECT_TRUE(png.has(0x1f77b4) && png.has(0xff7f0e)) << "both runs' smoothed lines";
  EXPECT_GT(png.ink(png.width - 60, 100, png.width, png.height - 100), 0.01) << "the learning-rate axis";
  qkv::viz::loss_plot(d.file("loss.svg"), {run("base", 1), run("rope", 0.8)}, "loss");
  const auto layer = svg_text_layer(qkv::testing::read_bytes(d.file("loss.svg")));
  for (const char* label : {"learning rate", "base train loss (EMA)", "rope eval: val", "step"})
    EXPECT_TRUE(in_layer(layer, label)) << label << " not in " << layer_str(layer);
  // An old run: evaluations only, no per-step curve and no learning rate.
  qkv::viz::LossCurve old{"old", {}, {}, {}, {0, 100}, {4, 2}, {4.1, 2.2}};
  qkv::viz::loss_plot(d.file("old.png"), {old}, "");
  EXPECT_EQ(read_png(d.file("old.png")).width, 900);
  expect_error<qkv::ValueError>([&] { qkv::viz::loss_plot(d.file("e.png"), {}, ""); }, {"no run has a finite loss"});
  expect_error<qkv::ValueError>([&] { qkv::viz::loss_plot(d.file("e.png"), {old}, "", 1.0); }, {"smoothing"});
  EXPECT_EQ(d.entries(), (std::vector<std::string>{"loss.png", "loss.svg", "old.png"}));
}

TEST(VizBarChart, NextTokenBars) {
  ScratchDir d;
  const std::vector<std::string> labels{"␣the", "␣a", "↵", "한"};
  qkv::viz::bar_chart(d.file("b.svg"), labels, {0.5, 0.3, 0.15, 0.05}, {"next token after 'x'", "probability", 0});
  const auto layer = svg_text_layer(qkv::testing::read_bytes(d.file("b.svg")));
  for (const char* label : {"␣the", "↵", "한", "0.500", "probability"})
    EXPECT_TRUE(in_layer(layer, label)) << label << " not in " << layer_str(layer);
  qkv::viz::bar_chart(d.file("b.png"), labels, {0.5, 0.3, 0.15, 0.05}, {"", "", 0});
  auto png = read_png(d.file("b.png"));
  EXPECT_TRUE(png.has(0xff7f0e) && png.has(0x1f77b4)) << "the highlighted bar and the others";
  expect_error<qkv::ValueError>([&] { qkv::viz::bar_chart(d.file("e.png"), {"a"}, {0.1, 0.2}, {}); },
                                {"1 labels for 2 values"});
  expect_error<qkv::ValueError>([&] { qkv::viz::bar_chart(d.file("e.png"), {"a"}, {-1}, {}); }, {"'a'", ">= 0"});
  EXPECT_EQ(d.entries(), (std::vector<std::string>{"b.png", "b.svg"}));
}

TEST(VizScatter, LabelledPoints) {
  ScratchDir d;
  qkv::viz::scatter(d.file("s.svg"), {0, 1, 2}, {0, 1, 0}, {"king", "queen", "왕"}, {"embeddings", "PC 1", "PC 2"});
  const auto layer = svg_text_layer(qkv::testing::read_bytes(d.file("s.svg")));
  for (const char* label : {"king", "queen", "왕", "PC 1"})
    EXPECT_TRUE(in_layer(layer, label)) << label << " not in " << layer_str(layer);
  expect_error<qkv::ValueError>([&] { qkv::viz::scatter(d.file("e.png"), {0, NAN}, {0, 1}, {"a", "b"}, {}); },
                                {"point 1 ('b') is not finite"});
  EXPECT_EQ(d.entries(), std::vector<std::string>{"s.svg"});
}

// A long label (a sentence) at the rightmost point sits left of it, inside the
// frame: its text ends at the point (x < 0 from the point); a short one at the
// leftmost point starts right of it (x = 0).
TEST(VizScatter, LabelNearTheRightEdgeGoesLeftOfItsPoint) {
  ScratchDir d;
  const std::string sentence = "a sentence far too long to fit to the right";
  qkv::viz::scatter(d.file("s.svg"), {0, 1, 2}, {0, 1, 0}, {"left", "mid", sentence}, {"sentences", "PC 1", "PC 2"});
  const std::string svg = qkv::testing::read_bytes(d.file("s.svg"));
  auto x_of = [&svg](const std::string& label) {
    const std::regex text("<text x=\"([-0-9.]+)\"[^>]*>" + label + "</text>");
    std::smatch m;
    return std::regex_search(svg, m, text) ? std::stod(m[1]) : NAN;
  };
  EXPECT_LT(x_of(sentence), -100.0) << svg.substr(svg.find("qkv-text"));
  EXPECT_EQ(x_of("left"), 0.0);
}

// Points close together (a cluster of sentences): each label takes the
// first free spot around its point, so no two labels cover each other.
TEST(VizScatter, LabelsOfNearbyPointsDoNotOverlap) {
  ScratchDir d;
  const std::vector<std::string> labels = {"Ein Junge springt in den Pool.", "Ein Mädchen schwimmt im See.",
                                           "Kinder spielen im Wasser.", "Eine Band spielt ein Konzert.", "far away"};
  qkv::viz::scatter(d.file("s.svg"), {0.0, 0.02, -0.03, 0.01, 1.0}, {0.0, 0.01, -0.01, -0.02, 1.0}, labels,
                    {"sentences", "PC 1", "PC 2"});
  const std::string svg = qkv::testing::read_bytes(d.file("s.svg"));
  struct Box { double x0, y0, x1, y1; };
  std::vector<Box> boxes;
  for (const std::string& label : labels) {
    const std::regex text("<text x=\"([-0-9.e]+)\" y=\"([-0-9.e]+)\"[^>]*translate\\(([-0-9.e]+) ([-0-9.e]+)\\)\">" +
                          label + "</text>");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(svg, m, text)) << label;
    const auto [w, h] = qkv::viz::detail::text_size(label, 12);
    const double left = std::stod(m[3]) + std::stod(m[1]), base = std::stod(m[4]) + std::stod(m[2]);
    boxes.push_back({left, base - 0.7 * h, left + w, base});  // the glyphs above the baseline
  }
  for (size_t i = 0; i < boxes.size(); ++i)
    for (size_t j = i + 1; j < boxes.size(); ++j) {
      const bool apart = boxes[i].x1 <= boxes[j].x0 || boxes[j].x1 <= boxes[i].x0 || boxes[i].y1 <= boxes[j].y0 ||
                         boxes[j].y1 <= boxes[i].y0;
      EXPECT_TRUE(apart) << labels[i] << " covers " << labels[j];
    }
}

TEST(VizPe, TableMatchesTheFormula) {  // the table `qkv plot pe` draws (nn's, Vaswani et al. §3.5)
  Tensor pe = qkv::nn::SinusoidalPositionalEncoding(16, 50).forward(50).contiguous();
  ASSERT_EQ(pe.shape(), (qkv::Shape{50, 16}));
  const float* p = pe.data<float>();
  for (int j = 0; j < 16; ++j) EXPECT_EQ(p[j], j % 2 == 0 ? 0.0f : 1.0f);  // position 0
  EXPECT_NEAR(p[1 * 16 + 0], std::sin(1.0), 1e-6);
  EXPECT_NEAR(p[1 * 16 + 1], std::cos(1.0), 1e-6);
  EXPECT_NEAR(p[7 * 16 + 4], std::sin(7 / std::pow(10000.0, 4.0 / 16)), 1e-6);
  EXPECT_NEAR(p[7 * 16 + 5], std::cos(7 / std::pow(10000.0, 4.0 / 16)), 1e-6);
  EXPECT_EQ(qkv::nn::SinusoidalPositionalEncoding(5, 3).forward(3).shape(), (qkv::Shape{3, 5}));  // odd d works
  EXPECT_THROW(qkv::nn::SinusoidalPositionalEncoding(4, 0), qkv::ValueError);
  EXPECT_THROW(qkv::nn::SinusoidalPositionalEncoding(-1, 4), qkv::ValueError);
}

// --- `qkv plot pe` -----------------------------------------------------------

namespace {
qkv::testing::ShellRun qkv_run(const std::string& args) { return qkv::testing::shell(std::string(QKV_CLI_PATH) + " " + args); }
}  // namespace

TEST(VizCli, PlotPeWritesPngAndSvg) {
  ScratchDir d;
  auto r = qkv_run("plot pe --len 60 --dim 128 -o " + d.file("pe.png"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "wrote")) << r.out;
  auto png = read_png(d.file("pe.png"));
  EXPECT_GT(png.width, 128);
  EXPECT_GT(png.height, 60);
  r = qkv_run("plot pe --len 10 --dim 8 -o " + d.file("pe.SVG"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(contains(qkv::testing::read_bytes(d.file("pe.SVG")), "<svg"));
  EXPECT_EQ(d.entries(), (std::vector<std::string>{"pe.SVG", "pe.png"}));
  r = qkv_run("plot --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(contains(r.out, "pe")) << r.out;
}

TEST(VizCli, PlotPeEveryKindsSimilarity) {
  ScratchDir d;
  for (const std::string args : {"--kind sinusoidal --view similarity --len 40 --dim 32 --base 100",
                                 "--kind rope --len 40 --base 1000000", "--kind rope --len 30 --dim 16",
                                 "--kind alibi --len 20 --heads 6 --head 5", "--kind t5 --len 50"}) {
    auto r = qkv_run("plot pe " + args + " -o " + d.file("p.svg"));
    ASSERT_EQ(r.code, 0) << args << "\n" << r.out;
    EXPECT_TRUE(contains(r.out, "wrote")) << r.out;
    EXPECT_TRUE(contains(qkv::testing::read_bytes(d.file("p.svg")), "<svg")) << args;
  }
}

// The matrices behind the pictures: 1 on the diagonal (similarities), the
// RoPE decay Σ cos((i−j)θ_k)/(hs/2), ALiBi's −m|i−j|.
TEST(VizPe, SimilarityMatrices) {
  const Tensor s = qkv::nn::sinusoidal_similarity(10, 16);
  const Tensor r = qkv::nn::rope_similarity(10, 8, {});
  for (int64_t i = 0; i < 10; ++i) {
    EXPECT_NEAR(s.data<float>()[i * 10 + i], 1.0f, 1e-5);
    EXPECT_NEAR(r.data<float>()[i * 10 + i], 1.0f, 1e-5);
  }
  double want = 0;  // i − j = 3, θ_k = 10000^(−2k/8)
  for (int k = 0; k < 4; ++k) want += std::cos(3 * std::pow(10000.0, -2.0 * k / 8)) / 4;
  EXPECT_NEAR(r.data<float>()[5 * 10 + 2], want, 1e-5);
  const Tensor b = qkv::nn::alibi_bias(5, 2, 1);  // slopes 1/16, 1/256
  EXPECT_FLOAT_EQ(b.data<float>()[4 * 5 + 1], -3.0f / 256);
  EXPECT_THROW(qkv::nn::alibi_bias(5, 2, 2), qkv::ValueError);
}

TEST(VizCli, PlotPeBadInput) {
  ScratchDir d;
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"--len 0 --dim 8 -o " + d.file("a.png"), "--len must be positive"},
      {"--len -5 --dim 8 -o " + d.file("a.png"), "--len must be positive"},
      {"--len 4 --dim -2 -o " + d.file("a.png"), "--dim must be positive"},
      {"--len 100000 --dim 8 -o " + d.file("a.png"), "at most 8192"},
      {"--len 4 --dim 8 -o " + d.file("a.jpg"), "unknown extension '.jpg'"},
      {"--len 4 --dim 8 -o " + d.file("noext"), "unknown extension ''"},
      {"--len 4 --dim 8 -o " + d.file("missing/a.png"), "cannot write"},
      {"--len abc --dim 8 -o " + d.file("a.png"), "--len"},
      {"--len 4 --dim 8", "-o"},
      {"--kind xpos -o " + d.file("a.png"), "--kind xpos"},
      {"--kind none -o " + d.file("a.png"), "nothing to draw"},
      {"--kind learned -o " + d.file("a.png"), "needs --run"},
      {"--kind rope --view table -o " + d.file("a.png"), "no table"},
      {"--kind alibi --heads 4 --head 4 -o " + d.file("a.png"), "--head 4"},
      {"--kind rope --dim 7 -o " + d.file("a.png"), "rot_dim"},
      {"--run " + d.file("nope") + " -o " + d.file("a.png"), "no such directory"},
      {"--base 1 -o " + d.file("a.png"), "base must be > 1"},
  };
  for (const Case& c : cases) {
    auto r = qkv_run("plot pe " + c.args);
    EXPECT_NE(r.code, 0) << c.args << "\n" << r.out;
    EXPECT_TRUE(contains(r.out, c.expect)) << c.args << ": '" << c.expect << "' not in\n" << r.out;
  }
  EXPECT_TRUE(d.entries().empty());
  auto r = qkv_run("plot");
  EXPECT_NE(r.code, 0);
}
