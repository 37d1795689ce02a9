// Test support: the whole application (all modules wired by src/app) on a scratch store, serving on
// an ephemeral loopback port, with helpers to log in and call the API.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "app/application.h"
#include "core/clock.h"
#include "tests/support/http_client.h"
#include "tests/support/scratch_store.h"

namespace tl::testing {

inline constexpr const char* kDemoPassword = "ThangLong@2025";

class TestApp {
 public:
  // Seeds units, agencies, the catalogue and demo accounts (cheap password hashing).
  explicit TestApp(const std::string& backend, const std::string& web_root = "");
  ~TestApp();

  uint16_t port() const { return app_->port(); }
  app::Application& app() { return *app_; }
  ManualClock& clock() { return clock_; }

  HttpResult Get(const std::string& target, const std::string& token = "") const;
  HttpResult Post(const std::string& target, const std::string& body, const std::string& token = "") const;
  HttpResult Put(const std::string& target, const std::string& body, const std::string& token = "") const;
  HttpResult Call(const std::string& method, const std::string& target, const std::string& body,
                  const std::string& token) const;
  // Logs in a demo (or other) account and returns its token; fails the test on error.
  std::string Login(const std::string& username, const std::string& password = kDemoPassword) const;

 private:
  ManualClock clock_;
  std::unique_ptr<ScratchStore> store_;
  std::unique_ptr<app::Application> app_;
};

nlohmann::json Json(const HttpResult& r);

}  // namespace tl::testing
