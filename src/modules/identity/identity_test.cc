#include "modules/identity/identity.h"

#include <gtest/gtest.h>

#include "tests/support/scratch_store.h"

namespace tl::identity {
namespace {

class IdentityTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto().ok());
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_NE(db_, nullptr);
    auto m = audit::AuditLog::Migrations();
    for (auto list : {admin_units::AdminUnitService::Migrations(), IdentityService::Migrations()}) {
      m.insert(m.end(), list.begin(), list.end());
    }
    ASSERT_TRUE(storage::ApplyMigrations(*db_, m).ok());
    audit_ = std::make_unique<audit::AuditLog>(db_.get(), &clock_);
    units_ = std::make_unique<admin_units::AdminUnitService>(db_.get());
    ASSERT_TRUE(units_->Import(testing::DataRoot() + "/admin-units/merges-20250701.json",
                               testing::DataRoot() + "/agencies/hanoi-city-agencies.csv")
                    .ok());
    IdentityOptions opts;
    opts.password_cost = crypto::PasswordCost::Minimum();
    svc_ = std::make_unique<IdentityService>(db_.get(), &clock_, audit_.get(), units_.get(), opts);
  }
  NewUser Official(const std::string& name, const std::string& role, const std::string& agency) {
    NewUser u;
    u.username = name;
    u.password = "Mật khẩu dài 2025";
    u.role = role;
    u.full_name = "Cán bộ " + name;
    u.agency_code = agency;
    return u;
  }
  ManualClock clock_{1795000000000};
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<admin_units::AdminUnitService> units_;
  std::unique_ptr<IdentityService> svc_;
};

TEST_P(IdentityTest, CreateLoginAuthenticateLogout) {
  auto created = svc_->CreateUser(Actor::Cli("root"), Official("desk1", "desk_officer", "UBND00004"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto login = svc_->Login("desk1", "Mật khẩu dài 2025", "127.0.0.1", "rid");
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  auto p = svc_->Authenticate(login->token);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->role, "desk_officer");
  EXPECT_TRUE(p->CoversUnit("00004"));
  Actor a;
  a.principal = *p;
  ASSERT_TRUE(svc_->Logout(a).ok());
  EXPECT_EQ(svc_->Authenticate(login->token).status().code(), StatusCode::kUnauthenticated);
}

TEST_P(IdentityTest, ValidatesAccountsByKind) {
  NewUser citizen;
  citizen.username = "dan";
  citizen.password = "Mật khẩu dài 2025";
  citizen.role = "citizen";
  citizen.full_name = "Dân";
  auto no_id = svc_->CreateUser(Actor::Cli("root"), citizen);
  EXPECT_EQ(no_id.status().field(), "personal_id");
  citizen.personal_id = "001090012345";
  EXPECT_TRUE(svc_->CreateUser(Actor::Cli("root"), citizen).ok());
  NewUser org = citizen;
  org.username = "congty";
  org.role = "organisation";
  org.personal_id.reset();
  EXPECT_EQ(svc_->CreateUser(Actor::Cli("root"), org).status().field(), "tax_code");
  auto no_agency = Official("xx1", "leader", "");
  no_agency.agency_code.reset();
  EXPECT_EQ(svc_->CreateUser(Actor::Cli("root"), no_agency).status().field(), "agency_code");
  auto citizen_with_agency = citizen;
  citizen_with_agency.username = "dan2";
  citizen_with_agency.personal_id = "001090012346";
  citizen_with_agency.agency_code = "UBND00004";
  EXPECT_EQ(svc_->CreateUser(Actor::Cli("root"), citizen_with_agency).status().field(), "agency_code");
}

TEST_P(IdentityTest, ResetPasswordRevokesSessionsAndClearsThrottle) {
  ASSERT_TRUE(svc_->CreateUser(Actor::Cli("root"), Official("sp1", "specialist", "UBND00004")).ok());
  auto login = svc_->Login("sp1", "Mật khẩu dài 2025", "1.2.3.4", "");
  ASSERT_TRUE(login.ok());
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(svc_->Login("sp1", "wrong wrong", "1.2.3.4", "").ok());
  EXPECT_EQ(svc_->Login("sp1", "Mật khẩu dài 2025", "1.2.3.4", "").status().code(), StatusCode::kResourceExhausted);
  ASSERT_TRUE(svc_->ResetPassword(Actor::Cli("root"), "sp1", "Một mật khẩu mới").ok());
  EXPECT_FALSE(svc_->Authenticate(login->token).ok());
  EXPECT_TRUE(svc_->Login("sp1", "Một mật khẩu mới", "5.6.7.8", "").ok());
}

// A principal found for a token is reused for at most principal_cache_ms (1 s by default) and never
// past the token's expiry. A change made behind this service's back (here straight in the tables,
// as another server process or the CLI would) shows within that time; one made through the service
// shows at once (the tests above log out and reset passwords right after authenticating).
TEST_P(IdentityTest, APrincipalIsReusedForAtMostTheCacheTimeAndNeverPastItsExpiry) {
  ASSERT_TRUE(svc_->CreateUser(Actor::Cli("root"), Official("sp2", "specialist", "UBND00004")).ok());
  auto login = svc_->Login("sp2", "Mật khẩu dài 2025", "1.2.3.4", "");
  ASSERT_TRUE(login.ok());
  ASSERT_TRUE(svc_->Authenticate(login->token).ok());
  auto revoke_behind_its_back = [&](const std::string& sql) {
    ASSERT_TRUE(db_->Write([&](storage::Session& s) -> Status { return s.Exec(sql, {clock_.NowMillis()}).status(); }).ok());
  };
  revoke_behind_its_back("UPDATE sessions SET revoked_at = ?");
  clock_.Advance(999);
  EXPECT_TRUE(svc_->Authenticate(login->token).ok()) << "reused within the cache time";
  clock_.Advance(1);
  EXPECT_EQ(svc_->Authenticate(login->token).status().code(), StatusCode::kUnauthenticated);

  auto key = svc_->CreateApiKey(Actor::Cli("root"), "other agency", "UBND00004", {"registry.read"});
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  ASSERT_EQ(svc_->Authenticate(key->second)->role, "integration");
  revoke_behind_its_back("UPDATE api_keys SET revoked_at = ?");
  EXPECT_TRUE(svc_->Authenticate(key->second).ok());
  clock_.Advance(1000);
  EXPECT_EQ(svc_->Authenticate(key->second).status().code(), StatusCode::kUnauthenticated);

  // A key revoked through the service stops at once.
  auto key2 = svc_->CreateApiKey(Actor::Cli("root"), "third agency", "UBND00004", {"registry.read"});
  ASSERT_TRUE(key2.ok());
  ASSERT_TRUE(svc_->Authenticate(key2->second).ok());
  ASSERT_TRUE(svc_->RevokeApiKey(Actor::Cli("root"), key2->first.id).ok());
  EXPECT_EQ(svc_->Authenticate(key2->second).status().code(), StatusCode::kUnauthenticated);

  // A token expiring sooner than the cache time is not reused past its expiry.
  IdentityOptions short_lived;
  short_lived.password_cost = crypto::PasswordCost::Minimum();
  short_lived.token_ttl_ms = 300;
  IdentityService svc(db_.get(), &clock_, audit_.get(), units_.get(), short_lived);
  auto brief = svc.Login("sp2", "Mật khẩu dài 2025", "1.2.3.4", "");
  ASSERT_TRUE(brief.ok());
  ASSERT_TRUE(svc.Authenticate(brief->token).ok());
  clock_.Advance(300);
  EXPECT_EQ(svc.Authenticate(brief->token).status().code(), StatusCode::kUnauthenticated);

  // principal_cache_ms = 0: every request reads the session.
  IdentityOptions uncached = short_lived;
  uncached.token_ttl_ms = 3600 * 1000;
  uncached.principal_cache_ms = 0;
  IdentityService fresh(db_.get(), &clock_, audit_.get(), units_.get(), uncached);
  auto l2 = fresh.Login("sp2", "Mật khẩu dài 2025", "1.2.3.4", "");
  ASSERT_TRUE(l2.ok());
  ASSERT_TRUE(fresh.Authenticate(l2->token).ok());
  revoke_behind_its_back("UPDATE sessions SET revoked_at = ?");
  EXPECT_EQ(fresh.Authenticate(l2->token).status().code(), StatusCode::kUnauthenticated);
}

// An account made without a password (the simulation's) cannot be logged in to, whatever is tried,
// until an admin resets its password; asking for one with a password is a named error.
TEST_P(IdentityTest, AnAccountWithoutAPasswordCannotLogInUntilReset) {
  NewUser u = Official("sim.cv.ubnd00004", "specialist", "UBND00004");
  EXPECT_EQ(svc_->CreateUser(Actor::Cli("root"), [&] {
                  NewUser both = u;
                  both.without_password = true;
                  return both;
                }())
                .status()
                .field(),
            "password");
  u.password.clear();
  EXPECT_EQ(svc_->CreateUser(Actor::Cli("root"), u).status().field(), "password");  // an empty one is too short
  u.without_password = true;
  ASSERT_TRUE(svc_->CreateUser(Actor::Cli("root"), u).ok());
  for (const char* attempt : {"", "!", "Mật khẩu dài 2025"}) {
    EXPECT_EQ(svc_->Login(u.username, attempt, "10.0.0.1", "").status().code(), StatusCode::kUnauthenticated)
        << attempt;
  }
  ASSERT_TRUE(svc_->ResetPassword(Actor::Cli("root"), u.username, "Một mật khẩu mới").ok());
  EXPECT_TRUE(svc_->Login(u.username, "Một mật khẩu mới", "10.0.0.2", "").ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, IdentityTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::identity
