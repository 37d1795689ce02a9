// HTML rendering of a Printable and the stylesheet it links (see printable.h).
#include <string>

#include "modules/documents/printable.h"

namespace tl::documents {
namespace {

// Escaped text; a line feed becomes a line break.
std::string TextHtml(std::string_view s) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t nl = s.find('\n', start);
    out += EscapeHtml(s.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    out += "<br>";
    start = nl + 1;
  }
  return out;
}

std::string RunsHtml(const std::vector<Run>& runs) {
  std::string out;
  for (const auto& r : runs) {
    if (r.bold) out += "<strong>";
    if (r.italic) out += "<em>";
    out += TextHtml(r.text);
    if (r.italic) out += "</em>";
    if (r.bold) out += "</strong>";
  }
  return out;
}

struct HtmlWriter {
  std::string out;

  void operator()(const Letterhead& h) {
    out += "<header class=\"letterhead\"><div class=\"issuer-col\">";
    if (!h.parent.empty()) out += "<p class=\"parent\">" + TextHtml(h.parent) + "</p>";
    if (!h.issuer.empty()) out += "<p class=\"issuer\">" + TextHtml(h.issuer) + "</p>";
    if (!h.number.empty()) out += "<p class=\"number\">" + TextHtml(h.number) + "</p>";
    out +=
        "</div><div class=\"nation-col\"><p class=\"nation\">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</p>"
        "<p class=\"motto\">Độc lập - Tự do - Hạnh phúc</p>";
    if (!h.place_date.empty()) out += "<p class=\"place-date\">" + TextHtml(h.place_date) + "</p>";
    out += "</div></header>\n";
  }

  void operator()(const Paragraph& p) {
    std::string body = RunsHtml(p.runs);
    switch (p.style) {
      case ParagraphStyle::kTitle:
        out += "<h1 class=\"title\">" + body + "</h1>\n";
        return;
      case ParagraphStyle::kSubtitle:
        out += "<p class=\"subtitle\">" + body + "</p>\n";
        return;
      case ParagraphStyle::kCentered:
        out += "<p class=\"centered\">" + body + "</p>\n";
        return;
      case ParagraphStyle::kNote:
        out += "<p class=\"note\">" + body + "</p>\n";
        return;
      case ParagraphStyle::kListItem:
        out += "<p class=\"item\">" + body + "</p>\n";
        return;
      case ParagraphStyle::kBody:
        out += "<p>" + body + "</p>\n";
        return;
    }
  }

  void operator()(const Table& t) {
    out += "<table class=\"grid\"><thead><tr>";
    for (const auto& h : t.header) out += "<th scope=\"col\">" + TextHtml(h) + "</th>";
    out += "</tr></thead><tbody>\n";
    for (const auto& row : t.rows) {
      out += "<tr>";
      for (const auto& cell : row) out += "<td>" + TextHtml(cell) + "</td>";
      out += "</tr>\n";
    }
    out += "</tbody></table>\n";
  }

  void operator()(const Signatures& s) {
    out += "<section class=\"signatures\">";
    for (const auto& c : s.columns) {
      out += "<div class=\"signature\"><p class=\"sig-title\">" + TextHtml(c.title) + "</p>";
      if (!c.hint.empty()) out += "<p class=\"sig-hint\">" + TextHtml(c.hint) + "</p>";
      out += "<p class=\"sig-name\">" + TextHtml(c.name) + "</p></div>";
    }
    out += "</section>\n";
  }

  void operator()(const QrBlock& q) {
    std::string label;
    for (const auto& r : q.caption) label += r.text;
    out += "<figure class=\"qr-block\">" + QrSvg(q.code, label) + "<figcaption>" + RunsHtml(q.caption) +
           "</figcaption></figure>\n";
  }
};

constexpr std::string_view kPrintCss = R"css(/* ThangLong printable documents (Circular 03/2025/TT-VPCP forms). */
@page { size: A5 portrait; margin: 10mm 10mm 10mm 15mm; }
@page a4 { size: A4 portrait; margin: 20mm 15mm 20mm 25mm; }
:root { color: #000; background: #d9dde3; }
body {
  margin: 0; font-family: "Times New Roman", "DejaVu Serif", "Noto Serif", serif; font-size: 11pt; line-height: 1.35;
}
.sheet { box-sizing: border-box; background: #fff; margin: 16px auto; box-shadow: 0 1px 6px rgba(0, 0, 0, 0.35); }
.sheet.a5 { width: 148mm; min-height: 210mm; padding: 10mm 10mm 10mm 15mm; font-size: 9.5pt; line-height: 1.3; }
.sheet.a4 { width: 210mm; min-height: 297mm; padding: 20mm 15mm 20mm 25mm; page: a4; font-size: 11.5pt; }
p { margin: 0 0 1.2mm; }
.a5 p { margin-bottom: 0.8mm; }
.letterhead { display: flex; gap: 2mm; text-align: center; font-size: 0.8em; line-height: 1.25; margin-bottom: 4mm; }
.letterhead p { margin: 0; }
.issuer-col { flex: 0 0 40%; }
.nation-col { flex: 1 1 auto; }
.issuer, .nation, .motto { font-weight: bold; }
.issuer::after, .motto::after { content: ""; display: block; border-top: 0.6pt solid #000; margin: 1mm auto 1.5mm; }
.issuer::after { width: 35%; }
.motto::after { width: 72%; }
.place-date { font-style: italic; margin-top: 1mm; }
h1.title { font-size: 1.2em; text-align: center; margin: 4mm 0 1mm; }
.subtitle { text-align: center; font-style: italic; }
.centered { text-align: center; }
.note { font-style: italic; font-size: 0.9em; }
.item { padding-left: 6mm; }
table.grid { width: 100%; border-collapse: collapse; font-size: 0.8em; line-height: 1.25; margin: 2mm 0 3mm; }
table.grid th, table.grid td { border: 0.5pt solid #000; padding: 1mm 1.5mm; vertical-align: top; text-align: left; }
table.grid th { background: #ececec; text-align: center; }
table.grid thead { display: table-header-group; }
table.grid tr { break-inside: avoid; }
.signatures {
  display: flex; justify-content: space-around; gap: 4mm; text-align: center; margin-top: 5mm; break-inside: avoid;
}
.signature { flex: 1 1 0; }
.sig-title { font-weight: bold; margin: 0; }
.sig-hint { font-style: italic; font-size: 0.9em; margin: 0; }
.sig-name { font-weight: bold; margin-top: 18mm; min-height: 1em; }
.a5 .sig-name { margin-top: 14mm; }
.qr-block { display: flex; align-items: center; gap: 4mm; margin: 5mm 0 0; break-inside: avoid; }
svg.qr { width: 26mm; height: 26mm; flex: none; }
.a5 svg.qr { width: 20mm; height: 20mm; }
.qr-block figcaption { font-size: 0.85em; overflow-wrap: anywhere; }
@media print {
  :root { background: none; }
  .sheet, .sheet.a5, .sheet.a4 { margin: 0; box-shadow: none; width: auto; min-height: 0; padding: 0; }
}
)css";

}  // namespace

std::string EscapeHtml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderHtml(const Printable& doc, std::string_view stylesheet_url) {
  HtmlWriter w;
  w.out =
      "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
      EscapeHtml(doc.title) + "</title>\n<link rel=\"stylesheet\" href=\"" + EscapeHtml(stylesheet_url) +
      "\">\n</head>\n<body>\n<main class=\"sheet " + (doc.paper == Paper::kA4 ? "a4" : "a5") + "\">\n";
  for (const auto& block : doc.blocks) std::visit(w, block);
  w.out += "</main>\n</body>\n</html>\n";
  return std::move(w.out);
}

std::string_view PrintCss() {
  return kPrintCss;
}

}  // namespace tl::documents
