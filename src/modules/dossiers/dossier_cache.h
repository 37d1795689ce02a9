// What this process last committed for a dossier: its row, timeline, attachments and wallet
// references as of one version, so that the next action on it (which names that version) need not
// read them again on the single writer.
//
// The contract that makes it safe without invalidation: a dossier's version is bumped by every
// change to its row, timeline or attachments (DossierService keeps this), versions only grow, and
// an entry is put only after its transaction committed. So the content stored under (code,
// version) is the one committed content of that version, whichever process wrote it later, and a
// lookup for any other version misses. An action that uses an entry still proves it with its
// UPDATE's `WHERE version = ?`; when that fails, the action reads the row as it would have anyway.
//
// Bounded: two generations of at most `capacity` codes each; when the newer is full, the older is
// dropped and the newer becomes the older. A put never replaces a newer version with an older one.
//
// Thread-safety: all methods are safe to call from any thread (one mutex; entries are immutable and
// shared).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "storage/database.h"

namespace tl::dossiers {

class DossierCache {
 public:
  struct Entry {
    int64_t version = 0;
    storage::Row dossier;   // the dossier's columns as DossierService reads them (kColumns)
    int64_t queue_key = 0;  // the stored queue_key column, which the row above does not carry
    storage::ResultSet events, files, wallet_documents;
  };

  explicit DossierCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // The entry of `code` at exactly `version`, or null.
  std::shared_ptr<const Entry> Find(const std::string& code, int64_t version) const;
  void Put(const std::string& code, std::shared_ptr<const Entry> entry);
  size_t size() const;

 private:
  using Map = std::unordered_map<std::string, std::shared_ptr<const Entry>>;
  const size_t capacity_;
  mutable std::mutex mu_;
  Map newer_, older_;
};

}  // namespace tl::dossiers
