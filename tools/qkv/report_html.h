// The pieces of `qkv report`'s page (cmd_report.cpp): one self-contained
// HTML file — its style inline, its figures inline SVG drawn by viz/ — that
// any browser opens from disk with no network and no server.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace qkv::cli::report {

// Text safe inside HTML elements and attribute values (& < > " ').
std::string escape(std::string_view s);

// An SVG figure drawn by `draw` (a viz:: call given a path ending in .svg),
// ready to sit inside the page: the XML declaration dropped, and every id
// (and reference to one) prefixed with `id_prefix` — Cairo names its glyphs
// and clips "glyph-0-1", "clip-1" in every file, and in one HTML document a
// second figure's references would otherwise find the first figure's glyphs.
// The figure is drawn into a private scratch folder that is removed again.
std::string svg_figure(const std::function<void(const std::string& path)>& draw, const std::string& id_prefix);
// The id renaming alone (for tests).
std::string prefix_svg_ids(std::string svg, const std::string& id_prefix);

// A table: header cells, then rows (cells already HTML; escape text first).
std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                  const std::string& css_class = "");
// A JSON value as a table cell's text: numbers to 6 significant digits, strings bare.
std::string cell(const nlohmann::json& v);
// One <section id=…> with its heading and body.
std::string section(const std::string& id, const std::string& title, const std::string& body);
// The whole document: title, style, a contents line linking `sections`
// (id, title), then the body.
std::string page(const std::string& title, const std::vector<std::pair<std::string, std::string>>& sections,
                 const std::string& body);

}  // namespace qkv::cli::report
