// Printable documents of a dossier: the one-stop shop's paper forms (Circular 03/2025/TT-VPCP, Annex I)
// as HTML and PDF.
//
//   01  Giấy tiếp nhận hồ sơ và hẹn trả kết quả — receipt and appointment (A5), with a QR code that
//       opens the public status page <base>/track?code=<code>;
//   04  Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết — apology and extension (A5), from the
//       latest "apologise" event of the timeline;
//   06  Phiếu kiểm soát quá trình giải quyết hồ sơ — control sheet (A4): the timeline as a table.
//
// The forms are built from DossierFacts, a plain value read from the dossier JSON that
// dossiers::DossierService::Get returns (FactsFromDossierJson), so they are testable without a store.
// Times are printed in Hà Nội time (UTC+7). Text comes from the store (already NFC, valid UTF-8).
//
// Routes: GET /api/v1/dossiers/{code}/receipt|apology|control-sheet?format=html|pdf (default html),
// allowed to whoever may GET the dossier (DossierService::Get with the caller's principal; the read is
// audited as personal data), and GET /api/v1/documents/print.css (public), the stylesheet the HTML links
// (the site's CSP forbids inline styles). PDFs are served inline as "<code>-<form>.pdf".
//
// Errors are values: a dossier that is not there or not yours is NotFound, a receipt for a dossier not
// yet received is FailedPrecondition, an apology letter for a dossier with no apology is NotFound.
//
// Thread-safety: functions over values; the routes share the services, which are safe to share.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "http/http.h"
#include "modules/admin_units/admin_units.h"
#include "modules/documents/printable.h"
#include "modules/dossiers/dossiers.h"
#include "modules/wallet/wallet.h"

namespace tl::documents {

// An agency as printed: its name and the name of the body above it (empty for none).
struct AgencyLabel {
  std::string code;
  std::string name;
  std::string parent_name;
};

// Resolves an agency code; NotFound is tolerated (the code is printed instead), other errors propagate.
using AgencyLookup = std::function<Result<AgencyLabel>(const std::string& code)>;

struct TimelineStep {
  int64_t seq = 0;
  std::string action;    // "receive", "assign", ...
  std::string to_label;  // the state it led to, in Vietnamese
  std::string actor;
  std::string actor_role;
  AgencyLabel agency;  // empty code for an applicant's own action
  int64_t at_ms = 0;
  std::string note;
  nlohmann::json detail = nlohmann::json::object();
};

struct DossierFacts {
  std::string code;
  std::string procedure_code;
  std::string procedure_name;
  AgencyLabel receiving_agency;
  AgencyLabel handling_agency;
  std::string applicant_name;
  std::string applicant_id_number;
  std::string applicant_phone;
  std::string applicant_email;
  std::string applicant_address;
  std::vector<std::string> components;
  std::string channel;   // online | desk | postal
  std::string delivery;  // desk | online | post
  double working_days = 0;
  std::optional<int64_t> submitted_at_ms;
  std::optional<int64_t> received_at_ms;
  std::optional<int64_t> due_at_ms;
  std::string status_label;
  std::vector<TimelineStep> timeline;
};

// Reads the facts the forms need from a dossier document of DossierService::Get.
Result<DossierFacts> FactsFromDossierJson(const nlohmann::json& dossier, const AgencyLookup& agencies);

// Form 01 (A5). `tracking_url` is encoded in the QR code and printed beside it.
Result<Printable> ReceiptForm(const DossierFacts& dossier, const std::string& tracking_url);
// Form 04 (A5), from the latest "apologise" step; NotFound when there is none.
Result<Printable> ApologyForm(const DossierFacts& dossier);
// Form 06 (A4).
Result<Printable> ControlSheetForm(const DossierFacts& dossier);

// The printable form of a signed wallet document (an issued result or a certified copy), A5: the
// issuer's letterhead with the number and date, the title, a table of the document's facts (its id,
// number, type, holder, issuer, dates), and a QR code opening `verify_url` (the public verification
// page of this document). Its PDF carries "ThangLong-Document-Id: <id>" in its Keywords metadata, so
// the wallet recognises a changed copy as tampered.
Result<Printable> WalletDocumentForm(const wallet::DocumentRecord& d, const AgencyLabel& issuer,
                                     const std::string& verify_url);
// "<base>/verify?id=<id>" (the id percent-encoded): the web page that verifies a document.
std::string VerifyUrl(const std::string& base, const std::string& id);

// "<scheme>://<host>" of the request: the Host header (validated), https when X-Forwarded-Proto says so.
Result<std::string> PublicBaseUrl(const http::Request& req);
// "<base>/track?code=<code>" (the code percent-encoded).
std::string TrackingUrl(const std::string& base, const std::string& code);

// The Unix-ms instant of an RFC 3339 UTC timestamp as dossiers write it ("2026-02-25T10:00:00.000Z").
Result<int64_t> ParseUtcTimestamp(std::string_view s, std::string_view field);
// Hà Nội local time, "17 giờ 00 phút, thứ Tư ngày 25 tháng 02 năm 2026".
std::string VietnameseDateTime(int64_t unix_ms);
// Hà Nội local date, "ngày 25 tháng 02 năm 2026".
std::string VietnameseDate(int64_t unix_ms);

// With a wallet, also GET /api/v1/me/wallet/{id}/pdf (the holder) and GET /api/v1/dossiers/{code}/result
// (whoever may GET the dossier): the signed PDF of a wallet document (see WalletService::PdfFor). Its
// QR code opens `public_url`'s verification page, or the request's own address when it is empty (the
// PDF is made once, so a configured public address is what a deployment behind a proxy should set).
std::vector<http::Route> Routes(dossiers::DossierService* dossiers, const admin_units::AdminUnitService* units,
                                const wallet::WalletService* wallet = nullptr, std::string public_url = "");

}  // namespace tl::documents
