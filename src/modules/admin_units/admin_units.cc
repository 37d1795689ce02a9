#include "modules/admin_units/admin_units.h"

#include <algorithm>
#include <deque>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/text.h"

namespace tl::admin_units {
namespace {

constexpr const char* kReformDate = "2025-07-01";

std::string NameKey(const std::string& folded) {
  for (const char* prefix : {"thanh pho ", "tinh ", "phuong ", "xa ", "dac khu ", "thi tran ", "quan ", "huyen ",
                             "thi xa "}) {
    std::string p(prefix);
    if (folded.rfind(p, 0) == 0) return folded.substr(p.size());
  }
  return folded;
}

Unit UnitFromRow(const storage::Row& r) {
  Unit u;
  u.code = r.Text(0);
  u.name = r.Text(1);
  u.kind = r.Text(2);
  u.level = static_cast<int>(r.Int(3));
  u.parent_code = r.OptText(4);
  u.valid_from = r.Text(5);
  return u;
}

constexpr const char* kUnitColumns = "code, name, kind, level, parent_code, valid_from";

nlohmann::json UnitJson(const Unit& u) {
  return {{"code", u.code},
          {"name", u.name},
          {"kind", u.kind},
          {"level", u.level},
          {"parent_code", u.parent_code ? nlohmann::json(*u.parent_code) : nlohmann::json(nullptr)},
          {"valid_from", u.valid_from}};
}

nlohmann::json AgencyJson(const Agency& a) {
  return {{"code", a.code},
          {"name", a.name},
          {"kind", a.kind},
          {"unit_code", a.unit_code},
          {"parent_code", a.parent_code ? nlohmann::json(*a.parent_code) : nlohmann::json(nullptr)}};
}

}  // namespace

std::string KindFromName(const std::string& name) {
  for (const char* kind : {"Thành phố", "Tỉnh", "Phường", "Xã", "Đặc khu", "Thị trấn"}) {
    std::string k(kind);
    if (name.rfind(k + " ", 0) == 0) {
      std::string lower = k;
      // Lower-case the first letter (all kinds start with an ASCII or 2-byte capital).
      if (lower.rfind("Đ", 0) == 0) return "đ" + lower.substr(std::string("Đ").size());
      lower[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[0])));
      return lower;
    }
  }
  return "khác";
}

std::vector<storage::Migration> AdminUnitService::Migrations() {
  return {{200, "administrative units and agencies",
           "CREATE TABLE admin_units (code TEXT PRIMARY KEY, name TEXT NOT NULL, name_folded TEXT NOT NULL, "
           "name_key TEXT NOT NULL, kind TEXT NOT NULL, level INTEGER NOT NULL, "
           "parent_code TEXT REFERENCES admin_units(code), valid_from TEXT NOT NULL, valid_to TEXT);"
           "CREATE INDEX admin_units_parent ON admin_units (parent_code, code);"
           "CREATE INDEX admin_units_folded ON admin_units (name_folded);"
           "CREATE INDEX admin_units_key ON admin_units (name_key);"
           "CREATE TABLE admin_unit_predecessors (unit_code TEXT NOT NULL REFERENCES admin_units(code), "
           "old_code TEXT NOT NULL, old_name TEXT NOT NULL, old_name_folded TEXT NOT NULL, old_name_key TEXT NOT NULL, "
           "merge_type TEXT NOT NULL, PRIMARY KEY (unit_code, old_code));"
           "CREATE INDEX admin_unit_predecessors_folded ON admin_unit_predecessors (old_name_folded);"
           "CREATE INDEX admin_unit_predecessors_key ON admin_unit_predecessors (old_name_key);"
           "CREATE TABLE agencies (code TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, "
           "unit_code TEXT NOT NULL REFERENCES admin_units(code), parent_code TEXT REFERENCES agencies(code));"
           "CREATE INDEX agencies_unit ON agencies (unit_code);"
           "CREATE INDEX agencies_parent ON agencies (parent_code);"},
          {201, "revision of units and agencies, for jurisdiction caches",
           "CREATE TABLE admin_units_revision (id INTEGER PRIMARY KEY, revision BIGINT NOT NULL);"
           "INSERT INTO admin_units_revision (id, revision) VALUES (1, 0);"}};
}

Result<bool> AdminUnitService::IsEmpty() const {
  bool empty = true;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT 1 FROM admin_units LIMIT 1"));
    empty = rs.empty();
    return Status::Ok();
  }));
  return empty;
}

Result<ImportReport> AdminUnitService::Import(const std::string& merges_path, const std::string& agencies_path) {
  std::ifstream in(merges_path);
  if (!in) return NotFound("cannot read " + merges_path);
  auto doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.contains("data") || !doc["data"].is_array()) {
    return InvalidArgument("not a dvhcvn merges document", merges_path);
  }
  std::ifstream ain(agencies_path);
  if (!ain) return NotFound("cannot read " + agencies_path);
  std::vector<std::vector<std::string>> agency_rows;
  std::string line;
  std::getline(ain, line);  // header
  while (std::getline(ain, line)) {
    if (text::Trim(line).empty()) continue;
    auto split = text::SplitCsvLine(line);
    std::vector<std::string> cols = split.ok() ? std::move(*split) : std::vector<std::string>{};
    if (cols.size() != 4) return InvalidArgument("expected 4 columns: " + line, agencies_path);
    agency_rows.push_back(std::move(cols));
  }

  ImportReport report;
  const char* upsert_unit =
      "INSERT INTO admin_units (code, name, name_folded, name_key, kind, level, parent_code, valid_from) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET name = excluded.name, "
      "name_folded = excluded.name_folded, name_key = excluded.name_key, kind = excluded.kind, "
      "level = excluded.level, parent_code = excluded.parent_code, valid_from = excluded.valid_from";
  const char* upsert_pred =
      "INSERT INTO admin_unit_predecessors (unit_code, old_code, old_name, old_name_folded, old_name_key, merge_type) "
      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (unit_code, old_code) DO UPDATE SET old_name = excluded.old_name, "
      "old_name_folded = excluded.old_name_folded, old_name_key = excluded.old_name_key, "
      "merge_type = excluded.merge_type";
  auto add_unit = [&](storage::Session& s, const std::string& code, const std::string& raw_name, int level,
                      const storage::Value& parent) -> Status {
    std::string name = text::CleanText(raw_name);
    std::string folded = text::FoldForSearch(name);
    TL_ASSIGN_OR_RETURN(auto n, s.Exec(upsert_unit, {code, name, folded, NameKey(folded), KindFromName(name),
                                                     int64_t{level}, parent, std::string(kReformDate)}));
    (void)n;
    return Status::Ok();
  };
  auto add_preds = [&](storage::Session& s, const std::string& code, const nlohmann::json& merges) -> Status {
    if (!merges.is_array()) return Status::Ok();
    for (const auto& m : merges) {
      std::string old_name = text::CleanText(m.value("name", ""));
      std::string folded = text::FoldForSearch(old_name);
      TL_ASSIGN_OR_RETURN(auto n, s.Exec(upsert_pred, {code, m.value("old_id", ""), old_name, folded, NameKey(folded),
                                                       m.value("type", "full")}));
      (void)n;
      report.predecessors++;
    }
    return Status::Ok();
  };

  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    for (const auto& p : doc["data"]) {
      std::string pcode = p.value("level1_id", "");
      if (pcode.empty()) return InvalidArgument("a province has no level1_id", merges_path);
      TL_RETURN_IF_ERROR(add_unit(s, pcode, p.value("name", ""), 1, storage::Null()));
      TL_RETURN_IF_ERROR(add_preds(s, pcode, p.value("merges", nlohmann::json::array())));
      report.provinces++;
      for (const auto& c : p.value("level2s", nlohmann::json::array())) {
        std::string ccode = c.value("level2_id", "");
        if (ccode.empty()) return InvalidArgument("a commune has no level2_id", merges_path);
        TL_RETURN_IF_ERROR(add_unit(s, ccode, c.value("name", ""), 2, pcode));
        TL_RETURN_IF_ERROR(add_preds(s, ccode, c.value("merges", nlohmann::json::array())));
        report.communes++;
      }
    }
    const char* upsert_agency =
        "INSERT INTO agencies (code, name, kind, unit_code, parent_code) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, unit_code = excluded.unit_code, "
        "parent_code = excluded.parent_code";
    std::string root;
    for (const auto& row : agency_rows) {
      if (row[3].empty()) root = row[0];
      TL_ASSIGN_OR_RETURN(auto n, s.Exec(upsert_agency, {row[0], text::CleanText(row[1]), row[2], city_code_,
                                                         row[3].empty() ? storage::Null() : storage::Value(row[3])}));
      (void)n;
      report.agencies++;
    }
    if (root.empty()) return InvalidArgument("the agencies file has no root agency", agencies_path);
    // Every process's jurisdiction cache notices the change by this revision.
    TL_ASSIGN_OR_RETURN(auto bumped, s.Exec("UPDATE admin_units_revision SET revision = revision + 1 WHERE id = 1"));
    (void)bumped;
    // Each commune of the city gets its People's Committee (UBND xã/phường), under the city's.
    TL_ASSIGN_OR_RETURN(auto communes,
                        s.Query("SELECT code, name FROM admin_units WHERE parent_code = ? ORDER BY code", {city_code_}));
    for (const auto& r : communes.rows) {
      TL_ASSIGN_OR_RETURN(auto n, s.Exec(upsert_agency, {"UBND" + r.Text(0), "Ủy ban nhân dân " + r.Text(1),
                                                         std::string("commune_committee"), r.Text(0), root}));
      (void)n;
      report.agencies++;
    }
    return Status::Ok();
  }));
  return report;
}

Result<std::vector<Unit>> AdminUnitService::List(const std::optional<std::string>& parent) const {
  std::vector<Unit> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    storage::ResultSet rs;
    if (parent) {
      TL_ASSIGN_OR_RETURN(rs, s.Query(std::string("SELECT ") + kUnitColumns +
                                          " FROM admin_units WHERE parent_code = ? ORDER BY code",
                                      {*parent}));
      if (rs.empty()) {
        TL_ASSIGN_OR_RETURN(auto exists, s.Query("SELECT 1 FROM admin_units WHERE code = ?", {*parent}));
        if (exists.empty()) return NotFound("no administrative unit with code " + *parent);
      }
    } else {
      TL_ASSIGN_OR_RETURN(rs, s.Query(std::string("SELECT ") + kUnitColumns +
                                      " FROM admin_units WHERE level = 1 ORDER BY code"));
    }
    for (const auto& r : rs.rows) out.push_back(UnitFromRow(r));
    return Status::Ok();
  }));
  return out;
}

Result<std::pair<Unit, std::vector<Predecessor>>> AdminUnitService::Get(const std::string& code) const {
  std::pair<Unit, std::vector<Predecessor>> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kUnitColumns + " FROM admin_units WHERE code = ?",
                                         {code}));
    if (rs.empty()) return NotFound("no administrative unit with code " + code);
    out.first = UnitFromRow(rs.rows[0]);
    TL_ASSIGN_OR_RETURN(auto ps, s.Query("SELECT old_code, old_name, merge_type FROM admin_unit_predecessors "
                                         "WHERE unit_code = ? ORDER BY old_code",
                                         {code}));
    for (const auto& r : ps.rows) out.second.push_back({r.Text(0), r.Text(1), r.Text(2)});
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<ResolveMatch>> AdminUnitService::Resolve(const std::string& name,
                                                            const std::optional<std::string>& province) const {
  std::string folded = text::FoldForSearch(text::Trim(name));
  if (folded.empty()) return InvalidArgument("is required", "name");
  std::vector<ResolveMatch> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    std::string unit_cols = "u.code, u.name, u.kind, u.level, u.parent_code, u.valid_from";
    std::string filter = province ? " AND (u.parent_code = ? OR u.code = ?)" : "";
    std::vector<storage::Value> params{folded, folded};
    if (province) {
      params.emplace_back(*province);
      params.emplace_back(*province);
    }
    TL_ASSIGN_OR_RETURN(auto cur, s.QueryV("SELECT " + unit_cols + " FROM admin_units u WHERE (u.name_folded = ? OR "
                                           "u.name_key = ?)" + filter + " ORDER BY u.level, u.code",
                                           params));
    for (const auto& r : cur.rows) out.push_back({UnitFromRow(r), std::nullopt});
    TL_ASSIGN_OR_RETURN(auto old, s.QueryV("SELECT " + unit_cols +
                                               ", p.old_code, p.old_name, p.merge_type FROM admin_unit_predecessors p "
                                               "JOIN admin_units u ON u.code = p.unit_code WHERE (p.old_name_folded = ? "
                                               "OR p.old_name_key = ?)" + filter +
                                               " ORDER BY CASE WHEN p.merge_type = 'full' THEN 0 ELSE 1 END, u.code",
                                           params));
    for (const auto& r : old.rows) {
      out.push_back({UnitFromRow(r), Predecessor{r.Text(6), r.Text(7), r.Text(8)}});
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Agency>> AdminUnitService::ListAgencies(const std::optional<std::string>& unit,
                                                           const std::optional<std::string>& kind) const {
  std::vector<Agency> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    std::string sql = "SELECT code, name, kind, unit_code, parent_code FROM agencies WHERE 1 = 1";
    std::vector<storage::Value> params;
    if (unit) {
      sql += " AND unit_code = ?";
      params.emplace_back(*unit);
    }
    if (kind) {
      sql += " AND kind = ?";
      params.emplace_back(*kind);
    }
    sql += " ORDER BY CASE kind WHEN 'city_committee' THEN 0 WHEN 'service_center' THEN 1 WHEN 'department' THEN 2 "
           "ELSE 3 END, code";
    TL_ASSIGN_OR_RETURN(auto rs, s.QueryV(sql, params));
    for (const auto& r : rs.rows) out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.OptText(4)});
    return Status::Ok();
  }));
  return out;
}

Result<Agency> AdminUnitService::GetAgency(const std::string& code) const {
  Agency a;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT code, name, kind, unit_code, parent_code FROM agencies WHERE code = ?",
                                         {code}));
    if (rs.empty()) return NotFound("no agency with code " + code);
    const auto& r = rs.rows[0];
    a = {r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.OptText(4)};
    return Status::Ok();
  }));
  return a;
}

Result<Jurisdiction> AdminUnitService::JurisdictionOf(storage::Session& s, const std::string& agency_code) const {
  // One single-row read tells whether the cached answer is still the database's: units and agencies
  // change only by import, which bumps the revision in its transaction.
  TL_ASSIGN_OR_RETURN(auto rev, s.Query("SELECT revision FROM admin_units_revision WHERE id = 1"));
  int64_t revision = rev.empty() ? -1 : rev.rows[0].Int(0);
  {
    std::lock_guard lock(jurisdiction_mu_);
    if (jurisdiction_revision_ != revision) {
      jurisdiction_cache_.clear();
      jurisdiction_revision_ = revision;
    }
    auto it = jurisdiction_cache_.find(agency_code);
    if (it != jurisdiction_cache_.end()) return it->second;
  }
  TL_ASSIGN_OR_RETURN(auto j, ComputeJurisdiction(s, agency_code));
  std::lock_guard lock(jurisdiction_mu_);
  if (jurisdiction_revision_ == revision && jurisdiction_cache_.size() < 10000) jurisdiction_cache_[agency_code] = j;
  return j;
}

Result<Jurisdiction> AdminUnitService::ComputeJurisdiction(storage::Session& s, const std::string& agency_code) const {
  Jurisdiction j;
  // The agency and every agency under it, walked down the parent links by the database.
  TL_ASSIGN_OR_RETURN(auto tree, s.Query("WITH RECURSIVE sub (code, unit_code, kind, depth) AS ("
                                         "SELECT code, unit_code, kind, 0 FROM agencies WHERE code = ? "
                                         "UNION ALL SELECT a.code, a.unit_code, a.kind, sub.depth + 1 FROM agencies a "
                                         "JOIN sub ON a.parent_code = sub.code) "
                                         "SELECT code, unit_code, kind FROM sub ORDER BY depth, code",
                                         {agency_code}));
  if (tree.empty()) return NotFound("no agency with code " + agency_code);
  if (tree.rows[0].Text(2) == "city_committee") j.city_wide = true;
  std::vector<std::string> unit_roots;
  for (const auto& r : tree.rows) {
    j.agencies.push_back(r.Text(0));
    unit_roots.push_back(r.Text(1));
  }
  std::sort(unit_roots.begin(), unit_roots.end());
  unit_roots.erase(std::unique(unit_roots.begin(), unit_roots.end()), unit_roots.end());
  for (const auto& u : unit_roots) {
    j.units.push_back(u);
    TL_ASSIGN_OR_RETURN(auto kids, s.Query("SELECT code FROM admin_units WHERE parent_code = ?", {u}));
    for (const auto& k : kids.rows) j.units.push_back(k.Text(0));
  }
  std::sort(j.units.begin(), j.units.end());
  j.units.erase(std::unique(j.units.begin(), j.units.end()), j.units.end());
  return j;
}

std::vector<http::Route> Routes(const AdminUnitService* svc) {
  using http::Access;
  using http::Method;
  const std::string unit_schema =
      R"({"type":"object","properties":{"code":{"type":"string"},"name":{"type":"string"},"kind":{"type":"string"},"level":{"type":"integer"},"parent_code":{"type":["string","null"]},"valid_from":{"type":"string"}}})";
  std::vector<http::Route> routes;
  routes.push_back(
      {Method::kGet, "/api/v1/admin-units", Access::Public(),
       [svc](http::Request& req) -> Result<http::Response> {
         TL_ASSIGN_OR_RETURN(auto units, svc->List(req.Query("parent")));
         nlohmann::json items = nlohmann::json::array();
         for (const auto& u : units) items.push_back(UnitJson(u));
         return http::Response::Json(200, nlohmann::json{{"items", items}}.dump());
       },
       {"List provinces, or the units under `parent` (e.g. parent=01 gives Hà Nội's 126 communes and wards)",
        "admin-units",
        {{"parent", "query", "Code of the parent unit"}},
        "",
        R"({"type":"object","properties":{"items":{"type":"array","items":)" + unit_schema + "}}}"}});
  routes.push_back(
      {Method::kGet, "/api/v1/admin-units/resolve", Access::Public(),
       [svc](http::Request& req) -> Result<http::Response> {
         auto name = req.Query("name");
         if (!name) return InvalidArgument("is required", "name");
         TL_ASSIGN_OR_RETURN(auto matches, svc->Resolve(*name, req.Query("province")));
         nlohmann::json items = nlohmann::json::array();
         for (const auto& m : matches) {
           nlohmann::json via = nullptr;
           if (m.via) via = {{"code", m.via->code}, {"name", m.via->name}, {"type", m.via->type}};
           items.push_back({{"unit", UnitJson(m.unit)}, {"via", via}});
         }
         return http::Response::Json(200, nlohmann::json{{"query", *name}, {"matches", items}}.dump());
       },
       {"Resolve a current or pre-2025 unit name (with or without diacritics) to the current unit(s)",
        "admin-units",
        {{"name", "query", "Unit name, e.g. 'Phường Trúc Bạch'", true}, {"province", "query", "Restrict to a province code"}},
        "",
        R"({"type":"object","properties":{"query":{"type":"string"},"matches":{"type":"array"}}})"}});
  routes.push_back(
      {Method::kGet, "/api/v1/admin-units/{code}", Access::Public(),
       [svc](http::Request& req) -> Result<http::Response> {
         TL_ASSIGN_OR_RETURN(auto got, svc->Get(req.Param("code")));
         auto j = UnitJson(got.first);
         j["predecessors"] = nlohmann::json::array();
         for (const auto& p : got.second) {
           j["predecessors"].push_back({{"code", p.code}, {"name", p.name}, {"type", p.type}});
         }
         return http::Response::Json(200, j.dump());
       },
       {"One unit with the pre-reform units it was formed from", "admin-units", {{"code", "path", "Unit code"}}, "",
        unit_schema}});
  routes.push_back(
      {Method::kGet, "/api/v1/agencies", Access::Public(),
       [svc](http::Request& req) -> Result<http::Response> {
         TL_ASSIGN_OR_RETURN(auto agencies, svc->ListAgencies(req.Query("unit"), req.Query("kind")));
         nlohmann::json items = nlohmann::json::array();
         for (const auto& a : agencies) items.push_back(AgencyJson(a));
         return http::Response::Json(200, nlohmann::json{{"items", items}}.dump());
       },
       {"List agencies: the city's People's Committee, its service center, departments and commune committees",
        "agencies",
        {{"unit", "query", "Only agencies serving this unit"},
         {"kind", "query", "city_committee, service_center, department or commune_committee"}},
        "",
        R"({"type":"object","properties":{"items":{"type":"array"}}})"}});
  routes.push_back({Method::kGet, "/api/v1/agencies/{code}", Access::Public(),
                    [svc](http::Request& req) -> Result<http::Response> {
                      TL_ASSIGN_OR_RETURN(auto a, svc->GetAgency(req.Param("code")));
                      return http::Response::Json(200, AgencyJson(a).dump());
                    },
                    {"One agency", "agencies", {{"code", "path", "Agency code"}}, "",
                     R"({"type":"object","properties":{"code":{"type":"string"},"name":{"type":"string"}}})"}});
  return routes;
}

}  // namespace tl::admin_units
