// Printable documents without a server: QR codes, the forms built from a dossier document, their HTML and
// their PDF, read back with poppler's pdftotext and decoded with zbarimg as a person's tools would.
#include "modules/documents/documents.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

#include "core/text.h"

namespace tl::documents {
namespace {

using nlohmann::json;

constexpr const char* kCode = "UBND00004-260213-0001";
constexpr const char* kTrackingUrl = "https://dichvucong.hanoi.example/track?code=UBND00004-260213-0001";

json SampleDossier() {
  return json::parse(R"({
    "code": "UBND00004-260213-0001",
    "procedure": {"code": "1.001193", "name": "Đăng ký khai sinh"},
    "receiving_agency": "UBND00004", "competent_agency": "UBND00004", "handling_agency": "UBND00004",
    "channel": "desk", "delivery": "desk", "status": "in_progress", "status_label": "Đang giải quyết",
    "applicant": {"full_name": "Nguyễn Văn An", "id_number": "001090012345", "phone": "0912345678",
                  "email": null, "address": "Số 5 phố Điện Biên Phủ, phường Ba Đình", "account": true},
    "components": ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"],
    "working_days": 3,
    "submitted_at": "2026-02-13T02:55:00.000Z",
    "received_at": "2026-02-13T03:00:00.000Z",
    "due_at": "2026-02-25T10:00:00.000Z",
    "apologies": 0,
    "timeline": [
      {"seq": 1, "action": "submit", "from_status": null, "to_status": "submitted",
       "to_label": "Mới nộp trực tuyến, chờ tiếp nhận", "actor": "citizen", "actor_role": "applicant",
       "agency": null, "at": "2026-02-13T02:55:00.000Z", "note": "", "detail": {}},
      {"seq": 2, "action": "receive", "from_status": "submitted", "to_status": "received", "to_label": "Đã tiếp nhận",
       "actor": "desk", "actor_role": "desk_officer", "agency": "UBND00004", "at": "2026-02-13T03:00:00.000Z",
       "note": "", "detail": {"due_at": "2026-02-25T10:00:00.000Z"}},
      {"seq": 3, "action": "assign", "from_status": "received", "to_status": "in_progress",
       "to_label": "Đang giải quyết",
       "actor": "desk", "actor_role": "desk_officer", "agency": "UBND00004", "at": "2026-02-13T03:10:00.000Z",
       "note": "Chuyển chuyên viên hộ tịch", "detail": {"assignee": "specialist"}}
    ]
  })");
}

json WithApology(json d) {
  d["apologies"] = 1;
  d["due_at"] = "2026-03-04T10:00:00.000Z";
  d["timeline"].push_back(
      {{"seq", 4},
       {"action", "apologise"},
       {"from_status", "in_progress"},
       {"to_status", "in_progress"},
       {"to_label", "Đang giải quyết"},
       {"actor", "specialist"},
       {"actor_role", "specialist"},
       {"agency", "UBND00004"},
       {"at", "2026-02-24T08:30:00.000Z"},
       {"note", "Cần xác minh thông tin nơi sinh với Bệnh viện Phụ sản Hà Nội"},
       {"detail", {{"previous_due_at", "2026-02-25T10:00:00.000Z"}, {"due_at", "2026-03-04T10:00:00.000Z"}}}});
  return d;
}

Result<AgencyLabel> FakeAgencies(const std::string& code) {
  if (code == "UBND00004") return AgencyLabel{code, "Ủy ban nhân dân phường Ba Đình", ""};
  if (code == "SYT01") return AgencyLabel{code, "Sở Y tế", "UBND Thành phố Hà Nội"};
  return NotFound("no agency " + code);
}

DossierFacts Facts(const json& d) {
  auto f = FactsFromDossierJson(d, FakeAgencies);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? *f : DossierFacts{};
}

// A scratch directory removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = ::testing::TempDir() + "tl_documents_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const char* made = mkdtemp(buf.data());
    path_ = made ? made : "";
  }
  ~ScratchDir() {
    if (!path_.empty()) std::system(("rm -rf '" + path_ + "'").c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct PipeCloser {
  void operator()(FILE* f) const { pclose(f); }
};

// Runs a shell command and returns its standard output.
std::string RunCommand(const std::string& command) {
  std::unique_ptr<FILE, PipeCloser> pipe(popen(command.c_str(), "r"));
  if (!pipe) return {};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe.get())) > 0) out.append(buf, n);
  return out;
}

bool HaveTool(const char* path) {
  std::string p = path;
  return !p.empty() && p.find("NOTFOUND") == std::string::npos && access(p.c_str(), X_OK) == 0;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// With TL_DOCUMENTS_DUMP_DIR set, the documents the tests make are kept there for a person to look at.
void MaybeDump(const std::string& name, const std::string& bytes) {
  if (const char* dir = std::getenv("TL_DOCUMENTS_DUMP_DIR"); dir && *dir)
    WriteFile(std::string(dir) + "/" + name, bytes);
}

// pdftotext's UTF-8 text of a PDF, NFC-normalised (a font without a precomposed glyph yields base letter
// plus combining marks), with each run of spaces and line breaks made one space so phrases wrapped over
// lines still match; pages stay separated by form feeds.
std::string PdfText(const ScratchDir& dir, const std::string& pdf) {
  if (!HaveTool(PDFTOTEXT_PROGRAM)) {
    ADD_FAILURE() << "pdftotext is missing: run scripts/setup.sh (poppler-utils)";
    return {};
  }
  std::string file = dir.path() + "/doc.pdf";
  WriteFile(file, pdf);
  std::string raw = RunCommand(std::string(PDFTOTEXT_PROGRAM) + " -enc UTF-8 '" + file + "' -");
  auto nfc = text::NormalizeNfc(raw);
  std::string out;
  for (char c : nfc.ok() ? *nfc : raw) {
    bool space = c == ' ' || c == '\n' || c == '\r' || c == '\t';
    if (space) {
      if (!out.empty() && out.back() != ' ' && out.back() != '\f') out += ' ';
    } else {
      if (c == '\f' && !out.empty() && out.back() == ' ') out.pop_back();
      out += c;
    }
  }
  return out;
}

TEST(QrTest, EncodesAndDrawsSvg) {
  auto qr = EncodeQr(kTrackingUrl);
  ASSERT_TRUE(qr.ok()) << qr.status().ToString();
  EXPECT_GE(qr->size, 21);
  EXPECT_EQ((qr->size - 21) % 4, 0);
  EXPECT_EQ(qr->dark.size(), static_cast<size_t>(qr->size * qr->size));
  EXPECT_TRUE(qr->Dark(0, 0));  // finder pattern corner
  std::string svg = QrSvg(*qr, "Mã <QR>");
  EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
  EXPECT_NE(svg.find("viewBox=\"0 0 " + std::to_string(qr->size + 8)), std::string::npos);
  EXPECT_NE(svg.find("aria-label=\"Mã &lt;QR&gt;\""), std::string::npos);
  EXPECT_EQ(svg.find("style"), std::string::npos);
}

TEST(QrTest, RejectsEmptyAndOversizedText) {
  auto empty = EncodeQr("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.status().field(), "url");
  auto huge = EncodeQr(std::string(5000, 'x'));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(EncodeQr(std::string("a\0b", 3)).ok());
}

TEST(DocumentsTest, TimesAreHanoiLocal) {
  auto ms = ParseUtcTimestamp("2026-02-25T10:00:00.000Z", "due_at");
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(*ms, 1772013600000);
  EXPECT_EQ(VietnameseDateTime(*ms), "17 giờ 00 phút, thứ Tư ngày 25 tháng 02 năm 2026");
  EXPECT_EQ(VietnameseDate(*ParseUtcTimestamp("2026-02-12T17:30:00Z", "x")), "ngày 13 tháng 02 năm 2026");
  EXPECT_EQ(*ParseUtcTimestamp("2026-02-25T10:00:00.5Z", "x"), 1772013600500);
  for (const char* bad : {"", "2026-02-25", "2026-02-30T10:00:00Z", "2026-02-25T10:00:00+07:00", "2026-02-25T24:00:00Z",
                          "2026-02-25T10:00:00.Z"}) {
    auto r = ParseUtcTimestamp(bad, "due_at");
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().field(), "due_at");
  }
}

TEST(DocumentsTest, FactsFromDossierDocument) {
  json d = SampleDossier();
  d["handling_agency"] = "SYT01";
  d["timeline"][2]["detail"] = {{"from_agency", "UBND00004"}, {"to_agency", "SYT01"}};
  DossierFacts f = Facts(d);
  EXPECT_EQ(f.code, kCode);
  EXPECT_EQ(f.procedure_name, "Đăng ký khai sinh");
  EXPECT_EQ(f.receiving_agency.name, "Ủy ban nhân dân phường Ba Đình");
  EXPECT_EQ(f.handling_agency.parent_name, "UBND Thành phố Hà Nội");
  EXPECT_EQ(f.applicant_email, "");  // null in the document
  ASSERT_EQ(f.components.size(), 2u);
  ASSERT_TRUE(f.due_at_ms.has_value());
  EXPECT_EQ(*f.due_at_ms, 1772013600000);
  ASSERT_EQ(f.timeline.size(), 3u);
  EXPECT_EQ(f.timeline[0].agency.code, "");
  EXPECT_EQ(f.timeline[2].detail["to_agency_name"], "Sở Y tế");

  d["receiving_agency"] = "NOPE01";  // unknown agencies print their code
  EXPECT_EQ(Facts(d).receiving_agency.name, "");
  EXPECT_EQ(Facts(d).receiving_agency.code, "NOPE01");

  auto failing = [](const std::string&) -> Result<AgencyLabel> { return Unavailable("store down"); };
  EXPECT_EQ(FactsFromDossierJson(d, failing).status().code(), StatusCode::kUnavailable);
  d["due_at"] = 42;  // wrong types are ignored, not thrown
  EXPECT_FALSE(Facts(d).due_at_ms.has_value());
  d["received_at"] = "yesterday";
  EXPECT_EQ(FactsFromDossierJson(d, FakeAgencies).status().field(), "received_at");
}

TEST(DocumentsTest, ReceiptHtmlIsSelfContainedWithSvgQr) {
  auto doc = ReceiptForm(Facts(SampleDossier()), kTrackingUrl);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->paper, Paper::kA5);
  std::string html = RenderHtml(*doc, "https://dichvucong.hanoi.example/api/v1/documents/print.css");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find(kCode), std::string::npos);
  EXPECT_NE(html.find("<svg "), std::string::npos);
  EXPECT_NE(html.find("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"), std::string::npos);
  EXPECT_NE(html.find("Nguyễn Văn An"), std::string::npos);
  EXPECT_NE(html.find("Tờ khai đăng ký khai sinh"), std::string::npos);
  EXPECT_NE(html.find("17 giờ 00 phút, thứ Tư ngày 25 tháng 02 năm 2026"), std::string::npos);
  EXPECT_NE(html.find("ỦY BAN NHÂN DÂN<br>PHƯỜNG BA ĐÌNH"), std::string::npos);
  EXPECT_NE(html.find("<link rel=\"stylesheet\" href=\"https://dichvucong.hanoi.example/api/v1/documents/print.css\">"),
            std::string::npos);
  // The site's CSP allows no inline style or script.
  EXPECT_EQ(html.find("<style"), std::string::npos);
  EXPECT_EQ(html.find("style="), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(PrintCss().find("@page"), std::string_view::npos);
  MaybeDump("receipt.html", RenderHtml(*doc, "print.css"));
  MaybeDump("print.css", std::string(PrintCss()));
}

TEST(DocumentsTest, HtmlEscapesDossierText) {
  json d = SampleDossier();
  d["applicant"]["full_name"] = "<script>alert('x')</script> & \"An\"";
  auto doc = ReceiptForm(Facts(d), kTrackingUrl);
  ASSERT_TRUE(doc.ok());
  std::string html = RenderHtml(*doc, "/x.css");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;An&quot;"), std::string::npos);
}

TEST(DocumentsTest, ReceiptNeedsAReceivedDossier) {
  json d = SampleDossier();
  d["received_at"] = nullptr;
  d["due_at"] = nullptr;
  auto doc = ReceiptForm(Facts(d), kTrackingUrl);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kFailedPrecondition);
}

TEST(DocumentsTest, ReceiptPdfReadsBackWithDiacriticsAndItsQrDecodes) {
  auto doc = ReceiptForm(Facts(SampleDossier()), kTrackingUrl);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  auto pdf = RenderPdf(*doc);
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  EXPECT_EQ(pdf->rfind("%PDF-", 0), 0u);
  EXPECT_NE(pdf->find("%%EOF"), std::string::npos);
  MaybeDump("receipt.pdf", *pdf);

  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string text = PdfText(dir, *pdf);
  EXPECT_NE(text.find(kCode), std::string::npos) << text;
  EXPECT_NE(text.find("Giấy tiếp nhận hồ sơ"), std::string::npos) << text;
  EXPECT_NE(text.find("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"), std::string::npos) << text;
  EXPECT_NE(text.find("Nguyễn Văn An"), std::string::npos) << text;
  EXPECT_NE(text.find("Độc lập - Tự do - Hạnh phúc"), std::string::npos) << text;
  EXPECT_NE(text.find("thứ Tư ngày 25 tháng 02 năm 2026"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\f'), 1) << "an A5 receipt is one page";

  // A person scans the printed code: render the page as a picture and decode it.
  ASSERT_TRUE(HaveTool(PDFTOPPM_PROGRAM)) << "pdftoppm is missing: run scripts/setup.sh (poppler-utils)";
  ASSERT_TRUE(HaveTool(ZBARIMG_PROGRAM)) << "zbarimg is missing: run scripts/setup.sh (zbar-tools)";
  std::string file = dir.path() + "/receipt.pdf";
  WriteFile(file, *pdf);
  RunCommand(std::string(PDFTOPPM_PROGRAM) + " -r 150 -png -f 1 -l 1 -singlefile '" + file + "' '" + dir.path() +
             "/page'");
  std::string decoded = RunCommand(std::string(ZBARIMG_PROGRAM) + " --raw -q '" + dir.path() + "/page.png'");
  while (!decoded.empty() && (decoded.back() == '\n' || decoded.back() == '\r')) decoded.pop_back();
  EXPECT_EQ(decoded, kTrackingUrl);
}

TEST(DocumentsTest, AWalletDocumentPdfShowsItsFactsAndItsQrOpensTheVerificationPage) {
  wallet::DocumentRecord d;
  d.id = "Zx9_abc-123";
  d.holder = "001090012345";
  d.type = "1.000656";
  d.title = "Trích lục khai tử: Trần Thị Mai (001192034567)";
  d.number = kCode;
  d.issuer_agency = "UBND00004";
  d.issued_on = "2026-11-18";
  d.state = "issued";
  const std::string url = VerifyUrl("https://dichvucong.hanoi.example", d.id);
  EXPECT_EQ(url, "https://dichvucong.hanoi.example/verify?id=Zx9_abc-123");
  EXPECT_EQ(VerifyUrl("http://h", "a b/c"), "http://h/verify?id=a%20b%2Fc");
  auto doc = WalletDocumentForm(d, {"UBND00004", "Ủy ban nhân dân Phường Ba Đình", ""}, url);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  auto pdf = RenderPdf(*doc);
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  ASSERT_EQ(pdf->rfind("%PDF-", 0), 0u);
  // The id is readable in the file (the wallet reports a changed copy as tampered by it).
  EXPECT_NE(pdf->find("ThangLong-Document-Id: Zx9_abc-123"), std::string::npos);
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string text = PdfText(dir, *pdf);
  EXPECT_NE(text.find("TRÍCH LỤC KHAI TỬ"), std::string::npos) << text;
  EXPECT_NE(text.find("Zx9_abc-123"), std::string::npos) << text;
  EXPECT_NE(text.find("001090012345"), std::string::npos) << text;
  EXPECT_NE(text.find("Số: " + std::string(kCode)), std::string::npos) << text;
  EXPECT_NE(text.find("ngày 18 tháng 11 năm 2026"), std::string::npos) << text;
  EXPECT_NE(text.find("PHƯỜNG BA ĐÌNH"), std::string::npos) << text;

  ASSERT_TRUE(HaveTool(PDFTOPPM_PROGRAM)) << "pdftoppm is missing: run scripts/setup.sh (poppler-utils)";
  ASSERT_TRUE(HaveTool(ZBARIMG_PROGRAM)) << "zbarimg is missing: run scripts/setup.sh (zbar-tools)";
  std::string file = dir.path() + "/result.pdf";
  WriteFile(file, *pdf);
  RunCommand(std::string(PDFTOPPM_PROGRAM) + " -r 150 -png -f 1 -l 1 -singlefile '" + file + "' '" + dir.path() +
             "/page'");
  std::string decoded = RunCommand(std::string(ZBARIMG_PROGRAM) + " --raw -q '" + dir.path() + "/page.png'");
  while (!decoded.empty() && (decoded.back() == '\n' || decoded.back() == '\r')) decoded.pop_back();
  EXPECT_EQ(decoded, url);
}

TEST(DocumentsTest, ApologyNeedsAnApology) {
  auto none = ApologyForm(Facts(SampleDossier()));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
}

TEST(DocumentsTest, ApologyFromTheLatestApologyEvent) {
  json d = WithApology(SampleDossier());
  auto doc = ApologyForm(Facts(d));
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->paper, Paper::kA5);
  std::string html = RenderHtml(*doc, "/api/v1/documents/print.css");
  EXPECT_NE(html.find("VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT"), std::string::npos);
  EXPECT_NE(html.find("Cần xác minh thông tin nơi sinh"), std::string::npos);
  EXPECT_NE(html.find("17 giờ 00 phút, thứ Tư ngày 25 tháng 02 năm 2026"), std::string::npos);  // previous
  EXPECT_NE(html.find("17 giờ 00 phút, thứ Tư ngày 04 tháng 03 năm 2026"), std::string::npos);  // extended
  EXPECT_NE(html.find("Hà Nội, ngày 24 tháng 02 năm 2026"), std::string::npos);

  // A second apology replaces the first in the letter.
  d["timeline"].push_back(d["timeline"].back());
  d["timeline"].back()["seq"] = 5;
  d["timeline"].back()["note"] = "Chờ kết quả xác minh lần hai";
  d["timeline"].back()["detail"] = {{"previous_due_at", "2026-03-04T10:00:00.000Z"},
                                    {"due_at", "2026-03-11T10:00:00.000Z"}};
  auto again = ApologyForm(Facts(d));
  ASSERT_TRUE(again.ok());
  html = RenderHtml(*again, "/x.css");
  EXPECT_NE(html.find("Chờ kết quả xác minh lần hai"), std::string::npos);
  EXPECT_NE(html.find("ngày 11 tháng 03 năm 2026"), std::string::npos);

  auto pdf = RenderPdf(*again);
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  MaybeDump("apology.pdf", *pdf);
  ScratchDir dir;
  std::string text = PdfText(dir, *pdf);
  EXPECT_NE(text.find("Giấy tiếp nhận hồ sơ và hẹn trả kết quả"), std::string::npos) << text;
  EXPECT_NE(text.find("Chờ kết quả xác minh lần hai"), std::string::npos) << text;
}

TEST(DocumentsTest, ControlSheetListsTheTimelineAndFlowsOverPages) {
  json d = WithApology(SampleDossier());
  auto doc = ControlSheetForm(Facts(d));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->paper, Paper::kA4);
  std::string html = RenderHtml(*doc, "/x.css");
  EXPECT_NE(html.find("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"), std::string::npos);
  EXPECT_NE(html.find("<th scope=\"col\">Người thực hiện</th>"), std::string::npos);
  EXPECT_NE(html.find("Tiếp nhận hồ sơ"), std::string::npos);
  EXPECT_NE(html.find("Cán bộ một cửa"), std::string::npos);
  EXPECT_NE(html.find("Giao: specialist"), std::string::npos);
  EXPECT_NE(html.find("Gia hạn: 17:00 25/02/2026 → 17:00 04/03/2026"), std::string::npos);
  EXPECT_NE(html.find("10:00 13/02/2026"), std::string::npos);
  MaybeDump("control-sheet.html", RenderHtml(*doc, "print.css"));

  ScratchDir dir;
  auto pdf = RenderPdf(*doc);
  ASSERT_TRUE(pdf.ok());
  std::string text = PdfText(dir, *pdf);
  EXPECT_NE(text.find("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"), std::string::npos) << text;
  EXPECT_NE(text.find("Chuyển chuyên viên hộ tịch"), std::string::npos) << text;

  // A long history flows onto further pages, each with the table's header.
  for (int i = 0; i < 60; ++i) {
    json step = d["timeline"][2];
    step["seq"] = 10 + i;
    step["note"] = "Bước kiểm tra số " + std::to_string(i) + ": đối chiếu giấy tờ, ghi nhận ý kiến của cán bộ.";
    d["timeline"].push_back(step);
  }
  auto long_doc = ControlSheetForm(Facts(d));
  ASSERT_TRUE(long_doc.ok());
  auto long_pdf = RenderPdf(*long_doc);
  ASSERT_TRUE(long_pdf.ok());
  MaybeDump("control-sheet.pdf", *long_pdf);
  text = PdfText(dir, *long_pdf);
  long pages = std::count(text.begin(), text.end(), '\f');
  EXPECT_GE(pages, 2);
  size_t headers = 0;
  for (size_t at = text.find("Người thực hiện"); at != std::string::npos; at = text.find("Người thực hiện", at + 1)) {
    ++headers;
  }
  EXPECT_EQ(headers, static_cast<size_t>(pages));
  EXPECT_NE(text.find("Bước kiểm tra số 59"), std::string::npos);
}

TEST(DocumentsTest, PdfRejectsInvalidUtf8) {
  Printable doc;
  doc.title = "x";
  Paragraph bad;
  bad.runs.push_back(documents::Run{std::string("\xC3\x28"), false, false});  // a truncated two-byte sequence
  doc.blocks.emplace_back(std::move(bad));
  auto pdf = RenderPdf(doc);
  ASSERT_FALSE(pdf.ok());
  EXPECT_EQ(pdf.status().code(), StatusCode::kInvalidArgument);
}

TEST(DocumentsTest, PdfsRenderOnManyThreadsAtOnce) {
  auto doc = ReceiptForm(Facts(SampleDossier()), kTrackingUrl);
  ASSERT_TRUE(doc.ok());
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        auto pdf = RenderPdf(*doc);
        if (pdf.ok() && pdf->rfind("%PDF-", 0) == 0) ++ok[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, std::vector<int>(4, 5));
}

TEST(DocumentsTest, PublicBaseUrlFromHostAndForwardedProto) {
  http::Request req;
  req.headers = {{"host", "Dichvucong.Hanoi.example:8443"}};
  EXPECT_EQ(*PublicBaseUrl(req), "http://dichvucong.hanoi.example:8443");
  req.headers.emplace_back("x-forwarded-proto", "HTTPS, http");
  EXPECT_EQ(*PublicBaseUrl(req), "https://dichvucong.hanoi.example:8443");
  req.headers = {{"host", "[::1]:8080"}, {"x-forwarded-proto", "http"}};
  EXPECT_EQ(*PublicBaseUrl(req), "http://[::1]:8080");
  for (const char* bad : {"", "evil.example/path", "a b", "x\"><script>", "user@host", "-x"}) {
    req.headers = {{"host", bad}};
    auto r = PublicBaseUrl(req);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().field(), "host");
  }
  req.headers.clear();
  EXPECT_FALSE(PublicBaseUrl(req).ok());
  EXPECT_EQ(TrackingUrl("http://h", "UBND00004-260213-0001"), "http://h/track?code=UBND00004-260213-0001");
  EXPECT_EQ(TrackingUrl("http://h", "a&b c"), "http://h/track?code=a%26b%20c");
}

}  // namespace
}  // namespace tl::documents
