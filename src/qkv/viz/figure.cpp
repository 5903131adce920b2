// Figure: Cairo surfaces, Pango text, the SVG text layer (see figure.h).
#include "qkv/viz/figure.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <sstream>

#include "qkv/core/error.h"
#include "qkv/io/file.h"

namespace qkv::viz {

Format format_of(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  const size_t dot = name.rfind('.');
  std::string ext = dot == std::string::npos ? "" : name.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png") return Format::Png;
  if (ext == ".svg") return Format::Svg;
  if (ext == ".pdf") return Format::Pdf;
  throw ValueError(path + ": unknown extension '" + ext + "' (use .png, .svg or .pdf)");
}

void check_output(const std::string& path) {
  format_of(path);
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::is_directory(dir, ec))
    throw IOError("cannot write " + path + ": no such folder " + dir.string());
}

namespace detail {

namespace {

// DejaVu Sans covers Latin, Greek, Cyrillic and the arrows/symbols of token
// labels (␣ ↵ ⇥); fontconfig falls back to Noto Sans CJK for Han and Hangul.
constexpr const char* kFamily = "DejaVu Sans, Noto Sans CJK KR, Noto Sans CJK JP, sans-serif";

PangoFontDescription* font(double size, bool bold) {
  PangoFontDescription* d = pango_font_description_from_string(kFamily);
  pango_font_description_set_absolute_size(d, size * PANGO_SCALE);
  if (bold) pango_font_description_set_weight(d, PANGO_WEIGHT_BOLD);
  return d;
}

// Sets `s` in `layout`; returns its logical size.
std::pair<double, double> set_text(PangoLayout* layout, const std::string& s, double size, bool bold) {
  PangoFontDescription* d = font(size, bold);
  pango_layout_set_font_description(layout, d);
  pango_font_description_free(d);
  pango_layout_set_text(layout, s.data(), static_cast<int>(s.size()));
  int w = 0, h = 0;
  pango_layout_get_size(layout, &w, &h);
  return {static_cast<double>(w) / PANGO_SCALE, static_cast<double>(h) / PANGO_SCALE};
}

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int n) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), n);
  return CAIRO_STATUS_SUCCESS;
}

// Pango lays text out on invalid UTF-8 with warnings; labels reach here as
// text, but a stray byte must never reach Pango.
std::string valid_utf8(const std::string& s) {
  const gchar* end = nullptr;
  if (g_utf8_validate(s.data(), static_cast<gssize>(s.size()), &end)) return s;
  gchar* fixed = g_utf8_make_valid(s.data(), static_cast<gssize>(s.size()));
  std::string out(fixed);
  g_free(fixed);
  return out;
}

}  // namespace

std::pair<double, double> text_size(const std::string& s, double size, bool bold) {
  // One measuring context for the process (Pango caches fonts per font map);
  // it lives until exit on purpose. A Pango context is not thread-safe, and
  // plots may be drawn from several threads: one measurement at a time.
  static std::mutex mu;
  const std::lock_guard<std::mutex> lock(mu);
  static PangoContext* ctx = pango_font_map_create_context(pango_cairo_font_map_get_default());
  PangoLayout* layout = pango_layout_new(ctx);
  auto wh = set_text(layout, valid_utf8(s), size, bold);
  g_object_unref(layout);
  return wh;
}

struct Figure::Impl {
  std::string bytes;  // the SVG/PDF stream writes here
  cairo_surface_t* surface = nullptr;
  cairo_t* cr = nullptr;
  PangoLayout* layout = nullptr;
  std::ostringstream text_layer;  // SVG <text> elements
  ~Impl() {
    if (layout) g_object_unref(layout);
    if (cr) cairo_destroy(cr);
    if (surface) cairo_surface_destroy(surface);
  }
};

Figure::Figure(std::string path, double width, double height)
    : path_(std::move(path)), fmt_(format_of(path_)), w_(std::ceil(width)), h_(std::ceil(height)),
      impl_(std::make_unique<Impl>()) {
  if (!(w_ >= 1 && h_ >= 1 && w_ <= 16384 && h_ <= 16384))
    throw ValueError(path_ + ": a " + std::to_string(w_) + " x " + std::to_string(h_) +
                     " figure is outside 1 … 16384 px a side");
  auto& m = *impl_;
  switch (fmt_) {
    case Format::Png:
      m.surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(w_), static_cast<int>(h_));
      break;
    case Format::Svg:
      m.surface = cairo_svg_surface_create_for_stream(append_bytes, &m.bytes, w_, h_);
      break;
    case Format::Pdf:
      m.surface = cairo_pdf_surface_create_for_stream(append_bytes, &m.bytes, w_, h_);
      break;
  }
  if (cairo_surface_status(m.surface) != CAIRO_STATUS_SUCCESS)
    throw IOError(path_ + ": cannot create the drawing surface: " +
                  cairo_status_to_string(cairo_surface_status(m.surface)));
  m.cr = cairo_create(m.surface);
  m.layout = pango_cairo_create_layout(m.cr);
  cairo_set_source_rgb(m.cr, 1, 1, 1);
  cairo_paint(m.cr);
}

Figure::~Figure() = default;

namespace {
void source(cairo_t* cr, RGB c, double alpha) {
  cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, alpha);
}
}  // namespace

void Figure::fill_rect(double x, double y, double w, double h, RGB c, double alpha) {
  source(impl_->cr, c, alpha);
  cairo_rectangle(impl_->cr, x, y, w, h);
  cairo_fill(impl_->cr);
}

void Figure::stroke_rect(double x, double y, double w, double h, RGB c, double line_width) {
  source(impl_->cr, c, 1);
  cairo_set_line_width(impl_->cr, line_width);
  cairo_rectangle(impl_->cr, x, y, w, h);
  cairo_stroke(impl_->cr);
}

void Figure::line(double x0, double y0, double x1, double y1, RGB c, double line_width, double alpha) {
  polyline({{x0, y0}, {x1, y1}}, c, line_width, alpha);
}

void Figure::polyline(const std::vector<std::pair<double, double>>& pts, RGB c, double line_width, double alpha,
                      bool dashed) {
  if (pts.size() < 2) return;
  cairo_t* cr = impl_->cr;
  source(cr, c, alpha);
  cairo_set_line_width(cr, line_width);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  const double dash[] = {5, 3};
  cairo_set_dash(cr, dash, dashed ? 2 : 0, 0);
  cairo_move_to(cr, pts[0].first, pts[0].second);
  for (size_t i = 1; i < pts.size(); ++i) cairo_line_to(cr, pts[i].first, pts[i].second);
  cairo_stroke(cr);
  cairo_set_dash(cr, nullptr, 0, 0);
}

void Figure::dot(double x, double y, double r, RGB c) {
  source(impl_->cr, c, 1);
  cairo_arc(impl_->cr, x, y, r, 0, 2 * M_PI);
  cairo_fill(impl_->cr);
}

void Figure::image(double x, double y, double w, double h, int W, int H, const std::vector<uint8_t>& rgb) {
  cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  cairo_surface_flush(img);
  unsigned char* data = cairo_image_surface_get_data(img);
  const int stride = cairo_image_surface_get_stride(img);
  for (int i = 0; i < H; ++i) {
    auto* row = reinterpret_cast<uint32_t*>(data + static_cast<size_t>(i) * stride);
    for (int j = 0; j < W; ++j) {
      const uint8_t* p = &rgb[(static_cast<size_t>(i) * W + j) * 3];
      row[j] = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
    }
  }
  cairo_surface_mark_dirty(img);
  cairo_t* cr = impl_->cr;
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, w / W, h / H);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, 0, 0, W, H);
  cairo_fill(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
}

double Figure::text(double x, double y, const std::string& raw, const TextStyle& st) {
  if (raw.empty()) return 0;
  const std::string s = valid_utf8(raw);
  cairo_t* cr = impl_->cr;
  PangoLayout* layout = impl_->layout;
  const auto [w, h] = set_text(layout, s, st.size, st.bold);
  // Offsets of the text box's top-left from the anchor, in the text's own
  // (possibly rotated) frame: along = reading direction, across = downwards.
  const double along = st.h == Align::Start ? 0 : st.h == Align::Middle ? -w / 2 : -w;
  const double across = st.v == Align::Start ? 0 : st.v == Align::Middle ? -h / 2 : -h;
  cairo_save(cr);
  cairo_translate(cr, x, y);
  if (st.up) cairo_rotate(cr, -M_PI / 2);
  cairo_move_to(cr, along, across);
  source(cr, st.color, 1);
  pango_cairo_update_layout(cr, layout);
  pango_cairo_show_layout(cr, layout);
  cairo_restore(cr);
  if (fmt_ == Format::Svg) {
    // The text layer: same place, baseline at the layout's first baseline.
    const double base = across + static_cast<double>(pango_layout_get_baseline(layout)) / PANGO_SCALE;
    auto& o = impl_->text_layer;
    o << "<text x=\"" << along << "\" y=\"" << base << "\" font-size=\"" << st.size << "\" transform=\"translate("
      << x << " " << y << ")" << (st.up ? " rotate(-90)" : "") << "\">" << svg_escape(s) << "</text>\n";
  }
  return w;
}

void Figure::write() {
  auto& m = *impl_;
  g_object_unref(m.layout);
  m.layout = nullptr;
  cairo_destroy(m.cr);
  m.cr = nullptr;
  std::string bytes;
  if (fmt_ == Format::Png) {
    cairo_surface_flush(m.surface);
    if (cairo_surface_write_to_png_stream(m.surface, append_bytes, &bytes) != CAIRO_STATUS_SUCCESS)
      throw IOError("cannot write " + path_ + ": PNG encoding failed");
  } else {
    cairo_surface_finish(m.surface);
    bytes = std::move(m.bytes);
  }
  const cairo_status_t st = cairo_surface_status(m.surface);
  if (st != CAIRO_STATUS_SUCCESS) throw IOError("cannot write " + path_ + ": " + cairo_status_to_string(st));
  if (fmt_ == Format::Svg) {
    const size_t end = bytes.rfind("</svg>"), open = bytes.find("<svg");
    const size_t open_end = open == std::string::npos ? open : bytes.find('>', open);
    if (end == std::string::npos || open_end == std::string::npos || open_end > end)
      throw IOError("cannot write " + path_ + ": Cairo wrote no <svg> element");
    bytes.insert(end, "<g id=\"qkv-text\" fill-opacity=\"0\" font-family=\"DejaVu Sans, Noto Sans CJK KR\">\n" +
                          m.text_layer.str() + "</g>\n");
    // Images are heatmap cells: a viewer must not smooth them (Cairo's SVG
    // writer drops CAIRO_FILTER_NEAREST; its PDF writer keeps it).
    bytes.insert(open_end + 1, "\n<style>image { image-rendering: pixelated; }</style>");
  }
  io::write_file_atomic(path_, bytes);
}

}  // namespace detail
}  // namespace qkv::viz
