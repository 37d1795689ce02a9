#include "modules/mail/mail.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "core/crypto.h"
#include "modules/mail/smtp_sink.h"
#include "tests/support/scratch_store.h"

namespace tl::mail {
namespace {

using testing::ParseMessage;
using testing::SinkOptions;
using testing::SmtpSink;

const std::string kSubject =
    "Hồ sơ UBND00004-261118-0001: Yêu cầu bổ sung giấy tờ — Đăng ký khai sinh tại Phường Ba Đình";
const std::string kBody =
    "Kính gửi ông/bà Nguyễn Văn An,\n"
    ".Dòng này bắt đầu bằng dấu chấm\n"
    ".\n"
    "Hồ sơ của ông/bà cần bổ sung bản sao giấy chứng sinh.\n";

class MailTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    crypto::InitCrypto().IgnoreError();
    store_ = std::make_unique<tl::testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(storage::ApplyMigrations(*db_, Outbox::Migrations()).ok());
    outbox_ = std::make_unique<Outbox>(db_.get(), &clock_);
  }

  SenderOptions Options(const SmtpSink& sink) const {
    SenderOptions o;
    o.smtp.host = "127.0.0.1";
    o.smtp.port = sink.port();
    o.smtp.from = "mot-cua@hanoi.gov.vn";
    o.smtp.from_name = "Một cửa điện tử Hà Nội";
    o.smtp.timeout_ms = 5000;
    o.max_attempts = 5;
    return o;
  }

  int64_t EnqueueCommitted(const std::string& to, const std::string& subject = kSubject,
                           const std::string& body = kBody) {
    int64_t id = 0;
    Status st = db_->Write([&](storage::Session& s) -> Status {
      TL_ASSIGN_OR_RETURN(id, outbox_->Enqueue(s, to, subject, body));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return id;
  }

  OutboxMessage Row(int64_t id) {
    auto m = outbox_->Get(id);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : OutboxMessage{};
  }

  ManualClock clock_{1795000000000};  // 2026-11-18T11:06:40Z
  std::unique_ptr<tl::testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<Outbox> outbox_;
};

TEST_P(MailTest, AMessageQueuedInARolledBackTransactionIsNeverSent) {
  SmtpSink sink;
  Status st = db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto id, outbox_->Enqueue(s, "an.nguyen@example.vn", kSubject, kBody));
    (void)id;
    return Conflict("the action that caused the e-mail failed");
  });
  EXPECT_FALSE(st.ok());
  Sender sender(outbox_.get(), &clock_, Options(sink));
  auto n = sender.RunOnce();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 0);
  auto counts = outbox_->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, 0);
  EXPECT_EQ(sink.connections(), 0);
  EXPECT_TRUE(sink.Messages().empty());
}

TEST_P(MailTest, ACommittedMessageArrivesExactlyOnceWithItsVietnameseSubject) {
  SmtpSink sink;
  int64_t id = EnqueueCommitted("an.nguyen@example.vn");
  Sender sender(outbox_.get(), &clock_, Options(sink));
  auto n = sender.RunOnce();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  auto again = sender.RunOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);

  auto got = sink.Messages();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].mail_from, "mot-cua@hanoi.gov.vn");
  EXPECT_EQ(got[0].rcpt, "an.nguyen@example.vn");
  EXPECT_EQ(got[0].mail_params, "BODY=8BITMIME");
  auto msg = ParseMessage(got[0].data);
  EXPECT_EQ(msg.subject, kSubject);
  EXPECT_EQ(msg.body, kBody);  // dot-stuffing undone by the server, line ends restored
  EXPECT_EQ(msg.headers["to"], "an.nguyen@example.vn");
  EXPECT_EQ(msg.headers["mime-version"], "1.0");
  EXPECT_EQ(msg.headers["content-type"], "text/plain; charset=UTF-8");
  EXPECT_EQ(msg.headers["content-transfer-encoding"], "8bit");
  EXPECT_EQ(msg.headers["date"], "Wed, 18 Nov 2026 11:06:40 +0000");
  EXPECT_NE(msg.headers["from"].find("<mot-cua@hanoi.gov.vn>"), std::string::npos);
  EXPECT_NE(msg.headers["from"].find("=?UTF-8?B?"), std::string::npos);
  const std::string& mid = msg.headers["message-id"];
  EXPECT_EQ(mid.front(), '<');
  EXPECT_NE(mid.find("@hanoi.gov.vn>"), std::string::npos);
  // The raw Subject is ASCII only: encoded-words of at most 75 characters, folded.
  auto start = got[0].data.find("Subject: ");
  auto end = got[0].data.find("\r\nMessage-ID:");
  std::string raw = got[0].data.substr(start + 9, end - start - 9);
  for (unsigned char c : raw) EXPECT_LT(c, 0x80);
  size_t words = 0;
  for (size_t p = raw.find("=?UTF-8?B?"); p != std::string::npos; p = raw.find("=?UTF-8?B?", p + 1)) {
    EXPECT_LE(raw.find("?=", p + 10) + 2 - p, 75u);
    ++words;
  }
  EXPECT_GE(words, 2u);

  OutboxMessage row = Row(id);
  EXPECT_TRUE(row.sent_at.has_value());
  EXPECT_FALSE(row.next_attempt_at.has_value());
  EXPECT_EQ(row.attempts, 1);
  EXPECT_EQ(sender.sent_total(), 1);
}

TEST_P(MailTest, WithoutEightBitMimeTheBodyTravelsAsBase64) {
  SinkOptions o;
  o.eight_bit_mime = false;
  SmtpSink sink(o);
  EnqueueCommitted("an.nguyen@example.vn");
  Sender sender(outbox_.get(), &clock_, Options(sink));
  ASSERT_TRUE(sender.RunOnce().ok());
  auto got = sink.Messages();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].mail_params, "");
  auto msg = ParseMessage(got[0].data);
  EXPECT_EQ(msg.headers["content-transfer-encoding"], "base64");
  EXPECT_EQ(msg.body, kBody);
  EXPECT_EQ(msg.subject, kSubject);
}

TEST_P(MailTest, A451IsRetriedWithBackoffAndThenDelivered) {
  SmtpSink sink;
  sink.QueueDataReplies({451});
  int64_t id = EnqueueCommitted("an.nguyen@example.vn");
  Sender sender(outbox_.get(), &clock_, Options(sink));
  ASSERT_TRUE(sender.RunOnce().ok());
  EXPECT_EQ(sink.data_attempts(), 1);
  EXPECT_TRUE(sink.Messages().empty());
  OutboxMessage row = Row(id);
  EXPECT_EQ(row.attempts, 1);
  EXPECT_FALSE(row.sent_at.has_value());
  EXPECT_FALSE(row.failed_at.has_value());
  ASSERT_TRUE(row.last_error.has_value());
  EXPECT_NE(row.last_error->find("451"), std::string::npos) << *row.last_error;
  ASSERT_TRUE(row.next_attempt_at.has_value());
  EXPECT_EQ(*row.next_attempt_at, clock_.NowMillis() + 60'000);

  auto early = sender.RunOnce();  // not due yet
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(*early, 0);
  EXPECT_EQ(sink.data_attempts(), 1);

  clock_.Advance(60'000);
  auto later = sender.RunOnce();
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(*later, 1);
  ASSERT_EQ(sink.Messages().size(), 1u);
  EXPECT_EQ(ParseMessage(sink.Messages()[0].data).subject, kSubject);
  row = Row(id);
  EXPECT_TRUE(row.sent_at.has_value());
  EXPECT_EQ(row.attempts, 2);
  EXPECT_EQ(sender.retried_total(), 1);
  EXPECT_EQ(sender.sent_total(), 1);
}

TEST_P(MailTest, A550IsGivenUpAtOnceKeepingTheErrorAndOthersStillGo) {
  SmtpSink sink;
  sink.RejectRecipient("khong.ton.tai@example.vn", 550);
  int64_t bad = EnqueueCommitted("khong.ton.tai@example.vn");
  int64_t good = EnqueueCommitted("an.nguyen@example.vn");
  Sender sender(outbox_.get(), &clock_, Options(sink));
  auto n = sender.RunOnce();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  OutboxMessage row = Row(bad);
  EXPECT_TRUE(row.failed_at.has_value());
  EXPECT_FALSE(row.next_attempt_at.has_value());
  EXPECT_FALSE(row.sent_at.has_value());
  EXPECT_EQ(row.attempts, 1);
  ASSERT_TRUE(row.last_error.has_value());
  EXPECT_NE(row.last_error->find("RCPT TO: 550"), std::string::npos) << *row.last_error;
  EXPECT_TRUE(Row(good).sent_at.has_value());  // the session went on after RSET
  ASSERT_EQ(sink.Messages().size(), 1u);
  EXPECT_EQ(sink.Messages()[0].rcpt, "an.nguyen@example.vn");
  EXPECT_EQ(sender.failed_total(), 1);

  clock_.Advance(86'400'000);
  auto later = sender.RunOnce();
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(*later, 0);
  auto failed = outbox_->List("failed", 10);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].id, bad);
  auto counts = outbox_->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->failed, 1);
  EXPECT_EQ(counts->pending, 0);

  // An operator puts it back after fixing the cause.
  auto retried = outbox_->Retry(bad);
  ASSERT_TRUE(retried.ok());
  EXPECT_TRUE(*retried);
  EXPECT_EQ(Row(bad).attempts, 0);
  EXPECT_TRUE(Row(bad).next_attempt_at.has_value());
}

TEST_P(MailTest, TemporaryFailuresGiveUpAfterMaxAttempts) {
  SmtpSink sink;
  sink.QueueDataReplies({451, 452, 451});
  int64_t id = EnqueueCommitted("an.nguyen@example.vn");
  SenderOptions o = Options(sink);
  o.max_attempts = 3;
  Sender sender(outbox_.get(), &clock_, o);
  EXPECT_EQ(sender.Backoff(1), 60'000);
  EXPECT_EQ(sender.Backoff(2), 120'000);
  EXPECT_EQ(sender.Backoff(3), 240'000);
  EXPECT_EQ(sender.Backoff(30), 6LL * 3600'000);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_TRUE(sender.RunOnce().ok());
    OutboxMessage row = Row(id);
    EXPECT_EQ(row.attempts, attempt);
    if (attempt < 3) {
      ASSERT_TRUE(row.next_attempt_at.has_value());
      clock_.Set(*row.next_attempt_at);
    } else {
      EXPECT_TRUE(row.failed_at.has_value());
      EXPECT_FALSE(row.next_attempt_at.has_value());
      EXPECT_NE(row.last_error.value_or("").find("451"), std::string::npos);
    }
  }
  EXPECT_EQ(sink.data_attempts(), 3);
  EXPECT_TRUE(sink.Messages().empty());
}

TEST_P(MailTest, AnUnreachableServerIsRetried) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);  // nothing listens there now
  SmtpSink unused;
  SenderOptions o = Options(unused);
  o.smtp.port = ntohs(addr.sin_port);
  int64_t id = EnqueueCommitted("an.nguyen@example.vn");
  Sender sender(outbox_.get(), &clock_, o);
  ASSERT_TRUE(sender.RunOnce().ok());
  OutboxMessage row = Row(id);
  EXPECT_EQ(row.attempts, 1);
  EXPECT_TRUE(row.next_attempt_at.has_value());
  EXPECT_NE(row.last_error.value_or("").find("cannot connect"), std::string::npos) << row.last_error.value_or("");
}

TEST_P(MailTest, ClaimsAreExclusiveUntilTheLeaseExpires) {
  for (int i = 0; i < 5; ++i) EnqueueCommitted("a" + std::to_string(i) + "@example.vn");
  auto a = outbox_->Claim("A", 3, 60'000);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 3u);
  auto b = outbox_->Claim("B", 10, 60'000);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->size(), 2u);
  auto none = outbox_->Claim("B", 10, 60'000);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->size(), 0u);
  clock_.Advance(60'001);  // A's and B's leases have expired: B takes all five over
  auto taken = outbox_->Claim("B", 10, 60'000);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->size(), 5u);
  auto lost = outbox_->MarkSent("A", (*a)[0].id);
  ASSERT_TRUE(lost.ok());
  EXPECT_FALSE(*lost);  // A lost its lease: its late outcome does not overwrite B's claim
  auto mine = outbox_->MarkSent("B", (*a)[0].id);
  ASSERT_TRUE(mine.ok());
  EXPECT_TRUE(*mine);
}

TEST_P(MailTest, ConcurrentClaimsNeverOverlap) {
  const int kRows = 120;
  Status st = db_->Write([&](storage::Session& s) -> Status {
    for (int i = 0; i < kRows; ++i) {
      TL_ASSIGN_OR_RETURN(auto id, outbox_->Enqueue(s, "c" + std::to_string(i) + "@example.vn", "s", "b"));
      (void)id;
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::vector<std::unique_ptr<storage::Database>> dbs;
  for (int i = 0; i < 4; ++i) dbs.push_back(store_->Open(2));
  std::mutex mu;
  std::vector<int64_t> claimed;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Outbox mine(dbs[t].get(), &clock_);
      for (int round = 0; round < 100; ++round) {
        auto got = mine.Claim("owner" + std::to_string(t), 3, 600'000);
        if (!got.ok()) {
          ADD_FAILURE() << got.status().ToString();
          return;
        }
        if (got->empty()) return;
        std::lock_guard<std::mutex> lk(mu);
        for (const auto& m : *got) claimed.push_back(m.id);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> distinct(claimed.begin(), claimed.end());
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kRows));
}

TEST_P(MailTest, TwoSendersOnOneDatabaseNeverDeliverARowTwice) {
  SinkOptions so;
  so.data_delay_ms = 3;
  SmtpSink sink(so);
  const int kMessages = 40;
  for (int i = 0; i < kMessages; ++i) EnqueueCommitted("dan" + std::to_string(i) + "@example.vn");
  auto db2 = store_->Open();
  ASSERT_NE(db2, nullptr);
  Outbox other(db2.get(), &clock_);
  SenderOptions o = Options(sink);
  o.batch = 3;
  o.poll_ms = 10;
  Sender a(outbox_.get(), &clock_, o);
  Sender b(&other, &clock_, o);
  a.Start();
  b.Start();
  EXPECT_TRUE(sink.WaitForMessages(kMessages, 60'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // room for a duplicate to show up
  a.Stop();
  b.Stop();
  auto got = sink.Messages();
  std::set<std::string> ids, rcpts;
  for (const auto& m : got) {
    ids.insert(ParseMessage(m.data).headers["message-id"]);
    rcpts.insert(m.rcpt);
  }
  EXPECT_EQ(got.size(), static_cast<size_t>(kMessages));
  EXPECT_EQ(ids.size(), static_cast<size_t>(kMessages));
  EXPECT_EQ(rcpts.size(), static_cast<size_t>(kMessages));
  EXPECT_EQ(a.sent_total() + b.sent_total(), kMessages);
  auto counts = outbox_->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, 0);
}

TEST_P(MailTest, StopIsPromptEvenInTheMiddleOfAConversation) {
  SinkOptions so;
  so.silent = true;  // accepts, never greets: the client would wait for its 30 s timeout
  SmtpSink sink(so);
  int64_t id = EnqueueCommitted("an.nguyen@example.vn");
  SenderOptions o = Options(sink);
  o.smtp.timeout_ms = 30'000;
  Sender sender(outbox_.get(), &clock_, o);
  sender.Start();
  ASSERT_TRUE(sink.WaitForConnections(1, 10'000));
  auto t0 = std::chrono::steady_clock::now();
  sender.Stop();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(ms, 2000);
  OutboxMessage row = Row(id);
  EXPECT_EQ(row.attempts, 0);  // interrupted, not failed: released for the next sender
  EXPECT_FALSE(row.claimed_until.has_value());
  EXPECT_TRUE(row.next_attempt_at.has_value());
}

TEST_P(MailTest, AuthPlainOverStartTls) {
  std::string cert, key;
  ASSERT_TRUE(testing::MakeSelfSignedCertificate(&cert, &key));
  auto ca = std::filesystem::path(store_->data_dir()) / "sink-ca.pem";
  std::ofstream(ca) << cert;
  SinkOptions so;
  so.tls_cert_pem = cert;
  so.tls_key_pem = key;
  so.auth_user = "mot-cua";
  so.auth_password = "mật khẩu SMTP";
  SmtpSink sink(so);
  int64_t id = EnqueueCommitted("an.nguyen@example.vn");
  SenderOptions o = Options(sink);
  o.smtp.tls = "starttls";
  o.smtp.ca_file = ca.string();
  o.smtp.user = "mot-cua";
  o.smtp.password = "mật khẩu SMTP";
  Sender sender(outbox_.get(), &clock_, o);
  ASSERT_TRUE(sender.RunOnce().ok());
  ASSERT_EQ(sink.Messages().size(), 1u) << Row(id).last_error.value_or("");
  EXPECT_TRUE(sink.Messages()[0].tls);
  EXPECT_EQ(sink.Messages()[0].auth_user, "mot-cua");
  EXPECT_EQ(ParseMessage(sink.Messages()[0].data).subject, kSubject);

  // A wrong password is a session failure: retried (the configuration may be fixed), error kept.
  int64_t second = EnqueueCommitted("binh.tran@example.vn");
  o.smtp.password = "sai";
  Sender wrong(outbox_.get(), &clock_, o);
  ASSERT_TRUE(wrong.RunOnce().ok());
  OutboxMessage row = Row(second);
  EXPECT_EQ(row.attempts, 1);
  EXPECT_TRUE(row.next_attempt_at.has_value());
  EXPECT_NE(row.last_error.value_or("").find("535"), std::string::npos) << row.last_error.value_or("");

  // Without the sink's CA the certificate is not trusted: nothing is sent in clear instead.
  o.smtp.password = "mật khẩu SMTP";
  o.smtp.ca_file.clear();
  o.smtp.tls = "auto";
  clock_.Advance(3600'000);
  Sender untrusting(outbox_.get(), &clock_, o);
  ASSERT_TRUE(untrusting.RunOnce().ok());
  row = Row(second);
  EXPECT_EQ(row.attempts, 2);
  EXPECT_NE(row.last_error.value_or("").find("certificate"), std::string::npos) << row.last_error.value_or("");
  EXPECT_EQ(sink.Messages().size(), 1u);
}

TEST_P(MailTest, BadAddressesAreRefusedAtEnqueue) {
  for (const char* bad : {"", "khong-co-a-cong", "@example.vn", "an@", "an@@example.vn", "an nguyen@example.vn",
                          "an@example.vn\r\nBcc: x@y.z", "<an@example.vn>", "an@example..vn", "an@.example.vn",
                          "a,b@example.vn"}) {
    EXPECT_FALSE(Outbox::ValidateAddress(bad).ok()) << bad;
    Status st = db_->Write([&](storage::Session& s) { return outbox_->Enqueue(s, bad, kSubject, kBody).status(); });
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad;
  }
  for (const char* good : {"an.nguyen@example.vn", "an+mot-cua@sub.example.vn", "x@localhost", "chị.bình@hà-nội.vn"}) {
    EXPECT_TRUE(Outbox::ValidateAddress(good).ok()) << good;
  }
  auto counts = outbox_->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, MailTest, ::testing::ValuesIn(tl::testing::BackendNames()),
                         [](const auto& info) { return info.param; });

TEST(SmtpFormatTest, EncodesHeadersAndStuffsDots) {
  EXPECT_EQ(EncodeHeaderText("Plain ASCII"), "Plain ASCII");
  EXPECT_EQ(EncodeHeaderText("Hồ sơ"), "=?UTF-8?B?" + Base64("Hồ sơ") + "?=");
  EXPECT_EQ(EncodeHeaderText("a\r\nBcc: x"), "a  Bcc: x");
  EXPECT_EQ(testing::DecodeBase64(Base64("Đăng ký khai sinh")), "Đăng ký khai sinh");
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("a"), "YQ==");
  EXPECT_EQ(Base64("ab"), "YWI=");
  EXPECT_EQ(Base64("abc"), "YWJj");
  EXPECT_EQ(DotStuff(".a\r\nb\r\n.\r\n..c\r\n"), "..a\r\nb\r\n..\r\n...c\r\n");
  EXPECT_EQ(FormatRfc5322Date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  // A character is never split between two encoded-words.
  std::string long_vi;
  for (int i = 0; i < 20; ++i) long_vi += "Đường ";
  std::string enc = EncodeHeaderText(long_vi);
  std::string decoded;
  for (size_t p = enc.find("=?UTF-8?B?"); p != std::string::npos; p = enc.find("=?UTF-8?B?", p + 1)) {
    std::string word = testing::DecodeBase64(enc.substr(p + 10, enc.find("?=", p + 10) - p - 10));
    EXPECT_NE(static_cast<unsigned char>(word[0]) & 0xC0, 0x80);  // starts on a lead byte
    decoded += word;
  }
  EXPECT_EQ(decoded, long_vi);
}

TEST(SmtpFormatTest, SettingsAreChecked) {
  SmtpSettings s;
  s.host = "smtp.example.vn";
  s.from = "mot-cua@hanoi.gov.vn";
  EXPECT_TRUE(ValidateSettings(s).ok());
  s.from = "";
  EXPECT_EQ(ValidateSettings(s).field(), "smtp_from");
  s.from = "mot-cua@hanoi.gov.vn";
  s.tls = "sometimes";
  EXPECT_EQ(ValidateSettings(s).field(), "smtp_tls");
}

}  // namespace
}  // namespace tl::mail
