#include "modules/ngsild/entity_store.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "core/json_reader.h"
#include "modules/ngsild/errors.h"

namespace tl::ngsild {

using nlohmann::json;
using storage::Value;

namespace {

constexpr double kWideKey = -1000;  // lon_key of locations wider than kWideGeometryDegrees
constexpr int kScanChunk = 500;     // rows per read of an in-memory filtered query
constexpr int kMaxTypeDepth = 32;

constexpr const char* kEntityColumns =
    "tenant, id, type, types, doc, created_at, modified_at, version, lon_key, min_lon, min_lat, max_lon, max_lat";

std::string JoinTypes(const std::vector<std::string>& types) {
  std::string out;
  for (const auto& t : types) {
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

// IN lists are padded to a power of two (repeating the last value), so a statement is prepared for
// at most a dozen list lengths instead of one per length.
size_t Bucket(size_t n) {
  size_t b = 1;
  while (b < n) b <<= 1;
  return b;
}
std::string InList(const std::vector<std::string>& values, std::vector<Value>* params) {
  size_t n = Bucket(values.size());
  std::string sql = "(";
  for (size_t i = 0; i < n; ++i) {
    sql += i ? ",?" : "?";
    params->push_back(values[std::min(i, values.size() - 1)]);
  }
  return sql + ")";
}

struct GeoColumns {
  Value lon_key = nullptr, min_lon = nullptr, min_lat = nullptr, max_lon = nullptr, max_lat = nullptr;
};
GeoColumns GeoOf(const json& doc) {
  GeoColumns g;
  auto b = LocationBounds(doc);
  if (!b) return g;
  g.lon_key = (b->max_lon - b->min_lon) > kWideGeometryDegrees ? kWideKey : b->min_lon;
  g.min_lon = b->min_lon;
  g.min_lat = b->min_lat;
  g.max_lon = b->max_lon;
  g.max_lat = b->max_lat;
  return g;
}

Result<json> ParseDoc(const std::string& text) {
  json doc = ParseJson(text);  // core/json_reader.h: the fast reader, nlohmann's parse for what it leaves
  if (!doc.is_object()) return Internal("a stored NGSI-LD entity is not a JSON object");
  return doc;
}

void StampAll(json& doc, const std::string& now) {
  for (const auto& name : AttributeNames(doc)) Stamp(doc[name], nullptr, now);
}

std::vector<std::string> Union(std::vector<std::string> a, const std::vector<std::string>& b) {
  for (const auto& x : b) {
    if (std::find(a.begin(), a.end(), x) == a.end()) a.push_back(x);
  }
  return a;
}

}  // namespace

const char* ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kCreated:
      return "created";
    case ChangeKind::kUpdated:
      return "updated";
    case ChangeKind::kReplaced:
      return "replaced";
    case ChangeKind::kDeleted:
      return "deleted";
  }
  return "updated";
}

// ---------------------------------------------------------------------------------------------------
// TypeSelection and IdPattern

Result<TypeSelection> TypeSelection::Parse(std::string_view text, const Context& ctx) {
  if (text.empty()) return BadRequestData("the type selection is empty", "type");
  if (text.size() > 4096) return BadRequestData("the type selection is longer than 4096 bytes", "type");
  TypeSelection ts;
  size_t pos = 0;
  auto error = [&](const std::string& what) {
    return BadRequestData("type: " + what + " at position " + std::to_string(pos), "type");
  };
  std::function<Result<Node>(int)> parse_or;
  std::function<Result<Node>(int)> parse_atom = [&](int depth) -> Result<Node> {
    if (depth > kMaxTypeDepth) return error("parentheses nest too deeply");
    if (pos < text.size() && text[pos] == '(') {
      ++pos;
      TL_ASSIGN_OR_RETURN(Node inner, parse_or(depth + 1));
      if (pos >= text.size() || text[pos] != ')') return error("expected ')'");
      ++pos;
      return inner;
    }
    size_t start = pos;
    while (pos < text.size() && std::string_view(",|;()").find(text[pos]) == std::string_view::npos) ++pos;
    std::string_view name = text.substr(start, pos - start);
    if (name.empty()) return error("expected a type name");
    for (unsigned char c : name) {
      if (c <= 0x20 || c == 0x7f) return error("a type name holds a space or control character");
    }
    std::string iri = ctx.Expand(name);
    if (iri.empty() || iri[0] == '@') return error("'" + std::string(name) + "' is a JSON-LD keyword alias");
    Node n;
    n.type = iri;
    if (std::find(ts.names_.begin(), ts.names_.end(), iri) == ts.names_.end()) ts.names_.push_back(iri);
    return n;
  };
  auto parse_and = [&](int depth) -> Result<Node> {
    TL_ASSIGN_OR_RETURN(Node first, parse_atom(depth));
    if (pos >= text.size() || text[pos] != ';') return first;
    Node n;
    n.kind = Node::Kind::kAnd;
    n.children.push_back(std::move(first));
    while (pos < text.size() && text[pos] == ';') {
      ++pos;
      TL_ASSIGN_OR_RETURN(Node next, parse_atom(depth));
      n.children.push_back(std::move(next));
    }
    ts.is_list_ = false;
    return n;
  };
  parse_or = [&](int depth) -> Result<Node> {
    TL_ASSIGN_OR_RETURN(Node first, parse_and(depth));
    if (pos >= text.size() || (text[pos] != ',' && text[pos] != '|')) return first;
    Node n;
    n.kind = Node::Kind::kOr;
    n.children.push_back(std::move(first));
    while (pos < text.size() && (text[pos] == ',' || text[pos] == '|')) {
      ++pos;
      TL_ASSIGN_OR_RETURN(Node next, parse_and(depth));
      n.children.push_back(std::move(next));
    }
    return n;
  };
  TL_ASSIGN_OR_RETURN(ts.root_, parse_or(0));
  if (pos != text.size()) return error("unexpected '" + std::string(1, text[pos]) + "'");
  return ts;
}

bool TypeSelection::Eval(const Node& n, const std::vector<std::string>& types) {
  switch (n.kind) {
    case Node::Kind::kType:
      return std::find(types.begin(), types.end(), n.type) != types.end();
    case Node::Kind::kAnd:
      return std::all_of(n.children.begin(), n.children.end(), [&](const Node& c) { return Eval(c, types); });
    case Node::Kind::kOr:
      return std::any_of(n.children.begin(), n.children.end(), [&](const Node& c) { return Eval(c, types); });
  }
  return false;
}

bool TypeSelection::Matches(const std::vector<std::string>& types) const {
  return Eval(root_, types);
}

Result<IdPattern> IdPattern::Compile(std::string_view pattern) {
  auto p = Pattern::Compile(pattern, "idPattern");
  if (!p.ok()) return AsNgsiLd(p.status());
  return IdPattern(std::move(*p));
}

// ---------------------------------------------------------------------------------------------------
// Schema and helpers

std::vector<storage::Migration> EntityStore::Migrations() {
  return {{900, "NGSI-LD entities",
           "CREATE TABLE ngsild_tenants (name TEXT PRIMARY KEY, created_at BIGINT NOT NULL);"
           "CREATE TABLE ngsild_entities (tenant TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, "
           "types TEXT NOT NULL, doc TEXT NOT NULL, created_at BIGINT NOT NULL, modified_at BIGINT NOT NULL, "
           "version BIGINT NOT NULL, lon_key DOUBLE PRECISION, min_lon DOUBLE PRECISION, min_lat DOUBLE PRECISION, "
           "max_lon DOUBLE PRECISION, max_lat DOUBLE PRECISION, PRIMARY KEY (tenant, id));"
           "CREATE INDEX ngsild_entities_geo ON ngsild_entities (tenant, lon_key, min_lat, max_lat, max_lon);"
           "CREATE TABLE ngsild_entity_types (tenant TEXT NOT NULL, entity_id TEXT NOT NULL, type TEXT NOT NULL, "
           "PRIMARY KEY (tenant, entity_id, type));"
           "CREATE INDEX ngsild_entity_types_type ON ngsild_entity_types (tenant, type, entity_id);"},
          {905, "NGSI-LD entities: index on modified time (change pollers)",
           "CREATE INDEX ngsild_entities_modified ON ngsild_entities (tenant, modified_at, id);"},
          {906, "NGSI-LD entities: deletions for change pollers",
           "CREATE TABLE ngsild_deleted (tenant TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, "
           "deleted_at BIGINT NOT NULL, PRIMARY KEY (tenant, id));"
           "CREATE INDEX ngsild_deleted_at ON ngsild_deleted (tenant, deleted_at, id);"},
          {907, "NGSI-LD entities: a change log for change pollers instead of the modified_at index",
           "CREATE TABLE ngsild_changes (tenant TEXT NOT NULL, modified_at BIGINT NOT NULL, id TEXT NOT NULL, "
           "PRIMARY KEY (tenant, modified_at, id)){{WITHOUT_ROWID}};"
           "INSERT INTO ngsild_changes (tenant, modified_at, id) SELECT tenant, modified_at, id FROM ngsild_entities;"
           "DROP INDEX ngsild_entities_modified;"}};
}

Status EntityStore::EnsureTenant(storage::Session& s, const std::string& tenant) {
  if (tenant.empty()) return Status::Ok();
  {
    std::lock_guard lock(tenants_mu_);
    if (known_tenants_.contains(tenant)) return Status::Ok();
  }
  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT 1 FROM ngsild_tenants WHERE name = ?", {tenant}));
  if (!rs.empty()) {
    std::lock_guard lock(tenants_mu_);
    known_tenants_.insert(tenant);
    return Status::Ok();
  }
  // Remembered only once read back committed (above), so a rolled-back first write forgets it.
  return s
      .Exec("INSERT INTO ngsild_tenants (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            {tenant, clock_->NowMillis()})
      .status();
}

Status EntityStore::CheckTenant(storage::Session& s, const std::string& tenant) const {
  if (tenant.empty()) return Status::Ok();
  {
    std::lock_guard lock(tenants_mu_);
    if (known_tenants_.contains(tenant)) return Status::Ok();
  }
  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT 1 FROM ngsild_tenants WHERE name = ?", {tenant}));
  if (rs.empty())
    return NonexistentTenant("there is no tenant '" + tenant + "' (a tenant exists from its first write)");
  std::lock_guard lock(tenants_mu_);
  known_tenants_.insert(tenant);
  return Status::Ok();
}

namespace {

// Columns (created_at, version, types[, doc]) of a row from `first` on.
template <typename Existing>
// `cached` (may be null) returns the parsed document of exactly this text, if it holds it.
Status DecodeExisting(const storage::Row& r, size_t first, bool with_doc, Existing* e,
                      const std::function<std::optional<json>(const std::string&)>& cached = nullptr) {
  e->found = true;
  e->created_at_ms = r.Int(first);
  e->version = r.Int(first + 1);
  e->types = r.Text(first + 2);
  if (with_doc) {
    e->text = r.Text(first + 3);
    if (cached) e->doc = cached(e->text);
    if (!e->doc) {
      TL_ASSIGN_OR_RETURN(e->doc, ParseDoc(e->text));
    }
  }
  return Status::Ok();
}

}  // namespace

class EntityStore::DocCache {
 public:
  static std::string Key(const std::string& tenant, const std::string& id) { return tenant + '\x1f' + id; }

  // The document parsed from `text`, moved out of the cache; nullopt when it holds another text or none.
  std::optional<json> Take(const std::string& key, const std::string& text) {
    std::lock_guard lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end() || it->second.text != text) return std::nullopt;
    json doc = std::move(it->second.doc);
    Forget(it);
    return doc;
  }

  // The document held for `key` and the text it stands for, moved out of the cache; nullopt if none.
  std::optional<std::pair<std::string, json>> TakeAny(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    Map::node_type node = Extract(it);
    return std::pair{std::move(node.mapped().text), std::move(node.mapped().doc)};
  }

  // True when the cache holds some document for `key` (a load will still compare its text).
  bool Contains(const std::string& key) {
    std::lock_guard lock(mu_);
    return map_.contains(key);
  }

  void Put(std::string key, std::string text, json doc) {
    const size_t cost = Cost(key, text);
    if (cost > kBudgetBytes / 16) return;  // a huge entity is not worth the room
    // Dropped entries are destroyed after the lock is released (declared before it): freeing ~1,000
    // document trees takes milliseconds, and the writer's LoadMany waits for this lock.
    std::vector<Map::node_type> dropped;
    std::lock_guard lock(mu_);
    if (auto it = map_.find(key); it != map_.end()) dropped.push_back(Extract(it));
    // Over budget: drop entries (in no particular order) until a tenth of the room is free again.
    if (bytes_ + cost > kBudgetBytes) {
      for (auto it = map_.begin(); it != map_.end() && bytes_ + cost > kBudgetBytes * 9 / 10;) {
        auto next = std::next(it);
        dropped.push_back(Extract(it));
        it = next;
      }
    }
    bytes_ += cost;
    map_.emplace(std::move(key), Entry{std::move(text), std::move(doc)});
  }

 private:
  struct Entry {
    std::string text;
    json doc;
  };
  // A parsed document takes several times its text in memory: estimated at 6x.
  static size_t Cost(const std::string& key, const std::string& text) { return key.size() + 7 * text.size() + 64; }
  using Map = std::unordered_map<std::string, Entry>;
  void Forget(Map::iterator it) { (void)Extract(it); }
  Map::node_type Extract(Map::iterator it) {
    bytes_ -= Cost(it->first, it->second.text);
    return map_.extract(it);
  }
  static constexpr size_t kBudgetBytes = size_t{96} << 20;
  std::mutex mu_;
  Map map_;
  size_t bytes_ = 0;
};

EntityStore::EntityStore(storage::Database* db, const Clock* clock)
    : db_(db), clock_(clock), doc_cache_(std::make_unique<DocCache>()) {
  if (db_->dialect() == storage::Dialect::kSqlite) prefetch_pool_ = std::make_unique<WorkerPool>(2, "tl-ngsild-parse");
}

EntityStore::~EntityStore() = default;

Result<EntityStore::Existing> EntityStore::Load(storage::Session& s, const std::string& tenant, const std::string& id,
                                                bool with_doc) const {
  TL_ASSIGN_OR_RETURN(auto rs, s.Query(with_doc ? "SELECT created_at, version, types, doc FROM ngsild_entities "
                                                  "WHERE tenant = ? AND id = ?"
                                                : "SELECT created_at, version, types FROM ngsild_entities "
                                                  "WHERE tenant = ? AND id = ?",
                                       {tenant, id}));
  Existing e;
  if (rs.empty()) return e;
  TL_RETURN_IF_ERROR(DecodeExisting(rs.rows[0], 0, with_doc, &e));
  return e;
}

Result<std::unordered_map<std::string, EntityStore::Existing>> EntityStore::LoadMany(
    storage::Session& s, const std::string& tenant, const std::vector<std::string>& ids, bool with_doc,
    Prefetched* prefetched) const {
  std::unordered_map<std::string, Existing> existing;
  if (ids.empty()) return existing;
  std::vector<Value> params{tenant};
  std::string in = InList(ids, &params);
  TL_ASSIGN_OR_RETURN(auto rs,
                      s.QueryV(std::string("SELECT id, created_at, version, types") + (with_doc ? ", doc" : "") +
                                   " FROM ngsild_entities WHERE tenant = ? AND id IN " + in,
                               params));
  for (const auto& r : rs.rows) {
    Existing e;
    std::string id = r.Text(0);
    ParsedDoc* before = nullptr;
    if (prefetched != nullptr) {
      auto it = prefetched->find(id);
      if (it != prefetched->end()) before = &it->second;
    }
    if (with_doc && before != nullptr && before->prepared && !before->prepared->taken && before->text == r.Text(4)) {
      // A merge prepared from exactly the stored text: no document to parse or take.
      TL_RETURN_IF_ERROR(DecodeExisting(r, 1, /*with_doc=*/false, &e));
      e.prepared = &*before->prepared;
      existing.emplace(std::move(id), std::move(e));
      continue;
    }
    TL_RETURN_IF_ERROR(DecodeExisting(r, 1, with_doc, &e, [&](const std::string& text) -> std::optional<json> {
      if (before != nullptr && !before->prepared && before->text == text) return std::move(before->doc);
      return doc_cache_->Take(DocCache::Key(tenant, id), text);
    }));
    existing.emplace(std::move(id), std::move(e));
  }
  return existing;
}

EntityStore::Prefetched EntityStore::Prefetch(const std::string& tenant, const std::vector<std::string>& ids,
                                              const std::vector<BatchItem>* updates, const std::string& now) const {
  Prefetched out;
  if (ids.empty() || !prefetch_pool_) return out;
  // The update of each entity named by exactly one valid item (a second item would merge into the
  // first one's result, which only the writer has).
  std::unordered_map<std::string_view, const BatchItem*> update_of;
  if (updates != nullptr) {
    for (const auto& item : *updates) {
      if (!item.status.ok()) continue;
      auto [it, fresh] = update_of.emplace(item.id, &item);
      if (!fresh) it->second = nullptr;
    }
  }
  // Merges an update into `doc` (parsed from, or cached for, `text`) as BatchUpsert's writer would
  // (TakeToChange, AppendAttributes, Rewrite); other documents are handed over as they are.
  auto hand_over = [&](const std::string& id, std::string text, json doc) {
    auto u = update_of.find(id);
    if (u == update_of.end() || u->second == nullptr) {
      out.emplace(id, ParsedDoc{std::move(text), std::move(doc), std::nullopt});
      return;
    }
    auto location = doc.find(kLocationIri);
    json stored_location = location == doc.end() ? json() : *location;
    PreparedUpdate p;
    p.updated = AppendAttributes(doc, u->second->doc, false, now).updated;
    auto rendered = RenderForWrite(doc, stored_location);
    if (!rendered.ok()) return;  // the writer merges it again and reports the error
    p.rendered = std::move(*rendered);
    p.doc = std::move(doc);
    out.emplace(id, ParsedDoc{std::move(text), json(), std::move(p)});
  };
  // An update merged on the stored text itself, parsing only the members it changes (the common
  // case: a sensor's new measurements); false when it cannot be (then the document is parsed whole).
  auto merge_on_text = [&](const std::string& id, const std::string& text) {
    auto u = update_of.find(id);
    if (u == update_of.end() || u->second == nullptr) return false;
    auto merged = AppendAttributesToText(text, u->second->doc, now);
    if (!merged) return false;
    PreparedUpdate p;
    p.rendered.types = TypesOf(merged->members);
    if (p.rendered.types.empty()) return false;  // the writer reports it
    p.partial = true;
    p.updated = std::move(merged->outcome.updated);
    p.rendered.joined_types = JoinTypes(p.rendered.types);
    p.rendered.text = std::move(merged->text);
    p.rendered.location_kept = merged->location_kept;
    p.doc = std::move(merged->members);
    out.emplace(id, ParsedDoc{text, json(), std::move(p)});
    return true;
  };
  // Entities already in the cache need no read: when this process wrote them last, as with sensors
  // reporting again and again, the cached document is the stored one (the write compares the text).
  // An update is merged from it here; any other item leaves it in the cache for the write.
  std::vector<std::string> missing, cached;
  for (const auto& id : ids) {
    if (!doc_cache_->Contains(DocCache::Key(tenant, id))) {
      missing.push_back(id);
    } else if (auto u = update_of.find(id); u != update_of.end() && u->second != nullptr) {
      cached.push_back(id);
    }
  }
  if (missing.empty() && cached.empty()) return out;
  prefetch_pool_->Run([&] {
    for (const auto& id : cached) {
      if (auto entry = doc_cache_->TakeAny(DocCache::Key(tenant, id))) {
        hand_over(id, std::move(entry->first), std::move(entry->second));
      }
    }
    if (missing.empty()) return;
    db_->Read([&](storage::Session& s) -> Status {
      std::vector<Value> params{tenant};
      std::string in = InList(missing, &params);
      TL_ASSIGN_OR_RETURN(auto rs,
                          s.QueryV("SELECT id, doc FROM ngsild_entities WHERE tenant = ? AND id IN " + in, params));
      for (auto& r : rs.rows) {
        const std::string& id = r.Text(0);
        const std::string& text = r.Text(1);
        if (merge_on_text(id, text)) continue;
        std::optional<json> doc = doc_cache_->Take(DocCache::Key(tenant, id), text);
        if (!doc) {
          auto parsed = ParseDoc(text);
          if (!parsed.ok()) continue;
          doc = std::move(*parsed);
        }
        hand_over(id, text, std::move(*doc));
      }
      return Status::Ok();
    }).IgnoreError();
  });
  return out;
}

void EntityStore::DropPrefetched(Prefetched&& prefetched) const {
  if (!prefetch_pool_ || prefetched.empty()) return;
  // Freed on the prefetch threads, which allocated them: mimalloc hands a block freed by another
  // thread back to its owner through a list that the owner walks block by block, a cache miss
  // each (a tenth of that thread's time in batch upserts when the writer's side freed them).
  auto docs = std::make_shared<Prefetched>(std::move(prefetched));
  prefetch_pool_->Post([docs = std::move(docs)]() mutable { docs.reset(); });
}

json EntityStore::TakeToChange(Existing& before) {
  auto location = before.doc->find(kLocationIri);
  before.location = location == before.doc->end() ? json() : *location;
  before.text.clear();
  json doc = std::move(*before.doc);
  before.doc.reset();
  return doc;
}

void EntityStore::KeepDocs(const std::string& tenant, std::unordered_map<std::string, Existing>& existing) const {
  for (auto& [id, e] : existing) {
    if (e.doc && !e.text.empty()) doc_cache_->Put(DocCache::Key(tenant, id), std::move(e.text), std::move(*e.doc));
  }
}

Status EntityStore::Insert(storage::Session& s, const std::string& tenant, json& doc, int64_t now) {
  std::string id = doc.value("id", "");
  std::vector<std::string> types = TypesOf(doc);
  if (types.empty()) return BadRequestData("an entity needs a type", "type");
  GeoColumns g = GeoOf(doc);
  auto inserted = s.ExecV(std::string("INSERT INTO ngsild_entities (") + kEntityColumns +
                              ") VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
                          {tenant, id, types[0], JoinTypes(types), DumpStored(doc), now, now, g.lon_key, g.min_lon,
                           g.min_lat, g.max_lon, g.max_lat});
  if (!inserted.ok()) {
    if (storage::IsUniqueViolation(inserted.status()))
      return EntityAlreadyExists("the entity " + id + " already exists");
    return inserted.status();
  }
  LogChange(s, tenant, id, now);
  for (const auto& t : types) {
    TL_RETURN_IF_ERROR(
        s.Exec("INSERT INTO ngsild_entity_types (tenant, entity_id, type) VALUES (?, ?, ?)", {tenant, id, t}).status());
  }
  return Status::Ok();
}

Result<EntityStore::Rendered> EntityStore::RenderForWrite(const json& doc, const json& stored_location) {
  Rendered r;
  r.types = TypesOf(doc);
  if (r.types.empty()) return BadRequestData("an entity needs a type", "type");
  r.joined_types = JoinTypes(r.types);
  r.text = DumpStored(doc);
  auto now_at = doc.find(kLocationIri);
  r.location_kept = now_at == doc.end() ? stored_location.is_null() : *now_at == stored_location;
  return r;
}

Result<std::string> EntityStore::Rewrite(storage::Session& s, const std::string& tenant, const std::string& id,
                                         const Existing& before, const json& doc, int64_t now, Rendered* rendered) {
  Rendered own;
  if (rendered == nullptr) {
    TL_ASSIGN_OR_RETURN(own, RenderForWrite(doc, before.location ? *before.location : json()));
    // Without the stored location member, compare the bounds (no stored document: assume it moved).
    if (!before.location) own.location_kept = before.doc && LocationBounds(*before.doc) == LocationBounds(doc);
    rendered = &own;
  }
  const std::vector<std::string>& types = rendered->types;
  const std::string& joined = rendered->joined_types;
  std::string text = std::move(rendered->text);
  int64_t n = 0;
  if (rendered->location_kept) {
    // The location did not move (a sensor's measurements): the geo columns and their index stay.
    TL_ASSIGN_OR_RETURN(n, s.ExecV("UPDATE ngsild_entities SET type = ?, types = ?, doc = ?, modified_at = ?, "
                                   "version = version + 1 WHERE tenant = ? AND id = ?",
                                   {types[0], joined, text, now, tenant, id}));
  } else {
    GeoColumns g = GeoOf(doc);
    TL_ASSIGN_OR_RETURN(n, s.ExecV("UPDATE ngsild_entities SET type = ?, types = ?, doc = ?, modified_at = ?, "
                                   "version = version + 1, lon_key = ?, min_lon = ?, min_lat = ?, max_lon = ?, "
                                   "max_lat = ? WHERE tenant = ? AND id = ?",
                                   {types[0], joined, text, now, g.lon_key, g.min_lon, g.min_lat, g.max_lon,
                                    g.max_lat, tenant, id}));
  }
  if (n != 1) return Internal("the entity vanished during its update");
  LogChange(s, tenant, id, now);
  if (joined != before.types) {
    TL_RETURN_IF_ERROR(
        s.Exec("DELETE FROM ngsild_entity_types WHERE tenant = ? AND entity_id = ?", {tenant, id}).status());
    for (const auto& t : types) {
      TL_RETURN_IF_ERROR(
          s.Exec("INSERT INTO ngsild_entity_types (tenant, entity_id, type) VALUES (?, ?, ?)", {tenant, id, t})
              .status());
    }
  }
  return text;
}

Status EntityStore::WriteNotifying(const storage::Database::Work& work, bool large) {
  // Every work that writes entities runs here: the change-log rows it noted are inserted at its end,
  // and a failed work (or one run again after a rollback) leaves none behind.
  auto logged = [&](storage::Session& s) -> Status {
    struct Drop {
      storage::PerSession<ChangeKey>& pending;
      const storage::Session& session;
      ~Drop() { pending.Drop(session); }
    } drop{pending_changes_, s};
    TL_RETURN_IF_ERROR(work(s));
    return FlushChanges(s);
  };
  if (listeners_.empty()) return large ? db_->WriteLarge(logged) : db_->Write(logged);
  auto notifying = [&](storage::Session& s) -> Status {
    // Abandoned unless every listener ended the write (an exception from `work` included).
    struct Abandon {
      const std::vector<ChangeListener*>& listeners;
      storage::Session& session;
      bool ended = false;
      ~Abandon() {
        if (ended) return;
        for (ChangeListener* l : listeners) l->OnWriteAbandoned(session);
      }
    } abandon{listeners_, s};
    TL_RETURN_IF_ERROR(logged(s));
    for (ChangeListener* l : listeners_) TL_RETURN_IF_ERROR(l->OnWriteEnd(s));
    abandon.ended = true;
    return Status::Ok();
  };
  return large ? db_->WriteLarge(notifying) : db_->Write(notifying);
}

Status EntityStore::Notify(storage::Session& s, const std::string& tenant, const std::string& id, const json& doc,
                           ChangeKind kind, const std::vector<std::string>& changed, int64_t now) {
  if (listeners_.empty()) return Status::Ok();
  ChangedDoc whole(doc);
  return Notify(s, tenant, id, whole, TypesOf(doc), kind, changed, now);
}

Status EntityStore::Notify(storage::Session& s, const std::string& tenant, const std::string& id, const ChangedDoc& doc,
                           const std::vector<std::string>& types, ChangeKind kind,
                           const std::vector<std::string>& changed, int64_t now) {
  if (listeners_.empty()) return Status::Ok();
  EntityChange change{tenant, id, types, kind, changed, doc, now};
  for (ChangeListener* l : listeners_) TL_RETURN_IF_ERROR(l->OnEntityChanged(s, change));
  return Status::Ok();
}

const json& ChangedDoc::Whole() const {
  if (whole_ != nullptr) return *whole_;
  if (!parsed_) {
    // The text was dumped from a document in this process; should it still not parse, the members are
    // all there is.
    auto parsed = ParseDoc(*text_);
    parsed_ = parsed.ok() ? std::move(*parsed) : *members_;
  }
  return *parsed_;
}

const json* ChangedDoc::Member(const std::string& name) const {
  if (members_ != nullptr && !parsed_) {
    if (auto it = members_->find(name); it != members_->end()) return &*it;
  }
  const json& whole = Whole();
  auto it = whole.find(name);
  return it == whole.end() ? nullptr : &*it;
}

// ---------------------------------------------------------------------------------------------------
// Single-entity operations

Status EntityStore::Create(const std::string& tenant, json doc) {
  int64_t now = clock_->NowMillis();
  StampAll(doc, FormatRfc3339(now));
  std::string id = doc.value("id", "");
  return WriteNotifying([&](storage::Session& s) -> Status {
    TL_RETURN_IF_ERROR(EnsureTenant(s, tenant));
    TL_RETURN_IF_ERROR(Insert(s, tenant, doc, now));
    return Notify(s, tenant, id, doc, ChangeKind::kCreated, AttributeNames(doc), now);
  });
}

Result<StoredText> EntityStore::RetrieveText(const std::string& tenant, const std::string& id) const {
  StoredText out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT doc, created_at, modified_at, version FROM ngsild_entities "
                                         "WHERE tenant = ? AND id = ?",
                                         {tenant, id}));
    if (rs.empty()) {
      TL_RETURN_IF_ERROR(CheckTenant(s, tenant));
      return ResourceNotFound("no entity " + id);
    }
    out.doc = rs.rows[0].Text(0);
    out.created_at_ms = rs.rows[0].Int(1);
    out.modified_at_ms = rs.rows[0].Int(2);
    out.version = rs.rows[0].Int(3);
    return Status::Ok();
  }));
  return out;
}

void EntityStore::LogChange(const storage::Session& s, const std::string& tenant, const std::string& id, int64_t now) {
  written_since_pass_.store(true, std::memory_order_relaxed);
  pending_changes_.Add(s, ChangeKey{tenant, now, id});
}

Status EntityStore::FlushChanges(storage::Session& s) {
  std::vector<ChangeKey> rows = pending_changes_.Take(s);
  constexpr size_t kRowsPerStatement = 200;
  std::vector<storage::Value> params;
  for (size_t first = 0; first < rows.size(); first += kRowsPerStatement) {
    const size_t n = std::min(kRowsPerStatement, rows.size() - first);
    std::string sql = "INSERT INTO ngsild_changes (tenant, modified_at, id) VALUES ";
    params.clear();
    for (size_t k = 0; k < n; ++k) {
      sql += k == 0 ? "(?, ?, ?)" : ", (?, ?, ?)";
      ChangeKey& row = rows[first + k];
      params.emplace_back(std::move(row.tenant));
      params.emplace_back(row.modified_at);
      params.emplace_back(std::move(row.id));
    }
    // Two writes of one entity in the same millisecond share a row.
    sql += " ON CONFLICT DO NOTHING";
    TL_RETURN_IF_ERROR(s.ExecV(sql, params).status());
  }
  return Status::Ok();
}

Result<int64_t> EntityStore::PruneChanges(int64_t max_rows) {
  constexpr int64_t kRowsPerWrite = 2000;
  std::lock_guard lock(prune_mu_);  // one pass at a time per process
  int64_t deleted = 0;
  for (int64_t looked = 0; looked < max_rows;) {
    if (pass_done_) {
      // A new pass only if something was written since the last began.
      if (!written_since_pass_.exchange(false)) break;
      pass_done_ = false;
      prune_cursor_ = ChangeKey{};
    }
    const int64_t chunk = std::min(kRowsPerWrite, max_rows - looked);
    int64_t seen = 0, gone = 0;
    ChangeKey last = prune_cursor_;
    // The check and the deletes in one write: a row found dead stays dead (its entity's modified_at
    // only moves on), and nothing else writes meanwhile on SQLite.
    TL_RETURN_IF_ERROR(db_->WriteLarge([&](storage::Session& s) -> Status {
      seen = gone = 0;  // a work may run again after a rollback
      last = prune_cursor_;
      TL_ASSIGN_OR_RETURN(
          auto rs, s.QueryV("SELECT c.tenant, c.modified_at, c.id, CASE WHEN EXISTS (SELECT 1 FROM ngsild_entities e "
                            "WHERE e.tenant = c.tenant AND e.id = c.id AND e.modified_at = c.modified_at) THEN 1 "
                            "ELSE 0 END FROM ngsild_changes c WHERE (c.tenant, c.modified_at, c.id) > (?, ?, ?) "
                            "ORDER BY c.tenant, c.modified_at, c.id LIMIT ?",
                            {prune_cursor_.tenant, prune_cursor_.modified_at, prune_cursor_.id, chunk}));
      for (const auto& r : rs.rows) {
        last = ChangeKey{r.Text(0), r.Int(1), r.Text(2)};
        if (r.Int(3) != 0) continue;
        TL_RETURN_IF_ERROR(s.ExecV("DELETE FROM ngsild_changes WHERE tenant = ? AND modified_at = ? AND id = ?",
                                   {last.tenant, last.modified_at, last.id})
                               .status());
        ++gone;
      }
      seen = static_cast<int64_t>(rs.rows.size());
      return Status::Ok();
    }));
    looked += seen;
    deleted += gone;
    prune_cursor_ = std::move(last);
    if (seen < chunk) pass_done_ = true;
  }
  return deleted;
}

void EntityStore::StartMaintenance(std::chrono::milliseconds interval, int64_t rows_per_run,
                                   std::function<void(const Status&)> on_error) {
  maintenance_.Start(
      interval,
      [this, rows_per_run, on_error = std::move(on_error)] {
        auto pruned = PruneChanges(rows_per_run);
        if (!pruned.ok() && on_error) on_error(pruned.status());
      },
      /*background=*/true, "tl-ngsild-prune");
}

Result<std::vector<StoredEntity>> EntityStore::ChangedSince(const std::string& tenant, int64_t after_ms,
                                                            const std::string& after_id, int limit) const {
  if (limit < 1 || limit > kMaxLimit) return InvalidArgument("limit must be 1.." + std::to_string(kMaxLimit), "limit");
  std::vector<StoredEntity> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    // Both sides in one (modified_at, id) order, each read along its key and merged. A change-log row
    // counts only while it is its entity's last write (rows the pruner has not reached yet do not).
    TL_ASSIGN_OR_RETURN(
        auto rs, s.Query("SELECT c.id, e.doc, e.created_at, c.modified_at, e.version, 0 AS deleted "
                         "FROM ngsild_changes c JOIN ngsild_entities e ON e.tenant = c.tenant AND e.id = c.id "
                         "AND e.modified_at = c.modified_at "
                         "WHERE c.tenant = ? AND (c.modified_at > ? OR (c.modified_at = ? AND c.id > ?)) "
                         "UNION ALL SELECT id, type, 0, deleted_at, 0, 1 FROM ngsild_deleted "
                         "WHERE tenant = ? AND (deleted_at > ? OR (deleted_at = ? AND id > ?)) "
                         "ORDER BY 4, 1 LIMIT ?",
                         {tenant, after_ms, after_ms, after_id, tenant, after_ms, after_ms, after_id, int64_t{limit}}));
    out.reserve(rs.rows.size());
    for (const auto& r : rs.rows) {
      StoredEntity e;
      e.deleted = r.Int(5) != 0;
      if (e.deleted) {
        e.doc = json{{"id", r.Text(0)}, {"type", r.Text(1)}};
      } else {
        TL_ASSIGN_OR_RETURN(e.doc, ParseDoc(r.Text(1)));
      }
      e.created_at_ms = r.Int(2);
      e.modified_at_ms = r.Int(3);
      e.version = r.Int(4);
      out.push_back(std::move(e));
    }
    return Status::Ok();
  }));
  return out;
}

Result<StoredEntity> EntityStore::Retrieve(const std::string& tenant, const std::string& id) const {
  TL_ASSIGN_OR_RETURN(StoredText text, RetrieveText(tenant, id));
  StoredEntity out;
  TL_ASSIGN_OR_RETURN(out.doc, ParseDoc(text.doc));
  out.created_at_ms = text.created_at_ms;
  out.modified_at_ms = text.modified_at_ms;
  out.version = text.version;
  return out;
}

Status EntityStore::Replace(const std::string& tenant, const std::string& id, json doc) {
  int64_t now = clock_->NowMillis();
  StampAll(doc, FormatRfc3339(now));
  doc["id"] = id;
  return WriteNotifying([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto before, Load(s, tenant, id, true));
    if (!before.found) {
      TL_RETURN_IF_ERROR(CheckTenant(s, tenant));
      return ResourceNotFound("no entity " + id);
    }
    TL_RETURN_IF_ERROR(Rewrite(s, tenant, id, before, doc, now).status());
    return Notify(s, tenant, id, doc, ChangeKind::kReplaced, Union(AttributeNames(doc), AttributeNames(*before.doc)),
                  now);
  });
}

// Keeps a deleted entity's id and type for ChangedSince (change pollers), and lets those older than
// kDeletionsKeptMs go. Runs before the entity's row is deleted.
Status EntityStore::RecordDeletion(storage::Session& s, const std::string& tenant, const std::string& id,
                                   int64_t now) const {
  TL_RETURN_IF_ERROR(s.Exec("INSERT INTO ngsild_deleted (tenant, id, type, deleted_at) SELECT tenant, id, type, ? "
                            "FROM ngsild_entities WHERE tenant = ? AND id = ? ON CONFLICT (tenant, id) DO UPDATE "
                            "SET type = excluded.type, deleted_at = excluded.deleted_at",
                            {now, tenant, id})
                         .status());
  return s.Exec("DELETE FROM ngsild_deleted WHERE tenant = ? AND deleted_at < ?", {tenant, now - kDeletionsKeptMs})
      .status();
}

Status EntityStore::Delete(const std::string& tenant, const std::string& id) {
  int64_t now = clock_->NowMillis();
  return WriteNotifying([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto before, Load(s, tenant, id, !listeners_.empty()));
    if (!before.found) {
      TL_RETURN_IF_ERROR(CheckTenant(s, tenant));
      return ResourceNotFound("no entity " + id);
    }
    TL_RETURN_IF_ERROR(RecordDeletion(s, tenant, id, now));
    TL_RETURN_IF_ERROR(s.Exec("DELETE FROM ngsild_entities WHERE tenant = ? AND id = ?", {tenant, id}).status());
    TL_RETURN_IF_ERROR(
        s.Exec("DELETE FROM ngsild_entity_types WHERE tenant = ? AND entity_id = ?", {tenant, id}).status());
    if (listeners_.empty()) return Status::Ok();
    return Notify(s, tenant, id, *before.doc, ChangeKind::kDeleted, AttributeNames(*before.doc), now);
  });
}

Result<UpdateOutcome> EntityStore::Mutate(
    const std::string& tenant, const std::string& id,
    const std::function<Result<UpdateOutcome>(json&, const std::string&)>& mutate) {
  int64_t now = clock_->NowMillis();
  std::string now_text = FormatRfc3339(now);
  UpdateOutcome outcome;
  TL_RETURN_IF_ERROR(WriteNotifying([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto before, Load(s, tenant, id, true));
    if (!before.found) {
      TL_RETURN_IF_ERROR(CheckTenant(s, tenant));
      return ResourceNotFound("no entity " + id);
    }
    json doc = TakeToChange(before);
    TL_ASSIGN_OR_RETURN(outcome, mutate(doc, now_text));
    if (!outcome.changed()) return Status::Ok();
    TL_RETURN_IF_ERROR(Rewrite(s, tenant, id, before, doc, now).status());
    return Notify(s, tenant, id, doc, ChangeKind::kUpdated, outcome.updated, now);
  }));
  return outcome;
}

Result<UpdateOutcome> EntityStore::Append(const std::string& tenant, const std::string& id, const json& fragment,
                                          bool no_overwrite) {
  return Mutate(tenant, id, [&](json& doc, const std::string& now) -> Result<UpdateOutcome> {
    return AppendAttributes(doc, fragment, no_overwrite, now);
  });
}

Result<UpdateOutcome> EntityStore::Update(const std::string& tenant, const std::string& id, const json& fragment) {
  return Mutate(tenant, id, [&](json& doc, const std::string& now) -> Result<UpdateOutcome> {
    return UpdateAttributes(doc, fragment, now);
  });
}

Status EntityStore::UpdateAttribute(const std::string& tenant, const std::string& id, const std::string& attribute,
                                    const json& fragment) {
  return Mutate(tenant, id,
                [&](json& doc, const std::string& now) -> Result<UpdateOutcome> {
                  TL_RETURN_IF_ERROR(PartialUpdate(doc, attribute, fragment, now, "body"));
                  UpdateOutcome o;
                  o.updated.push_back(attribute);
                  return o;
                })
      .status();
}

Status EntityStore::DeleteAttribute(const std::string& tenant, const std::string& id, const std::string& attribute,
                                    const std::optional<std::string>& dataset_id, bool delete_all) {
  return Mutate(tenant, id,
                [&](json& doc, const std::string&) -> Result<UpdateOutcome> {
                  TL_RETURN_IF_ERROR(ngsild::DeleteAttribute(doc, attribute, dataset_id, delete_all));
                  UpdateOutcome o;
                  o.updated.push_back(attribute);
                  return o;
                })
      .status();
}

// ---------------------------------------------------------------------------------------------------
// Batches

namespace {

// The ids of `items` that passed validation, for the one look-up of a batch.
std::vector<std::string> ValidIds(const std::vector<BatchItem>& items) {
  std::vector<std::string> ids;
  for (const auto& i : items) {
    if (i.status.ok()) ids.push_back(i.id);
  }
  return ids;
}

}  // namespace

Result<BatchResult> EntityStore::BatchCreate(const std::string& tenant, std::vector<BatchItem> items) {
  int64_t now = clock_->NowMillis();
  std::string now_text = FormatRfc3339(now);
  for (auto& i : items) {
    if (i.status.ok()) StampAll(i.doc, now_text);
  }
  std::vector<std::string> ids = ValidIds(items);
  BatchResult result;
  TL_RETURN_IF_ERROR(WriteNotifying([&](storage::Session& s) -> Status {
    result = BatchResult();
    TL_RETURN_IF_ERROR(EnsureTenant(s, tenant));
    std::set<std::string> existing;
    if (!ids.empty()) {
      std::vector<Value> params{tenant};
      std::string in = InList(ids, &params);
      TL_ASSIGN_OR_RETURN(auto rs, s.QueryV("SELECT id FROM ngsild_entities WHERE tenant = ? AND id IN " + in, params));
      for (const auto& r : rs.rows) existing.insert(r.Text(0));
    }
    for (auto& item : items) {
      if (!item.status.ok()) {
        result.errors.push_back({item.id, item.status});
        continue;
      }
      if (!existing.insert(item.id).second) {
        result.errors.push_back({item.id, EntityAlreadyExists("the entity " + item.id + " already exists")});
        continue;
      }
      TL_RETURN_IF_ERROR(Insert(s, tenant, item.doc, now));
      TL_RETURN_IF_ERROR(Notify(s, tenant, item.id, item.doc, ChangeKind::kCreated, AttributeNames(item.doc), now));
      result.success.push_back(item.id);
    }
    return Status::Ok();
  }, /*large=*/true));
  return result;
}

Result<BatchResult> EntityStore::BatchUpsert(const std::string& tenant, std::vector<BatchItem> items, UpsertMode mode) {
  int64_t now = clock_->NowMillis();
  std::string now_text = FormatRfc3339(now);
  std::vector<std::string> ids = ValidIds(items);
  bool need_doc = mode == UpsertMode::kUpdate || !listeners_.empty();
  Prefetched prefetched =
      need_doc ? Prefetch(tenant, ids, mode == UpsertMode::kUpdate ? &items : nullptr, now_text) : Prefetched();
  BatchResult result;
  std::unordered_map<std::string, Existing> existing;
  Status written = WriteNotifying([&](storage::Session& s) -> Status {
    result = BatchResult();
    TL_RETURN_IF_ERROR(EnsureTenant(s, tenant));
    TL_ASSIGN_OR_RETURN(existing, LoadMany(s, tenant, ids, need_doc, &prefetched));
    for (auto& item : items) {
      if (!item.status.ok()) {
        result.errors.push_back({item.id, item.status});
        continue;
      }
      auto it = existing.find(item.id);
      if (it == existing.end()) {
        json doc = item.doc;
        StampAll(doc, now_text);
        TL_RETURN_IF_ERROR(Insert(s, tenant, doc, now));
        TL_RETURN_IF_ERROR(Notify(s, tenant, item.id, doc, ChangeKind::kCreated, AttributeNames(doc), now));
        result.success.push_back(item.id);
        result.created.push_back(item.id);
        Existing e;
        e.created_at_ms = now;
        e.types = JoinTypes(TypesOf(doc));
        if (need_doc) e.doc = std::move(doc);
        existing.emplace(item.id, std::move(e));
        continue;
      }
      Existing& before = it->second;
      if (before.prepared != nullptr) {
        // Merged and rendered by Prefetch from the text just read: only the statements are left.
        PreparedUpdate& p = *before.prepared;
        p.taken = true;
        before.prepared = nullptr;
        TL_ASSIGN_OR_RETURN(std::string text, Rewrite(s, tenant, item.id, before, p.doc, now, &p.rendered));
        if (p.partial) {
          // Only the merged members were parsed: nothing whole to keep in the doc cache.
          ChangedDoc changed_doc(p.doc, text);
          TL_RETURN_IF_ERROR(
              Notify(s, tenant, item.id, changed_doc, p.rendered.types, ChangeKind::kUpdated, p.updated, now));
        } else {
          TL_RETURN_IF_ERROR(Notify(s, tenant, item.id, p.doc, ChangeKind::kUpdated, p.updated, now));
          before.doc = std::move(p.doc);
          before.text = std::move(text);
        }
        result.success.push_back(item.id);
        before.types = std::move(p.rendered.joined_types);
        before.location.reset();
        merged_before_write_++;
        continue;
      }
      json doc;
      std::vector<std::string> changed;
      ChangeKind kind = ChangeKind::kReplaced;
      if (mode == UpsertMode::kReplace) {
        doc = item.doc;
        StampAll(doc, now_text);
        changed = AttributeNames(doc);
        if (before.doc) changed = Union(std::move(changed), AttributeNames(*before.doc));
        kind = ChangeKind::kReplaced;
      } else {
        doc = TakeToChange(before);
        UpdateOutcome o = AppendAttributes(doc, item.doc, false, now_text);
        changed = std::move(o.updated);
        kind = ChangeKind::kUpdated;
      }
      TL_ASSIGN_OR_RETURN(std::string text, Rewrite(s, tenant, item.id, before, doc, now));
      TL_RETURN_IF_ERROR(Notify(s, tenant, item.id, doc, kind, changed, now));
      result.success.push_back(item.id);
      before.types = JoinTypes(TypesOf(doc));
      if (need_doc) {
        before.doc = std::move(doc);
        before.text = std::move(text);
      }
      before.location.reset();
    }
    return Status::Ok();
  }, /*large=*/true);
  KeepDocs(tenant, existing);
  DropPrefetched(std::move(prefetched));
  TL_RETURN_IF_ERROR(written);
  return result;
}

Result<BatchResult> EntityStore::BatchUpdate(const std::string& tenant, std::vector<BatchItem> items,
                                             bool no_overwrite) {
  int64_t now = clock_->NowMillis();
  std::string now_text = FormatRfc3339(now);
  std::vector<std::string> ids = ValidIds(items);
  Prefetched prefetched = Prefetch(tenant, ids);
  BatchResult result;
  std::unordered_map<std::string, Existing> existing;
  Status written = WriteNotifying([&](storage::Session& s) -> Status {
    result = BatchResult();
    TL_RETURN_IF_ERROR(CheckTenant(s, tenant));
    TL_ASSIGN_OR_RETURN(existing, LoadMany(s, tenant, ids, true, &prefetched));
    for (auto& item : items) {
      if (!item.status.ok()) {
        result.errors.push_back({item.id, item.status});
        continue;
      }
      auto it = existing.find(item.id);
      if (it == existing.end()) {
        result.errors.push_back({item.id, ResourceNotFound("no entity " + item.id)});
        continue;
      }
      Existing& before = it->second;
      json doc = TakeToChange(before);
      UpdateOutcome o = AppendAttributes(doc, item.doc, no_overwrite, now_text);
      if (o.changed()) {
        TL_ASSIGN_OR_RETURN(std::string text, Rewrite(s, tenant, item.id, before, doc, now));
        TL_RETURN_IF_ERROR(Notify(s, tenant, item.id, doc, ChangeKind::kUpdated, o.updated, now));
        before.types = JoinTypes(TypesOf(doc));
        before.text = std::move(text);
      }
      before.doc = std::move(doc);
      before.location.reset();
      result.success.push_back(item.id);
    }
    return Status::Ok();
  }, /*large=*/true);
  KeepDocs(tenant, existing);
  TL_RETURN_IF_ERROR(written);
  return result;
}

Result<BatchResult> EntityStore::BatchDelete(const std::string& tenant, const std::vector<std::string>& ids) {
  int64_t now = clock_->NowMillis();
  bool need_doc = !listeners_.empty();
  BatchResult result;
  TL_RETURN_IF_ERROR(WriteNotifying([&](storage::Session& s) -> Status {
    result = BatchResult();
    TL_RETURN_IF_ERROR(CheckTenant(s, tenant));
    std::unordered_map<std::string, std::optional<json>> existing;
    if (!ids.empty()) {
      std::vector<Value> params{tenant};
      std::string in = InList(ids, &params);
      TL_ASSIGN_OR_RETURN(auto rs, s.QueryV(std::string("SELECT id") + (need_doc ? ", doc" : "") +
                                                " FROM ngsild_entities WHERE tenant = ? AND id IN " + in,
                                            params));
      for (const auto& r : rs.rows) {
        std::optional<json> doc;
        if (need_doc) {
          TL_ASSIGN_OR_RETURN(doc, ParseDoc(r.Text(1)));
        }
        existing.emplace(r.Text(0), std::move(doc));
      }
    }
    for (const auto& id : ids) {
      auto it = existing.find(id);
      if (it == existing.end()) {
        result.errors.push_back({id, ResourceNotFound("no entity " + id)});
        continue;
      }
      TL_RETURN_IF_ERROR(RecordDeletion(s, tenant, id, now));
      TL_RETURN_IF_ERROR(s.Exec("DELETE FROM ngsild_entities WHERE tenant = ? AND id = ?", {tenant, id}).status());
      TL_RETURN_IF_ERROR(
          s.Exec("DELETE FROM ngsild_entity_types WHERE tenant = ? AND entity_id = ?", {tenant, id}).status());
      if (need_doc) {
        TL_RETURN_IF_ERROR(Notify(s, tenant, id, *it->second, ChangeKind::kDeleted, AttributeNames(*it->second), now));
      }
      existing.erase(it);
      result.success.push_back(id);
    }
    return Status::Ok();
  }, /*large=*/true));
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Queries

Result<QueryResult> EntityStore::QueryEntities(const std::string& tenant, const EntityQuery& query) const {
  if (query.limit < 0 || query.limit > kMaxLimit) {
    return BadRequestData("limit must be between 0 and " + std::to_string(kMaxLimit), "limit");
  }
  if (query.offset < 0) return BadRequestData("offset must not be negative", "offset");
  if (query.ids.size() > kMaxIds) return BadRequestData("at most " + std::to_string(kMaxIds) + " ids", "id");
  if (query.q && !query.context) return Internal("a q query needs the request's context");

  // The SQL part: tenant, ids, types, the location's bounding box. A bounded geo-query is driven by
  // the bounding-box index alone (types are then checked in memory): its candidates are few, and a
  // type index would otherwise lead the plan through every entity of the type.
  std::optional<BoundingBox> box;
  if (query.geo && query.geoproperty == kLocationIri) {
    const Georel& rel = query.geo->georel;
    bool bounded = rel.relation != GeoRelation::kDisjoint &&
                   (rel.relation != GeoRelation::kNear || (rel.max_distance && !rel.min_distance));
    if (bounded) {
      box = BoundsOf(query.geo->geometry);
      if (rel.relation == GeoRelation::kNear) box = ExpandBy(*box, *rel.max_distance);
    }
  }
  std::string from = "ngsild_entities e";
  std::string where = " WHERE e.tenant = ?";
  std::string key = "e.id";
  std::vector<Value> params{tenant};
  if (query.types && !box && query.types->names().size() == 1) {
    from = "ngsild_entity_types t JOIN ngsild_entities e ON e.tenant = t.tenant AND e.id = t.entity_id";
    where = " WHERE t.tenant = ? AND t.type = ?";
    key = "t.entity_id";
    params.push_back(query.types->names()[0]);
  } else if (query.types && !box) {
    params.push_back(tenant);
    std::string in = InList(query.types->names(), &params);
    where += " AND e.id IN (SELECT entity_id FROM ngsild_entity_types WHERE tenant = ? AND type IN " + in + ")";
  }
  if (!query.ids.empty()) where += " AND " + key + " IN " + InList(query.ids, &params);
  if (box) {
    where += " AND e.max_lat >= ? AND e.min_lat <= ?";
    params.push_back(box->min_lat);
    params.push_back(box->max_lat);
    if (box->min_lon > -180 || box->max_lon < 180) {
      where += " AND (e.lon_key BETWEEN ? AND ? OR e.lon_key = ?) AND e.max_lon >= ? AND e.min_lon <= ?";
      params.push_back(box->min_lon - kWideGeometryDegrees);
      params.push_back(box->max_lon);
      params.push_back(kWideKey);
      params.push_back(box->min_lon);
      params.push_back(box->max_lon);
    }
  }
  const bool in_memory =
      query.id_pattern || query.q || query.geo || query.attrs || (query.types && !query.types->is_list());
  const std::string select = "SELECT e.id, e.doc, e.created_at, e.modified_at, e.version FROM " + from + where;

  auto passes = [&](const std::string& id, const json& doc) {
    if (query.id_pattern && !query.id_pattern->Matches(id)) return false;
    if (query.types && !query.types->Matches(TypesOf(doc))) return false;
    if (query.attrs) {
      bool any =
          std::any_of(query.attrs->begin(), query.attrs->end(), [&](const std::string& a) { return doc.contains(a); });
      if (!any) return false;
    }
    if (query.geo && !MatchesEntity(*query.geo, doc, query.geoproperty)) return false;
    if (query.q) {
      RenderOptions all;
      all.sys_attrs = true;
      if (!query.q->Matches(Render(doc, *query.context, all, 0, 0))) return false;
    }
    return true;
  };

  QueryResult out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    out = QueryResult();
    TL_RETURN_IF_ERROR(CheckTenant(s, tenant));
    auto take = [&](const storage::Row& r, json doc) {
      StoredEntity e;
      e.doc = std::move(doc);
      e.created_at_ms = r.Int(2);
      e.modified_at_ms = r.Int(3);
      e.version = r.Int(4);
      out.entities.push_back(std::move(e));
    };
    if (!in_memory) {
      if (query.count) {
        TL_ASSIGN_OR_RETURN(auto rs, s.QueryV("SELECT COUNT(*) FROM " + from + where, params));
        out.total = rs.rows.at(0).Int(0);
      }
      if (query.limit == 0) return Status::Ok();
      std::vector<Value> p = params;
      p.push_back(int64_t{query.limit});
      p.push_back(int64_t{query.offset});
      TL_ASSIGN_OR_RETURN(auto rs, s.QueryV(select + " ORDER BY " + key + " LIMIT ? OFFSET ?", p));
      for (const auto& r : rs.rows) {
        TL_ASSIGN_OR_RETURN(json doc, ParseDoc(r.Text(1)));
        take(r, std::move(doc));
      }
      return Status::Ok();
    }
    if (box) {
      // The bounding box's candidates in one read, filtered, then ordered by id.
      TL_ASSIGN_OR_RETURN(auto rs, s.QueryV(select, params));
      std::vector<std::pair<std::string, size_t>> order;
      std::vector<json> docs;
      for (size_t i = 0; i < rs.rows.size(); ++i) {
        TL_ASSIGN_OR_RETURN(json doc, ParseDoc(rs.rows[i].Text(1)));
        if (!passes(rs.rows[i].Text(0), doc)) continue;
        order.emplace_back(rs.rows[i].Text(0), i);
        docs.push_back(std::move(doc));
      }
      std::vector<size_t> by_id(order.size());
      for (size_t k = 0; k < by_id.size(); ++k) by_id[k] = k;
      std::sort(by_id.begin(), by_id.end(), [&](size_t a, size_t b) { return order[a].first < order[b].first; });
      for (size_t k = static_cast<size_t>(query.offset);
           k < by_id.size() && static_cast<int>(out.entities.size()) < query.limit; ++k) {
        take(rs.rows[order[by_id[k]].second], std::move(docs[by_id[k]]));
      }
      if (query.count) out.total = static_cast<int64_t>(order.size());
      return Status::Ok();
    }
    // In memory: read candidates in id order, chunk by chunk (keyset), until the page is full (and,
    // with count, to the end).
    int64_t matched = 0;
    std::optional<std::string> after;
    while (true) {
      std::vector<Value> p = params;
      std::string sql = select;
      if (after) {
        sql += " AND " + key + " > ?";
        p.push_back(*after);
      }
      sql += " ORDER BY " + key + " LIMIT " + std::to_string(kScanChunk);
      TL_ASSIGN_OR_RETURN(auto rs, s.QueryV(sql, p));
      for (const auto& r : rs.rows) {
        TL_ASSIGN_OR_RETURN(json doc, ParseDoc(r.Text(1)));
        if (!passes(r.Text(0), doc)) continue;
        if (matched >= query.offset && static_cast<int>(out.entities.size()) < query.limit) take(r, std::move(doc));
        ++matched;
      }
      bool page_full = static_cast<int>(out.entities.size()) >= query.limit && matched >= query.offset + query.limit;
      if (rs.rows.size() < static_cast<size_t>(kScanChunk) || (page_full && !query.count)) break;
      after = rs.rows.back().Text(0);
    }
    if (query.count) out.total = matched;
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<std::string>> EntityStore::Types(const std::string& tenant) const {
  std::vector<std::string> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    out.clear();
    TL_RETURN_IF_ERROR(CheckTenant(s, tenant));
    TL_ASSIGN_OR_RETURN(
        auto rs, s.Query("SELECT DISTINCT type FROM ngsild_entity_types WHERE tenant = ? ORDER BY type", {tenant}));
    for (const auto& r : rs.rows) out.push_back(r.Text(0));
    return Status::Ok();
  }));
  return out;
}

}  // namespace tl::ngsild
