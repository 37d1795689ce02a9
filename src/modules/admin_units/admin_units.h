// Administrative units (đơn vị hành chính) and the agencies that serve them.
//
// Units are modelled generically: a code, a name, a kind (tỉnh, thành phố, phường, xã, đặc khu), a
// level (1 province, 2 commune since the two-level reform of 2025-07-01), a parent and validity
// dates, plus the pre-reform units each was formed from (full or partial), so an address written
// with an old unit resolves to the current one. Agencies (cơ quan) are the city's People's
// Committee, its Public Administration Service Center, its departments (Sở) and each commune's
// People's Committee, in a tree; an official's jurisdiction is their agency, the agencies under it,
// and the units those agencies serve.
//
// Thread-safety: safe to share; the only state is a cache of jurisdictions by agency, under a mutex and
// checked against the revision of units and agencies stored in the database on every use.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "http/http.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::admin_units {

struct Unit {
  std::string code;
  std::string name;
  std::string kind;
  int level = 0;
  std::optional<std::string> parent_code;
  std::string valid_from;
};

struct Predecessor {
  std::string code;
  std::string name;
  std::string type;  // full | partial
};

struct Agency {
  std::string code;
  std::string name;
  std::string kind;  // city_committee | service_center | department | commune_committee
  std::string unit_code;
  std::optional<std::string> parent_code;
};

struct Jurisdiction {
  std::vector<std::string> agencies;
  std::vector<std::string> units;
  bool city_wide = false;
};

struct ResolveMatch {
  Unit unit;
  std::optional<Predecessor> via;  // nullopt: the name is the unit's current name
};

struct ImportReport {
  int provinces = 0;
  int communes = 0;
  int predecessors = 0;
  int agencies = 0;
};

class AdminUnitService {
 public:
  explicit AdminUnitService(storage::Database* db, std::string city_code = "01")
      : db_(db), city_code_(std::move(city_code)) {}

  static std::vector<storage::Migration> Migrations();

  // Imports units from the dvhcvn merges JSON and agencies from the CSV; idempotent (upserts).
  Result<ImportReport> Import(const std::string& merges_json_path, const std::string& agencies_csv_path);
  Result<bool> IsEmpty() const;

  Result<std::vector<Unit>> List(const std::optional<std::string>& parent) const;
  Result<std::pair<Unit, std::vector<Predecessor>>> Get(const std::string& code) const;
  Result<std::vector<ResolveMatch>> Resolve(const std::string& name, const std::optional<std::string>& province) const;

  Result<std::vector<Agency>> ListAgencies(const std::optional<std::string>& unit,
                                           const std::optional<std::string>& kind) const;
  Result<Agency> GetAgency(const std::string& code) const;
  Result<Jurisdiction> JurisdictionOf(storage::Session& s, const std::string& agency_code) const;

  const std::string& city_code() const { return city_code_; }

 private:
  Result<Jurisdiction> ComputeJurisdiction(storage::Session& s, const std::string& agency_code) const;

  storage::Database* db_;
  std::string city_code_;
  // Jurisdictions by agency code, valid for one revision of units and agencies (admin_units_revision).
  mutable std::mutex jurisdiction_mu_;
  mutable int64_t jurisdiction_revision_ = -2;
  mutable std::map<std::string, Jurisdiction> jurisdiction_cache_;
};

std::vector<http::Route> Routes(const AdminUnitService* service);

// "Phường Ba Đình" -> "phường"; "Thành phố Hà Nội" -> "thành phố".
std::string KindFromName(const std::string& name);

}  // namespace tl::admin_units
