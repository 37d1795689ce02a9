// HTTP routes of the printable documents (see documents.h): one table.
#include <string>

#include "http/json_body.h"
#include "modules/documents/documents.h"

namespace tl::documents {
namespace {

constexpr const char* kStylesheetPath = "/api/v1/documents/print.css";

using FormBuilder = Result<Printable> (*)(const DossierFacts&, const std::string& tracking_url);

Result<Printable> Receipt(const DossierFacts& d, const std::string& url) {
  return ReceiptForm(d, url);
}
Result<Printable> Apology(const DossierFacts& d, const std::string&) {
  return ApologyForm(d);
}
Result<Printable> ControlSheet(const DossierFacts& d, const std::string&) {
  return ControlSheetForm(d);
}

// The printed name of an agency and of the body above it. Committees head their own level, so their
// letterhead has no governing body; a centre or department prints its committee above its name.
AgencyLookup LookupIn(const admin_units::AdminUnitService* units) {
  return [units](const std::string& code) -> Result<AgencyLabel> {
    TL_ASSIGN_OR_RETURN(auto agency, units->GetAgency(code));
    AgencyLabel label{agency.code, agency.name, ""};
    bool committee = agency.kind.find("committee") != std::string::npos;
    if (!committee && agency.parent_code) {
      auto parent = units->GetAgency(*agency.parent_code);
      if (parent.ok()) {
        label.parent_name = parent->name;
        // "Ủy ban nhân dân" is written "UBND" in a governing body's line.
        static const std::string kCommittee = "Ủy ban nhân dân";
        if (label.parent_name.rfind(kCommittee, 0) == 0) label.parent_name.replace(0, kCommittee.size(), "UBND");
      } else if (parent.status().code() != StatusCode::kNotFound) {
        return parent.status();
      }
    }
    return label;
  };
}

// Only characters safe in a quoted Content-Disposition filename.
std::string SafeFileName(const std::string& s) {
  std::string out;
  for (char c : s) {
    bool keep =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    out += keep ? c : '_';
  }
  return out;
}

http::Route DocumentRoute(dossiers::DossierService* dossiers, const admin_units::AdminUnitService* units,
                          const std::string& slug, FormBuilder build, std::string summary) {
  auto handler = [dossiers, units, slug, build](http::Request& req) -> Result<http::Response> {
    std::string format = req.Query("format").value_or("html");
    TL_RETURN_IF_ERROR(http::OneOf(format, {"html", "pdf"}, "format"));
    TL_ASSIGN_OR_RETURN(auto dossier, dossiers->Get(*req.principal, req.Param("code")));
    // The receipt's QR code needs the public address; the other forms only link the stylesheet, relatively
    // when the request names no usable host.
    auto public_base = PublicBaseUrl(req);
    if (!public_base.ok() && slug == "receipt") return public_base.status();
    std::string base = public_base.ok() ? *public_base : std::string();
    TL_ASSIGN_OR_RETURN(DossierFacts facts, FactsFromDossierJson(dossier, LookupIn(units)));
    TL_ASSIGN_OR_RETURN(Printable doc, build(facts, TrackingUrl(base, facts.code)));
    http::Response resp;
    if (format == "pdf") {
      TL_ASSIGN_OR_RETURN(resp.body, RenderPdf(doc));
      resp.content_type = "application/pdf";
      resp.headers.emplace_back("Content-Disposition",
                                "inline; filename=\"" + SafeFileName(facts.code + "-" + slug) + ".pdf\"");
    } else {
      // An absolute link: the page may be opened from a blob: URL, where a relative one would not resolve.
      resp.body = RenderHtml(doc, base + kStylesheetPath);
      resp.content_type = "text/html; charset=utf-8";
    }
    return resp;
  };
  return {http::Method::kGet,
          "/api/v1/dossiers/{code}/" + slug,
          http::Access::Authenticated().PersonalData(),
          std::move(handler),
          {std::move(summary),
           "documents",
           {{"code", "path", "Dossier code", true}, {"format", "query", "html (default) or pdf"}},
           "",
           ""}};
}

// Draws a wallet document as its printable PDF, the QR code pointing at `base`'s verification page.
wallet::WalletService::PdfRenderer WalletPdf(const admin_units::AdminUnitService* units, std::string base) {
  return [units, base = std::move(base)](const wallet::DocumentRecord& d) -> Result<std::string> {
    auto found = LookupIn(units)(d.issuer_agency);
    if (!found.ok() && found.status().code() != StatusCode::kNotFound) return found.status();
    AgencyLabel issuer = found.ok() ? *found : AgencyLabel{d.issuer_agency, "", ""};  // the code is printed
    TL_ASSIGN_OR_RETURN(Printable doc, WalletDocumentForm(d, issuer, VerifyUrl(base, d.id)));
    return RenderPdf(doc);
  };
}

Result<std::string> VerificationBase(const http::Request& req, const std::string& public_url) {
  if (public_url.empty()) return PublicBaseUrl(req);
  std::string base = public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

http::Response PdfResponse(std::pair<std::string, std::string> file, const std::string& name) {
  http::Response resp;
  resp.content_type = std::move(file.first);
  resp.body = std::move(file.second);
  resp.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + SafeFileName(name) + ".pdf\"");
  return resp;
}

}  // namespace

std::vector<http::Route> Routes(dossiers::DossierService* dossiers, const admin_units::AdminUnitService* units,
                                const wallet::WalletService* wallet, std::string public_url) {
  std::vector<http::Route> r;
  r.push_back(DocumentRoute(dossiers, units, "receipt", Receipt,
                            "Form 01: receipt and appointment (Giấy tiếp nhận hồ sơ và hẹn trả kết quả), A5, with a "
                            "QR code to the public status page"));
  r.push_back(DocumentRoute(dossiers, units, "apology", Apology,
                            "Form 04: apology and extension (Văn bản xin lỗi và đề nghị gia hạn thời gian giải "
                            "quyết), A5, from the latest apology; 404 when there is none"));
  r.push_back(DocumentRoute(dossiers, units, "control-sheet", ControlSheet,
                            "Form 06: control sheet (Phiếu kiểm soát quá trình giải quyết hồ sơ), A4: the timeline"));
  r.push_back({http::Method::kGet,
               kStylesheetPath,
               http::Access::Public(),
               [](http::Request&) -> Result<http::Response> {
                 http::Response resp;
                 resp.content_type = "text/css; charset=utf-8";
                 resp.body = std::string(PrintCss());
                 return resp;
               },
               {"The stylesheet of the printable HTML documents", "documents", {}, "", ""}});
  if (wallet == nullptr) return r;
  r.push_back({http::Method::kGet,
               "/api/v1/me/wallet/{id}/pdf",
               http::Access::Roles({"citizen"}),
               [wallet, units, public_url](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto base, VerificationBase(req, public_url));
                 TL_ASSIGN_OR_RETURN(auto file, wallet->PdfFor(*req.principal, req.Param("id"), WalletPdf(units, base)));
                 return PdfResponse(std::move(file), req.Param("id"));
               },
               {"The signed PDF of a document in your wallet: its facts and a QR code to its verification page; "
                "POST /api/v1/documents/verify with this file answers valid, with any byte changed tampered",
                "documents",
                {{"id", "path", "Document id", true}},
                "",
                ""}});
  r.push_back({http::Method::kGet,
               "/api/v1/dossiers/{code}/result",
               http::Access::Authenticated().PersonalData(),
               [dossiers, wallet, units, public_url](http::Request& req) -> Result<http::Response> {
                 // Whoever may read the dossier (its applicant, officials of the agencies concerned).
                 TL_ASSIGN_OR_RETURN(auto dossier, dossiers->Get(*req.principal, req.Param("code")));
                 (void)dossier;
                 TL_ASSIGN_OR_RETURN(auto base, VerificationBase(req, public_url));
                 TL_ASSIGN_OR_RETURN(auto file,
                                     wallet->PdfOfSource("dossier:" + req.Param("code"), WalletPdf(units, base)));
                 return PdfResponse(std::move(file), req.Param("code") + "-result");
               },
               {"The signed PDF of a dossier's issued result (the document in the applicant's wallet); 404 before "
                "the result is issued or when the applicant has no wallet",
                "documents",
                {{"code", "path", "Dossier code", true}},
                "",
                ""}});
  return r;
}

}  // namespace tl::documents
