// E-mail end to end: a real server configured with smtp_host pointing at an SMTP sink on loopback; a
// citizen submits a dossier online with an e-mail address and the desk receives it; the sink gets
// both e-mails (submission and reception) from the server's own sender thread. On both backends.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <chrono>
#include <sstream>
#include <thread>

#include "app/application.h"
#include "core/clock.h"
#include "modules/mail/smtp_sink.h"
#include "tests/support/http_client.h"
#include "tests/support/scratch_store.h"

namespace tl::testing {
namespace {

using nlohmann::json;

class MailApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<ScratchStore>(GetParam());
    std::map<std::string, std::string> o = {
        {"listen", "127.0.0.1:0"},      {"data_dir", store_->data_dir()},  {"password_cost", "minimum"},
        {"access_log", "false"},        {"workers", "2"},                  {"data_root", DataRoot()},
        {"web_root", "/nonexistent"},   {"log_level", "warn"},             {"smtp_host", "127.0.0.1"},
        {"smtp_port", std::to_string(sink_.port())},                       {"smtp_from", "mot-cua@hanoi.gov.vn"},
        {"smtp_password", "bí mật SMTP"}, {"public_url", "https://motcua.hanoi.gov.vn/"}};
    if (!store_->database_url().empty()) o["database"] = store_->database_url();
    auto cfg = app::LoadConfig(std::nullopt, o);
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    std::string shown = cfg->Describe();
    EXPECT_EQ(shown.find("bí mật"), std::string::npos);  // --print-config masks the SMTP password
    auto created = app::Application::Create(*cfg, &clock_);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    app_ = std::move(*created);
    std::ostringstream sink;
    ASSERT_TRUE(app_->Seed(sink).ok());
    ASSERT_TRUE(app_->StartServer().ok());
    ASSERT_NE(app_->mail_sender(), nullptr);
  }
  void TearDown() override {
    if (app_) app_->Shutdown();
    app_.reset();
  }

  HttpResult Post(const std::string& target, const json& body, const std::string& token = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return HttpRequest(app_->port(), "POST", target, body.dump(), headers);
  }
  std::string Login(const std::string& user) {
    auto r = Post("/api/v1/auth/login", {{"username", user}, {"password", "ThangLong@2025"}});
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false).value("token", "");
  }

  mail::testing::SmtpSink sink_;
  ManualClock clock_{1795000000000};
  std::unique_ptr<ScratchStore> store_;
  std::unique_ptr<app::Application> app_;
};

TEST_P(MailApiTest, TheApplicantHearsOfSubmissionAndReceptionByEmail) {
  std::string citizen = Login("citizen"), desk = Login("desk");
  json body = {{"procedure_code", "1.001193"},
               {"unit_code", "00004"},
               {"delivery", "online"},
               {"applicant",
                {{"full_name", "Nguyễn Văn An"}, {"personal_id", "001090012345"}, {"email", "an.nguyen@example.vn"}}},
               // What the birth registration form (data/procedures/forms/1.001193-dang-ky-khai-sinh.json) requires.
               {"form",
                {{"relationship", "Cha"},
                 {"child",
                  {{"full_name", "Nguyễn Minh Khôi"},
                   {"date_of_birth", "2026-11-10"},
                   {"sex", "Nam"},
                   {"place_of_birth", "Bệnh viện Phụ sản Hà Nội"}}},
                 {"father", {{"full_name", "Nguyễn Văn An"}, {"year_of_birth", 1990}}},
                 {"mother", {{"full_name", "Trần Thị Bình"}, {"year_of_birth", 1992}}}}},
               {"components", {"Tờ khai đăng ký khai sinh"}}};
  auto submitted = Post("/api/v1/dossiers", body, citizen);
  ASSERT_EQ(submitted.status, 201) << submitted.body;
  json d = json::parse(submitted.body);
  std::string code = d["code"];

  // A stale version is refused (409) and its transaction rolled back: no e-mail for it.
  auto stale = Post("/api/v1/dossiers/" + code + "/actions/receive", {{"version", 99}}, desk);
  EXPECT_EQ(stale.status, 409) << stale.body;
  auto received = Post("/api/v1/dossiers/" + code + "/actions/receive", {{"version", d["version"]}}, desk);
  ASSERT_EQ(received.status, 200) << received.body;
  std::string label = json::parse(received.body)["status_label"];

  ASSERT_TRUE(sink_.WaitForMessages(2, 30'000)) << "the server's sender did not deliver; got " << sink_.Messages().size();
  auto got = sink_.Messages();
  std::vector<std::string> subjects;
  for (const auto& m : got) {
    EXPECT_EQ(m.rcpt, "an.nguyen@example.vn");
    EXPECT_EQ(m.mail_from, "mot-cua@hanoi.gov.vn");
    auto parsed = mail::testing::ParseMessage(m.data);
    subjects.push_back(parsed.subject);
    EXPECT_NE(parsed.body.find("https://motcua.hanoi.gov.vn/tra-cuu-ho-so?code=" + code), std::string::npos)
        << parsed.body;
  }
  std::sort(subjects.begin(), subjects.end());
  std::vector<std::string> expected = {"Hồ sơ " + code + ": " + label, "Đã nộp hồ sơ " + code};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(subjects, expected);

  // Exactly those two were queued, and both are marked sent (the mark follows the server's 250).
  auto counts = app_->outbox().Counts();
  for (int i = 0; i < 100 && counts.ok() && counts->pending > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    counts = app_->outbox().Counts();
  }
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, 0);
  EXPECT_EQ(counts->failed, 0);
  auto sent = app_->outbox().List("sent", 10);
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent->size(), 2u);
  // The sender counts a message once its mark is durable, which readers may see a flush earlier.
  auto metrics = HttpRequest(app_->port(), "GET", "/metrics");
  for (int i = 0; i < 100 && metrics.body.find("thanglong_mail_sent_total 2") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    metrics = HttpRequest(app_->port(), "GET", "/metrics");
  }
  EXPECT_NE(metrics.body.find("thanglong_mail_sent_total 2"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, MailApiTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::testing
