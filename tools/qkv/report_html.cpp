// HTML pieces of `qkv report` (see report_html.h).
#include "report_html.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "qkv/core/error.h"
#include "qkv/io/file.h"

namespace qkv::cli::report {

namespace fs = std::filesystem;

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

// A folder of our own under the system's temp folder, removed when done.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "qkv_report_XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw IOError("cannot create a scratch folder in " + fs::temp_directory_path().string());
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

std::string prefix_svg_ids(std::string svg, const std::string& id_prefix) {
  replace_all(svg, " id=\"", " id=\"" + id_prefix);
  replace_all(svg, "href=\"#", "href=\"#" + id_prefix);  // href and xlink:href
  replace_all(svg, "url(#", "url(#" + id_prefix);
  return svg;
}

std::string svg_figure(const std::function<void(const std::string& path)>& draw, const std::string& id_prefix) {
  const ScratchDir scratch;
  const std::string path = scratch.path() + "/figure.svg";
  draw(path);
  std::string svg = io::read_file(path);
  const size_t open = svg.find("<svg");
  if (open == std::string::npos) throw IOError("the figure " + id_prefix + " has no <svg> element");
  return prefix_svg_ids(svg.substr(open), id_prefix);
}

std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                  const std::string& css_class) {
  std::string out = css_class.empty() ? "<table>\n<thead><tr>" : "<table class=\"" + css_class + "\">\n<thead><tr>";
  for (const std::string& h : header) out += "<th>" + h + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const std::string& c : row) out += "<td>" + c + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

std::string cell(const nlohmann::json& v) {
  if (v.is_string()) return escape(v.get<std::string>());
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v.get<double>());
    return buf;
  }
  if (v.is_null()) return "";
  return escape(v.dump());
}

std::string section(const std::string& id, const std::string& title, const std::string& body) {
  return "<section id=\"" + id + "\">\n<h2>" + escape(title) + "</h2>\n" + body + "</section>\n";
}

namespace {
// The page's whole style: readable text, tables with aligned numbers, figures
// scaled to the column (the SVGs keep their viewBox, so they stay sharp).
constexpr const char* kStyle = R"(
body { font-family: "DejaVu Sans", "Noto Sans CJK KR", sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
nav a { margin-right: 1em; } .summary { color: #555; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }
td { font-variant-numeric: tabular-nums; } th { background: #f4f4f4; }
.kv dl { column-count: 3; column-gap: 2em; margin: 0 0 1em; font-size: 0.9em; }
.kv dl div { break-inside: avoid; display: flex; justify-content: space-between; gap: 1em;
             border-bottom: 1px dotted #ddd; }
.kv dt { color: #555; } .kv dd { margin: 0; font-variant-numeric: tabular-nums; } h3 { margin-bottom: 0.3em; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 0.9em; }
pre.sample { white-space: pre-wrap; background: #f8f8f8; border-left: 3px solid #1f77b4; padding: 0.6em 0.8em; }
pre.sample b { color: #1f77b4; } .note { color: #777; font-style: italic; }
)";
}  // namespace

std::string page(const std::string& title, const std::vector<std::pair<std::string, std::string>>& sections,
                 const std::string& body) {
  std::string nav = "<nav>";
  for (const auto& [id, name] : sections) nav += "<a href=\"#" + id + "\">" + escape(name) + "</a>";
  nav += "</nav>\n";
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta name=\"generator\" content=\"qkv report\">\n<title>" +
         escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n" + nav + body +
         "</body>\n</html>\n";
}

}  // namespace qkv::cli::report
