#include "core/crypto.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace tl::crypto {
namespace {

TEST(CryptoTest, TokensAreLongAndDistinct) {
  ASSERT_TRUE(InitCrypto().ok());
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = RandomToken();
    EXPECT_EQ(t.size(), 43u);  // 32 bytes base64url, no padding
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 100u);
}

// Request ids: the encoding of RandomToken, distinct within a thread and between threads (each
// thread's stream has its own key).
TEST(CryptoTest, FastTokensAreDistinctAcrossCallsAndThreads) {
  ASSERT_TRUE(InitCrypto().ok());
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& tokens : per_thread) {
    threads.emplace_back([&tokens] {
      for (int i = 0; i < 5000; ++i) tokens.push_back(FastRandomToken(12));
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> seen;
  for (const auto& tokens : per_thread) {
    for (const auto& t : tokens) {
      EXPECT_EQ(t.size(), 16u);
      EXPECT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
      seen.insert(t);
    }
  }
  EXPECT_EQ(seen.size(), 20000u);
}

TEST(CryptoTest, Sha256MatchesKnownVector) {
  ASSERT_TRUE(InitCrypto().ok());
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, Argon2idHashesVerify) {
  ASSERT_TRUE(InitCrypto().ok());
  auto h = HashPassword("mật khẩu", PasswordCost::Minimum());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(VerifyPassword(*h, "mật khẩu"));
  EXPECT_FALSE(VerifyPassword(*h, "mat khau"));
  EXPECT_FALSE(VerifyPassword("garbage", "x"));
}

}  // namespace
}  // namespace tl::crypto
