#include "tests/api/test_app.h"

#include <gtest/gtest.h>

#include <sstream>

namespace tl::testing {

TestApp::TestApp(const std::string& backend, const std::string& web_root)
    : clock_(1795000000000),  // 2026-11-18T07:06:40Z
      store_(std::make_unique<ScratchStore>(backend)) {
  std::map<std::string, std::string> o = {{"listen", "127.0.0.1:0"},  {"data_dir", store_->data_dir()},
                                          {"password_cost", "minimum"}, {"access_log", "false"},
                                          {"workers", "4"},            {"data_root", DataRoot()},
                                          {"web_root", web_root.empty() ? "/nonexistent" : web_root},
                                          {"log_level", "warn"}};
  if (!store_->database_url().empty()) o["database"] = store_->database_url();
  auto cfg = app::LoadConfig(std::nullopt, o);
  if (!cfg.ok()) {
    ADD_FAILURE() << cfg.status().ToString();
    return;
  }
  auto created = app::Application::Create(*cfg, &clock_);
  if (!created.ok()) {
    ADD_FAILURE() << created.status().ToString();
    return;
  }
  app_ = std::move(*created);
  std::ostringstream sink;
  Status seeded = app_->Seed(sink);
  EXPECT_TRUE(seeded.ok()) << seeded.ToString();
  Status started = app_->StartServer();
  EXPECT_TRUE(started.ok()) << started.ToString();
}

TestApp::~TestApp() {
  if (app_) app_->Shutdown();
  app_.reset();
}

HttpResult TestApp::Call(const std::string& method, const std::string& target, const std::string& body,
                         const std::string& token) const {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  return HttpRequest(port(), method, target, body, headers);
}

HttpResult TestApp::Get(const std::string& target, const std::string& token) const {
  return Call("GET", target, "", token);
}
HttpResult TestApp::Post(const std::string& target, const std::string& body, const std::string& token) const {
  return Call("POST", target, body, token);
}
HttpResult TestApp::Put(const std::string& target, const std::string& body, const std::string& token) const {
  return Call("PUT", target, body, token);
}

std::string TestApp::Login(const std::string& username, const std::string& password) const {
  nlohmann::json body = {{"username", username}, {"password", password}};
  auto r = Post("/api/v1/auth/login", body.dump());
  EXPECT_EQ(r.status, 200) << "login of " << username << " failed: " << r.body;
  if (r.status != 200) return {};
  return Json(r).value("token", "");
}

nlohmann::json Json(const HttpResult& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded()) {
    ADD_FAILURE() << "response is not JSON: " << r.body.substr(0, 300);
    return nlohmann::json::object();
  }
  return j;
}

}  // namespace tl::testing
