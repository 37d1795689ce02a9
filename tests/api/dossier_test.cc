// The one-stop shop end to end through the HTTP API, on both backends.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;

// What the birth registration form (data/procedures/forms/1.001193-dang-ky-khai-sinh.json) requires.
json BirthForm() {
  return {{"relationship", "Cha"},
          {"child",
           {{"full_name", "Nguyễn Minh Khôi"},
            {"date_of_birth", "2026-11-10"},
            {"sex", "Nam"},
            {"place_of_birth", "Bệnh viện Phụ sản Hà Nội"}}},
          {"father", {{"full_name", "Nguyễn Văn An"}, {"year_of_birth", 1990}}},
          {"mother", {{"full_name", "Trần Thị Bình"}, {"year_of_birth", 1992}}}};
}

class DossierTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    app_ = std::make_unique<TestApp>(GetParam());
    citizen_ = app_->Login("citizen");
    desk_ = app_->Login("desk");
    specialist_ = app_->Login("specialist");
    leader_ = app_->Login("leader");
    admin_ = app_->Login("admin");
  }
  json Submit(const std::string& procedure = "1.001193", const std::string& unit = "00004") {
    json body = {{"procedure_code", procedure},
                 {"unit_code", unit},
                 {"delivery", "online"},
                 {"applicant", {{"full_name", "Nguyễn Văn An"}, {"personal_id", "001090012345"}, {"phone", "0912345678"}}},
                 {"form", BirthForm()},
                 {"components", {"Tờ khai đăng ký khai sinh", "Giấy chứng sinh"}}};
    auto r = app_->Post("/api/v1/dossiers", body.dump(), citizen_);
    EXPECT_EQ(r.status, 201) << r.body;
    json answer = Json(r);
    if (r.status == 201) {
      // Built from what the submission inserted, not read back: it must be what a fresh read gives.
      auto fresh = app_->Get("/api/v1/dossiers/" + answer["code"].get<std::string>(), citizen_);
      EXPECT_EQ(fresh.status, 200);
      EXPECT_EQ(answer, Json(fresh)) << "submit";
    }
    return answer;
  }
  json Act(const std::string& token, const json& d, const std::string& action, json extra = json::object(),
           int expect = 200) {
    extra["version"] = d["version"];
    auto r = app_->Post("/api/v1/dossiers/" + d["code"].get<std::string>() + "/actions/" + action, extra.dump(), token);
    EXPECT_EQ(r.status, expect) << action << ": " << r.body;
    json answer = Json(r);
    if (r.status == 200) {
      // The answer is built from what the action wrote, not read back: it must be what a fresh read
      // gives (the clock is the test's own, so nothing time-dependent moves in between).
      auto fresh = app_->Get("/api/v1/dossiers/" + d["code"].get<std::string>(), token);
      if (fresh.status == 200) {
        EXPECT_EQ(answer, Json(fresh)) << action;
      }
    }
    return answer;
  }
  std::string MakeOfficial(const std::string& username, const std::string& role, const std::string& agency) {
    auto r = app_->Post("/api/v1/users",
                        json{{"username", username}, {"password", "Mật khẩu dài 2025"}, {"role", role},
                             {"full_name", "Cán bộ " + username}, {"agency_code", agency}}
                            .dump(),
                        admin_);
    EXPECT_EQ(r.status, 201) << r.body;
    return app_->Login(username, "Mật khẩu dài 2025");
  }
  std::unique_ptr<TestApp> app_;
  std::string citizen_, desk_, specialist_, leader_, admin_;
};

TEST_P(DossierTest, FullHappyPathFromOnlineSubmissionToRating) {
  json d = Submit();
  std::string code = d["code"];
  EXPECT_EQ(code, "UBND00004-261118-0001");  // receiving agency, Hà Nội date, sequence
  EXPECT_EQ(d["status"], "submitted");
  EXPECT_TRUE(d["due_at"].is_null());  // the clock starts at reception
  EXPECT_EQ(d["handling_agency"], "UBND00004");
  EXPECT_EQ(d["allowed_actions"], json::array({"withdraw"}));

  d = Act(desk_, d, "receive");
  EXPECT_EQ(d["status"], "received");
  ASSERT_TRUE(d["due_at"].is_string());
  d = Act(desk_, d, "assign", {{"assignee", "specialist"}});
  EXPECT_EQ(d["status"], "in_progress");
  EXPECT_EQ(d["assignee"], "specialist");
  d = Act(specialist_, d, "propose", {{"note", "Hồ sơ hợp lệ, đề nghị phê duyệt"}});
  EXPECT_EQ(d["status"], "awaiting_approval");
  d = Act(leader_, d, "approve");
  d = Act(specialist_, d, "issue-result");
  EXPECT_EQ(d["status"], "result_issued");
  EXPECT_EQ(d["on_time"], true);
  d = Act(desk_, d, "return");
  EXPECT_EQ(d["status"], "returned");
  EXPECT_EQ(d["open"], false);
  ASSERT_EQ(d["timeline"].size(), 7u);
  EXPECT_EQ(d["timeline"][0]["action"], "submit");
  EXPECT_EQ(d["timeline"][6]["action"], "return");
  EXPECT_EQ(d["timeline"][3]["note"], "Hồ sơ hợp lệ, đề nghị phê duyệt");

  EXPECT_EQ(Json(app_->Get("/api/v1/dossiers/" + code, citizen_))["can_rate"], true);
  EXPECT_EQ(Json(app_->Get("/api/v1/dossiers/" + code, desk_))["can_rate"], false);
  EXPECT_EQ(d["timeline"][0]["actor_role"], "applicant");
  auto rated = app_->Post("/api/v1/dossiers/" + code + "/rating", R"({"rating":5,"comment":"Nhanh"})", citizen_);
  EXPECT_EQ(rated.status, 200) << rated.body;
  EXPECT_EQ(Json(rated)["rating"], 5);
  auto mine = Json(app_->Get("/api/v1/me/dossiers", citizen_));
  ASSERT_EQ(mine["items"].size(), 1u);
  EXPECT_EQ(Json(rated)["can_rate"], false);
  auto inbox = Json(app_->Get("/api/v1/me/notifications", citizen_));
  EXPECT_GE(inbox["items"].size(), 7u);
  EXPECT_EQ(inbox["unread"], inbox["items"].size());
  auto first = inbox["items"][0]["id"].get<int64_t>();
  EXPECT_EQ(app_->Post("/api/v1/me/notifications/" + std::to_string(first) + "/read", "", citizen_).status, 204);
  EXPECT_EQ(Json(app_->Get("/api/v1/me/notifications", citizen_))["unread"], inbox["items"].size() - 1);
  EXPECT_NE(inbox["items"][0]["title"].get<std::string>().find(code), std::string::npos);
}

TEST_P(DossierTest, AnIssuedResultLandsSignedInTheApplicantsWalletAndVerifiesWithoutLogin) {
  json d = Submit();
  std::string code = d["code"];
  d = Act(desk_, d, "receive");
  d = Act(desk_, d, "assign", {{"assignee", "specialist"}});
  d = Act(specialist_, d, "propose");
  d = Act(leader_, d, "approve");
  EXPECT_TRUE(Json(app_->Get("/api/v1/me/wallet", citizen_))["items"].empty());
  d = Act(specialist_, d, "issue-result");
  auto wallet = app_->Get("/api/v1/me/wallet", citizen_);
  ASSERT_EQ(wallet.status, 200) << wallet.body;
  json items = Json(wallet)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["number"], code);
  EXPECT_EQ(items[0]["issuer_agency"], "UBND00004");
  EXPECT_EQ(items[0]["type"], "1.001193");
  std::string id = items[0]["id"];
  // Anyone verifies it, without logging in.
  auto v = app_->Post("/api/v1/documents/verify", json{{"document_id", id}}.dump());
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(Json(v)["status"], "valid");
  EXPECT_EQ(Json(app_->Post("/api/v1/documents/verify", R"({"document_id":"nope"})"))["status"], "unknown");
  EXPECT_EQ(app_->Post("/api/v1/documents/verify", R"({"id":"x"})").status, 400);
  // Other people's wallets stay closed; officials have none.
  EXPECT_EQ(app_->Get("/api/v1/me/wallet", desk_).status, 403);
  EXPECT_EQ(app_->Get("/api/v1/me/wallet").status, 401);
  // A share link shows only this document, to anyone, until it expires.
  auto share = app_->Post("/api/v1/me/wallet/" + id + "/share", R"({"hours":1})", citizen_);
  ASSERT_EQ(share.status, 201) << share.body;
  std::string url = Json(share)["url"];
  auto shared = app_->Get(url);
  ASSERT_EQ(shared.status, 200) << shared.body;
  EXPECT_EQ(Json(shared)["verification"]["status"], "valid");
  EXPECT_EQ(Json(shared).count("holder"), 0u);
  app_->clock().Advance(3600 * 1000 + 1);
  EXPECT_EQ(app_->Get(url).status, 404);
  // Revoking the agency's key revokes what it signed.
  auto keys = app_->Get("/api/v1/signing-keys", admin_);
  ASSERT_EQ(keys.status, 200);
  std::string key_id = Json(keys)["items"][0]["key_id"];
  EXPECT_EQ(app_->Get("/api/v1/signing-keys", desk_).status, 403);
  ASSERT_EQ(app_->Post("/api/v1/signing-keys/" + key_id + "/revoke", R"({"reason":"khóa bị lộ"})", admin_).status, 200);
  EXPECT_EQ(Json(app_->Post("/api/v1/documents/verify", json{{"document_id", id}}.dump()))["status"], "revoked");
}

// The routes write a dossier without building a document (DossierService::RenderText); the
// document form (Render, which the simulator and other callers read) must be the very same bytes, in
// every state and for every caller: timeline details, attachments, pauses, transfers, apologies,
// ratings, overdue and due-soon flags, the actions each caller may take.
TEST_P(DossierTest, TheAnswerIsTheBytesOfTheDocument) {
  std::string justice = MakeOfficial("stp.cv2", "specialist", "STP01");
  std::string pdf = "%PDF-1.4\n% tờ khai\n" + std::string(500, 'y') + "\n%%EOF\n";
  auto up = HttpRequest(app_->port(), "POST", "/api/v1/attachments", pdf,
                        {{"Authorization", "Bearer " + citizen_}, {"Content-Type", "application/pdf"}});
  ASSERT_EQ(up.status, 201) << up.body;
  json body = {{"procedure_code", "1.001193"},
               {"unit_code", "00004"},
               {"delivery", "post"},
               {"applicant",
                {{"full_name", "Nguyễn \"Bé\" An\\"},
                 {"personal_id", "001090012345"},
                 {"email", "an@example.vn"},
                 {"address", "Số 1, phố Điện Biên Phủ\tBa Đình"}}},
               {"form", BirthForm()},
               {"components", {"Tờ khai đăng ký khai sinh"}},
               {"attachments", {{{"sha256", Json(up)["sha256"]}, {"name", "Tờ khai \"bản gốc\".pdf"}}}}};
  auto submitted = app_->Post("/api/v1/dossiers", body.dump(), citizen_);
  ASSERT_EQ(submitted.status, 201) << submitted.body;
  std::string code = Json(submitted)["code"];
  EXPECT_EQ(submitted.Header("location"), "/api/v1/dossiers/" + code);
  int compared = 0, queued = 0;
  // `answer` is what the API sent; the service's document for each caller must dump to the same bytes,
  // and GET must send them too.
  auto same = [&](const std::string& answer, const std::string& actor) {
    for (const std::string* token : {&citizen_, &desk_, &specialist_, &leader_}) {
      auto who = app_->app().identity().Authenticate(*token);
      ASSERT_TRUE(who.ok()) << who.status().message();
      auto doc = app_->app().dossiers().Get(*who, code);
      if (!doc.ok()) continue;  // out of this caller's reach (the leader of another agency, say)
      auto got = app_->Get("/api/v1/dossiers/" + code, *token);
      ASSERT_EQ(got.status, 200) << got.body;
      EXPECT_EQ(got.body, doc->dump());
      compared++;
    }
    // A queue's line carries the same values as the document.
    auto queue = app_->Get("/api/v1/dossiers?scope=agency&limit=100", desk_);
    ASSERT_EQ(queue.status, 200) << queue.body;
    const json lines = Json(queue)["items"];
    for (const auto& item : lines) {
      if (item["code"] != code) continue;
      json full = Json(app_->Get("/api/v1/dossiers/" + code, desk_));
      for (const auto& [key, value] : item.items()) {
        EXPECT_EQ(value, key == "applicant_name" ? full["applicant"]["full_name"] : full[key]) << key;
      }
      EXPECT_EQ(item.size(), 14u);
      queued++;
    }
    // The answer was written for the actor (their allowed actions); a transfer may have taken the
    // dossier out of their reach, and then there is nothing to compare it with.
    auto who = app_->app().identity().Authenticate(actor);
    ASSERT_TRUE(who.ok());
    if (auto doc = app_->app().dossiers().Get(*who, code); doc.ok()) {
      EXPECT_EQ(answer, doc->dump());
      compared++;
    }
  };
  same(submitted.body, citizen_);
  auto act = [&](const std::string& token, const std::string& action, json extra = json::object()) {
    json now = Json(app_->Get("/api/v1/dossiers/" + code, desk_));
    extra["version"] = now["version"];
    auto r = app_->Post("/api/v1/dossiers/" + code + "/actions/" + action, extra.dump(), token);
    EXPECT_EQ(r.status, 200) << action << ": " << r.body;
    if (r.status == 200) same(r.body, token);
    return r;
  };
  act(desk_, "receive");
  act(desk_, "request-supplement", {{"note", "Bổ sung \"bản sao\"\nvà giấy tờ"}});
  app_->clock().Advance(3LL * 86400 * 1000);
  citizen_ = app_->Login("citizen");
  desk_ = app_->Login("desk");
  specialist_ = app_->Login("specialist");
  leader_ = app_->Login("leader");
  justice = app_->Login("stp.cv2", "Mật khẩu dài 2025");
  act(citizen_, "supplement", {{"note", "Đã bổ sung"}});
  act(desk_, "assign", {{"assignee", "specialist"}});
  act(specialist_, "transfer", {{"agency", "STP01"}, {"note", "Xin ý kiến"}});
  act(justice, "transfer", {{"agency", "UBND00004"}});
  app_->clock().Advance(40LL * 86400 * 1000);  // overdue now
  citizen_ = app_->Login("citizen");
  desk_ = app_->Login("desk");
  specialist_ = app_->Login("specialist");
  leader_ = app_->Login("leader");
  same(app_->Get("/api/v1/dossiers/" + code, desk_).body, desk_);
  act(desk_, "apologise", {{"note", "Xin lỗi vì chậm trễ"}, {"new_due_date", "2027-01-08"}});
  act(specialist_, "propose");
  act(leader_, "approve");
  act(specialist_, "issue-result");
  act(desk_, "return");
  auto rated = app_->Post("/api/v1/dossiers/" + code + "/rating", R"({"rating":4})", citizen_);
  ASSERT_EQ(rated.status, 200) << rated.body;
  same(rated.body, citizen_);
  EXPECT_GE(compared, 50);
  EXPECT_GE(queued, 10);  // the desk's queue held it in most states
}

TEST_P(DossierTest, SupplementPausesAndResumesTheClock) {
  json d = Submit();
  d = Act(desk_, d, "receive");
  std::string due_before = d["due_at"];
  d = Act(desk_, d, "request-supplement", {{"note", "Bổ sung bản sao giấy chứng sinh"}});
  EXPECT_EQ(d["status"], "supplement_requested");
  EXPECT_EQ(d["paused"], true);
  EXPECT_EQ(Json(app_->Get("/api/v1/me/notifications?unread=true", citizen_))["items"][0]["body"],
            "Bổ sung bản sao giấy chứng sinh");
  app_->clock().Advance(7LL * 86400 * 1000);  // a week passes while the applicant gathers papers
  citizen_ = app_->Login("citizen");           // (the old token expired meanwhile)
  d = Act(citizen_, d, "supplement", {{"note", "Đã bổ sung"}});
  EXPECT_EQ(d["status"], "in_progress");
  EXPECT_EQ(d["paused"], false);
  EXPECT_GT(d["due_at"].get<std::string>(), due_before);  // the paused week is not counted
  EXPECT_EQ(d["timeline"].back()["actor_role"], "applicant");
}

TEST_P(DossierTest, InvalidTransitionsStaleVersionsAndWrongRolesAreRefused) {
  json d = Submit();
  auto r = app_->Post("/api/v1/dossiers/" + d["code"].get<std::string>() + "/actions/approve",
                      json{{"version", d["version"]}}.dump(), leader_);
  EXPECT_EQ(r.status, 409) << r.body;  // not awaiting approval
  json received = Act(desk_, d, "receive");
  Act(desk_, d, "assign", {{"assignee", "specialist"}}, 409);  // stale: version 1 is gone
  Act(citizen_, received, "approve", json::object(), 403);      // not the citizen's to approve
  Act(desk_, received, "refuse", json::object(), 400);          // a note is required...
  auto bad = app_->Post("/api/v1/dossiers/" + d["code"].get<std::string>() + "/actions/fly",
                        json{{"version", received["version"]}}.dump(), desk_);
  EXPECT_EQ(bad.status, 404);
  // Another ward's desk officer cannot touch it, nor even see it.
  std::string other_desk = MakeOfficial("desk.ngocha", "desk_officer", "UBND00008");
  Act(other_desk, received, "assign", {{"assignee", "specialist"}}, 404);
  EXPECT_EQ(app_->Get("/api/v1/dossiers/" + d["code"].get<std::string>(), other_desk).status, 404);
  // Another citizen neither.
  auto reg = app_->Post("/api/v1/auth/register", json{{"username", "binh"}, {"password", "một mật khẩu dài"},
                                                      {"full_name", "Trần Bình"}, {"personal_id", "001085000111"}}
                                                     .dump());
  ASSERT_EQ(reg.status, 201);
  EXPECT_EQ(app_->Get("/api/v1/dossiers/" + d["code"].get<std::string>(), app_->Login("binh", "một mật khẩu dài")).status,
            404);
}

TEST_P(DossierTest, ConcurrentActionsOnOneDossierExactlyOneWins) {
  json d = Act(desk_, Submit(), "receive");
  std::atomic<int> ok{0}, conflict{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = app_->Post("/api/v1/dossiers/" + d["code"].get<std::string>() + "/actions/assign",
                          json{{"version", d["version"]}, {"assignee", "specialist"}}.dump(), desk_);
      if (r.status == 200) ok++;
      else if (r.status == 409) conflict++;
      else other++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(conflict.load(), 7);
  EXPECT_EQ(other.load(), 0);
  auto final_state = Json(app_->Get("/api/v1/dossiers/" + d["code"].get<std::string>(), desk_));
  EXPECT_EQ(final_state["timeline"].size(), 3u);  // submit, receive, one assign
}

// The service keeps what it committed for a dossier, at that version, for the next action
// (dossier_cache.h). Another server process over the same store writes past it: here a write made
// beside the service, as that process's assign would be (the row at the next version, the event).
TEST_P(DossierTest, AnActionSeesWhatAnotherProcessWroteSinceThisOnesLastAction) {
  json d = Act(desk_, Submit(), "receive");
  const std::string code = d["code"];
  const int64_t v = d["version"];
  const int64_t at = app_->clock().NowMillis();
  Status written = app_->app().db().Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("UPDATE dossiers SET version = version + 1, status = 'in_progress', "
                                       "assignee = 'specialist', updated_at = ? WHERE code = ? AND version = ?",
                                       {at, code, v}));
    if (n != 1) return Internal("the dossier was not at the version the answer gave");
    TL_ASSIGN_OR_RETURN(auto e, s.Exec("INSERT INTO dossier_events (dossier_code, seq, action, from_status, to_status, "
                                       "actor, actor_role, agency, at, note, detail) VALUES (?, 3, 'assign', "
                                       "'received', 'in_progress', 'desk', 'desk_officer', 'UBND00004', ?, "
                                       "'từ tiến trình khác', '{\"assignee\":\"specialist\"}')",
                                       {code, at}));
    (void)e;
    return Status::Ok();
  });
  ASSERT_TRUE(written.ok()) << written.message();
  // The version this process last saw is stale: 409, not an action on what it remembers.
  auto stale = app_->Post("/api/v1/dossiers/" + code + "/actions/assign",
                          json{{"version", v}, {"assignee", "specialist"}}.dump(), desk_);
  EXPECT_EQ(stale.status, 409) << stale.body;
  // At the version the other process left, the action builds on its row and timeline (Act compares
  // the answer with a fresh read).
  json now = Json(app_->Get("/api/v1/dossiers/" + code, specialist_));
  ASSERT_EQ(now["version"], v + 1);
  d = Act(specialist_, now, "propose", {{"note", "Đề nghị phê duyệt"}});
  EXPECT_EQ(d["status"], "awaiting_approval");
  EXPECT_EQ(d["assignee"], "specialist");
  ASSERT_EQ(d["timeline"].size(), 4u);
  EXPECT_EQ(d["timeline"][2]["note"], "từ tiến trình khác");
  EXPECT_EQ(d["timeline"][3]["seq"], 4);
  d = Act(leader_, d, "approve");  // and on from what this process wrote itself
  EXPECT_EQ(d["timeline"].size(), 5u);
}

TEST_P(DossierTest, DeskSubmissionStartsTheClockAtOnce) {
  json body = {{"procedure_code", "1.001193"},
               {"unit_code", "00004"},
               {"channel", "desk"},
               {"applicant", {{"full_name", "Lê Thị Hoa"}, {"personal_id", "001185000222"}, {"phone", "0987654321"}}},
               {"form", BirthForm()}};
  auto r = app_->Post("/api/v1/dossiers", body.dump(), desk_);
  ASSERT_EQ(r.status, 201) << r.body;
  auto d = Json(r);
  EXPECT_EQ(d["status"], "received");
  EXPECT_EQ(d["channel"], "desk");
  EXPECT_TRUE(d["due_at"].is_string());
  EXPECT_EQ(d["applicant"]["account"], false);
  EXPECT_EQ(d, Json(app_->Get("/api/v1/dossiers/" + d["code"].get<std::string>(), desk_)));  // not read back
  // Without a commune, a commune's desk records for its own commune.
  body.erase("unit_code");
  auto own = app_->Post("/api/v1/dossiers", body.dump(), desk_);
  ASSERT_EQ(own.status, 201) << own.body;
  EXPECT_EQ(Json(own)["handling_agency"], "UBND00004");
  body["channel"] = "online";
  EXPECT_EQ(app_->Post("/api/v1/dossiers", body.dump(), desk_).status, 400);
  EXPECT_EQ(app_->Post("/api/v1/dossiers", body.dump(), leader_).status, 403);
}

TEST_P(DossierTest, CityLevelProceduresGoToTheServiceCenterAndTheirDepartment) {
  // 1.001146: extending a foreigner's temporary residence (immigration, offered online) -> received by
  // the Service Center, handled by the city police.
  json body = {{"procedure_code", "1.001146"},
               {"applicant", {{"full_name", "Công ty TNHH ABC"}, {"tax_code", "0101234567"}, {"phone", "0243123456"}}}};
  auto r = app_->Post("/api/v1/dossiers", body.dump(), citizen_);
  ASSERT_EQ(r.status, 201) << r.body;
  auto d = Json(r);
  EXPECT_EQ(d["receiving_agency"], "TTPVHCC01");
  EXPECT_EQ(d["handling_agency"], "CATP01");
  EXPECT_EQ(d["code"].get<std::string>().rfind("TTPVHCC01-", 0), 0u);
}

TEST_P(DossierTest, TransferToAnotherAgencyAndBack) {
  json d = Act(desk_, Submit(), "receive");
  d = Act(desk_, d, "assign", {{"assignee", "specialist"}});
  d = Act(specialist_, d, "transfer", {{"agency", "STP01"}, {"note", "Xin ý kiến Sở Tư pháp"}});
  EXPECT_EQ(d["status"], "transferred");
  EXPECT_EQ(d["handling_agency"], "STP01");
  std::string justice = MakeOfficial("stp.chuyenvien", "specialist", "STP01");
  auto seen = app_->Get("/api/v1/dossiers?scope=agency", justice);
  ASSERT_EQ(seen.status, 200);
  ASSERT_EQ(Json(seen)["items"].size(), 1u);
  d = Act(justice, d, "transfer", {{"agency", "UBND00004"}, {"note", "Đã có ý kiến"}});
  EXPECT_EQ(d["status"], "in_progress");
  EXPECT_EQ(d["handling_agency"], "UBND00004");
}

TEST_P(DossierTest, PublicStatusNeedsTheCheckDigitsAndIsRateLimited) {
  json d = Submit();
  std::string code = d["code"];
  auto ok = app_->Get("/api/v1/public/dossiers/" + code + "?check=2345");  // last 4 of the personal ID
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto j = Json(ok);
  EXPECT_EQ(j["status"], "submitted");
  EXPECT_FALSE(j.contains("applicant"));
  // Exactly the public fields, with their types (the answer is written without a DOM).
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"code", "due_at", "finished_at", "overdue", "procedure", "received_at",
                                            "returned_at", "status", "status_label", "submitted_at"}));
  EXPECT_EQ(j["code"], code);
  EXPECT_EQ(j["procedure"], d["procedure"]["name"]);
  EXPECT_EQ(j["status_label"], "Mới nộp trực tuyến, chờ tiếp nhận");
  EXPECT_TRUE(j["due_at"].is_null());
  EXPECT_TRUE(j["received_at"].is_null());
  EXPECT_EQ(j["overdue"], false);
  EXPECT_EQ(j["submitted_at"], d["submitted_at"]);
  EXPECT_EQ(ok.body.find("Nguyễn"), std::string::npos);
  EXPECT_EQ(app_->Get("/api/v1/public/dossiers/" + code + "?check=5678").status, 200);  // phone
  auto wrong = app_->Get("/api/v1/public/dossiers/" + code + "?check=0000");
  auto missing = app_->Get("/api/v1/public/dossiers/UBND00004-000000-9999?check=2345");
  EXPECT_EQ(wrong.status, 404);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Json(wrong)["detail"], Json(missing)["detail"]);  // a wrong guess reveals nothing
  for (int i = 0; i < 10; ++i) app_->Get("/api/v1/public/dossiers/" + code + "?check=1111");
  EXPECT_EQ(app_->Get("/api/v1/public/dossiers/" + code + "?check=2345").status, 429);
}

TEST_P(DossierTest, QueuesCountsAndLateness) {
  json a = Submit();
  json b = Act(desk_, Submit(), "receive");
  auto q = Json(app_->Get("/api/v1/dossiers?scope=agency", desk_));
  ASSERT_EQ(q["items"].size(), 2u);
  EXPECT_EQ(q["items"][0]["code"], b["code"]);  // the one with a deadline first
  auto counts = Json(app_->Get("/api/v1/dossiers/counts", desk_));
  EXPECT_EQ(counts["by_status"]["submitted"], 1);
  EXPECT_EQ(counts["by_status"]["received"], 1);
  EXPECT_EQ(counts["overdue"], 0);
  app_->clock().Advance(40LL * 86400 * 1000);
  desk_ = app_->Login("desk");
  citizen_ = app_->Login("citizen");
  auto late = Json(app_->Get("/api/v1/dossiers?overdue=true", desk_));
  ASSERT_EQ(late["items"].size(), 1u);
  EXPECT_EQ(late["items"][0]["overdue"], true);
  // The official apologises and sets a new appointment.
  json now = Json(app_->Get("/api/v1/dossiers/" + b["code"].get<std::string>(), desk_));
  json after = Act(desk_, now, "apologise", {{"note", "Xin lỗi vì chậm trễ"}, {"new_due_date", "2027-01-08"}});
  EXPECT_EQ(after["apologies"], 1);
  EXPECT_EQ(after["overdue"], false);
  EXPECT_EQ(Json(app_->Get("/api/v1/dossiers/counts", desk_))["overdue"], 0);
  EXPECT_EQ(app_->Get("/api/v1/dossiers", citizen_).status, 403);
  (void)a;
}

TEST_P(DossierTest, ApplicantWithdraws) {
  json d = Act(desk_, Submit(), "receive");
  d = Act(citizen_, d, "withdraw", {{"note", "Nộp nhầm thủ tục"}});
  EXPECT_EQ(d["status"], "withdrawn");
  EXPECT_EQ(d["open"], false);
  EXPECT_EQ(d["allowed_actions"], json::array());
}

TEST_P(DossierTest, BadSubmissionsNameTheField) {
  auto post = [&](json body) { return app_->Post("/api/v1/dossiers", body.dump(), citizen_); };
  json good = {{"procedure_code", "1.001193"}, {"unit_code", "00004"},
               {"applicant", {{"full_name", "An"}, {"phone", "0912345678"}}}};
  auto field = [](const HttpResult& r) { return Json(r).value("field", ""); };
  json b = good;
  b["procedure_code"] = "9.999999";
  EXPECT_EQ(field(post(b)), "procedure_code");
  b = good;
  b["unit_code"] = "77777";
  EXPECT_EQ(field(post(b)), "unit_code");
  b = good;
  b.erase("unit_code");
  EXPECT_EQ(field(post(b)), "unit_code");
  b = good;
  b["applicant"]["phone"] = "123";
  EXPECT_EQ(field(post(b)), "applicant.phone");
  b = good;
  b["applicant"]["personal_id"] = "999999999999";
  EXPECT_EQ(field(post(b)), "applicant.personal_id");
  b = good;
  b["applicant"]["shoe_size"] = 42;
  EXPECT_EQ(field(post(b)), "applicant.shoe_size");
  b = good;
  b["channel"] = "desk";
  EXPECT_EQ(field(post(b)), "channel");
  b = good;
  b["form"] = "not an object";
  EXPECT_EQ(field(post(b)), "form");
  b = good;
  b["procedure_code"] = "1.000016";  // not offered online
  EXPECT_EQ(post(b).status, 422);
  EXPECT_TRUE(Json(app_->Get("/api/v1/me/dossiers", citizen_))["items"].empty());
}

TEST_P(DossierTest, ServiceIndexScoresTheCommuneAndTheCity) {
  // One dossier carried to the end on time and rated 5; one online dossier still waiting, another
  // received and then left to run late.
  json d = Act(desk_, Submit(), "receive");
  d = Act(desk_, d, "assign", {{"assignee", "specialist"}});
  d = Act(specialist_, d, "propose");
  d = Act(leader_, d, "approve");
  d = Act(specialist_, d, "issue-result");
  d = Act(desk_, d, "return");
  ASSERT_EQ(app_->Post("/api/v1/dossiers/" + d["code"].get<std::string>() + "/rating", R"({"rating":5})", citizen_).status,
            200);
  Submit();
  Act(desk_, Submit(), "receive");
  auto r = app_->Get("/api/v1/stats/service-index?unit=00004&from=2026-11-01&to=2026-11-30");
  ASSERT_EQ(r.status, 200) << r.body;
  auto idx = Json(r);
  EXPECT_EQ(idx["received"], 3);
  EXPECT_EQ(idx["resolved"], 1);
  std::map<std::string, json> by_key;
  for (const auto& i : idx["indicators"]) by_key[i["key"]] = i;
  EXPECT_EQ(by_key["progress.on_time"]["numerator"], 1);
  EXPECT_EQ(by_key["progress.on_time"]["denominator"], 1);
  EXPECT_EQ(by_key["progress.on_time"]["score"], 12.0);
  EXPECT_EQ(by_key["online.received_online"]["rate"], 1.0);
  EXPECT_EQ(by_key["satisfaction.rating"]["numerator"], 1);
  EXPECT_TRUE(by_key["payment.paid_online"]["rate"].is_null());  // not measured yet: no score
  EXPECT_GT(idx["score_100"].get<double>(), 50.0);
  // The city sees the same dossiers; an empty period has nothing.
  EXPECT_EQ(Json(app_->Get("/api/v1/stats/service-index?unit=01&from=2026-11-01&to=2026-11-30"))["received"], 3);
  EXPECT_EQ(Json(app_->Get("/api/v1/stats/service-index?unit=01&from=2025-01-01&to=2025-01-31"))["received"], 0);
  auto ranking = Json(app_->Get("/api/v1/stats/service-index/ranking?from=2026-11-01&to=2026-11-30"));
  ASSERT_EQ(ranking["items"].size(), 1u);
  EXPECT_EQ(ranking["items"][0]["unit"], "00004");
  EXPECT_EQ(ranking["items"][0]["rank"], 1);
  EXPECT_EQ(Json(app_->Get("/api/v1/stats/service-index?from=2026-11-31&to=2026-12-01"))["field"], "from");
  EXPECT_EQ(Json(app_->Get("/api/v1/stats/service-index?from=2026-11-01"))["field"], "to");
}

TEST_P(DossierTest, AttachmentsAreStoredByContentAndReadableOnlyByThoseWhoMaySeeTheDossier) {
  std::string pdf = "%PDF-1.4\n% giấy chứng sinh\n" + std::string(2000, 'x') + "\n%%EOF\n";
  auto up = HttpRequest(app_->port(), "POST", "/api/v1/attachments", pdf,
                        {{"Authorization", "Bearer " + citizen_}, {"Content-Type", "application/pdf"}});
  ASSERT_EQ(up.status, 201) << up.body;
  std::string sha = Json(up)["sha256"];
  EXPECT_EQ(sha.size(), 64u);
  // The same content uploaded again is the same file.
  auto again = HttpRequest(app_->port(), "POST", "/api/v1/attachments", pdf,
                           {{"Authorization", "Bearer " + citizen_}, {"Content-Type", "application/pdf"}});
  EXPECT_EQ(Json(again)["sha256"], sha);
  // A file that is not what it claims, or of another type, is refused.
  EXPECT_EQ(HttpRequest(app_->port(), "POST", "/api/v1/attachments", "not a pdf",
                        {{"Authorization", "Bearer " + citizen_}, {"Content-Type", "application/pdf"}}).status, 400);
  EXPECT_EQ(HttpRequest(app_->port(), "POST", "/api/v1/attachments", "<script>",
                        {{"Authorization", "Bearer " + citizen_}, {"Content-Type", "text/html"}}).status, 415);
  json body = {{"procedure_code", "1.001193"}, {"unit_code", "00004"},
               {"applicant", {{"full_name", "Nguyễn Văn An"}, {"phone", "0912345678"}}},
               {"form", BirthForm()},
               {"attachments", {{{"sha256", sha}, {"name", "Giấy chứng sinh.pdf"}}}}};
  auto r = app_->Post("/api/v1/dossiers", body.dump(), citizen_);
  ASSERT_EQ(r.status, 201) << r.body;
  auto d = Json(r);
  ASSERT_EQ(d["attachments"].size(), 1u);
  EXPECT_EQ(d["attachments"][0]["name"], "Giấy chứng sinh.pdf");
  auto got = app_->Get("/api/v1/attachments/" + sha, desk_);  // the desk sees the dossier, so the file
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, pdf);
  EXPECT_EQ(got.Header("content-type"), "application/pdf");
  EXPECT_NE(got.Header("content-disposition").find("attachment"), std::string::npos);
  std::string other_desk = MakeOfficial("desk.other", "desk_officer", "UBND00008");
  EXPECT_EQ(app_->Get("/api/v1/attachments/" + sha, other_desk).status, 404);
  // Someone else's file cannot be cited.
  body["attachments"] = {{{"sha256", sha}}};
  EXPECT_EQ(app_->Post("/api/v1/dossiers", body.dump(), desk_).status, 400);
}

// ---- Procedure forms: each procedure's JSON Schema checks the submission ----

TEST_P(DossierTest, TheBirthRegistrationFormIsCheckedOnSubmission) {
  auto proc = Json(app_->Get("/api/v1/procedures/1.001193"));
  const json& child = proc["form_schema"]["properties"]["form"]["properties"]["child"];
  EXPECT_EQ(child["properties"]["date_of_birth"]["title"], "Ngày, tháng, năm sinh");
  EXPECT_EQ(child["properties"]["date_of_birth"]["format"], "date");
  EXPECT_NE(std::find(child["required"].begin(), child["required"].end(), "date_of_birth"), child["required"].end());

  json body = {{"procedure_code", "1.001193"},
               {"unit_code", "00004"},
               {"applicant", {{"full_name", "Nguyễn Văn An"}, {"personal_id", "001090012345"}, {"phone", "0912345678"}}},
               {"form", BirthForm()},
               {"components", {"Tờ khai đăng ký khai sinh", "Giấy chứng sinh"}}};
  auto post = [&](const json& b) { return app_->Post("/api/v1/dossiers", b.dump(), citizen_); };
  json b = body;
  b["form"]["child"].erase("date_of_birth");
  auto r = post(b);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.Header("content-type").find("application/problem+json"), std::string::npos);
  EXPECT_EQ(Json(r)["field"], "form.child.date_of_birth");
  EXPECT_EQ(Json(r)["detail"], "is required");
  b["form"]["child"]["date_of_birth"] = "31/02/2026";
  EXPECT_EQ(Json(post(b))["detail"], "must be a date YYYY-MM-DD");
  b = body;
  b["form"]["child"]["sex"] = "Trai";
  EXPECT_EQ(Json(post(b))["field"], "form.child.sex");
  b = body;
  b["form"]["child"]["shoe_size"] = 20;
  EXPECT_EQ(Json(post(b))["field"], "form.child.shoe_size");
  b = body;
  b["components"] = {"Sổ hộ khẩu"};
  EXPECT_EQ(Json(post(b))["field"], "components.0");
  b = body;
  b.erase("form");
  EXPECT_EQ(Json(post(b))["field"], "form.relationship");
  // A desk officer's record is held to the same form.
  b = body;
  b["channel"] = "desk";
  b["form"]["mother"].erase("full_name");
  EXPECT_EQ(Json(app_->Post("/api/v1/dossiers", b.dump(), desk_))["field"], "form.mother.full_name");
  // Nothing was written.
  EXPECT_TRUE(Json(app_->Get("/api/v1/me/dossiers", citizen_))["items"].empty());
  EXPECT_TRUE(Json(app_->Get("/api/v1/dossiers", desk_))["items"].empty());

  r = post(body);
  ASSERT_EQ(r.status, 201) << r.body;
  auto d = Json(app_->Get("/api/v1/dossiers/" + Json(r)["code"].get<std::string>(), citizen_));
  EXPECT_EQ(d["form"]["child"]["date_of_birth"], "2026-11-10");
  EXPECT_EQ(d["form"]["mother"]["full_name"], "Trần Thị Bình");
}

TEST_P(DossierTest, AdminsGiveAProcedureItsOwnForm) {
  // 1.001146 (a foreigner's temporary residence extension, offered online) has the generic form.
  auto proc = Json(app_->Get("/api/v1/procedures/1.001146"));
  EXPECT_EQ(proc["form_schema"]["title"], "Tờ khai chung");
  json submit = {{"procedure_code", "1.001146"},
                 {"applicant", {{"full_name", "John Smith"}, {"phone", "0912345678"}}},
                 {"form", {{"ghi_chu", "tự do"}}}};
  EXPECT_EQ(app_->Post("/api/v1/dossiers", submit.dump(), citizen_).status, 201);

  json change = proc;
  for (const char* k : {"version", "effective_from"}) change.erase(k);
  change["form_schema"] = {
      {"type", "object"},
      {"required", {"form"}},
      {"properties",
       {{"form",
         {{"type", "object"},
          {"required", {"passport_number", "stay_until"}},
          {"properties",
           {{"passport_number", {{"type", "string"}, {"title", "Số hộ chiếu"}, {"minLength", 6}, {"maxLength", 20}}},
            {"stay_until", {{"type", "string"}, {"format", "date"}, {"title", "Đề nghị gia hạn tạm trú đến ngày"}}}}}}}}}};
  auto put = app_->Put("/api/v1/procedures/1.001146", change.dump(), admin_);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Json(put)["version"], 2);
  EXPECT_EQ(Json(app_->Get("/api/v1/procedures/1.001146"))["form_schema"]["properties"]["form"]["required"],
            json::array({"passport_number", "stay_until"}));

  auto r = app_->Post("/api/v1/dossiers", submit.dump(), citizen_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["field"], "form.passport_number");
  submit["form"] = {{"passport_number", "C1234567"}, {"stay_until", "2027-01-31"}};
  r = app_->Post("/api/v1/dossiers", submit.dump(), citizen_);
  EXPECT_EQ(r.status, 201) << r.body;

  // A schema that is not one, or too large, is refused naming where; nothing changes.
  json bad = change;
  bad["form_schema"]["properties"]["form"]["properties"]["stay_until"]["type"] = "date";
  r = app_->Put("/api/v1/procedures/1.001146", bad.dump(), admin_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["field"], "form_schema.properties.form.properties.stay_until.type");
  bad = change;
  bad["form_schema"]["description"] = std::string(65 * 1024, 'x');
  r = app_->Put("/api/v1/procedures/1.001146", bad.dump(), admin_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["field"], "form_schema");
  EXPECT_EQ(Json(app_->Get("/api/v1/procedures/1.001146/versions"))["items"].size(), 2u);
  // Only city admins change forms.
  EXPECT_EQ(app_->Put("/api/v1/procedures/1.001146", change.dump(), desk_).status, 403);
}

INSTANTIATE_TEST_SUITE_P(Backends, DossierTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::testing
