// Adapts the document wallet (modules/wallet) to the one-stop shop's WalletDocuments interface
// (modules/dossiers/once_only.h), so that dossiers reference wallet documents (once-only) without the
// dossier module depending on the wallet: the same arrangement as its ResultListener.
//
// Every call runs in the caller's transaction (the submission's, or a dossier read), so a reference
// is checked and recorded atomically with the dossier.
//
// Thread-safety: safe to share; WalletService is.
#pragma once

#include <utility>

#include "modules/dossiers/once_only.h"
#include "modules/wallet/wallet.h"

namespace tl::app {

class WalletDocumentsOfWallet final : public dossiers::WalletDocuments {
 public:
  explicit WalletDocumentsOfWallet(const wallet::WalletService* wallet) : wallet_(wallet) {}

  Result<std::vector<dossiers::HeldDocument>> SignedDocumentsOf(storage::Session& s,
                                                                const std::string& holder) const override {
    TL_ASSIGN_OR_RETURN(auto records, wallet_->SignedDocumentsIn(s, holder));
    std::vector<dossiers::HeldDocument> out;
    out.reserve(records.size());
    for (auto& r : records) out.push_back(Held(std::move(r)));
    return out;
  }

  Result<dossiers::HeldDocument> Find(storage::Session& s, const std::string& id) const override {
    TL_ASSIGN_OR_RETURN(auto record, wallet_->DocumentIn(s, id));
    if (!record) return NotFound("no such wallet document");
    return Held(std::move(*record));
  }

  Result<std::pair<std::string, std::string>> File(storage::Session& s, const std::string& id) const override {
    TL_ASSIGN_OR_RETURN(auto file, wallet_->FileIn(s, id));
    if (!file) return NotFound("this document has no file");
    return std::move(*file);
  }

 private:
  static dossiers::HeldDocument Held(wallet::DocumentRecord r) {
    dossiers::HeldDocument d;
    d.id = std::move(r.id);
    d.holder = std::move(r.holder);
    d.type = std::move(r.type);
    d.title = std::move(r.title);
    d.number = std::move(r.number);
    d.issuer_agency = std::move(r.issuer_agency);
    d.issued_on = std::move(r.issued_on);
    d.valid_until = std::move(r.valid_until);
    d.state = std::move(r.state);
    d.verdict = std::move(r.status);
    d.reason = std::move(r.reason);
    d.has_file = r.has_file;
    return d;
  }

  const wallet::WalletService* wallet_;
};

}  // namespace tl::app
