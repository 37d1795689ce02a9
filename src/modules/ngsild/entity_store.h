// The NGSI-LD entity store: entities per tenant on the platform's storage (SQLite or PostgreSQL).
//
// Contract:
// - Documents are in the stored form of entity.h (normalized, names and types expanded); the callers
//   (routes) expand payloads and render results with the request's @context.
// - Tables (migration 900; 906 keeps deletions for ChangedSince; 907 its change log): ngsild_entities
//   (tenant, id) → primary type, all types, the document as JSON text, createdAt/modifiedAt (Unix
//   ms), a version incremented on every write, and the bounding box of the `location` GeoProperty
//   (with `lon_key`, its west edge, indexed for the geo pre-filter; geometries wider than
//   kWideGeometryDegrees are kept under a sentinel key and always checked);
//   ngsild_entity_types (every type of every entity, for type queries); ngsild_tenants;
//   ngsild_changes (tenant, modified_at, id), one row per write of an entity, in that key order (see
//   ChangedSince and PruneChanges).
// - Tenants: "" is the default tenant and always exists; another tenant exists from its first write
//   on. Reads in a tenant that never existed fail with NonexistentTenant (404).
// - Every write runs in one transaction; a batch request is one transaction with per-entity outcomes
//   (NGSI-LD BatchOperationResult). Entity-level problems (an existing id on create, a missing one on
//   update/delete) are reported per entity; a storage failure fails the whole batch.
// - Listeners (AddListener, before serving) learn every change inside the write transaction, after
//   the rows are written; a listener's error rolls the whole request back. They must not call the
//   store, and must only use the given Session. After the last change of a write, still inside its
//   transaction, each listener's OnWriteEnd runs (a listener may defer per-change work to it, such as
//   one insert for a whole batch); if the write fails instead, OnWriteAbandoned.
// - Queries: SQL narrows by tenant, ids and types, or for a bounded geo-query on `location` by the
//   bounding box alone (its candidates then read at once and sorted by id); idPattern, q, exact
//   geo relations, type expressions with ';' and the attrs filter run in memory over the candidates,
//   read in id order in chunks. Results are ordered by id; limit 0..kMaxLimit (default 20), offset.
//
// Thread-safety: safe to share between threads; listeners are registered before concurrent use.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/periodic.h"
#include "core/status.h"
#include "core/worker_pool.h"
#include "modules/ngsild/context.h"
#include "modules/ngsild/entity.h"
#include "modules/ngsild/geo.h"
#include "modules/ngsild/q_query.h"
#include "storage/database.h"
#include "storage/migrations.h"
#include "storage/per_session.h"

namespace tl::ngsild {

inline constexpr int kDefaultLimit = 20;
inline constexpr int kMaxLimit = 1000;
// How long ChangedSince still reports a deletion (a poller further behind misses it): a week.
inline constexpr int64_t kDeletionsKeptMs = 7LL * 24 * 3600 * 1000;
inline constexpr size_t kMaxBatch = 1000;             // entities per batch request
inline constexpr size_t kMaxIds = 1000;               // ids per query
inline constexpr double kWideGeometryDegrees = 0.01;  // wider locations (~1 km) bypass the lon_key range

struct StoredEntity {
  nlohmann::json doc;  // stored form (entity.h)
  int64_t created_at_ms = 0;
  int64_t modified_at_ms = 0;
  int64_t version = 0;
  // From ChangedSince only: the entity was deleted at modified_at_ms; doc holds just its id and type.
  bool deleted = false;
};

// The stored text of one entity, for rendering without a DOM (RenderStoredText).
struct StoredText {
  std::string doc;
  int64_t created_at_ms = 0;
  int64_t modified_at_ms = 0;
  int64_t version = 0;
};

// ---------------------------------------------------------------------------------------------------
// The change hook.

enum class ChangeKind { kCreated, kUpdated, kReplaced, kDeleted };
const char* ChangeKindName(ChangeKind kind);

// The document of a changed entity, as a listener sees it. Either the whole document, or (a batch
// update merged on the stored text, AppendAttributesToText) the merged members with the new text,
// which is parsed only when a listener asks for a member it does not hold, or for the whole.
// Thread-safety: none; a listener uses it on the writer's thread, within OnEntityChanged.
class ChangedDoc {
 public:
  explicit ChangedDoc(const nlohmann::json& whole) : whole_(&whole) {}
  // `members`: `type` and the changed members; `text`: the whole new document. Both must outlive this.
  ChangedDoc(const nlohmann::json& members, const std::string& text) : members_(&members), text_(&text) {}
  ChangedDoc(const ChangedDoc&) = delete;
  ChangedDoc& operator=(const ChangedDoc&) = delete;

  // The whole document (stored form).
  const nlohmann::json& Whole() const;
  // The member `name` (an attribute's expanded name, "type", "scope"), or null when there is none.
  const nlohmann::json* Member(const std::string& name) const;

 private:
  const nlohmann::json* whole_ = nullptr;
  const nlohmann::json* members_ = nullptr;
  const std::string* text_ = nullptr;
  mutable std::optional<nlohmann::json> parsed_;
};

struct EntityChange {
  const std::string& tenant;
  const std::string& entity_id;
  const std::vector<std::string>& types;  // expanded
  ChangeKind kind;
  const std::vector<std::string>& changed_attributes;  // expanded names (deleted ones included)
  const ChangedDoc& entity;                            // the new document; on kDeleted, the last one
  int64_t at_ms;
};

// Implemented outside the module (src/app wires e.g. subscriptions or telemetry history).
class ChangeListener {
 public:
  virtual ~ChangeListener() = default;
  // Called inside the write transaction; a non-OK status rolls the request back.
  virtual Status OnEntityChanged(storage::Session& session, const EntityChange& change) = 0;
  // Called once at the end of every write, after its last OnEntityChanged and still inside its
  // transaction, on the same Session; a non-OK status rolls the request back. Writes on one Session
  // never overlap: the next write on it starts after this (or OnWriteAbandoned) returned.
  virtual Status OnWriteEnd(storage::Session& /*session*/) { return Status::Ok(); }
  // Called instead of OnWriteEnd when the write fails (its changes are rolled back): drop whatever
  // was deferred for this Session. Also called when OnWriteEnd itself failed.
  virtual void OnWriteAbandoned(storage::Session& /*session*/) {}
};

// ---------------------------------------------------------------------------------------------------
// Queries.

// Entity type selection (ETSI GS CIM 009 clause 4.17): "A,B" or "A|B" (either), "A;B" (both), parentheses.
class TypeSelection {
 public:
  static Result<TypeSelection> Parse(std::string_view text, const Context& ctx);
  bool Matches(const std::vector<std::string>& types) const;
  const std::vector<std::string>& names() const { return names_; }  // every type named, expanded
  bool is_list() const { return is_list_; }                         // only ',' or '|': SQL is exact

 private:
  struct Node {
    enum class Kind { kType, kAnd, kOr } kind = Kind::kType;
    std::string type;
    std::vector<Node> children;
  };
  static bool Eval(const Node& n, const std::vector<std::string>& types);
  Node root_;
  std::vector<std::string> names_;
  bool is_list_ = true;
};

// A compiled idPattern.
class IdPattern {
 public:
  static Result<IdPattern> Compile(std::string_view pattern);
  bool Matches(std::string_view id) const { return pattern_.Search(id); }

 private:
  explicit IdPattern(Pattern p) : pattern_(std::move(p)) {}
  Pattern pattern_;
};

struct EntityQuery {
  std::vector<std::string> ids;
  std::optional<IdPattern> id_pattern;
  std::optional<TypeSelection> types;
  std::optional<Query> q;
  std::shared_ptr<const Context> context;  // compacts names for q (required with q)
  std::optional<GeoQuery> geo;
  std::string geoproperty = std::string(kLocationIri);  // expanded
  std::optional<std::set<std::string>> attrs;           // expanded: entities holding at least one of them
  int limit = kDefaultLimit;
  int offset = 0;
  bool count = false;
};

struct QueryResult {
  std::vector<StoredEntity> entities;
  std::optional<int64_t> total;  // with count
};

// ---------------------------------------------------------------------------------------------------
// Batches.

struct BatchError {
  std::string entity_id;
  Status error;
};
struct BatchResult {
  std::vector<std::string> success;  // ids, in request order
  std::vector<BatchError> errors;
  std::vector<std::string> created;  // upsert: which of `success` were created
};

// One element of a batch: the expanded entity, or the reason it was refused before storage.
struct BatchItem {
  std::string id;      // as given (may be empty when the element had none)
  nlohmann::json doc;  // stored form; ignored when !status.ok()
  Status status;
};

enum class UpsertMode { kReplace, kUpdate };

// ---------------------------------------------------------------------------------------------------

class EntityStore {
 public:
  EntityStore(storage::Database* db, const Clock* clock);
  ~EntityStore();
  static std::vector<storage::Migration> Migrations();

  void AddListener(ChangeListener* listener) { listeners_.push_back(listener); }

  Status Create(const std::string& tenant, nlohmann::json doc);
  Result<StoredEntity> Retrieve(const std::string& tenant, const std::string& id) const;
  // The same read, the document left as stored text (GET /entities/{id}: one indexed SELECT).
  Result<StoredText> RetrieveText(const std::string& tenant, const std::string& id) const;
  // PUT /entities/{id}: the new document keeps the entity's createdAt.
  Status Replace(const std::string& tenant, const std::string& id, nlohmann::json doc);
  Status Delete(const std::string& tenant, const std::string& id);

  Result<UpdateOutcome> Append(const std::string& tenant, const std::string& id, const nlohmann::json& fragment,
                               bool no_overwrite);
  Result<UpdateOutcome> Update(const std::string& tenant, const std::string& id, const nlohmann::json& fragment);
  Status UpdateAttribute(const std::string& tenant, const std::string& id, const std::string& attribute,
                         const nlohmann::json& fragment);
  Status DeleteAttribute(const std::string& tenant, const std::string& id, const std::string& attribute,
                         const std::optional<std::string>& dataset_id, bool delete_all);

  Result<BatchResult> BatchCreate(const std::string& tenant, std::vector<BatchItem> items);
  Result<BatchResult> BatchUpsert(const std::string& tenant, std::vector<BatchItem> items, UpsertMode mode);
  // Entities of batch upserts (update mode) that were merged and rendered before the write, off the
  // single writer (SQLite; see Prefetch), and written so.
  int64_t merged_before_write() const { return merged_before_write_.load(); }
  // Appends each item's attributes to the existing entity (noOverwrite keeps existing instances).
  Result<BatchResult> BatchUpdate(const std::string& tenant, std::vector<BatchItem> items, bool no_overwrite);
  Result<BatchResult> BatchDelete(const std::string& tenant, const std::vector<std::string>& ids);

  Result<QueryResult> QueryEntities(const std::string& tenant, const EntityQuery& query) const;
  // The expanded types present in the tenant, sorted.
  Result<std::vector<std::string>> Types(const std::string& tenant) const;
  // Entities of `tenant` modified after the cursor (modified_at, id), in that order, at most `limit`
  // (1..kMaxLimit): for pollers that follow changes from any process. An entity changed twice shows
  // once, as it is now. A deletion shows as an entry with `deleted` set at the time of the deletion
  // (table ngsild_deleted, migration 906; kept kDeletionsKeptMs).
  //
  // Read from the change log ngsild_changes (migration 907), joined to the entity's row where its
  // modified_at is the row's: every write appends its (tenant, modified_at, id) at the log's end,
  // where an index on ngsild_entities (tenant, modified_at, id), as before 907, made every update
  // also delete the entity's old entry from a page anywhere in the index: one more page written per
  // updated entity (1,812 against 993 pages for an update of 1,000 random entities of 100,000).
  Result<std::vector<StoredEntity>> ChangedSince(const std::string& tenant, int64_t after_ms,
                                                 const std::string& after_id, int limit) const;
  // Deletes dead rows of the change log (whose entity was written again since, or deleted: the join
  // of ChangedSince skips them) along one pass in key order, resumed where the last call stopped:
  // at most `max_rows` rows looked at, in writes of up to 2,000. A pass starts again from the log's
  // head only when this process wrote entities since the last one began (on PostgreSQL each serving
  // process walks the whole log after it has written). Returns the rows deleted.
  Result<int64_t> PruneChanges(int64_t max_rows);
  // Calls PruneChanges every `interval` on a background thread until StopMaintenance or destruction.
  void StartMaintenance(std::chrono::milliseconds interval, int64_t rows_per_run,
                        std::function<void(const Status&)> on_error);
  void StopMaintenance() { maintenance_.Stop(); }

 private:
  Status RecordDeletion(storage::Session& s, const std::string& tenant, const std::string& id, int64_t now) const;
  // Notes the entity's write at `now` for the change log (ngsild_changes); WriteNotifying inserts the
  // rows a work noted at its end, in its transaction (FlushChanges), and forgets them if it fails.
  void LogChange(const storage::Session& s, const std::string& tenant, const std::string& id, int64_t now);
  Status FlushChanges(storage::Session& s);
  // What Rewrite derives from a changed document: computed on the writer, or beforehand (PreparedUpdate).
  struct Rendered {
    std::vector<std::string> types;
    std::string joined_types;
    std::string text;
    bool location_kept = false;  // the location member is the stored one: the geo columns stay
  };
  // A batch update's merge done by Prefetch: the stored document with the item's attributes appended,
  // as BatchUpsert would make it on the writer, for the stored text it was parsed from.
  struct PreparedUpdate {
    nlohmann::json doc;  // the merged document; when `partial`, only `type` and the merged members
    // Merged on the stored text (AppendAttributesToText): the whole document was never parsed.
    bool partial = false;
    std::vector<std::string> updated;  // AppendAttributes's names
    Rendered rendered;
    bool taken = false;  // a write used it (a work run again merges on the writer)
  };
  struct Existing {
    bool found = false;
    int64_t created_at_ms = 0;
    int64_t version = 0;
    std::string types;  // joined
    std::optional<nlohmann::json> doc;
    // The stored `location` member (null: none), copied before `doc` is moved out to be changed:
    // Rewrite leaves the geo columns alone when the change left it as it was, without parsing a
    // geometry (a sensor's measurements never touch it); unset: Rewrite compares bounds from `doc`.
    std::optional<nlohmann::json> location;
    // The stored text `doc` was read from or last written as (empty: unknown), for the doc cache.
    std::string text;
    // A batch update's merge of this entity, prepared by Prefetch from exactly `text` (then `doc` is
    // unset): the write takes it instead of merging and dumping on the writer thread.
    PreparedUpdate* prepared = nullptr;
  };
  // Parsed documents of entities this process wrote, each with the exact text it was parsed from or
  // written as: a load that reads the same text takes the parsed document instead of parsing it
  // again. Comparing the whole text makes it right whatever happened meanwhile (another process's
  // write, a rolled-back transaction): a different text is simply a miss. Bounded; thread-safe.
  class DocCache;
  // Documents parsed before a write (Prefetch), with the text each was parsed from.
  struct ParsedDoc {
    std::string text;
    nlohmann::json doc;
    std::optional<PreparedUpdate> prepared;  // set: the merged document is in it and `doc` is left empty
  };
  using Prefetched = std::unordered_map<std::string, ParsedDoc>;  // by entity id
  Status EnsureTenant(storage::Session& s, const std::string& tenant);
  Status CheckTenant(storage::Session& s, const std::string& tenant) const;
  Result<Existing> Load(storage::Session& s, const std::string& tenant, const std::string& id, bool with_doc) const;
  // The stored ones among `ids` (a batch's), by id, in one statement.
  // `prefetched` (may be null): documents parsed beforehand, taken when their text is still the stored one.
  Result<std::unordered_map<std::string, Existing>> LoadMany(storage::Session& s, const std::string& tenant,
                                                             const std::vector<std::string>& ids, bool with_doc,
                                                             Prefetched* prefetched = nullptr) const;
  Status Insert(storage::Session& s, const std::string& tenant, nlohmann::json& doc, int64_t now);
  // Writes `doc` over the stored entity; returns the text written.
  // `rendered` (may be null): what was derived from `doc` beforehand (PreparedUpdate); its text is
  // moved into the result.
  Result<std::string> Rewrite(storage::Session& s, const std::string& tenant, const std::string& id,
                              const Existing& before, const nlohmann::json& doc, int64_t now,
                              Rendered* rendered = nullptr);
  // Types, text and whether the location stayed, for `doc` replacing a document whose location member
  // was `stored_location` (null: none).
  static Result<Rendered> RenderForWrite(const nlohmann::json& doc, const nlohmann::json& stored_location);
  // On SQLite, parses the stored documents of a batch's entities that the doc cache does not hold,
  // on a thread of prefetch_pool_, from a read snapshot, before the write: the single writer thread then
  // takes them parsed (parsing was a fifth of its time in batch upserts). Best effort: a failure, or
  // a write in between that changed the text, only means the writer parses that one itself. The
  // documents are handed to the write itself, not through the cache, where the batches queued
  // meanwhile would push most of them out.
  // With `updates` (a batch update's items, `now` its time), each entity named by exactly one valid
  // item is also merged and rendered there (ParsedDoc::prepared), off the writer thread: from the
  // stored document, or from the doc cache's copy (taken out of the cache, no read), which the write
  // then finds stale if its text is no longer the stored one. A document read for such an item is
  // merged on its text (AppendAttributesToText, PreparedUpdate::partial) when it is in the compact
  // form, without being parsed whole.
  Prefetched Prefetch(const std::string& tenant, const std::vector<std::string>& ids,
                      const std::vector<BatchItem>* updates = nullptr, const std::string& now = "") const;
  // Destroys what Prefetch made on its own threads (without waiting).
  void DropPrefetched(Prefetched&& prefetched) const;
  // Moves the stored document out of `before` to be changed, keeping its location member for
  // Rewrite. Until the caller puts the written document and its text back, `before` holds neither, so
  // KeepDocs (which also runs after a failed write) cannot cache a changed copy under the stored text:
  // the next write of the entity would then start from changes that were rolled back.
  static nlohmann::json TakeToChange(Existing& before);
  // Gives the documents of a batch's entities back to the doc cache (those with their text known).
  // Called after the write returns, off the writer thread; right even if it rolled back, since an
  // entry only serves a load of exactly its text.
  void KeepDocs(const std::string& tenant, std::unordered_map<std::string, Existing>& existing) const;
  // db_->Write / WriteLarge for writes that report changes: ends them with the listeners' OnWriteEnd,
  // or OnWriteAbandoned when `work` (or an OnWriteEnd) fails.
  Status WriteNotifying(const storage::Database::Work& work, bool large = false);
  Status Notify(storage::Session& s, const std::string& tenant, const std::string& id, const nlohmann::json& doc,
                ChangeKind kind, const std::vector<std::string>& changed, int64_t now);
  Status Notify(storage::Session& s, const std::string& tenant, const std::string& id, const ChangedDoc& doc,
                const std::vector<std::string>& types, ChangeKind kind, const std::vector<std::string>& changed,
                int64_t now);
  // Applies `mutate` to the stored document of one entity in one transaction.
  Result<UpdateOutcome> Mutate(const std::string& tenant, const std::string& id,
                               const std::function<Result<UpdateOutcome>(nlohmann::json&, const std::string&)>& mutate);

  storage::Database* db_;
  const Clock* clock_;
  std::vector<ChangeListener*> listeners_;
  mutable std::mutex tenants_mu_;
  mutable std::unordered_set<std::string> known_tenants_;  // tenants are never deleted
  std::unique_ptr<DocCache> doc_cache_;
  // Prefetch's two threads (SQLite only): the parsed documents are allocated in their heaps rather
  // than in each request thread's, where the allocator would keep a batch's worth in every one of 32.
  std::unique_ptr<WorkerPool> prefetch_pool_;
  std::atomic<int64_t> merged_before_write_{0};
  // A change-log row: its key.
  struct ChangeKey {
    std::string tenant;
    int64_t modified_at = -1;
    std::string id;
  };
  // The change-log rows of the works in progress, by session: inserted 200 to a statement rather than
  // one statement per entity (on PostgreSQL each statement is a round trip to the server).
  storage::PerSession<ChangeKey> pending_changes_;
  // PruneChanges's place in its pass (the last key looked at), whether the pass reached the end, and
  // whether entities were written since the pass began (set by LogChange).
  std::mutex prune_mu_;
  ChangeKey prune_cursor_;
  bool pass_done_ = false;
  std::atomic<bool> written_since_pass_{true};
  PeriodicTask maintenance_;
};

}  // namespace tl::ngsild
