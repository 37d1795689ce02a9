// PDF rendering of a Printable with Pango (shaping, line breaking) on a Cairo PDF surface (see
// printable.h). Cairo and Pango stay inside this file; every C object is owned by a unique_ptr with the
// library's own release function.
#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "core/text.h"
#include "modules/documents/printable.h"

namespace tl::documents {
namespace {

constexpr double kMm = 72.0 / 25.4;  // PDF user units (points) per millimetre
constexpr const char* kFontFamily = "DejaVu Serif";

struct SurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
struct GObjectDeleter {
  void operator()(void* o) const { g_object_unref(o); }
};
struct FontDescriptionDeleter {
  void operator()(PangoFontDescription* d) const { pango_font_description_free(d); }
};
struct AttrListDeleter {
  void operator()(PangoAttrList* l) const { pango_attr_list_unref(l); }
};
struct LayoutIterDeleter {
  void operator()(PangoLayoutIter* i) const { pango_layout_iter_free(i); }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using ContextPtr = std::unique_ptr<cairo_t, ContextDeleter>;
using LayoutPtr = std::unique_ptr<PangoLayout, GObjectDeleter>;
using FontDescriptionPtr = std::unique_ptr<PangoFontDescription, FontDescriptionDeleter>;
using AttrListPtr = std::unique_ptr<PangoAttrList, AttrListDeleter>;
using LayoutIterPtr = std::unique_ptr<PangoLayoutIter, LayoutIterDeleter>;

// Page size, margins and type sizes (points).
struct Geometry {
  double width, height;
  double top, right, bottom, left;
  double body_pt, small_pt, title_pt, head_pt, table_pt;
  double paragraph_gap;    // space after a paragraph
  double signature_space;  // room for a signature
  double qr_side;
};

Geometry GeometryOf(Paper paper) {
  if (paper == Paper::kA4) {
    return {210 * kMm, 297 * kMm, 20 * kMm, 15 * kMm, 20 * kMm,  25 * kMm, 11,
            9.5,       13,        9.5,      8.5,      1.2 * kMm, 18 * kMm, 26 * kMm};
  }
  // A5 is small: tighter type and spacing keep a receipt on one sheet.
  return {148 * kMm, 210 * kMm, 10 * kMm, 10 * kMm, 10 * kMm, 15 * kMm, 9, 8, 11, 7, 8, 0.9 * kMm, 14 * kMm, 20 * kMm};
}

struct TextStyle {
  double size = 10;
  bool bold = false;
  bool italic = false;
  PangoAlignment align = PANGO_ALIGN_LEFT;
};

// Appends the bytes Cairo writes to a string; exceptions must not cross into C.
cairo_status_t AppendToString(void* closure, const unsigned char* data, unsigned int length) {
  try {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
  } catch (...) {
    return CAIRO_STATUS_WRITE_ERROR;
  }
}

class PdfWriter {
 public:
  PdfWriter(cairo_t* cr, const Geometry& g) : cr_(cr), g_(g), y_(g.top) {}

  void operator()(const Letterhead& h) {
    double w = ContentWidth();
    double gap = 2 * kMm;
    double lw = w * 0.4, rw = w - lw - gap;
    TextStyle plain{g_.head_pt, false, false, PANGO_ALIGN_CENTER};
    TextStyle bold{g_.head_pt, true, false, PANGO_ALIGN_CENTER};
    TextStyle italic{g_.head_pt, false, true, PANGO_ALIGN_CENTER};

    std::vector<Line> left, right;
    if (!h.parent.empty()) left.push_back({MakeLayout(h.parent, lw, plain), 0, 0});
    if (!h.issuer.empty()) left.push_back({MakeLayout(h.issuer, lw, bold), 0.35, 0});
    if (!h.number.empty()) left.push_back({MakeLayout(h.number, lw, plain), 0, 1.5 * kMm});
    right.push_back({MakeLayout("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", rw, bold), 0, 0});
    right.push_back({MakeLayout("Độc lập - Tự do - Hạnh phúc", rw, bold), -1, 0});
    if (!h.place_date.empty()) right.push_back({MakeLayout(h.place_date, rw, italic), 0, 1.5 * kMm});

    double height = std::max(ColumnHeight(left), ColumnHeight(right));
    EnsureRoom(height);
    DrawColumn(left, g_.left, lw);
    DrawColumn(right, g_.left + lw + gap, rw);
    y_ += height + 3 * kMm;
  }

  void operator()(const Paragraph& p) {
    TextStyle st{g_.body_pt};
    double indent = 0, before = 0, after = g_.paragraph_gap;
    switch (p.style) {
      case ParagraphStyle::kTitle:
        st = {g_.title_pt, true, false, PANGO_ALIGN_CENTER};
        before = 2 * kMm;
        after = 0.8 * kMm;
        break;
      case ParagraphStyle::kSubtitle:
        st = {g_.body_pt, false, true, PANGO_ALIGN_CENTER};
        break;
      case ParagraphStyle::kCentered:
        st.align = PANGO_ALIGN_CENTER;
        break;
      case ParagraphStyle::kNote:
        st = {g_.small_pt, false, true, PANGO_ALIGN_LEFT};
        break;
      case ParagraphStyle::kListItem:
        indent = 6 * kMm;
        break;
      case ParagraphStyle::kBody:
        break;
    }
    y_ += before;
    LayoutPtr layout = MakeLayout(p.runs, ContentWidth() - indent, st);
    DrawFlowing(layout.get(), g_.left + indent);
    y_ += after;
  }

  void operator()(const Table& t) {
    size_t n = t.header.size();
    if (n == 0) return;
    std::vector<double> rel = t.widths;
    rel.resize(n, 1.0);
    double total = std::accumulate(rel.begin(), rel.end(), 0.0);
    std::vector<double> x(n + 1, g_.left);
    for (size_t i = 0; i < n; ++i)
      x[i + 1] = x[i] + ContentWidth() * (total > 0 ? rel[i] / total : 1.0 / static_cast<double>(n));
    const double pad = 1.2 * kMm;
    TextStyle head{g_.table_pt, true, false, PANGO_ALIGN_CENTER};
    TextStyle body{g_.table_pt, false, false, PANGO_ALIGN_LEFT};

    auto make_row = [&](const std::vector<std::string>& cells, const TextStyle& st, double* height) {
      std::vector<LayoutPtr> row;
      *height = 0;
      for (size_t i = 0; i < n; ++i) {
        row.push_back(MakeLayout(i < cells.size() ? cells[i] : std::string(), x[i + 1] - x[i] - 2 * pad, st));
        *height = std::max(*height, HeightOf(row.back().get()));
      }
      *height += 2 * pad;
      return row;
    };
    auto draw_row = [&](const std::vector<LayoutPtr>& row, double height, bool shaded) {
      for (size_t i = 0; i < n; ++i) {
        cairo_rectangle(cr_, x[i], y_, x[i + 1] - x[i], height);
        if (shaded) {
          cairo_set_source_rgb(cr_, 0.925, 0.925, 0.925);
          cairo_fill_preserve(cr_);
          cairo_set_source_rgb(cr_, 0, 0, 0);
        }
        cairo_set_line_width(cr_, 0.5);
        cairo_stroke(cr_);
        Draw(row[i].get(), x[i] + pad, y_ + pad);
      }
      y_ += height;
    };

    double head_h = 0;
    std::vector<LayoutPtr> header = make_row(t.header, head, &head_h);
    y_ += 1 * kMm;
    bool header_drawn = false;
    for (const auto& cells : t.rows) {
      double h = 0;
      std::vector<LayoutPtr> row = make_row(cells, body, &h);
      double need = h + (header_drawn ? 0 : head_h);
      if (y_ + need > Bottom() && y_ > g_.top) {
        NewPage();
        header_drawn = false;
      }
      if (!header_drawn) {
        draw_row(header, head_h, true);
        header_drawn = true;
      }
      draw_row(row, h, false);
    }
    if (!header_drawn) {
      EnsureRoom(head_h);
      draw_row(header, head_h, true);
    }
    y_ += 2 * kMm;
  }

  void operator()(const Signatures& s) {
    if (s.columns.empty()) return;
    double cw = ContentWidth() / static_cast<double>(s.columns.size());
    TextStyle title{g_.body_pt, true, false, PANGO_ALIGN_CENTER};
    TextStyle hint{g_.small_pt, false, true, PANGO_ALIGN_CENTER};
    const double space = g_.signature_space;
    struct Column {
      LayoutPtr title, hint, name;
    };
    std::vector<Column> cols;
    double height = 0;
    for (const auto& c : s.columns) {
      Column col{MakeLayout(c.title, cw, title), c.hint.empty() ? nullptr : MakeLayout(c.hint, cw, hint),
                 MakeLayout(c.name, cw, title)};
      double h =
          HeightOf(col.title.get()) + (col.hint ? HeightOf(col.hint.get()) : 0) + space + HeightOf(col.name.get());
      height = std::max(height, h);
      cols.push_back(std::move(col));
    }
    y_ += 3 * kMm;
    EnsureRoom(height);
    for (size_t i = 0; i < cols.size(); ++i) {
      double x = g_.left + cw * static_cast<double>(i);
      double y = y_;
      Draw(cols[i].title.get(), x, y);
      y += HeightOf(cols[i].title.get());
      if (cols[i].hint) {
        Draw(cols[i].hint.get(), x, y);
        y += HeightOf(cols[i].hint.get());
      }
      Draw(cols[i].name.get(), x, y + space);
    }
    y_ += height + 2 * kMm;
  }

  void operator()(const QrBlock& q) {
    const double side = g_.qr_side;
    const double gap = 4 * kMm;
    LayoutPtr caption = MakeLayout(q.caption, ContentWidth() - side - gap, TextStyle{g_.small_pt});
    double height = std::max(side, HeightOf(caption.get()));
    y_ += 3 * kMm;
    EnsureRoom(height);
    double top = y_ + (height - side) / 2;
    double module = side / static_cast<double>(q.code.size + 2 * kQrQuietZone);
    double x0 = g_.left + kQrQuietZone * module, y0 = top + kQrQuietZone * module;
    cairo_set_source_rgb(cr_, 0, 0, 0);
    for (int y = 0; y < q.code.size; ++y) {
      int x = 0;
      while (x < q.code.size) {
        if (!q.code.Dark(x, y)) {
          ++x;
          continue;
        }
        int start = x;
        while (x < q.code.size && q.code.Dark(x, y)) ++x;
        cairo_rectangle(cr_, x0 + start * module, y0 + y * module, (x - start) * module, module);
      }
    }
    cairo_fill(cr_);  // one path: adjacent modules join without seams
    Draw(caption.get(), g_.left + side + gap, y_ + (height - HeightOf(caption.get())) / 2);
    y_ += height;
  }

  void Finish() { cairo_show_page(cr_); }

 private:
  // A line of a letterhead column: its layout, a rule under it (fraction of the column, or -1 for the
  // width of the text; 0 for none) and space before it.
  struct Line {
    LayoutPtr layout;
    double rule = 0;
    double space_before = 0;
  };

  double ContentWidth() const { return g_.width - g_.left - g_.right; }
  double Bottom() const { return g_.height - g_.bottom; }

  void NewPage() {
    cairo_show_page(cr_);
    y_ = g_.top;
  }
  // Starts a new page when `height` does not fit below the current position (unless the page is empty).
  void EnsureRoom(double height) {
    if (y_ + height > Bottom() && y_ > g_.top) NewPage();
  }

  LayoutPtr MakeLayout(const std::vector<Run>& runs, double width, const TextStyle& st) const {
    LayoutPtr layout(pango_cairo_create_layout(cr_));
    FontDescriptionPtr font(pango_font_description_new());
    pango_font_description_set_family(font.get(), kFontFamily);
    // Absolute size: device units are points on a PDF surface, whatever the context's resolution.
    pango_font_description_set_absolute_size(font.get(), st.size * PANGO_SCALE);
    pango_font_description_set_weight(font.get(), st.bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_style(font.get(), st.italic ? PANGO_STYLE_ITALIC : PANGO_STYLE_NORMAL);
    pango_layout_set_font_description(layout.get(), font.get());
    pango_layout_set_width(layout.get(), static_cast<int>(std::max(width, 1.0) * PANGO_SCALE));
    pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(layout.get(), st.align);

    std::string text;
    AttrListPtr attrs(pango_attr_list_new());
    for (const auto& r : runs) {
      auto start = static_cast<guint>(text.size());
      text += r.text;
      auto end = static_cast<guint>(text.size());
      if (r.bold && !st.bold) {
        PangoAttribute* a = pango_attr_weight_new(PANGO_WEIGHT_BOLD);
        a->start_index = start;
        a->end_index = end;
        pango_attr_list_insert(attrs.get(), a);  // the list takes ownership
      }
      if (r.italic && !st.italic) {
        PangoAttribute* a = pango_attr_style_new(PANGO_STYLE_ITALIC);
        a->start_index = start;
        a->end_index = end;
        pango_attr_list_insert(attrs.get(), a);
      }
    }
    pango_layout_set_text(layout.get(), text.data(), static_cast<int>(text.size()));
    pango_layout_set_attributes(layout.get(), attrs.get());  // takes its own reference
    return layout;
  }
  LayoutPtr MakeLayout(const std::string& text, double width, const TextStyle& st) const {
    return MakeLayout(std::vector<Run>{{text}}, width, st);
  }

  static double HeightOf(PangoLayout* layout) {
    int w = 0, h = 0;
    pango_layout_get_size(layout, &w, &h);
    return static_cast<double>(h) / PANGO_SCALE;
  }

  void Draw(PangoLayout* layout, double x, double y) {
    cairo_set_source_rgb(cr_, 0, 0, 0);
    cairo_move_to(cr_, x, y);
    pango_cairo_show_layout(cr_, layout);
  }

  // Draws a layout line by line from the current position, continuing on a new page when a line does
  // not fit.
  void DrawFlowing(PangoLayout* layout, double x) {
    cairo_set_source_rgb(cr_, 0, 0, 0);
    LayoutIterPtr it(pango_layout_get_iter(layout));
    double origin = y_;  // page position of the layout's top
    do {
      PangoRectangle logical;
      pango_layout_iter_get_line_extents(it.get(), nullptr, &logical);
      double top = static_cast<double>(logical.y) / PANGO_SCALE;
      double bottom = static_cast<double>(logical.y + logical.height) / PANGO_SCALE;
      if (origin + bottom > Bottom() && origin + top > g_.top) {
        NewPage();
        origin = g_.top - top;
      }
      double baseline = static_cast<double>(pango_layout_iter_get_baseline(it.get())) / PANGO_SCALE;
      cairo_move_to(cr_, x + static_cast<double>(logical.x) / PANGO_SCALE, origin + baseline);
      pango_cairo_show_layout_line(cr_, pango_layout_iter_get_line_readonly(it.get()));
      y_ = origin + bottom;
    } while (pango_layout_iter_next_line(it.get()));
  }

  static double ColumnHeight(const std::vector<Line>& lines) {
    double h = 0;
    for (const auto& l : lines) h += l.space_before + HeightOf(l.layout.get()) + (l.rule != 0 ? 2 * kMm : 0);
    return h;
  }

  void DrawColumn(const std::vector<Line>& lines, double x, double width) {
    double y = y_;
    for (const auto& l : lines) {
      y += l.space_before;
      Draw(l.layout.get(), x, y);
      y += HeightOf(l.layout.get());
      if (l.rule != 0) {
        double rule_w = width * l.rule;
        if (l.rule < 0) {
          PangoRectangle logical;
          pango_layout_get_extents(l.layout.get(), nullptr, &logical);
          rule_w = static_cast<double>(logical.width) / PANGO_SCALE;
        }
        double mid = x + width / 2;
        cairo_set_line_width(cr_, 0.6);
        cairo_move_to(cr_, mid - rule_w / 2, y + 0.8 * kMm);
        cairo_line_to(cr_, mid + rule_w / 2, y + 0.8 * kMm);
        cairo_stroke(cr_);
        y += 2 * kMm;
      }
    }
  }

  cairo_t* cr_;
  Geometry g_;
  double y_;
};

bool AllValidUtf8(const Printable& doc) {
  auto ok = [](const std::string& s) { return text::IsValidUtf8(s); };
  auto runs_ok = [&](const std::vector<Run>& runs) {
    return std::all_of(runs.begin(), runs.end(), [&](const Run& r) { return ok(r.text); });
  };
  if (!ok(doc.title)) return false;
  for (const auto& block : doc.blocks) {
    bool valid = std::visit(
        [&](const auto& b) -> bool {
          using T = std::decay_t<decltype(b)>;
          if constexpr (std::is_same_v<T, Letterhead>) {
            return ok(b.parent) && ok(b.issuer) && ok(b.number) && ok(b.place_date);
          } else if constexpr (std::is_same_v<T, Paragraph>) {
            return runs_ok(b.runs);
          } else if constexpr (std::is_same_v<T, Table>) {
            if (!std::all_of(b.header.begin(), b.header.end(), ok)) return false;
            return std::all_of(b.rows.begin(), b.rows.end(),
                               [&](const auto& row) { return std::all_of(row.begin(), row.end(), ok); });
          } else if constexpr (std::is_same_v<T, Signatures>) {
            return std::all_of(b.columns.begin(), b.columns.end(),
                               [&](const Signature& c) { return ok(c.title) && ok(c.hint) && ok(c.name); });
          } else {
            return runs_ok(b.caption);
          }
        },
        block);
    if (!valid) return false;
  }
  return true;
}

}  // namespace

Result<std::string> RenderPdf(const Printable& doc) {
  if (!AllValidUtf8(doc)) return InvalidArgument("document text is not valid UTF-8");
  Geometry g = GeometryOf(doc.paper);
  std::string pdf;
  {
    SurfacePtr surface(cairo_pdf_surface_create_for_stream(AppendToString, &pdf, g.width, g.height));
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
      return Internal(std::string("cannot create a PDF surface: ") +
                      cairo_status_to_string(cairo_surface_status(surface.get())));
    }
    cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE, doc.title.c_str());
    cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR, "ThangLong");
    if (!doc.keywords.empty()) {
      cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_KEYWORDS, doc.keywords.c_str());
    }
    {
      ContextPtr cr(cairo_create(surface.get()));
      PdfWriter writer(cr.get(), g);
      for (const auto& block : doc.blocks) std::visit(writer, block);
      writer.Finish();
      if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS) {
        return Internal(std::string("PDF drawing failed: ") + cairo_status_to_string(cairo_status(cr.get())));
      }
    }
    cairo_surface_finish(surface.get());
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
      return Internal(std::string("PDF output failed: ") + cairo_status_to_string(cairo_surface_status(surface.get())));
    }
  }
  return pdf;
}

}  // namespace tl::documents
