#include "modules/identity/identity.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "core/personal_id.h"
#include "core/text.h"
#include "http/json_body.h"

namespace tl::identity {
namespace {

constexpr const char* kUserColumns =
    "id, username, full_name, role, agency_code, personal_id, tax_code, phone, disabled, created_at";

User UserFromRow(const storage::Row& r) {
  User u;
  u.id = r.Int(0);
  u.username = r.Text(1);
  u.full_name = r.Text(2);
  u.role = r.Text(3);
  u.agency_code = r.OptText(4);
  u.personal_id = r.OptText(5);
  u.tax_code = r.OptText(6);
  u.phone = r.OptText(7);
  u.disabled = r.Int(8) != 0;
  u.created_at = r.Text(9);
  return u;
}

nlohmann::json UserJson(const User& u) {
  auto opt = [](const std::optional<std::string>& s) { return s ? nlohmann::json(*s) : nlohmann::json(nullptr); };
  return {{"username", u.username},       {"full_name", u.full_name}, {"role", u.role},
          {"agency_code", opt(u.agency_code)}, {"personal_id", opt(u.personal_id)}, {"tax_code", opt(u.tax_code)},
          {"phone", opt(u.phone)},        {"disabled", u.disabled},   {"created_at", u.created_at}};
}

Status ValidateUsername(const std::string& u) {
  if (u.size() < 3 || u.size() > 64) return InvalidArgument("must be 3-64 characters", "username");
  for (char c : u) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return InvalidArgument("may hold only a-z, 0-9, '.', '_' and '-'", "username");
  }
  return Status::Ok();
}

Status ValidatePassword(const std::string& p, std::string_view field = "password") {
  long n = text::CodePointCount(p);
  if (n < 10) return InvalidArgument("must be at least 10 characters", std::string(field));
  if (p.size() > 256) return InvalidArgument("must be at most 256 bytes", std::string(field));
  return Status::Ok();
}

int CurrentYear(const Clock* clock) { return std::stoi(FormatDate(clock->NowMillis()).substr(0, 4)); }

}  // namespace

bool IsOfficialRole(std::string_view role) {
  return role == "desk_officer" || role == "specialist" || role == "leader" || role == "agency_admin" ||
         role == "city_admin" || role == "operator";
}

Actor Actor::Cli(const std::string& os_user) {
  Actor a;
  a.context.actor = "cli:" + os_user;
  a.context.client_ip = "local";
  a.context.request_id = crypto::RandomToken(12);
  return a;
}

Actor Actor::FromRequest(const http::Request& req) {
  Actor a;
  a.principal = req.principal;
  a.context = audit::EntryFor(req, "", "");
  return a;
}

std::vector<storage::Migration> IdentityService::Migrations() {
  return {{320, "one organisation account per tax code",
           // An organisation account sees who read its organisation's data: one account per tax code,
           // first come (as one citizen account per personal id), enforced here against races too.
           "CREATE UNIQUE INDEX users_organisation_tax_code ON users (tax_code) WHERE role = 'organisation';"},
          {310, "API keys for other agencies' systems",
           "CREATE TABLE api_keys (id {{ID}}, key_hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL, "
           "agency_code TEXT NOT NULL REFERENCES agencies(code), scopes TEXT NOT NULL, created_by TEXT NOT NULL, "
           "created_at BIGINT NOT NULL, revoked_at BIGINT);"},
          {300, "users, sessions and login throttling",
           "CREATE TABLE users (id {{ID}}, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, "
           "role TEXT NOT NULL, full_name TEXT NOT NULL, agency_code TEXT REFERENCES agencies(code), "
           "personal_id TEXT UNIQUE, tax_code TEXT, phone TEXT, disabled INTEGER NOT NULL DEFAULT 0, "
           "created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
           "CREATE INDEX users_agency ON users (agency_code);"
           "CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id), "
           "created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, revoked_at BIGINT, client_ip TEXT NOT NULL);"
           "CREATE INDEX sessions_user ON sessions (user_id);"
           "CREATE TABLE login_throttle (throttle_key TEXT PRIMARY KEY, window_start BIGINT NOT NULL, "
           "failures INTEGER NOT NULL);"}};
}

Status IdentityService::ValidateNewUser(const NewUser& spec) const {
  TL_RETURN_IF_ERROR(ValidateUsername(spec.username));
  if (spec.without_password) {
    if (!spec.password.empty()) return InvalidArgument("must be empty for an account without a password", "password");
  } else {
    TL_RETURN_IF_ERROR(ValidatePassword(spec.password));
  }
  if (std::find(kRoles.begin(), kRoles.end(), spec.role) == kRoles.end()) {
    return http::OneOf(spec.role,
                       {"citizen", "organisation", "desk_officer", "specialist", "leader", "agency_admin", "city_admin",
                        "operator"},
                       "role");
  }
  if (text::Trim(spec.full_name).empty()) return InvalidArgument("is required", "full_name");
  if (text::CodePointCount(spec.full_name) > 200) return InvalidArgument("must be at most 200 characters", "full_name");
  if (spec.role == "citizen") {
    if (!spec.personal_id) return InvalidArgument("a citizen account needs a personal identification number", "personal_id");
    TL_ASSIGN_OR_RETURN(auto info, ValidatePersonalId(*spec.personal_id, CurrentYear(clock_)));
    (void)info;
  } else if (spec.personal_id) {
    TL_ASSIGN_OR_RETURN(auto info, ValidatePersonalId(*spec.personal_id, CurrentYear(clock_)));
    (void)info;
  }
  if (spec.role == "organisation" && !spec.tax_code) {
    return InvalidArgument("an organisation account needs a tax code", "tax_code");
  }
  if (spec.tax_code) TL_RETURN_IF_ERROR(ValidateTaxCode(*spec.tax_code));
  if (spec.phone) TL_RETURN_IF_ERROR(ValidatePhone(*spec.phone));
  bool needs_agency = IsOfficialRole(spec.role) && spec.role != "city_admin";
  if (needs_agency && !spec.agency_code) return InvalidArgument("an official belongs to an agency", "agency_code");
  if (!IsOfficialRole(spec.role) && spec.agency_code) {
    return InvalidArgument("only officials belong to an agency", "agency_code");
  }
  return Status::Ok();
}

Status IdentityService::CheckManage(const Actor& actor, const std::string& role,
                                    const std::optional<std::string>& agency) const {
  if (!actor.principal) return Status::Ok();  // command line operator
  const auto& p = *actor.principal;
  if (p.role == "city_admin") return Status::Ok();
  if (p.role != "agency_admin") return PermissionDenied("only city and agency admins manage accounts");
  if (!IsOfficialRole(role) || role == "city_admin") {
    return PermissionDenied("an agency admin manages only officials of their agencies");
  }
  if (!agency || !p.CoversAgency(*agency)) {
    return PermissionDenied("the agency " + agency.value_or("(none)") + " is outside your jurisdiction");
  }
  return Status::Ok();
}

Result<User> IdentityService::CreateUser(const Actor& actor, const NewUser& spec) {
  TL_RETURN_IF_ERROR(ValidateNewUser(spec));
  TL_RETURN_IF_ERROR(CheckManage(actor, spec.role, spec.agency_code));
  std::string hash = kNoPassword;
  if (!spec.without_password) {
    TL_ASSIGN_OR_RETURN(hash, crypto::HashPassword(spec.password, options_.password_cost));
  }
  User created;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    if (spec.agency_code) {
      TL_ASSIGN_OR_RETURN(auto a, s.Query("SELECT 1 FROM agencies WHERE code = ?", {*spec.agency_code}));
      if (a.empty()) return InvalidArgument("no agency with code " + *spec.agency_code, "agency_code");
    }
    TL_ASSIGN_OR_RETURN(auto existing, s.Query("SELECT 1 FROM users WHERE username = ?", {spec.username}));
    if (!existing.empty()) return AlreadyExists("the username '" + spec.username + "' is taken", "username");
    if (spec.personal_id) {
      TL_ASSIGN_OR_RETURN(auto pid, s.Query("SELECT 1 FROM users WHERE personal_id = ?", {*spec.personal_id}));
      if (!pid.empty()) return AlreadyExists("an account with this personal identification number exists", "personal_id");
    }
    if (spec.role == "organisation" && spec.tax_code) {
      TL_ASSIGN_OR_RETURN(auto org, s.Query("SELECT 1 FROM users WHERE role = 'organisation' AND tax_code = ?",
                                            {*spec.tax_code}));
      if (!org.empty()) return AlreadyExists("an organisation account with this tax code exists", "tax_code");
    }
    std::string now = FormatRfc3339(clock_->NowMillis());
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("INSERT INTO users (username, password_hash, role, full_name, "
                                                     "agency_code, personal_id, tax_code, phone, disabled, created_at, "
                                                     "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING ") +
                                             kUserColumns,
                                         {spec.username, hash, spec.role, spec.full_name,
                                          storage::OptText(spec.agency_code), storage::OptText(spec.personal_id),
                                          storage::OptText(spec.tax_code), storage::OptText(spec.phone), now, now}));
    created = UserFromRow(rs.rows.at(0));
    audit::Entry e = actor.context;
    e.action = "user.create";
    e.resource = "user:" + spec.username;
    e.detail = nlohmann::json{{"role", spec.role}, {"agency_code", spec.agency_code.value_or("")}}.dump();
    return audit_->Append(s, e);
  }));
  return created;
}

Status IdentityService::ResetPassword(const Actor& actor, const std::string& username, const std::string& password) {
  TL_RETURN_IF_ERROR(ValidatePassword(password));
  TL_ASSIGN_OR_RETURN(std::string hash, crypto::HashPassword(password, options_.password_cost));
  return WriteForgettingPrincipals([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT id, role, agency_code FROM users WHERE username = ?", {username}));
    if (rs.empty()) return NotFound("no user '" + username + "'");
    TL_RETURN_IF_ERROR(CheckManage(actor, rs.rows[0].Text(1), rs.rows[0].OptText(2)));
    int64_t id = rs.rows[0].Int(0);
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
                                       {hash, FormatRfc3339(clock_->NowMillis()), id}));
    (void)n;
    TL_ASSIGN_OR_RETURN(auto m, s.Exec("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                                       {clock_->NowMillis(), id}));
    (void)m;
    // A reset also clears the account's failed-login counter.
    TL_ASSIGN_OR_RETURN(auto k, s.Exec("DELETE FROM login_throttle WHERE throttle_key = ?", {"u:" + username}));
    (void)k;
    audit::Entry e = actor.context;
    e.action = "user.reset_password";
    e.resource = "user:" + username;
    return audit_->Append(s, e);
  });
}

Status IdentityService::ChangeOwnPassword(const Actor& actor, const std::string& current, const std::string& next) {
  if (!actor.principal) return Unauthenticated("log in first");
  TL_RETURN_IF_ERROR(ValidatePassword(next, "new_password"));
  std::string stored;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT password_hash FROM users WHERE id = ?", {actor.principal->user_id}));
    if (rs.empty()) return NotFound("account not found");
    stored = rs.rows[0].Text(0);
    return Status::Ok();
  }));
  if (!crypto::VerifyPassword(stored, current)) return InvalidArgument("the current password is wrong", "current_password");
  TL_ASSIGN_OR_RETURN(std::string hash, crypto::HashPassword(next, options_.password_cost));
  return WriteForgettingPrincipals([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
                                       {hash, FormatRfc3339(clock_->NowMillis()), actor.principal->user_id}));
    (void)n;
    TL_ASSIGN_OR_RETURN(auto m, s.Exec("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND token_hash <> ? AND "
                                       "revoked_at IS NULL",
                                       {clock_->NowMillis(), actor.principal->user_id, actor.principal->token_hash}));
    (void)m;
    audit::Entry e = actor.context;
    e.action = "user.change_password";
    e.resource = "user:" + actor.principal->username;
    return audit_->Append(s, e);
  });
}

Status IdentityService::SetDisabled(const Actor& actor, const std::string& username, bool disabled) {
  if (actor.principal && actor.principal->username == username && disabled) {
    return FailedPrecondition("you cannot disable your own account");
  }
  return WriteForgettingPrincipals([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT id, role, agency_code FROM users WHERE username = ?", {username}));
    if (rs.empty()) return NotFound("no user '" + username + "'");
    TL_RETURN_IF_ERROR(CheckManage(actor, rs.rows[0].Text(1), rs.rows[0].OptText(2)));
    int64_t id = rs.rows[0].Int(0);
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?",
                                       {int64_t{disabled ? 1 : 0}, FormatRfc3339(clock_->NowMillis()), id}));
    (void)n;
    if (disabled) {
      TL_ASSIGN_OR_RETURN(auto m, s.Exec("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                                         {clock_->NowMillis(), id}));
      (void)m;
    }
    audit::Entry e = actor.context;
    e.action = disabled ? "user.disable" : "user.enable";
    e.resource = "user:" + username;
    return audit_->Append(s, e);
  });
}

Result<std::vector<User>> IdentityService::ListUsers(const Actor& actor) const {
  if (actor.principal && actor.principal->role != "city_admin" && actor.principal->role != "agency_admin") {
    return PermissionDenied("only city and agency admins list accounts");
  }
  std::vector<User> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kUserColumns + " FROM users ORDER BY username"));
    for (const auto& r : rs.rows) {
      User u = UserFromRow(r);
      if (actor.principal && actor.principal->role == "agency_admin" &&
          (!u.agency_code || !actor.principal->CoversAgency(*u.agency_code))) {
        continue;
      }
      out.push_back(std::move(u));
    }
    return Status::Ok();
  }));
  return out;
}

Result<User> IdentityService::GetUser(const Actor& actor, const std::string& username) const {
  User u;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kUserColumns + " FROM users WHERE username = ?",
                                         {username}));
    if (rs.empty()) return NotFound("no user '" + username + "'");
    u = UserFromRow(rs.rows[0]);
    return Status::Ok();
  }));
  if (actor.principal && actor.principal->username != username) {
    TL_RETURN_IF_ERROR(CheckManage(actor, u.role, u.agency_code));
  }
  return u;
}

Result<bool> IdentityService::Throttled(const std::string& username, const std::string& client_ip) {
  bool throttled = false;
  int64_t now = clock_->NowMillis();
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT throttle_key, window_start, failures FROM login_throttle "
                                         "WHERE throttle_key IN (?, ?)",
                                         {"u:" + username, "ip:" + client_ip}));
    for (const auto& r : rs.rows) {
      if (now - r.Int(1) > options_.failure_window_ms) continue;
      int limit = r.Text(0).rfind("u:", 0) == 0 ? options_.max_failures_per_account : options_.max_failures_per_address;
      if (r.Int(2) >= limit) throttled = true;
    }
    return Status::Ok();
  }));
  return throttled;
}

Status IdentityService::RecordFailure(const std::string& username, const std::string& client_ip) {
  int64_t now = clock_->NowMillis();
  return db_->Write([&](storage::Session& s) -> Status {
    for (const std::string& key : {"u:" + username, "ip:" + client_ip}) {
      // Start a new window when the old one has passed; otherwise count on.
      TL_ASSIGN_OR_RETURN(
          auto n, s.Exec("INSERT INTO login_throttle (throttle_key, window_start, failures) VALUES (?, ?, 1) "
                         "ON CONFLICT (throttle_key) DO UPDATE SET "
                         "failures = CASE WHEN ? - login_throttle.window_start > ? THEN 1 ELSE login_throttle.failures + 1 END, "
                         "window_start = CASE WHEN ? - login_throttle.window_start > ? THEN ? ELSE login_throttle.window_start END",
                         {key, now, now, options_.failure_window_ms, now, options_.failure_window_ms, now}));
      (void)n;
    }
    audit::Entry e{username, "auth.login_failed", "user:" + username, client_ip, "", ""};
    return audit_->Append(s, e);
  });
}

Result<LoginResult> IdentityService::Login(const std::string& username, const std::string& password,
                                           const std::string& client_ip, const std::string& request_id) {
  TL_ASSIGN_OR_RETURN(bool throttled, Throttled(username, client_ip));
  if (throttled) {
    return ResourceExhausted("too many failed logins for this account or address; wait " +
                             std::to_string(options_.failure_window_ms / 60000) + " minutes or ask an admin");
  }
  std::optional<User> user;
  std::string hash;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kUserColumns + ", password_hash FROM users WHERE "
                                                     "username = ?",
                                         {username}));
    if (!rs.empty()) {
      user = UserFromRow(rs.rows[0]);
      hash = rs.rows[0].Text(10);
    }
    return Status::Ok();
  }));
  bool ok = false;
  if (user && hash != kNoPassword) {
    ok = crypto::VerifyPassword(hash, password);
  } else {
    // Spend the same time as a real check, so timing does not reveal which usernames exist (or which
    // accounts have no password).
    static const auto dummy = crypto::HashPassword("dummy password", options_.password_cost);
    if (dummy.ok()) (void)crypto::VerifyPassword(*dummy, password);
  }
  if (!ok || user->disabled) {
    TL_RETURN_IF_ERROR(RecordFailure(username, client_ip));
    return Unauthenticated("wrong username or password, or the account is disabled");
  }
  LoginResult result;
  result.token = crypto::RandomToken(32);
  result.expires_at_ms = clock_->NowMillis() + options_.token_ttl_ms;
  result.user = *user;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO sessions (token_hash, user_id, created_at, expires_at, client_ip) "
                                       "VALUES (?, ?, ?, ?, ?)",
                                       {crypto::Sha256Hex(result.token), user->id, clock_->NowMillis(),
                                        result.expires_at_ms, client_ip}));
    (void)n;
    TL_ASSIGN_OR_RETURN(auto m, s.Exec("DELETE FROM login_throttle WHERE throttle_key = ?", {"u:" + username}));
    (void)m;
    audit::Entry e{username, "auth.login", "user:" + username, client_ip, request_id, ""};
    return audit_->Append(s, e);
  }));
  return result;
}

Status IdentityService::Logout(const Actor& actor) {
  if (!actor.principal) return Unauthenticated("not logged in");
  return WriteForgettingPrincipals([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("UPDATE sessions SET revoked_at = ? WHERE token_hash = ?",
                                       {clock_->NowMillis(), actor.principal->token_hash}));
    (void)n;
    audit::Entry e = actor.context;
    e.action = "auth.logout";
    e.resource = "user:" + actor.principal->username;
    return audit_->Append(s, e);
  });
}

namespace {

// registry.read: the population registry under the agency's grants; ngsild.read / ngsild.write: the
// NGSI-LD API of the operations center (devices and partner systems).
constexpr const char* kScopes[] = {"registry.read", "ngsild.read", "ngsild.write"};

}  // namespace

Result<std::pair<ApiKey, std::string>> IdentityService::CreateApiKey(const Actor& actor, const std::string& name,
                                                                     const std::string& agency,
                                                                     std::vector<std::string> scopes) {
  if (actor.principal && actor.principal->role != "city_admin") return PermissionDenied("only city admins create API keys");
  std::string clean = text::CleanText(name);
  if (clean.empty() || text::CodePointCount(clean) > 100) return InvalidArgument("name the system (1-100 characters)", "name");
  if (scopes.empty()) return InvalidArgument("give at least one scope: registry.read, ngsild.read, ngsild.write", "scope");
  for (const auto& sc : scopes) {
    if (std::find(std::begin(kScopes), std::end(kScopes), sc) == std::end(kScopes)) {
      return InvalidArgument("unknown scope '" + sc + "'; known: registry.read, ngsild.read, ngsild.write", "scope");
    }
  }
  TL_ASSIGN_OR_RETURN(auto a, units_->GetAgency(agency));
  (void)a;
  std::string secret = "tlk_" + crypto::RandomToken(32);
  int64_t now = clock_->NowMillis();
  ApiKey key;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("INSERT INTO api_keys (key_hash, name, agency_code, scopes, created_by, created_at) "
                                         "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                         {crypto::Sha256Hex(secret), clean, agency, text::Join(scopes),
                                          actor.context.actor, now}));
    key.id = rs.rows.at(0).Int(0);
    audit::Entry e = actor.context;
    e.action = "api_key.create";
    e.resource = "api_key:" + std::to_string(key.id);
    e.detail = nlohmann::json{{"agency", agency}, {"scopes", scopes}, {"name", clean}}.dump();
    return audit_->Append(s, e);
  }));
  key.name = clean;
  key.agency_code = agency;
  key.scopes = std::move(scopes);
  key.created_at = FormatRfc3339(now);
  return std::make_pair(std::move(key), std::move(secret));
}

Result<std::vector<ApiKey>> IdentityService::ListApiKeys() const {
  std::vector<ApiKey> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT id, name, agency_code, scopes, created_at, revoked_at FROM api_keys "
                                         "ORDER BY id"));
    for (const auto& r : rs.rows) {
      ApiKey k;
      k.id = r.Int(0);
      k.name = r.Text(1);
      k.agency_code = r.Text(2);
      k.scopes = text::Split(r.Text(3));
      k.created_at = FormatRfc3339(r.Int(4));
      if (!r.IsNull(5)) k.revoked_at = FormatRfc3339(r.Int(5));
      out.push_back(std::move(k));
    }
    return Status::Ok();
  }));
  return out;
}

Status IdentityService::RevokeApiKey(const Actor& actor, int64_t id) {
  if (actor.principal && actor.principal->role != "city_admin") return PermissionDenied("only city admins revoke API keys");
  return WriteForgettingPrincipals([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                                       {clock_->NowMillis(), id}));
    if (n != 1) return NotFound("no such live API key");
    audit::Entry e = actor.context;
    e.action = "api_key.revoke";
    e.resource = "api_key:" + std::to_string(id);
    return audit_->Append(s, e);
  });
}

Result<http::Principal> IdentityService::AuthenticateApiKey(const std::string& key_hash) {
  http::Principal p;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT id, name, agency_code, scopes, revoked_at FROM api_keys WHERE key_hash = ?",
                                         {key_hash}));
    if (rs.empty()) return Unauthenticated("unknown API key");
    const auto& r = rs.rows[0];
    if (!r.IsNull(4)) return Unauthenticated("this API key was revoked");
    p.user_id = 0;
    p.username = "key:" + std::to_string(r.Int(0));
    p.full_name = r.Text(1);
    p.role = "integration";
    p.agency = r.Text(2);
    p.scopes = text::Split(r.Text(3));
    return Status::Ok();
  }));
  return p;
}

Result<http::Principal> IdentityService::AuthenticateSession(const std::string& token_hash, int64_t& expires_at) {
  http::Principal p;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT s.expires_at, s.revoked_at, u.id, u.username, u.full_name, u.role, "
                                         "u.agency_code, u.disabled, u.personal_id, u.tax_code FROM sessions s JOIN users u ON u.id = s.user_id "
                                         "WHERE s.token_hash = ?",
                                         {token_hash}));
    if (rs.empty()) return Unauthenticated("unknown bearer token; log in again");
    const auto& r = rs.rows[0];
    if (!r.IsNull(1)) return Unauthenticated("this token was revoked (logged out); log in again");
    if (r.Int(0) <= clock_->NowMillis()) return Unauthenticated("this token has expired; log in again");
    if (r.Int(7) != 0) return Unauthenticated("this account is disabled");
    expires_at = r.Int(0);
    p.user_id = r.Int(2);
    p.username = r.Text(3);
    p.full_name = r.Text(4);
    p.role = r.Text(5);
    p.agency = r.OptText(6);
    p.personal_id = r.OptText(8);
    if (p.role == "organisation") p.tax_code = r.OptText(9);
    p.token_hash = token_hash;
    if (p.role == "city_admin") p.city_wide = true;
    if (p.agency) {
      TL_ASSIGN_OR_RETURN(auto j, units_->JurisdictionOf(s, *p.agency));
      p.agencies_in_jurisdiction = std::move(j.agencies);
      p.units_in_jurisdiction = std::move(j.units);
      p.city_wide = p.city_wide || j.city_wide;
    }
    return Status::Ok();
  }));
  return p;
}

Result<http::Principal> IdentityService::Authenticate(std::string_view token) {
  if (token.empty() || token.size() > 128) return Unauthenticated("malformed bearer token");
  std::string token_hash = crypto::Sha256Hex(token);
  const bool caching = options_.principal_cache_ms > 0;
  int64_t now = clock_->NowMillis();
  uint64_t generation = 0;
  if (caching) {
    std::lock_guard lock(cache_mu_);
    auto it = principal_cache_.find(token_hash);
    if (it != principal_cache_.end()) {
      if (now < it->second.valid_until) return it->second.principal;
      principal_cache_.erase(it);
    }
    generation = cache_generation_;
  }
  int64_t valid_until = now + options_.principal_cache_ms;
  http::Principal p;
  if (token.rfind("tlk_", 0) == 0) {
    TL_ASSIGN_OR_RETURN(p, AuthenticateApiKey(token_hash));
  } else {
    int64_t expires_at = 0;
    TL_ASSIGN_OR_RETURN(p, AuthenticateSession(token_hash, expires_at));
    valid_until = std::min(valid_until, expires_at);
  }
  if (caching) {
    std::lock_guard lock(cache_mu_);
    // A write that ended or changed principals while this one was read: the read may predate it.
    if (generation == cache_generation_) {
      if (principal_cache_.size() >= kMaxCachedPrincipals) {
        // Full: drop what expired, and everything if that was not enough (a second's worth of
        // distinct tokens is far fewer; each entry is a few hundred bytes to a few KiB).
        std::erase_if(principal_cache_, [&](const auto& kv) { return kv.second.valid_until <= now; });
        if (principal_cache_.size() >= kMaxCachedPrincipals) principal_cache_.clear();
      }
      principal_cache_.insert_or_assign(token_hash, CachedPrincipal{p, valid_until});
    }
  }
  return p;
}

Status IdentityService::WriteForgettingPrincipals(const storage::Database::Work& work) {
  Status st = db_->Write(work);
  ForgetPrincipals();  // sessions or accounts changed: nobody keeps a principal read before
  return st;
}

void IdentityService::ForgetPrincipals() {
  std::lock_guard lock(cache_mu_);
  ++cache_generation_;
  principal_cache_.clear();
}

// ---- HTTP routes ----

namespace {

Result<NewUser> ParseNewUser(const http::Request& req, bool self_registration) {
  TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"username", "password", "role", "full_name", "agency_code",
                                                             "personal_id", "tax_code", "phone"}));
  NewUser u;
  TL_ASSIGN_OR_RETURN(u.username, body.String("username", 64));
  TL_ASSIGN_OR_RETURN(u.password, body.String("password", 256));
  TL_ASSIGN_OR_RETURN(u.full_name, body.String("full_name", 200));
  TL_ASSIGN_OR_RETURN(auto role, body.OptionalString("role", 32));
  u.role = role.value_or("citizen");
  if (self_registration) {
    TL_RETURN_IF_ERROR(http::OneOf(u.role, {"citizen", "organisation"}, "role"));
    if (body.Has("agency_code")) return InvalidArgument("self-registered accounts belong to no agency", "agency_code");
  } else if (!role) {
    return InvalidArgument("is required", "role");
  }
  TL_ASSIGN_OR_RETURN(u.agency_code, body.OptionalString("agency_code", 32));
  TL_ASSIGN_OR_RETURN(u.personal_id, body.OptionalString("personal_id", 12));
  TL_ASSIGN_OR_RETURN(u.tax_code, body.OptionalString("tax_code", 14));
  TL_ASSIGN_OR_RETURN(u.phone, body.OptionalString("phone", 12));
  return u;
}

const char* kUserSchema =
    R"({"type":"object","properties":{"username":{"type":"string"},"full_name":{"type":"string"},"role":{"type":"string","enum":["citizen","organisation","desk_officer","specialist","leader","agency_admin","city_admin","operator"]},"agency_code":{"type":["string","null"]},"personal_id":{"type":["string","null"]},"tax_code":{"type":["string","null"]},"phone":{"type":["string","null"]},"disabled":{"type":"boolean"},"created_at":{"type":"string"}}})";
const char* kNewUserSchema =
    R"({"type":"object","required":["username","password","full_name","role"],"additionalProperties":false,"properties":{"username":{"type":"string","pattern":"^[a-z0-9._-]{3,64}$"},"password":{"type":"string","minLength":10},"full_name":{"type":"string","maxLength":200},"role":{"type":"string"},"agency_code":{"type":"string"},"personal_id":{"type":"string","pattern":"^[0-9]{12}$"},"tax_code":{"type":"string"},"phone":{"type":"string"}}})";

const char* kApiKeySchema =
    R"({"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"},"agency_code":{"type":"string"},"scopes":{"type":"array","items":{"type":"string"}},"created_at":{"type":"string"},"revoked_at":{"type":["string","null"]},"secret":{"type":"string","description":"only in the answer to its creation"}}})";

nlohmann::json ApiKeyJson(const ApiKey& k) {
  return nlohmann::json{{"id", k.id},
                        {"name", k.name},
                        {"agency_code", k.agency_code},
                        {"scopes", k.scopes},
                        {"created_at", k.created_at},
                        {"revoked_at", k.revoked_at ? nlohmann::json(*k.revoked_at) : nlohmann::json(nullptr)}};
}

}  // namespace

std::vector<http::Route> Routes(IdentityService* svc) {
  using http::Access;
  using http::Method;
  std::vector<http::Route> r;
  r.push_back(
      {Method::kPost, "/api/v1/auth/login", Access::Public(),
       [svc](http::Request& req) -> Result<http::Response> {
         TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"username", "password"}));
         TL_ASSIGN_OR_RETURN(auto username, body.String("username", 64));
         TL_ASSIGN_OR_RETURN(auto password, body.String("password", 256));
         TL_ASSIGN_OR_RETURN(auto result, svc->Login(username, password, req.client_ip, req.request_id));
         nlohmann::json j = {{"token", result.token},
                             {"token_type", "Bearer"},
                             {"expires_at", FormatRfc3339(result.expires_at_ms)},
                             {"user", UserJson(result.user)}};
         return http::Response::Json(200, j.dump());
       },
       {"Log in with username and password; returns a bearer token",
        "auth",
        {},
        R"({"type":"object","required":["username","password"],"additionalProperties":false,"properties":{"username":{"type":"string"},"password":{"type":"string"}}})",
        R"({"type":"object","properties":{"token":{"type":"string"},"token_type":{"type":"string"},"expires_at":{"type":"string"},"user":{"type":"object"}}})"}});
  r.push_back({Method::kPost, "/api/v1/auth/logout", Access::Authenticated(),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_RETURN_IF_ERROR(svc->Logout(Actor::FromRequest(req)));
                 return http::Response::NoContent();
               },
               {"Revoke the bearer token of this request", "auth", {}, "", "", 204}});
  r.push_back({Method::kPost, "/api/v1/auth/register", Access::Public(),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto spec, ParseNewUser(req, true));
                 Actor actor;  // self-registration: the service validates, there is no manager
                 actor.context = audit::EntryFor(req, "", "");
                 actor.context.actor = spec.username;
                 TL_ASSIGN_OR_RETURN(auto user, svc->CreateUser(actor, spec));
                 return http::Response::Json(201, UserJson(user).dump());
               },
               {"Register a citizen (personal identification number) or organisation (tax code) account", "auth", {},
                kNewUserSchema, kUserSchema, 201}});
  r.push_back({Method::kGet, "/api/v1/me", Access::Authenticated().PersonalData(),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto user, svc->GetUser(Actor::FromRequest(req), req.principal->username));
                 auto j = UserJson(user);
                 j["city_wide"] = req.principal->city_wide;
                 j["jurisdiction_agencies"] = req.principal->agencies_in_jurisdiction.size();
                 return http::Response::Json(200, j.dump());
               },
               {"The logged-in account", "auth", {}, "", kUserSchema}});
  r.push_back({Method::kPut, "/api/v1/me/password", Access::Authenticated(),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"current_password", "new_password"}));
                 TL_ASSIGN_OR_RETURN(auto cur, body.String("current_password", 256));
                 TL_ASSIGN_OR_RETURN(auto next, body.String("new_password", 256));
                 TL_RETURN_IF_ERROR(svc->ChangeOwnPassword(Actor::FromRequest(req), cur, next));
                 return http::Response::NoContent();
               },
               {"Change your own password (other sessions are revoked)", "auth", {},
                R"({"type":"object","required":["current_password","new_password"],"properties":{"current_password":{"type":"string"},"new_password":{"type":"string","minLength":10}}})",
                "", 204}});
  Access admins = Access::Roles({"city_admin", "agency_admin"});
  r.push_back({Method::kGet, "/api/v1/users", Access(admins).PersonalData(),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto users, svc->ListUsers(Actor::FromRequest(req)));
                 nlohmann::json items = nlohmann::json::array();
                 for (const auto& u : users) items.push_back(UserJson(u));
                 return http::Response::Json(200, nlohmann::json{{"items", items}}.dump());
               },
               {"Accounts in your jurisdiction (admins)", "users", {}, "",
                std::string(R"({"type":"object","properties":{"items":{"type":"array","items":)") + kUserSchema + "}}}"}});
  r.push_back({Method::kPost, "/api/v1/users", admins,
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto spec, ParseNewUser(req, false));
                 TL_ASSIGN_OR_RETURN(auto user, svc->CreateUser(Actor::FromRequest(req), spec));
                 return http::Response::Json(201, UserJson(user).dump());
               },
               {"Create an account (admins, within their jurisdiction)", "users", {}, kNewUserSchema, kUserSchema, 201}});
  r.push_back({Method::kGet, "/api/v1/users/{username}", Access(admins).PersonalData(),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto user, svc->GetUser(Actor::FromRequest(req), req.Param("username")));
                 return http::Response::Json(200, UserJson(user).dump());
               },
               {"One account (admins)", "users", {{"username", "path", "Username"}}, "", kUserSchema}});
  for (bool disable : {true, false}) {
    r.push_back({Method::kPost, disable ? "/api/v1/users/{username}/disable" : "/api/v1/users/{username}/enable", admins,
                 [svc, disable](http::Request& req) -> Result<http::Response> {
                   TL_RETURN_IF_ERROR(svc->SetDisabled(Actor::FromRequest(req), req.Param("username"), disable));
                   TL_ASSIGN_OR_RETURN(auto user, svc->GetUser(Actor::FromRequest(req), req.Param("username")));
                   return http::Response::Json(200, UserJson(user).dump());
                 },
                 {disable ? "Disable an account and revoke its tokens" : "Re-enable an account", "users",
                  {{"username", "path", "Username"}}, "", kUserSchema}});
  }
  r.push_back({Method::kPost, "/api/v1/users/{username}/password", admins,
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"password"}));
                 TL_ASSIGN_OR_RETURN(auto password, body.String("password", 256));
                 TL_RETURN_IF_ERROR(svc->ResetPassword(Actor::FromRequest(req), req.Param("username"), password));
                 return http::Response::NoContent();
               },
               {"Reset an account's password (admins); its tokens are revoked", "users",
                {{"username", "path", "Username"}},
                R"({"type":"object","required":["password"],"properties":{"password":{"type":"string","minLength":10}}})",
                "", 204}});
  // API keys of other agencies' systems (city admins; the same as `thanglong keys`).
  Access city_admins = Access::Roles({"city_admin"});
  r.push_back({Method::kGet, "/api/v1/admin/api-keys", city_admins,
               [svc](http::Request&) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto keys, svc->ListApiKeys());
                 nlohmann::json items = nlohmann::json::array();
                 for (const auto& k : keys) items.push_back(ApiKeyJson(k));
                 return http::Response::Json(200, nlohmann::json{{"items", items}}.dump());
               },
               {"API keys of other agencies' systems, revoked ones included (city admins); never their secrets",
                "users", {}, "",
                std::string(R"({"type":"object","properties":{"items":{"type":"array","items":)") + kApiKeySchema + "}}}"}});
  r.push_back({Method::kPost, "/api/v1/admin/api-keys", city_admins,
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"name", "agency_code", "scopes"}));
                 TL_ASSIGN_OR_RETURN(auto name, body.String("name", 100));
                 TL_ASSIGN_OR_RETURN(auto agency, body.String("agency_code", 40));
                 TL_ASSIGN_OR_RETURN(auto scopes, body.StringArray("scopes", 10));
                 auto made = svc->CreateApiKey(Actor::FromRequest(req), name, agency, std::move(scopes));
                 if (!made.ok() && made.status().code() == StatusCode::kNotFound) {
                   return InvalidArgument("no such agency", "agency_code");
                 }
                 if (!made.ok() && made.status().field() == "scope") {
                   return InvalidArgument(made.status().message(), "scopes");
                 }
                 TL_RETURN_IF_ERROR(made.status());
                 nlohmann::json j = ApiKeyJson(made->first);
                 j["secret"] = made->second;  // shown once: only its hash is stored
                 return http::Response::Json(201, j.dump());
               },
               {"Create an API key for an agency's system with scopes (registry.read, ngsild.read, ngsild.write); "
                "the answer carries the secret, shown this once",
                "users", {},
                R"({"type":"object","required":["name","agency_code","scopes"],"additionalProperties":false,"properties":{"name":{"type":"string","maxLength":100},"agency_code":{"type":"string"},"scopes":{"type":"array","items":{"type":"string","enum":["registry.read","ngsild.read","ngsild.write"]}}}})",
                kApiKeySchema, 201}});
  r.push_back({Method::kPost, "/api/v1/admin/api-keys/{id}/revoke", city_admins,
               [svc](http::Request& req) -> Result<http::Response> {
                 const std::string& raw = req.Param("id");
                 int64_t id = 0;
                 auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), id);
                 if (ec != std::errc() || end != raw.data() + raw.size() || raw.size() > 18 || id <= 0) {
                   return InvalidArgument("must be a key number", "id");
                 }
                 TL_RETURN_IF_ERROR(svc->RevokeApiKey(Actor::FromRequest(req), id));
                 return http::Response::NoContent();
               },
               {"Revoke an API key: its system is refused from the next request", "users",
                {{"id", "path", "Key number", true}}, "", "", 204}});
  return r;
}

}  // namespace tl::identity
