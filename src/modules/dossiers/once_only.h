// Once-only (chỉ cung cấp thông tin một lần): a component of a dossier (thành phần hồ sơ) can be
// satisfied by a valid document of the applicant's own wallet instead of a paper or an upload.
//
// ComponentDocumentRules is the matching, as data (data/rules/component-document-types.json): each
// document type ("birth_certificate") names the procedures whose results are that document (the
// wallet records an issued result under its procedure's code, "1.001193") and phrases of component
// names it can stand for ("giấy khai sinh", "chứng minh quan hệ nhân thân"). A phrase matches when its
// words, folded like search keys (case and diacritics, core/text.h), occur consecutively in the
// component's name; a component containing a `never` phrase (a declaration, a request) matches
// nothing. A type may limit how long after its issue date a document stands for a component
// (`valid_days`).
//
// WalletDocuments is how the dossier module reads the wallet without depending on it: src/app
// implements it over wallet::WalletService (as it implements ResultListener), and every call runs in
// the caller's transaction, so a submission checks its references and records them atomically.
//
// Thread-safety: ComponentDocumentRules is immutable after Load (share freely); WalletDocuments
// implementations must be safe to call from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "storage/database.h"

namespace tl::dossiers {

struct DocumentTypeRule {
  std::string type;      // "birth_certificate"
  std::string label_vi;  // "Giấy khai sinh"
  std::string label_en;
  std::vector<std::string> issued_by;  // procedure codes whose results are documents of this type
  std::vector<std::string> phrases;    // component phrases as written in the file
  int valid_days = 0;                  // > 0: stands for a component only so long after its issue date
};

class ComponentDocumentRules {
 public:
  static Result<ComponentDocumentRules> Load(const std::string& path);
  // The same from a parsed file; errors name `where` and the entry.
  static Result<ComponentDocumentRules> Parse(const nlohmann::json& file, const std::string& where);

  // The rule a wallet document's type belongs to: the rule of that name, or the one whose issued_by
  // lists it. Null when none.
  const DocumentTypeRule* RuleOfDocument(const std::string& document_type) const;
  // The document types that can stand for a component (none for a declaration or an unknown name).
  std::vector<const DocumentTypeRule*> RulesForComponent(std::string_view component) const;
  // True when a wallet document of `document_type` can stand for `component`.
  bool Satisfies(std::string_view component, const std::string& document_type) const;
  // True when a document of `rule` issued on `issued_on` (YYYY-MM-DD) still stands on `today`.
  static bool WithinValidDays(const DocumentTypeRule& rule, const std::string& issued_on, const std::string& today);

  const std::vector<DocumentTypeRule>& rules() const { return rules_; }

 private:
  using Words = std::vector<std::string>;
  static Words WordsOf(std::string_view text);
  static bool Contains(const Words& haystack, const Words& needle);

  std::vector<DocumentTypeRule> rules_;
  std::vector<std::vector<Words>> patterns_;  // per rule, its phrases folded into words
  std::vector<Words> never_;
  std::map<std::string, size_t> by_document_type_;  // a rule's name and every issued_by code -> rule
};

// A wallet document as the dossier module sees it, with its verification at the time of the call.
struct HeldDocument {
  std::string id, holder, type, title, number, issuer_agency, issued_on, valid_until;
  std::string state;    // issued | certified | unverified
  std::string verdict;  // valid | tampered | revoked | unverified | unknown (wallet/wallet.h)
  std::string reason;
  bool has_file = false;
};

class WalletDocuments {
 public:
  virtual ~WalletDocuments() = default;
  // The holder's signed documents (issued results and certified copies), newest first, each verified.
  virtual Result<std::vector<HeldDocument>> SignedDocumentsOf(storage::Session& s, const std::string& holder) const = 0;
  // One document, verified; NotFound when no document has this id.
  virtual Result<HeldDocument> Find(storage::Session& s, const std::string& id) const = 0;
  // A document's file (content type, bytes); NotFound when it has none.
  virtual Result<std::pair<std::string, std::string>> File(storage::Session& s, const std::string& id) const = 0;
};

}  // namespace tl::dossiers
