// Identity and access: accounts, password login, bearer tokens, login throttling and the rules of
// who may manage whom.
//
// Accounts are citizens (12-digit personal identification number), organisations (tax code) and
// officials (belonging to an agency, with one role). Passwords are hashed with Argon2id. Login returns
// an opaque bearer token of 256 random bits; only its SHA-256 is stored, with an expiry, and logout
// revokes it. Failed logins are counted per account and per client address in the database (so every
// server process sees them) and answered with 429 beyond the limit. IdentityService implements
// http::Authenticator: it turns a token into a Principal carrying role and jurisdiction (the
// official's agency, the agencies under it and the units they serve).
//
// Management rules: a city admin manages everyone; an agency admin manages officials of the agencies
// in their jurisdiction (never city admins); nobody disables their own account. Every write is
// audited in the same transaction.
//
// Authentication reads the session (or API key) and the account on every request, except that a
// principal found is kept in a small in-process cache for `principal_cache_ms` (default 1 s, never
// past the token's expiry). Every change this service makes to accounts, sessions or keys empties
// that cache at once; a change made by another process (a second server behind nginx, the CLI's
// `keys revoke`) takes effect within that time. A token not found is never cached.
//
// Thread-safety: safe to share; the only state besides the database is that cache, under a mutex.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/crypto.h"
#include "http/dispatcher.h"
#include "modules/admin_units/admin_units.h"
#include "modules/audit/audit_log.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::identity {

inline constexpr std::array<std::string_view, 8> kRoles = {
    "citizen", "organisation", "desk_officer", "specialist", "leader", "agency_admin", "city_admin", "operator"};

bool IsOfficialRole(std::string_view role);

struct User {
  int64_t id = 0;
  std::string username;
  std::string full_name;
  std::string role;
  std::optional<std::string> agency_code;
  std::optional<std::string> personal_id;
  std::optional<std::string> tax_code;
  std::optional<std::string> phone;
  bool disabled = false;
  std::string created_at;
};

struct NewUser {
  std::string username;
  std::string password;
  std::string role;
  std::string full_name;
  std::optional<std::string> agency_code;
  std::optional<std::string> personal_id;
  std::optional<std::string> tax_code;
  std::optional<std::string> phone;
  // An account nobody logs in to with a password (the simulation's officials and citizens): no hash
  // is computed (that is the cost of creating one: ~0.1 s at the interactive cost), `password` must
  // be empty, and the stored kNoPassword never verifies. An admin's password reset gives it one.
  bool without_password = false;
};

// What an account created without a password stores in place of a hash: not the output of any
// hashing, so no password verifies against it.
inline constexpr const char* kNoPassword = "!";

struct IdentityOptions {
  crypto::PasswordCost password_cost = crypto::PasswordCost::Interactive();
  int64_t token_ttl_ms = 12LL * 3600 * 1000;
  int max_failures_per_account = 5;
  int max_failures_per_address = 20;
  int64_t failure_window_ms = 15LL * 60 * 1000;
  // How long a principal found for a token may be reused without reading it again (0: never).
  int64_t principal_cache_ms = 1000;
};

struct LoginResult {
  std::string token;
  int64_t expires_at_ms = 0;
  User user;
};

// Who is acting: a principal from a request, or the operator at the command line (full rights).
struct Actor {
  std::optional<http::Principal> principal;
  audit::Entry context;  // actor, client ip, request id for the audit entries
  static Actor Cli(const std::string& os_user);
  static Actor FromRequest(const http::Request& req);
};

// An API key for another agency's system (integration): bound to one agency, limited to scopes
// (e.g. "registry.read"), revocable. The secret ("tlk_" + 32 random bytes) is shown once; only its
// SHA-256 is stored. It authenticates like a bearer token, as role "integration".
struct ApiKey {
  int64_t id = 0;
  std::string name;
  std::string agency_code;
  std::vector<std::string> scopes;
  std::string created_at;
  std::optional<std::string> revoked_at;
};

class IdentityService final : public http::Authenticator {
 public:
  IdentityService(storage::Database* db, const Clock* clock, const audit::AuditLog* audit,
                  const admin_units::AdminUnitService* units, IdentityOptions options)
      : db_(db), clock_(clock), audit_(audit), units_(units), options_(options) {}

  static std::vector<storage::Migration> Migrations();

  Result<User> CreateUser(const Actor& actor, const NewUser& spec);
  Status ResetPassword(const Actor& actor, const std::string& username, const std::string& password);
  Status SetDisabled(const Actor& actor, const std::string& username, bool disabled);
  Result<std::vector<User>> ListUsers(const Actor& actor) const;
  Result<User> GetUser(const Actor& actor, const std::string& username) const;
  Status ChangeOwnPassword(const Actor& actor, const std::string& current, const std::string& next);

  Result<LoginResult> Login(const std::string& username, const std::string& password, const std::string& client_ip,
                            const std::string& request_id);
  Status Logout(const Actor& actor);
  Result<http::Principal> Authenticate(std::string_view token) override;

  // API keys (CLI `thanglong keys`). Create returns the key and its secret, shown once.
  Result<std::pair<ApiKey, std::string>> CreateApiKey(const Actor& actor, const std::string& name,
                                                      const std::string& agency, std::vector<std::string> scopes);
  Result<std::vector<ApiKey>> ListApiKeys() const;
  Status RevokeApiKey(const Actor& actor, int64_t id);

  const IdentityOptions& options() const { return options_; }

 private:
  Status CheckManage(const Actor& actor, const std::string& role, const std::optional<std::string>& agency) const;
  Status ValidateNewUser(const NewUser& spec) const;
  Status RecordFailure(const std::string& username, const std::string& client_ip);
  Result<bool> Throttled(const std::string& username, const std::string& client_ip);
  Result<http::Principal> AuthenticateApiKey(const std::string& key_hash);
  Result<http::Principal> AuthenticateSession(const std::string& token_hash, int64_t& expires_at);
  // Empties the principal cache: after every write that can end or change a principal, which go
  // through WriteForgettingPrincipals.
  void ForgetPrincipals();
  Status WriteForgettingPrincipals(const storage::Database::Work& work);

  struct CachedPrincipal {
    http::Principal principal;
    int64_t valid_until = 0;  // clock millis
  };
  static constexpr size_t kMaxCachedPrincipals = 10000;
  std::mutex cache_mu_;
  uint64_t cache_generation_ = 0;  // bumped by ForgetPrincipals: a read begun before it is not cached
  std::unordered_map<std::string, CachedPrincipal> principal_cache_;  // by token hash

  storage::Database* db_;
  const Clock* clock_;
  const audit::AuditLog* audit_;
  const admin_units::AdminUnitService* units_;
  IdentityOptions options_;
};

std::vector<http::Route> Routes(IdentityService* service);

}  // namespace tl::identity
