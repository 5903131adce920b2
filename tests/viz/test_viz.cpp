// viz/: PNG encoding, heatmaps, line plots, the positional-encoding table and
// the `qkv plot pe` command.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>

#include "io/io_test_util.h"
#include "qkv/core/error.h"
#include "qkv/core/tensor.h"
#include "qkv/viz/canvas.h"
#include "qkv/nn/positional.h"
#include "qkv/viz/viz.h"
#include "viz/png_reader.h"

using qkv::Tensor;
using qkv::testing::expect_error;
using qkv::testing::ScratchDir;

namespace {
qkv::testing::Png read_png(const std::string& path) { return qkv::testing::decode_png(qkv::testing::read_bytes(path)); }
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST(VizPng, ChecksumsMatchKnownValues) {
  const auto* s = reinterpret_cast<const uint8_t*>("123456789");
  EXPECT_EQ(qkv::viz::crc32(s, 9), 0xCBF43926u);  // the CRC-32 check value
  const auto* w = reinterpret_cast<const uint8_t*>("Wikipedia");
  EXPECT_EQ(qkv::viz::adler32(w, 9), 0x11E60398u);
}

TEST(VizPng, RoundTripsPixelsAcrossManyStoredBlocks) {
  ScratchDir d;
  const int w = 300, h = 250;  // > 65535 bytes of scanlines: several deflate blocks
  std::vector<uint8_t> rgb(w * h * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 7 + i / 3);
  qkv::viz::write_png(d.file("a.png"), w, h, rgb);
  auto png = read_png(d.file("a.png"));
  EXPECT_EQ(png.width, w);
  EXPECT_EQ(png.height, h);
  EXPECT_EQ(png.rgb, rgb);
  EXPECT_EQ(d.entries(), std::vector<std::string>{"a.png"});
}

TEST(VizPng, PythonZlibDecodesOurPng) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "/usr/bin/python3 not found";
  ScratchDir d;
  std::vector<uint8_t> rgb(3 * 2 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(40 * i);
  qkv::viz::write_png(d.file("p.png"), 3, 2, rgb);
  std::string py =
      "import struct,sys,zlib\n"
      "b=open(sys.argv[1],'rb').read(); p=8; z=b''\n"
      "while p<len(b):\n"
      "  n,=struct.unpack('>I',b[p:p+4]); t=b[p+4:p+8]\n"
      "  assert zlib.crc32(b[p+4:p+8+n])==struct.unpack('>I',b[p+8+n:p+12+n])[0], t\n"
      "  z+=b[p+8:p+8+n] if t==b'IDAT' else b''; p+=12+n\n"
      "px=bytes((40*i)&255 for i in range(18))\n"
      "raw=zlib.decompress(z); assert raw==b'\\0'+px[:9]+b'\\0'+px[9:], raw\n"
      "print('ok', len(raw))\n";
  qkv::testing::write_bytes(d.file("check.py"), py);
  auto r = qkv::testing::shell("/usr/bin/python3 " + d.file("check.py") + " " + d.file("p.png"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "ok 20")) << r.out;
}

TEST(VizPng, BadInputs) {
  ScratchDir d;
  expect_error<qkv::ValueError>([&] { qkv::viz::write_png(d.file("a.png"), 0, 5, {}); }, {"0x5"});
  expect_error<qkv::ValueError>([&] { qkv::viz::write_png(d.file("a.png"), 2, 2, std::vector<uint8_t>(5)); },
                                {"needs 12 bytes", "got 5"});
  expect_error<qkv::IOError>([&] { qkv::viz::write_png(d.file("no/dir/a.png"), 1, 1, {0, 0, 0}); },
                             {"cannot write", "no/dir/a.png"});
  EXPECT_TRUE(d.entries().empty());
}

TEST(VizFont, GlyphsAreDistinctAndWellFormed) {
  using namespace qkv::viz::detail;
  const uint8_t* a = glyph('A');
  EXPECT_EQ(a[0], 0b01110);
  EXPECT_EQ(a[3], 0b11111);
  for (int c = 33; c < 127; ++c) {
    const uint8_t* g = glyph(static_cast<unsigned char>(c));
    int ink = 0;
    for (int r = 0; r < kGlyphH; ++r) ink += __builtin_popcount(g[r]);
    EXPECT_GT(ink, 0) << "glyph '" << char(c) << "' is blank";
    for (int c2 = 33; c2 < c; ++c2)
      EXPECT_NE(std::memcmp(g, glyph(static_cast<unsigned char>(c2)), kGlyphH), 0)
          << "'" << char(c) << "' and '" << char(c2) << "' look the same";
  }
  EXPECT_EQ(glyph_count("héllo"), 5);  // é is one (unknown) glyph
  EXPECT_EQ(text_width("ab"), 11);
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

TEST(VizHeatmap, PngCellsUseTheColormap) {
  ScratchDir d;
  // Two rows: a negative and a positive cell -> diverging map (blue, red).
  Tensor v = qkv::tensor({-1.0f, 0.0f, 1.0f, 0.0f}, {2, 2});
  qkv::viz::HeatmapOptions opt;
  opt.cell_px = 20;
  opt.title = "T";
  qkv::viz::heatmap_png(d.file("h.png"), v, opt);
  auto png = read_png(d.file("h.png"));
  // Find the map: scan the middle of the image for the blue (-1) cell.
  bool blue = false, red = false, white = false;
  for (int y = 0; y < png.height; ++y)
    for (int x = 0; x < png.width; ++x) {
      const uint8_t* c = png.at(x, y);
      blue |= c[0] == 5 && c[1] == 48 && c[2] == 97;
      red |= c[0] == 103 && c[1] == 0 && c[2] == 31;
      white |= c[0] == 247 && c[1] == 247 && c[2] == 247;
    }
  EXPECT_TRUE(blue && red && white);
  opt.colormap = "viridis";
  qkv::viz::heatmap_png(d.file("v.png"), qkv::tensor({0.0f, 1.0f}, {1, 2}), opt);
  auto vp = read_png(d.file("v.png"));
  bool lo = false, hi = false;
  for (size_t i = 0; i + 2 < vp.rgb.size(); i += 3) {
    lo |= vp.rgb[i] == 68 && vp.rgb[i + 1] == 1 && vp.rgb[i + 2] == 84;
    hi |= vp.rgb[i] == 253 && vp.rgb[i + 1] == 231 && vp.rgb[i + 2] == 37;
  }
  EXPECT_TRUE(lo && hi);
}

TEST(VizHeatmap, SvgHasCellsAndEscapedTokenLabels) {
  ScratchDir d;
  qkv::viz::HeatmapOptions opt;
  opt.title = "attn <layer 0>";
  opt.x_ticks = {"<bos>", "a&b"};
  opt.y_ticks = {"q1", "q2"};
  qkv::viz::heatmap_svg(d.file("h.svg"), qkv::tensor({0.1f, 0.9f, 0.5f, 0.5f}, {2, 2}), opt);
  std::string s = qkv::testing::read_bytes(d.file("h.svg"));
  EXPECT_TRUE(contains(s, "<svg")) << s;
  EXPECT_TRUE(contains(s, "attn &lt;layer 0&gt;"));
  EXPECT_TRUE(contains(s, "&lt;bos&gt;"));
  EXPECT_TRUE(contains(s, "a&amp;b"));
  EXPECT_TRUE(contains(s, "</svg>"));
  // Many token labels on narrow cells: still renders (labels thinned/rotated).
  std::vector<std::string> toks(64, "token");
  opt.x_ticks = toks;
  opt.y_ticks = toks;
  Tensor big = qkv::nn::SinusoidalPositionalEncoding(64, 64).forward(64).contiguous();
  qkv::viz::heatmap_png(d.file("big.png"), big, opt);
  EXPECT_GT(read_png(d.file("big.png")).width, 64);
}

TEST(VizHeatmap, BadInputs) {
  ScratchDir d;
  qkv::viz::HeatmapOptions opt;
  expect_error<qkv::ShapeError>([&] { qkv::viz::heatmap_png(d.file("a.png"), qkv::tensor({1, 2, 3}), opt); },
                                {"2-D"});
  expect_error<qkv::ValueError>([&] { qkv::viz::heatmap_svg(d.file("a.svg"), Tensor::empty({0, 3}), opt); },
                                {"empty"});
  opt.x_ticks = {"a"};
  expect_error<qkv::ValueError>([&] { qkv::viz::heatmap_png(d.file("a.png"), qkv::tensor({1, 2}, {1, 2}), opt); },
                                {"1 x_ticks for 2 columns"});
  opt.x_ticks.clear();
  opt.colormap = "jet";
  expect_error<qkv::ValueError>([&] { qkv::viz::heatmap_png(d.file("a.png"), qkv::tensor({1, 2}, {1, 2}), opt); },
                                {"unknown colormap 'jet'"});
  opt.colormap = "auto";
  expect_error<qkv::IOError>([&] { qkv::viz::heatmap_png(d.file("x/a.png"), qkv::tensor({1, 2}, {1, 2}), opt); },
                             {"cannot write"});
  EXPECT_TRUE(d.entries().empty());
  // NaN cells are drawn (grey), not rejected.
  qkv::viz::heatmap_png(d.file("nan.png"), qkv::tensor({NAN, 1.0f}, {1, 2}), opt);
  EXPECT_NO_THROW(read_png(d.file("nan.png")));
}

TEST(VizLinePlot, SvgAndPngLossCurves) {
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
  qkv::viz::line_plot_svg(d.file("loss.svg"), {train, val}, "loss", "step", "loss");
  std::string s = qkv::testing::read_bytes(d.file("loss.svg"));
  EXPECT_TRUE(contains(s, "<polyline"));
  EXPECT_TRUE(contains(s, ">train</text>"));
  EXPECT_TRUE(contains(s, ">val</text>"));
  EXPECT_TRUE(contains(s, ">1000</text>"));  // x tick at the last step
  qkv::viz::line_plot_png(d.file("loss.png"), {train, val}, "loss", "step", "loss");
  auto png = read_png(d.file("loss.png"));
  bool blue = false, orange = false;
  for (size_t i = 0; i + 2 < png.rgb.size(); i += 3) {
    blue |= png.rgb[i] == 31 && png.rgb[i + 1] == 119 && png.rgb[i + 2] == 180;
    orange |= png.rgb[i] == 255 && png.rgb[i + 1] == 127 && png.rgb[i + 2] == 14;
  }
  EXPECT_TRUE(blue && orange);
  // One point, constant values: still a valid plot.
  qkv::viz::line_plot_png(d.file("one.png"), {{"x", {5}, {2.0}}}, "", "", "");
  EXPECT_NO_THROW(read_png(d.file("one.png")));
}

TEST(VizLinePlot, BadInputs) {
  ScratchDir d;
  expect_error<qkv::ValueError>(
      [&] { qkv::viz::line_plot_svg(d.file("a.svg"), {{"train", {1, 2}, {1}}}, "", "", ""); },
      {"'train'", "2 x values and 1 y values"});
  expect_error<qkv::ValueError>([&] { qkv::viz::line_plot_png(d.file("a.png"), {{"t", {1}, {NAN}}}, "", "", ""); },
                                {"no series has a finite point"});
  expect_error<qkv::ValueError>([&] { qkv::viz::line_plot_png(d.file("a.png"), {}, "", "", ""); }, {"finite"});
  EXPECT_TRUE(d.entries().empty());
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
