// Printable: a small, neutral model of an administrative paper form, rendered to HTML or PDF.
//
// A form (Circular 03/2025/TT-VPCP) is a sequence of blocks: the letterhead of Decree 30/2020/NĐ-CP
// (issuing agency on the left; national name, motto and place-and-date on the right), paragraphs of
// runs (bold, italic), tables, signature columns and a QR code with its caption. The forms in
// documents.cc build a Printable once and both renderers draw the same content, so the HTML and the PDF
// of a form never disagree.
//
// RenderHtml writes a self-contained HTML5 page with no script, no <style> element and no style
// attribute (the site's Content-Security-Policy allows neither); its look comes from PrintCss(), served
// separately and linked by URL. RenderPdf lays the blocks out with Pango (text shaping, so Vietnamese
// stacked diacritics are placed correctly) on a Cairo PDF surface, which embeds subsets of the fonts;
// the font is DejaVu Serif (Debian's fonts-dejavu-core), found through fontconfig with its fallbacks.
// Paragraphs and tables flow over pages (table headers repeat); letterheads, signatures and QR codes
// are kept whole. All text must be valid UTF-8 (RenderPdf checks; invalid text is InvalidArgument).
//
// Thread-safety: pure functions over values. RenderPdf uses Pango's per-thread default font map and a
// fresh Cairo surface per call, so it may run on many threads at once.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"
#include "modules/documents/qr.h"

namespace tl::documents {

enum class Paper { kA5, kA4 };  // portrait

struct Run {
  std::string text;
  bool bold = false;
  bool italic = false;
};

enum class ParagraphStyle {
  kBody,      // left-aligned text
  kTitle,     // the form's name: bold, larger, centred
  kSubtitle,  // under the title: italic, centred
  kCentered,  // centred text
  kNote,      // small italic remark
  kListItem,  // indented item of a list
};

struct Paragraph {
  ParagraphStyle style = ParagraphStyle::kBody;
  std::vector<Run> runs;
};

// Letterhead (Decree 30/2020/NĐ-CP, Annex I): texts are printed as given (pass upper case where the
// decree wants it). Empty lines are left out.
struct Letterhead {
  std::string parent;      // governing body, e.g. "UBND THÀNH PHỐ HÀ NỘI"
  std::string issuer;      // issuing agency, bold, underlined by a short rule
  std::string number;      // "Số: ..." line
  std::string place_date;  // "Hà Nội, ngày 13 tháng 02 năm 2026" (italic)
};

struct Table {
  std::vector<std::string> header;
  std::vector<double> widths;  // relative column widths, one per header cell
  std::vector<std::vector<std::string>> rows;
};

struct Signature {
  std::string title;  // "NGƯỜI TIẾP NHẬN HỒ SƠ"
  std::string hint;   // "(Ký và ghi rõ họ tên)"
  std::string name;   // printed under the space for the signature; may be empty
};

struct Signatures {
  std::vector<Signature> columns;
};

struct QrBlock {
  QrCode code;
  std::vector<Run> caption;  // printed beside the code
};

using Block = std::variant<Letterhead, Paragraph, Table, Signatures, QrBlock>;

struct Printable {
  std::string title;  // the HTML <title> and the PDF's Title metadata
  // The PDF's Keywords metadata, written as plain text in the file (the wallet finds the document id a
  // PDF carries there, "ThangLong-Document-Id: <id>"); printable ASCII, or empty for none.
  std::string keywords;
  Paper paper = Paper::kA5;
  std::vector<Block> blocks;
};

// The HTML page of `doc`, linking the stylesheet at `stylesheet_url` (escaped).
std::string RenderHtml(const Printable& doc, std::string_view stylesheet_url);

// The PDF of `doc` (bytes starting with "%PDF-").
Result<std::string> RenderPdf(const Printable& doc);

// The stylesheet of the HTML documents (screen and print, A5 and A4 pages).
std::string_view PrintCss();

// `s` with &, <, >, " and ' replaced by character references (text and attribute values).
std::string EscapeHtml(std::string_view s);

}  // namespace tl::documents
