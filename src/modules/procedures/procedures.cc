#include "modules/procedures/procedures.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/text.h"
#include "http/json_body.h"
#include "modules/procedures/form_schema.h"

namespace tl::procedures {
namespace {

using nlohmann::json;

std::string LevelsColumn(const json& levels) {
  std::string out = ",";
  for (const auto& l : levels) out += l.get<std::string>() + ",";
  return out;
}

// Folded name without the "Thủ tục" prefix most names carry, for ranking exact and prefix matches.
std::string NameKey(const std::string& name) {
  std::string f = text::FoldForSearch(name);
  if (f.rfind("thu tuc ", 0) == 0) f = f.substr(8);
  return f;
}

std::string SearchText(const json& p) {
  return text::FoldForSearch(p.value("code", "") + " " + p.value("name", "") + " " + p.value("sector", ""));
}

json Summary(const json& p) {
  return {{"code", p["code"]},
          {"name", p["name"]},
          {"sector", p["sector"]},
          {"levels", p["levels"]},
          {"competent_agency", p["competent_agency"]},
          {"processing", p["processing"]},
          {"fees_vnd", p["fees_vnd"]}};
}

// Converts a record of the national database extract into ThangLong's layout.
json FromSource(const json& src) {
  json p;
  p["code"] = text::CleanText(src.value("code", ""));
  p["name"] = text::CleanText(src.value("name", ""));
  p["sector"] = text::CleanText(src.value("sector", ""));
  p["levels"] = src.value("levels", json::array());
  p["applicants"] = text::CleanText(src.value("applicants", ""));
  p["competent_agency"] = text::CleanText(src.value("competent_agency", ""));
  p["decision"] = text::CleanText(src.value("decision", ""));
  json processing = json::array();
  for (const char* ch : {"in_person", "online", "postal"}) {
    if (src.contains("channels") && src["channels"].contains(ch)) {
      const auto& c = src["channels"][ch];
      processing.push_back({{"channel", ch}, {"duration", c.value("duration", json(nullptr))}, {"unit", c.value("unit", json(nullptr))}});
    }
  }
  p["processing"] = processing;
  p["fees_vnd"] = src.value("fees_vnd_mentioned", json::array());
  p["result"] = text::CleanText(src.value("result", ""));
  p["source_url"] = src.value("source", "");
  return p;
}

// Validates a procedure document from an admin; returns it normalised.
Result<json> Validate(const json& in) {
  static const std::vector<std::string> kAllowed = {"code", "name", "sector", "levels", "applicants",
                                                    "competent_agency", "decision", "processing", "fees_vnd",
                                                    "result", "source_url", "effective_from", "components"};
  for (const auto& [k, v] : in.items()) {
    if (std::find(kAllowed.begin(), kAllowed.end(), k) == kAllowed.end()) return InvalidArgument("unknown field '" + k + "'", k);
  }
  json out;
  auto str = [&](const char* f, bool required, size_t max) -> Status {
    if (!in.contains(f) || in[f].is_null()) {
      if (required) return InvalidArgument("is required", f);
      out[f] = "";
      return Status::Ok();
    }
    if (!in[f].is_string()) return InvalidArgument("must be a string", f);
    TL_ASSIGN_OR_RETURN(std::string s, text::NormalizeNfc(in[f].get<std::string>(), f));
    s = std::string(text::Trim(s));
    if (required && s.empty()) return InvalidArgument("is required", f);
    if (static_cast<size_t>(text::CodePointCount(s)) > max) return InvalidArgument("is too long", f);
    out[f] = s;
    return Status::Ok();
  };
  TL_RETURN_IF_ERROR(str("code", true, 40));
  for (char c : out["code"].get<std::string>()) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')) {
      return InvalidArgument("may hold only letters, digits, '.' and '-'", "code");
    }
  }
  TL_RETURN_IF_ERROR(str("name", true, 2000));
  TL_RETURN_IF_ERROR(str("sector", true, 200));
  TL_RETURN_IF_ERROR(str("applicants", false, 4000));
  TL_RETURN_IF_ERROR(str("competent_agency", false, 2000));
  TL_RETURN_IF_ERROR(str("decision", false, 200));
  TL_RETURN_IF_ERROR(str("result", false, 4000));
  TL_RETURN_IF_ERROR(str("source_url", false, 500));
  if (!in.contains("levels") || !in["levels"].is_array() || in["levels"].empty()) {
    return InvalidArgument("must be a non-empty array of ministry, province, commune, other", "levels");
  }
  out["levels"] = json::array();
  for (const auto& l : in["levels"]) {
    if (!l.is_string()) return InvalidArgument("must be an array of strings", "levels");
    TL_RETURN_IF_ERROR(http::OneOf(l.get<std::string>(), {"ministry", "province", "commune", "other"}, "levels"));
    out["levels"].push_back(l);
  }
  out["processing"] = json::array();
  if (in.contains("processing")) {
    if (!in["processing"].is_array()) return InvalidArgument("must be an array", "processing");
    for (const auto& p : in["processing"]) {
      if (!p.is_object()) return InvalidArgument("items must be objects", "processing");
      if (!p.contains("channel") || !p["channel"].is_string()) return InvalidArgument("needs a channel", "processing.channel");
      TL_RETURN_IF_ERROR(http::OneOf(p["channel"].get<std::string>(), {"in_person", "online", "postal"}, "processing.channel"));
      json d = p.value("duration", json(nullptr));
      if (!d.is_null() && (!d.is_number() || d.get<double>() < 0)) {
        return InvalidArgument("must be a non-negative number or null", "processing.duration");
      }
      json u = p.value("unit", json(nullptr));
      if (!u.is_null()) {
        if (!u.is_string()) return InvalidArgument("must be a string or null", "processing.unit");
        TL_RETURN_IF_ERROR(http::OneOf(u.get<std::string>(), {"working_day", "day", "hour", "month"}, "processing.unit"));
      }
      out["processing"].push_back({{"channel", p["channel"]}, {"duration", d}, {"unit", u}});
    }
  }
  out["fees_vnd"] = json::array();
  if (in.contains("fees_vnd")) {
    if (!in["fees_vnd"].is_array()) return InvalidArgument("must be an array of amounts", "fees_vnd");
    for (const auto& f : in["fees_vnd"]) {
      if (!f.is_number() || f.get<double>() < 0) return InvalidArgument("must be non-negative amounts", "fees_vnd");
      out["fees_vnd"].push_back(f);
    }
  }
  // The components of a dossier (thành phần hồ sơ) the procedure requires: names, kept only when
  // listed, so that procedures without them keep their stored form.
  if (in.contains("components") && !in["components"].is_null()) {
    if (!in["components"].is_array() || in["components"].size() > 50) {
      return InvalidArgument("must be an array of at most 50 names", "components");
    }
    json names = json::array();
    for (const auto& c : in["components"]) {
      if (!c.is_string()) return InvalidArgument("must be an array of names", "components");
      TL_ASSIGN_OR_RETURN(std::string n, text::NormalizeNfc(c.get<std::string>(), "components"));
      n = std::string(text::Trim(n));
      if (n.empty() || text::CodePointCount(n) > 500) return InvalidArgument("names must be 1-500 characters", "components");
      for (const auto& seen : names) {
        if (seen == n) return InvalidArgument("lists '" + n + "' twice", "components");
      }
      names.push_back(n);
    }
    if (!names.empty()) out["components"] = names;
  }
  return out;
}

// Content type, well-formedness, UTF-8 and unknown members of a procedure body; Save() validates values.
Status CheckProcedureBody(const http::Request& req) {
  return http::JsonBody::Parse(req, {"code", "name", "sector", "levels", "applicants", "competent_agency", "decision",
                                     "processing", "fees_vnd", "result", "source_url", "effective_from",
                                     "components", "form_schema"})
      .status();
}

struct FormFile {
  std::string schema;                   // checked, in its authors' order
  std::vector<std::string> components;  // its components enum
};

// The form files beside the catalogue (DIR/forms/*.json), each
//   {"procedures": ["1.001193", ...], "source": "...", "form_schema": {...}}
// by procedure code, their schemas checked; `files` gets the file of each code for messages.
Result<std::map<std::string, FormFile>> LoadFormFiles(const std::filesystem::path& dir,
                                                      std::map<std::string, std::string>& files) {
  std::map<std::string, FormFile> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  std::vector<std::filesystem::path> paths;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".json") paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& path : paths) {
    std::ifstream in(path);
    auto doc = nlohmann::ordered_json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("procedures") || !doc["procedures"].is_array() ||
        doc["procedures"].empty() || !doc.contains("form_schema")) {
      return InvalidArgument("not a form file (expected {\"procedures\": [codes], \"form_schema\": {...}})",
                             path.string());
    }
    auto schema = forms::CheckSchema(doc["form_schema"], "form_schema");
    if (!schema.ok()) {
      return InvalidArgument(schema.status().field() + " " + schema.status().message(), path.string());
    }
    for (const auto& code : doc["procedures"]) {
      if (!code.is_string()) return InvalidArgument("procedures must be codes", path.string());
      std::string c = code.get<std::string>();
      if (files.count(c)) return InvalidArgument("procedure " + c + " also has a form in " + files[c], path.string());
      files[c] = path.string();
      out[c] = {schema->dump(), forms::ComponentNames(*schema)};
    }
  }
  return out;
}

// A stored procedure document with its form schema as the last member (both JSON texts).
std::string WithFormSchema(std::string data, const std::string& schema) {
  if (data.size() < 2 || data.back() != '}') return data;
  data.pop_back();
  data += ",\"form_schema\":";
  data += schema;
  data += '}';
  return data;
}

}  // namespace

std::vector<storage::Migration> ProcedureService::Migrations() {
  return {{400, "procedure catalogue",
           "CREATE TABLE procedures (code TEXT PRIMARY KEY, version INTEGER NOT NULL, effective_from TEXT NOT NULL, "
           "name TEXT NOT NULL, name_key TEXT NOT NULL, search_text TEXT NOT NULL, sector TEXT NOT NULL, levels TEXT NOT NULL, "
           "data TEXT NOT NULL, summary TEXT NOT NULL, updated_at TEXT NOT NULL);"
           "CREATE INDEX procedures_sector ON procedures (sector, code);"
           "CREATE TABLE procedure_versions (code TEXT NOT NULL, version INTEGER NOT NULL, effective_from TEXT NOT NULL, "
           "data TEXT NOT NULL, created_at TEXT NOT NULL, created_by TEXT NOT NULL, PRIMARY KEY (code, version));"
           "CREATE INDEX procedure_versions_effective ON procedure_versions (effective_from);"
           "CREATE TABLE procedure_catalogue_revision (id INTEGER PRIMARY KEY, revision BIGINT NOT NULL);"
           "INSERT INTO procedure_catalogue_revision (id, revision) VALUES (1, 0);"},
          // The JSON Schema of each version's application form; NULL: the generic default.
          {410, "procedure form schemas", "ALTER TABLE procedure_versions ADD COLUMN form_schema TEXT;"}};
}

ProcedureService::ProcedureService(storage::Database* db, const Clock* clock, const audit::AuditLog* audit)
    : db_(db), clock_(clock), audit_(audit), forms_(std::make_unique<forms::Cache>()) {}

ProcedureService::~ProcedureService() = default;

Result<bool> ProcedureService::IsEmpty() const {
  bool empty = true;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT 1 FROM procedures LIMIT 1"));
    empty = rs.empty();
    return Status::Ok();
  }));
  return empty;
}

namespace {
// Every change of the current catalogue bumps its revision, in the same transaction.
Status BumpRevision(storage::Session& s) {
  return s.Exec("UPDATE procedure_catalogue_revision SET revision = revision + 1 WHERE id = 1").status();
}

// Writes version `version` of `p` (already normalised) and, when in force, makes it current.
Status StoreVersion(storage::Session& s, json p, int64_t version, const std::string& effective_from,
                    const std::string& now, const std::string& actor, bool make_current,
                    const std::optional<std::string>& form_schema) {
  p["version"] = version;
  p["effective_from"] = effective_from;
  std::string data = p.dump();
  std::string code = p["code"].get<std::string>();
  TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO procedure_versions (code, version, effective_from, data, created_at, "
                                     "created_by, form_schema) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                     {code, version, effective_from, data, now, actor,
                                      storage::OptText(form_schema)}));
  (void)n;
  if (!make_current) return Status::Ok();
  TL_ASSIGN_OR_RETURN(
      auto m, s.Exec("INSERT INTO procedures (code, version, effective_from, name, name_key, search_text, sector, levels, "
                     "data, summary, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
                     "version = excluded.version, effective_from = excluded.effective_from, name = excluded.name, "
                     "name_key = excluded.name_key, "
                     "search_text = excluded.search_text, sector = excluded.sector, levels = excluded.levels, "
                     "data = excluded.data, summary = excluded.summary, updated_at = excluded.updated_at",
                     {code, version, effective_from, p["name"].get<std::string>(), NameKey(p["name"].get<std::string>()),
                      SearchText(p),
                      p["sector"].get<std::string>(), LevelsColumn(p["levels"]), data, Summary(p).dump(), now}));
  (void)m;
  return BumpRevision(s);
}
}  // namespace

Result<ImportReport> ProcedureService::Import(const std::string& path, const std::string& actor) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read " + path);
  auto doc = json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.contains("procedures") || !doc["procedures"].is_array()) {
    return InvalidArgument("not a procedures document (expected {\"procedures\": [...]})", path);
  }
  ImportReport report;
  // Forms beside the catalogue: DIR/forms/*.json.
  std::map<std::string, std::string> form_files;
  TL_ASSIGN_OR_RETURN(auto form_schemas,
                      LoadFormFiles(std::filesystem::path(path).parent_path() / "forms", form_files));
  std::string today = FormatDate(clock_->NowMillis());
  std::string now = FormatRfc3339(clock_->NowMillis());
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    std::set<std::string> seen;
    for (const auto& src : doc["procedures"]) {
      report.read++;
      auto valid = Validate(FromSource(src));
      if (!valid.ok()) {
        return InvalidArgument("procedure #" + std::to_string(report.read) + " (" + src.value("code", "?") +
                                   "): " + valid.status().field() + " " + valid.status().message(),
                               path);
      }
      json p = std::move(*valid);
      std::string code = p["code"].get<std::string>();
      // A form file gives the schema and the components (its enum); without one, the form and the
      // components the current version has (an admin's) are kept.
      std::optional<std::string> schema;
      auto form = form_schemas.find(code);
      if (form != form_schemas.end()) {
        schema = form->second.schema;
        if (!form->second.components.empty()) p["components"] = form->second.components;
        seen.insert(code);
        report.forms++;
      }
      TL_ASSIGN_OR_RETURN(auto cur, s.Query("SELECT p.version, p.data, v.form_schema FROM procedures p LEFT JOIN "
                                            "procedure_versions v ON v.code = p.code AND v.version = p.version "
                                            "WHERE p.code = ?",
                                            {code}));
      int64_t version = 1;
      if (!cur.empty()) {
        json old = json::parse(cur.rows[0].Text(1));
        old.erase("version");
        old.erase("effective_from");
        std::optional<std::string> old_schema = cur.rows[0].OptText(2);
        if (form == form_schemas.end()) {
          schema = old_schema;
          if (old.contains("components") && !p.contains("components")) p["components"] = old["components"];
        }
        if (old == p && old_schema == schema) {
          report.unchanged++;
          continue;
        }
        version = cur.rows[0].Int(0) + 1;
        report.updated++;
      } else {
        report.created++;
      }
      TL_RETURN_IF_ERROR(StoreVersion(s, p, version, today, now, actor, true, schema));
    }
    for (const auto& [code, file] : form_files) {
      if (!seen.count(code)) return InvalidArgument("has a form for procedure " + code + ", not in the catalogue", file);
    }
    audit::Entry e{actor, "procedures.import", path, "local", "",
                   json{{"created", report.created}, {"updated", report.updated}, {"forms", report.forms}}.dump()};
    return audit_->Append(s, e);
  }));
  return report;
}

Status ProcedureService::PromoteDue() {
  int64_t now = clock_->NowMillis();
  int64_t last = last_promotion_check_.load();
  if (now - last < 60'000 || !last_promotion_check_.compare_exchange_strong(last, now)) return Status::Ok();
  std::string today = FormatDate(now);
  bool due = false;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT 1 FROM procedure_versions v JOIN procedures p ON p.code = v.code "
                                         "WHERE v.version > p.version AND v.effective_from <= ? LIMIT 1",
                                         {today}));
    due = !rs.empty();
    return Status::Ok();
  }));
  if (!due) return Status::Ok();
  return db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT v.code, v.version, v.effective_from, v.data FROM procedure_versions v "
                                         "JOIN procedures p ON p.code = v.code WHERE v.version > p.version AND "
                                         "v.effective_from <= ? ORDER BY v.code, v.version",
                                         {today}));
    for (const auto& r : rs.rows) {
      json p = json::parse(r.Text(3));
      TL_ASSIGN_OR_RETURN(
          auto n, s.Exec("UPDATE procedures SET version = ?, effective_from = ?, name = ?, name_key = ?, search_text = ?, "
                         "sector = ?, levels = ?, data = ?, summary = ?, updated_at = ? WHERE code = ? AND version < ?",
                         {r.Int(1), r.Text(2), p["name"].get<std::string>(), NameKey(p["name"].get<std::string>()),
                          SearchText(p), p["sector"].get<std::string>(),
                          LevelsColumn(p["levels"]), r.Text(3), Summary(p).dump(), FormatRfc3339(clock_->NowMillis()),
                          r.Text(0), r.Int(1)}));
      (void)n;
    }
    return BumpRevision(s);
  });
}

struct ProcedureService::SearchIndex {
  struct Entry {
    std::string code;
    std::string name_key;
    std::string search_text;
    std::string sector;
    std::string levels;  // ",province,commune,"
    std::string summary;
  };
  int64_t revision = -1;
  std::vector<Entry> entries;  // by code
  // Inverted index: every word of every entry's folded text, sorted, with the entries holding it.
  std::vector<std::pair<std::string, std::vector<uint32_t>>> words;

  void BuildWords() {
    std::map<std::string, std::vector<uint32_t>> by_word;
    for (uint32_t i = 0; i < entries.size(); ++i) {
      for (auto& w : text::Tokens(entries[i].search_text)) {
        auto& postings = by_word[std::move(w)];
        if (postings.empty() || postings.back() != i) postings.push_back(i);
      }
    }
    words.assign(std::make_move_iterator(by_word.begin()), std::make_move_iterator(by_word.end()));
  }

  // Marks, in `marks`, the entries already matching `round` tokens that hold a word starting with
  // `token`, advancing them to round + 1.
  void MatchPrefix(const std::string& token, uint8_t round, std::vector<uint8_t>& marks) const {
    auto it = std::lower_bound(words.begin(), words.end(), token,
                               [](const auto& w, const std::string& t) { return w.first < t; });
    for (; it != words.end() && it->first.compare(0, token.size(), token) == 0; ++it) {
      for (uint32_t i : it->second) {
        if (marks[i] == round) marks[i] = round + 1;
      }
    }
  }
};

Result<std::shared_ptr<const ProcedureService::SearchIndex>> ProcedureService::CurrentIndex() {
  auto held = [this] {
    std::lock_guard lock(index_mu_);
    return index_;
  };
  std::shared_ptr<const SearchIndex> current = held();
  int64_t revision = 0;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rev, s.Query("SELECT revision FROM procedure_catalogue_revision WHERE id = 1"));
    revision = rev.rows.at(0).Int(0);
    return Status::Ok();
  }));
  if (current && current->revision >= revision) return current;
  // One build at a time (about 50 ms of a core for the whole catalogue): searches arriving meanwhile
  // wait for it and use it, instead of each building its own (64 first searches at once kept the
  // cores busy for over half a second).
  std::lock_guard build(index_build_mu_);
  current = held();
  if (current && current->revision >= revision) return current;
  auto fresh = std::make_shared<SearchIndex>();
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    // The revision again, in the snapshot the entries come from.
    TL_ASSIGN_OR_RETURN(auto rev, s.Query("SELECT revision FROM procedure_catalogue_revision WHERE id = 1"));
    fresh->revision = rev.rows.at(0).Int(0);
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT code, name_key, search_text, sector, levels, summary FROM procedures "
                                         "ORDER BY code"));
    fresh->entries.reserve(rs.rows.size());
    for (const auto& r : rs.rows) {
      fresh->entries.push_back({r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5)});
    }
    // Byte order, whatever the database's collation, so cursors compare the same way.
    std::sort(fresh->entries.begin(), fresh->entries.end(),
              [](const auto& a, const auto& b) { return a.code < b.code; });
    fresh->BuildWords();
    return Status::Ok();
  }));
  index_builds_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(index_mu_);
  if (!index_ || index_->revision < fresh->revision) index_ = fresh;
  return std::shared_ptr<const SearchIndex>(fresh);
}

Result<SearchPage> ProcedureService::Search(const SearchQuery& q) {
  TL_RETURN_IF_ERROR(PromoteDue());
  auto tokens = text::Tokens(text::FoldForSearch(q.text));
  std::string phrase;
  for (const auto& tok : tokens) phrase += (phrase.empty() ? "" : " ") + tok;
  int after_rank = -1;
  std::string after_code;
  if (q.cursor) {
    auto colon = q.cursor->find(':');
    char* end = nullptr;
    long r = colon == std::string::npos ? -1 : std::strtol(q.cursor->substr(0, colon).c_str(), &end, 10);
    if (r < 0 || r > 3 || (end && *end != '\0')) return InvalidArgument("not a cursor from a previous page", "cursor");
    after_rank = static_cast<int>(r);
    after_code = q.cursor->substr(colon + 1);
  }
  std::string level_tag = q.level ? "," + *q.level + "," : "";
  TL_ASSIGN_OR_RETURN(auto index, CurrentIndex());

  // Rank: the name itself, then names starting with the words, then names holding them in order,
  // then names holding every word somewhere; pages run over (rank, code), the cursor being "rank:code".
  struct Hit {
    int rank;
    const SearchIndex::Entry* entry;
  };
  // Each word of the query must begin a word of the procedure's code, name or sector.
  std::vector<uint8_t> marks(index->entries.size(), 0);
  uint8_t round = 0;
  for (const auto& tok : tokens) {
    if (round == 255) break;
    index->MatchPrefix(tok, round, marks);
    ++round;
  }
  std::vector<Hit> hits;
  for (size_t i = 0; i < index->entries.size(); ++i) {
    if (marks[i] != round) continue;
    const auto& e = index->entries[i];
    if (q.sector && e.sector != *q.sector) continue;
    if (q.level && e.levels.find(level_tag) == std::string::npos) continue;
    int rank = 0;
    if (!phrase.empty()) {
      if (e.name_key == phrase) rank = 0;
      else if (e.name_key.rfind(phrase, 0) == 0) rank = 1;
      else if (e.name_key.find(phrase) != std::string::npos) rank = 2;
      else rank = 3;
    }
    hits.push_back({rank, &e});
  }
  std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.rank < b.rank; });
  SearchPage page;
  page.total = static_cast<int64_t>(hits.size());
  size_t i = 0;
  if (q.cursor) {
    while (i < hits.size() &&
           (hits[i].rank < after_rank || (hits[i].rank == after_rank && hits[i].entry->code <= after_code))) {
      ++i;
    }
  }
  for (; i < hits.size() && page.items_json.size() < static_cast<size_t>(q.limit); ++i) {
    page.items_json.push_back(hits[i].entry->summary);
  }
  if (i < hits.size() && !page.items_json.empty()) {
    page.next_cursor = std::to_string(hits[i - 1].rank) + ":" + hits[i - 1].entry->code;
  }
  return page;
}

Result<std::string> ProcedureService::GetJson(const std::string& code, const std::optional<std::string>& at) {
  TL_RETURN_IF_ERROR(PromoteDue());
  std::string out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    storage::ResultSet rs;
    if (at) {
      TL_ASSIGN_OR_RETURN(rs, s.Query("SELECT data FROM procedure_versions WHERE code = ? AND effective_from <= ? "
                                      "ORDER BY version DESC LIMIT 1",
                                      {code, *at}));
    } else {
      TL_ASSIGN_OR_RETURN(rs, s.Query("SELECT data FROM procedures WHERE code = ?", {code}));
    }
    if (rs.empty()) return NotFound(at ? "no version of procedure " + code + " in force on " + *at
                                       : "no procedure with code " + code);
    out = rs.rows[0].Text(0);
    return Status::Ok();
  }));
  return out;
}

Result<std::string> ProcedureService::DetailJson(const std::string& code, const std::optional<std::string>& at) {
  TL_RETURN_IF_ERROR(PromoteDue());
  std::string data;
  std::optional<std::string> schema;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    storage::ResultSet rs;
    if (at) {
      TL_ASSIGN_OR_RETURN(rs, s.Query("SELECT data, form_schema FROM procedure_versions WHERE code = ? AND "
                                      "effective_from <= ? ORDER BY version DESC LIMIT 1",
                                      {code, *at}));
    } else {
      TL_ASSIGN_OR_RETURN(rs, s.Query("SELECT p.data, v.form_schema FROM procedures p LEFT JOIN procedure_versions v "
                                      "ON v.code = p.code AND v.version = p.version WHERE p.code = ?",
                                      {code}));
    }
    if (rs.empty()) return NotFound(at ? "no version of procedure " + code + " in force on " + *at
                                       : "no procedure with code " + code);
    data = rs.rows[0].Text(0);
    schema = rs.rows[0].OptText(1);
    return Status::Ok();
  }));
  // The stored document is an object; the schema (as stored, in its authors' order) goes last.
  if (data.size() < 2 || data.back() != '}') return Internal("stored procedure " + code + " is not a JSON object");
  std::string schema_text = schema ? *schema : forms::DefaultSchema(json::parse(data)).dump();
  return WithFormSchema(std::move(data), schema_text);
}

Status ProcedureService::ValidateForm(const json& procedure, const json& submission) {
  std::string code = procedure.value("code", "");
  int64_t version = procedure.value("version", int64_t{0});
  std::shared_ptr<const forms::Compiled> form = forms_->Find(code, version);
  if (!form) {
    std::optional<std::string> stored;
    TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
      TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT form_schema FROM procedure_versions WHERE code = ? AND version = ?",
                                           {code, version}));
      if (!rs.empty()) stored = rs.rows[0].OptText(0);
      return Status::Ok();
    }));
    auto compiled = forms::Compile(stored ? *stored : forms::DefaultSchema(procedure).dump());
    if (!compiled.ok()) return Internal("the stored form of procedure " + code + " does not compile");
    form = *compiled;
    forms_->Put(code, version, form);
  }
  return forms::Validate(*form, submission);
}

Status ProcedureService::ValidateFormByCode(const std::string& code, const json& submission) {
  TL_ASSIGN_OR_RETURN(auto text, GetJson(code, std::nullopt));
  return ValidateForm(json::parse(text), submission);
}

Result<std::string> ProcedureService::VersionsJson(const std::string& code) const {
  json items = json::array();
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT version, effective_from, created_at, created_by FROM procedure_versions "
                                         "WHERE code = ? ORDER BY version",
                                         {code}));
    if (rs.empty()) return NotFound("no procedure with code " + code);
    for (const auto& r : rs.rows) {
      items.push_back({{"version", r.Int(0)}, {"effective_from", r.Text(1)}, {"created_at", r.Text(2)},
                       {"created_by", r.Text(3)}});
    }
    return Status::Ok();
  }));
  return json{{"code", code}, {"items", items}}.dump();
}

Result<std::string> ProcedureService::SectorsJson() const {
  json items = json::array();
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT sector, COUNT(*) FROM procedures GROUP BY sector ORDER BY sector"));
    for (const auto& r : rs.rows) items.push_back({{"name", r.Text(0)}, {"count", r.Int(1)}});
    return Status::Ok();
  }));
  return json{{"items", items}}.dump();
}

Result<std::string> ProcedureService::Save(const audit::Entry& actor, const std::string& body,
                                           const std::optional<std::string>& expected_code, bool create) {
  auto in = json::parse(body, nullptr, false);
  if (in.is_discarded() || !in.is_object()) return InvalidArgument("the body must be a JSON object", "body");
  std::string today = FormatDate(clock_->NowMillis());
  std::string effective_from = today;
  if (in.contains("effective_from")) {
    if (!in["effective_from"].is_string()) return InvalidArgument("must be a date YYYY-MM-DD", "effective_from");
    effective_from = in["effective_from"].get<std::string>();
    TL_ASSIGN_OR_RETURN(auto d, ParseDate(effective_from, "effective_from"));
    (void)d;
  }
  if (expected_code && !in.contains("code")) in["code"] = *expected_code;
  // form_schema: a schema; null for the generic default; absent on a change: the previous one stays.
  // Read in order: the order of its properties is the order the form shows them in.
  bool schema_given = in.contains("form_schema");
  std::optional<std::string> schema;
  if (schema_given) {
    if (!in["form_schema"].is_null()) {
      auto ordered = nlohmann::ordered_json::parse(body, nullptr, false);
      TL_ASSIGN_OR_RETURN(auto checked, forms::CheckSchema(ordered["form_schema"], "form_schema"));
      schema = checked.dump();
    }
    in.erase("form_schema");
  }
  TL_ASSIGN_OR_RETURN(json p, Validate(in));
  std::string code = p["code"].get<std::string>();
  if (expected_code && code != *expected_code) return InvalidArgument("does not match the path", "code");
  // The default echoed back (GET, edit, PUT) is stored as no schema, so it keeps following `components`.
  if (schema && json::parse(*schema) == forms::DefaultSchema(p)) schema.reset();
  std::string now = FormatRfc3339(clock_->NowMillis());
  std::string stored;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto cur, s.Query("SELECT MAX(version) FROM procedure_versions WHERE code = ?", {code}));
    bool exists = !cur.rows.at(0).IsNull(0);
    if (create && exists) return AlreadyExists("a procedure with code " + code + " exists", "code");
    if (!create && !exists) return NotFound("no procedure with code " + code);
    int64_t version = exists ? cur.rows[0].Int(0) + 1 : 1;
    if (exists) {
      TL_ASSIGN_OR_RETURN(auto prev, s.Query("SELECT data, form_schema FROM procedure_versions WHERE code = ? AND "
                                             "version = ?",
                                             {code, version - 1}));
      if (!prev.empty() && !schema_given) {
        schema = prev.rows[0].OptText(1);
      } else if (!prev.empty() && schema && prev.rows[0].IsNull(1) &&
                 json::parse(*schema) == forms::DefaultSchema(json::parse(prev.rows[0].Text(0)))) {
        schema.reset();  // the previous version's default echoed back
      }
    }
    // A version becomes current at once when it is in force today; a procedure never seen before is
    // listed from its first version even when that is dated in the future.
    bool make_current = effective_from <= today || !exists;
    TL_RETURN_IF_ERROR(StoreVersion(s, p, version, effective_from, now, actor.actor, make_current, schema));
    p["version"] = version;
    p["effective_from"] = effective_from;
    stored = WithFormSchema(p.dump(), schema ? *schema : forms::DefaultSchema(p).dump());
    audit::Entry e = actor;
    e.action = create ? "procedure.create" : "procedure.update";
    e.resource = "procedure:" + code;
    e.detail = json{{"version", version}, {"effective_from", effective_from}}.dump();
    return audit_->Append(s, e);
  }));
  return stored;
}

std::vector<http::Route> Routes(ProcedureService* svc) {
  using http::Access;
  using http::Method;
  const char* kProcedureSchema =
      R"({"type":"object","required":["code","name","sector","levels"],"properties":{"code":{"type":"string"},"name":{"type":"string"},"sector":{"type":"string"},"levels":{"type":"array","items":{"enum":["ministry","province","commune","other"]}},"applicants":{"type":"string"},"competent_agency":{"type":"string"},"decision":{"type":"string"},"processing":{"type":"array","items":{"type":"object","properties":{"channel":{"enum":["in_person","online","postal"]},"duration":{"type":["number","null"]},"unit":{"enum":["working_day","day","hour","month",null]}}}},"fees_vnd":{"type":"array","items":{"type":"number"}},"result":{"type":"string"},"source_url":{"type":"string"},"effective_from":{"type":"string","format":"date"},"version":{"type":"integer"},"components":{"type":"array","items":{"type":"string"},"description":"names of the documents a dossier holds, thanh phan ho so"},"form_schema":{"type":["object","null"],"description":"JSON Schema (draft 7 subset) of the submission object with applicant, form and components; on reads the stored one or the generic default; on a change absent keeps the previous one, null restores the default"}}})";
  std::vector<http::Route> r;
  r.push_back(
      {Method::kGet, "/api/v1/procedures", Access::Public(),
       [svc](http::Request& req) -> Result<http::Response> {
         SearchQuery q;
         q.text = req.Query("q").value_or("");
         if (text::CodePointCount(q.text) > 200) return InvalidArgument("must be at most 200 characters", "q");
         q.sector = req.Query("sector");
         q.level = req.Query("level");
         if (q.level) TL_RETURN_IF_ERROR(http::OneOf(*q.level, {"ministry", "province", "commune", "other"}, "level"));
         q.cursor = req.Query("cursor");
         if (auto l = req.Query("limit")) {
           char* end = nullptr;
           long v = std::strtol(l->c_str(), &end, 10);
           if (l->empty() || *end != '\0' || v < 1 || v > 100) return InvalidArgument("must be a number 1-100", "limit");
           q.limit = static_cast<int>(v);
         }
         TL_ASSIGN_OR_RETURN(auto page, svc->Search(q));
         std::string body = "{\"items\":[";
         for (size_t i = 0; i < page.items_json.size(); ++i) {
           if (i) body += ',';
           body += page.items_json[i];
         }
         body += "],\"next_cursor\":";
         body += page.next_cursor ? json(*page.next_cursor).dump() : "null";
         body += ",\"total\":" + std::to_string(page.total) + "}";
         return http::Response::Json(200, std::move(body));
       },
       {"Search the catalogue (diacritics- and case-insensitive) with keyset pagination",
        "procedures",
        {{"q", "query", "Search text, e.g. 'dang ky khai sinh'"},
         {"sector", "query", "Exact sector name"},
         {"level", "query", "ministry, province, commune or other"},
         {"limit", "query", "Page size 1-100 (default 20)", false, "integer"},
         {"cursor", "query", "next_cursor of the previous page"}},
        "",
        R"({"type":"object","properties":{"items":{"type":"array"},"next_cursor":{"type":["string","null"]},"total":{"type":"integer"}}})"}});
  r.push_back({Method::kGet, "/api/v1/procedures/sectors", Access::Public(),
               [svc](http::Request&) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto body, svc->SectorsJson());
                 return http::Response::Json(200, std::move(body));
               },
               {"Sectors with their procedure counts", "procedures", {}, "",
                R"({"type":"object","properties":{"items":{"type":"array"}}})"}});
  r.push_back({Method::kGet, "/api/v1/procedures/{code}", Access::Public(),
               [svc](http::Request& req) -> Result<http::Response> {
                 auto at = req.Query("at");
                 if (at) {
                   TL_ASSIGN_OR_RETURN(auto d, ParseDate(*at, "at"));
                   (void)d;
                 }
                 TL_ASSIGN_OR_RETURN(auto body, svc->DetailJson(req.Param("code"), at));
                 return http::Response::Json(200, std::move(body));
               },
               {"One procedure: the current version, or the one in force on `at`, with its form_schema", "procedures",
                {{"code", "path", "Procedure code, e.g. 1.000253"}, {"at", "query", "Date YYYY-MM-DD"}}, "",
                kProcedureSchema}});
  r.back().quick = true;  // one indexed read
  r.push_back({Method::kGet, "/api/v1/procedures/{code}/versions", Access::Public(),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto body, svc->VersionsJson(req.Param("code")));
                 return http::Response::Json(200, std::move(body));
               },
               {"The versions of a procedure with their effective dates", "procedures", {{"code", "path", "Procedure code"}},
                "", R"({"type":"object","properties":{"code":{"type":"string"},"items":{"type":"array"}}})"}});
  r.push_back({Method::kPost, "/api/v1/procedures", Access::Roles({"city_admin"}),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_RETURN_IF_ERROR(CheckProcedureBody(req));
                 TL_ASSIGN_OR_RETURN(auto body, svc->Save(audit::EntryFor(req, "", ""), req.body, std::nullopt, true));
                 return http::Response::Json(201, std::move(body));
               },
               {"Add a procedure (city admins)", "procedures", {}, kProcedureSchema, kProcedureSchema, 201}});
  r.push_back({Method::kPut, "/api/v1/procedures/{code}", Access::Roles({"city_admin"}),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_RETURN_IF_ERROR(CheckProcedureBody(req));
                 TL_ASSIGN_OR_RETURN(auto body, svc->Save(audit::EntryFor(req, "", ""), req.body, req.Param("code"), false));
                 return http::Response::Json(200, std::move(body));
               },
               {"Change a procedure: a new version in force from effective_from (default today)", "procedures",
                {{"code", "path", "Procedure code"}}, kProcedureSchema, kProcedureSchema}});
  return r;
}

}  // namespace tl::procedures
