// Internal to viz/: one drawing surface for every plot and every format.
//
// A Figure draws with Cairo on the surface the output's extension asks for
// (an image surface for .png, Cairo's SVG or PDF surface for .svg/.pdf), so
// PNG, SVG and PDF come from the same drawing calls. Text goes through Pango
// with fontconfig's fallback (DejaVu Sans first, Noto Sans CJK for Han and
// Hangul), so "é", "東京" and "한국어" render in any label. write() finishes
// the surface in memory and hands the bytes to io::write_file_atomic: a
// failed plot leaves no file, not even a partial one.
//
// Cairo's SVG writer draws glyphs as paths, so an SVG's words could not be
// searched or copied. write() therefore adds a text layer to SVG output, like
// a scanned PDF's OCR layer: one invisible <text> per label, at the label's
// position, inside <g id="qkv-text">.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "qkv/viz/plot.h"
#include "qkv/viz/style.h"

namespace qkv::viz::detail {

enum class Align { Start, Middle, End };

struct TextStyle {
  double size = 11;              // font size in px (PNG) / user units (SVG, PDF)
  Align h = Align::Start;        // which part of the text sits at x
  Align v = Align::Middle;       // Start = top at y, Middle = centred, End = bottom at y
  bool up = false;               // rotated 90° counter-clockwise (reads bottom to top)
  bool bold = false;
  RGB color = kInk;
};

// Width and height of `s` set in `size` (no surface needed: layouts measure
// before they draw).
std::pair<double, double> text_size(const std::string& s, double size, bool bold = false);

class Figure {
 public:
  // ValueError for an extension other than .png/.svg/.pdf (nothing drawn);
  // width and height in px / user units, 1 … 16384.
  Figure(std::string path, double width, double height);
  ~Figure();
  Figure(const Figure&) = delete;
  Figure& operator=(const Figure&) = delete;

  double width() const { return w_; }
  double height() const { return h_; }
  Format format() const { return fmt_; }

  void fill_rect(double x, double y, double w, double h, RGB c, double alpha = 1);
  void stroke_rect(double x, double y, double w, double h, RGB c, double line_width = 1);
  void line(double x0, double y0, double x1, double y1, RGB c, double line_width = 1, double alpha = 1);
  void polyline(const std::vector<std::pair<double, double>>& pts, RGB c, double line_width, double alpha = 1,
                bool dashed = false);
  void dot(double x, double y, double r, RGB c);
  // A W×H image (rgb row-major, 3 bytes a pixel) scaled to the rectangle
  // without smoothing: heatmaps with thousands of cells stay one object.
  void image(double x, double y, double w, double h, int W, int H, const std::vector<uint8_t>& rgb);
  // Draws `s` anchored at (x, y) and returns its width.
  double text(double x, double y, const std::string& s, const TextStyle& st = {});

  // Finishes the surface, adds the SVG text layer, writes the file atomically.
  void write();

 private:
  struct Impl;
  std::string path_;
  Format fmt_;
  double w_, h_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qkv::viz::detail
