// Data services and grants (chia sẻ dữ liệu): deny by default.
//
// A provider module publishes data services — a code, the providing agency, a title and the field
// groups it offers (e.g. "registry.person": basic, residence, relations, household). Another agency
// reads through a service only under a grant naming the consumer agency, the service, the field
// groups, the legal basis, the purpose and an expiry; city admins create and revoke grants. Check()
// answers the field groups an agency may read now (the union of its live grants) or
// PermissionDenied; the provider then returns only those groups. Services are stored (upserted at
// start-up by src/app), so every process and the admin pages see the same list.
//
// Thread-safety: safe to share; all state is in the database.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "http/http.h"
#include "modules/audit/audit_log.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::exchange {

struct DataService {
  std::string code;             // "registry.person"
  std::string provider_agency;  // "CA01" (the city police, keeper of the population data)
  std::string title;            // "Thông tin công dân"
  std::vector<std::string> fields;  // field groups offered
};

struct NewGrant {
  std::string consumer_agency;
  std::string service;
  std::vector<std::string> fields;
  std::string legal_basis;
  std::string purpose;
  int64_t expires_at_ms = 0;
};

class Grants {
 public:
  Grants(storage::Database* db, const Clock* clock, const audit::AuditLog* audit)
      : db_(db), clock_(clock), audit_(audit) {}
  static std::vector<storage::Migration> Migrations();

  Status Publish(const DataService& s) const;
  Result<nlohmann::json> Services() const;

  Result<nlohmann::json> Create(const NewGrant& g, const audit::Entry& ctx) const;
  Result<nlohmann::json> List() const;
  Status Revoke(int64_t id, const audit::Entry& ctx) const;

  // The field groups of `service` that `agency` may read now; PermissionDenied when none.
  Result<std::set<std::string>> Check(storage::Session& s, const std::string& agency, const std::string& service) const;

 private:
  storage::Database* db_;
  const Clock* clock_;
  const audit::AuditLog* audit_;
};

std::vector<http::Route> GrantRoutes(Grants* grants);

}  // namespace tl::exchange
