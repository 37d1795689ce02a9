#include "core/signing.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/crypto.h"

namespace tl::signing {
namespace {

class SigningTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::InitCrypto().ok()); }
};

std::string Decode(std::string_view text) {
  auto r = Base64UrlDecode(text);
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() ? *r : std::string();
}

// Re-encodes `b64` with byte `i` of its decoded form XORed with `mask`.
std::string FlipByte(std::string_view b64, size_t i, unsigned char mask = 0x01) {
  std::string raw = Decode(b64);
  raw.at(i) = static_cast<char>(raw.at(i) ^ mask);
  return Base64UrlEncode(raw);
}

TEST_F(SigningTest, KeyPairsHaveTheDocumentedSizes) {
  KeyPair a = GenerateKeyPair();
  KeyPair b = GenerateKeyPair();
  EXPECT_EQ(a.public_key.size(), 43u);   // 32 bytes
  EXPECT_EQ(a.private_key.size(), 86u);  // 64 bytes
  EXPECT_EQ(Decode(a.public_key).size(), 32u);
  EXPECT_EQ(Decode(a.private_key).size(), 64u);
  EXPECT_NE(a.public_key, b.public_key);
  EXPECT_NE(a.private_key, b.private_key);
}

TEST_F(SigningTest, SignVerifyRoundTrip) {
  KeyPair kp = GenerateKeyPair();
  const std::string message = "Giấy chứng nhận đăng ký kinh doanh số 0101234567";
  auto sig = Sign(message, kp.private_key);
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(sig->size(), 86u);  // 64 bytes
  EXPECT_TRUE(Verify(message, *sig, kp.public_key));
  // Ed25519 is deterministic.
  auto again = Sign(message, kp.private_key);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *sig);
  // The empty message is a message like any other.
  auto empty = Sign("", kp.private_key);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(Verify("", *empty, kp.public_key));
  EXPECT_FALSE(Verify("x", *empty, kp.public_key));
}

TEST_F(SigningTest, VerifyRejectsTamperingAndMalformedInput) {
  KeyPair kp = GenerateKeyPair();
  KeyPair other = GenerateKeyPair();
  const std::string message = "hồ sơ 2026-000123";
  auto sig_result = Sign(message, kp.private_key);
  ASSERT_TRUE(sig_result.ok());
  const std::string sig = *sig_result;
  ASSERT_TRUE(Verify(message, sig, kp.public_key));

  // Every flipped message byte.
  for (size_t i = 0; i < message.size(); ++i) {
    std::string changed = message;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_FALSE(Verify(changed, sig, kp.public_key)) << "byte " << i;
  }
  EXPECT_FALSE(Verify(message + " ", sig, kp.public_key));
  EXPECT_FALSE(Verify(message.substr(1), sig, kp.public_key));

  // Every flipped signature byte.
  for (size_t i = 0; i < 64; ++i) EXPECT_FALSE(Verify(message, FlipByte(sig, i), kp.public_key)) << "byte " << i;

  // Another key.
  EXPECT_FALSE(Verify(message, sig, other.public_key));
  auto other_sig = Sign(message, other.private_key);
  ASSERT_TRUE(other_sig.ok());
  EXPECT_FALSE(Verify(message, *other_sig, kp.public_key));

  // Truncated signatures: dropping one character leaves invalid base64url, dropping two leaves 63 bytes.
  EXPECT_FALSE(Verify(message, sig.substr(0, sig.size() - 1), kp.public_key));
  EXPECT_FALSE(Verify(message, sig.substr(0, sig.size() - 2), kp.public_key));
  EXPECT_FALSE(Verify(message, Base64UrlEncode(Decode(sig).substr(0, 32)), kp.public_key));
  EXPECT_FALSE(Verify(message, "", kp.public_key));
  // An over-long signature.
  EXPECT_FALSE(Verify(message, Base64UrlEncode(Decode(sig) + "x"), kp.public_key));

  // Garbage and non-strict base64.
  EXPECT_FALSE(Verify(message, "!!!!not base64!!!!", kp.public_key));
  EXPECT_FALSE(Verify(message, sig + "==", kp.public_key));
  EXPECT_FALSE(Verify(message, " " + sig, kp.public_key));
  EXPECT_FALSE(Verify(message, std::string(86, '\0'), kp.public_key));
  EXPECT_FALSE(Verify(message, sig, "!!!!"));
  EXPECT_FALSE(Verify(message, sig, ""));
  EXPECT_FALSE(Verify(message, sig, kp.public_key.substr(0, 42)));
  EXPECT_FALSE(Verify(message, sig, kp.private_key));                          // 64 bytes where 32 are expected
  EXPECT_FALSE(Verify(message, sig, Base64UrlEncode(std::string(32, '\0'))));  // a small-order point
}

TEST_F(SigningTest, SignRejectsMalformedPrivateKeys) {
  KeyPair kp = GenerateKeyPair();
  for (const std::string& bad : {kp.public_key, std::string(), std::string("!!!!"), kp.private_key.substr(0, 85),
                                 kp.private_key.substr(0, 84), kp.private_key + "AA", kp.private_key + "=="}) {
    auto sig = Sign("message", bad);
    ASSERT_FALSE(sig.ok()) << bad;
    EXPECT_EQ(sig.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(sig.status().field(), "private_key");
  }
}

class SigningCertificateTest : public SigningTest {
 protected:
  void SetUp() override {
    SigningTest::SetUp();
    root_ = GenerateKeyPair();
    agency_ = GenerateKeyPair();
    cert_.key_id = "STP01-2026-1";
    cert_.agency_code = "STP01";
    cert_.public_key = agency_.public_key;
    cert_.valid_from_ms = 1767225600000;   // 2026-01-01T00:00:00Z
    cert_.valid_until_ms = 1798761600000;  // 2027-01-01T00:00:00Z
    ASSERT_TRUE(Certify(cert_, root_.private_key).ok());
  }

  KeyPair root_;
  KeyPair agency_;
  KeyCertificate cert_;
};

TEST_F(SigningCertificateTest, CanonicalTextHasTheDocumentedLayout) {
  EXPECT_EQ(CertificateText(cert_),
            "thanglong-key-cert-v1\nSTP01-2026-1\nSTP01\n" + agency_.public_key + "\n1767225600000\n1798761600000");
  KeyCertificate no_end = cert_;
  no_end.valid_until_ms = 0;
  no_end.valid_from_ms = -5;
  EXPECT_EQ(CertificateText(no_end), "thanglong-key-cert-v1\nSTP01-2026-1\nSTP01\n" + agency_.public_key + "\n-5\n0");
  // The signature is not part of the signed text.
  KeyCertificate unsigned_cert = cert_;
  unsigned_cert.root_signature.clear();
  EXPECT_EQ(CertificateText(unsigned_cert), CertificateText(cert_));
}

TEST_F(SigningCertificateTest, ValidCertificateVerifies) {
  EXPECT_EQ(cert_.root_signature.size(), 86u);
  EXPECT_TRUE(VerifyCertificate(cert_, root_.public_key));
  EXPECT_TRUE(Verify(CertificateText(cert_), cert_.root_signature, root_.public_key));

  KeyCertificate open_ended = cert_;
  open_ended.valid_until_ms = 0;
  ASSERT_TRUE(Certify(open_ended, root_.private_key).ok());
  EXPECT_TRUE(VerifyCertificate(open_ended, root_.public_key));
  // Signatures do not transfer between certificates.
  KeyCertificate swapped = cert_;
  swapped.root_signature = open_ended.root_signature;
  EXPECT_FALSE(VerifyCertificate(swapped, root_.public_key));
}

TEST_F(SigningCertificateTest, ChangingAnyFieldInvalidates) {
  const KeyCertificate original = cert_;
  std::vector<std::pair<std::string, KeyCertificate>> changed;
  auto with = [&](const char* what, auto mutate) {
    KeyCertificate c = original;
    mutate(c);
    changed.emplace_back(what, c);
  };
  with("key_id", [](KeyCertificate& c) { c.key_id = "STP01-2026-2"; });
  with("agency_code", [](KeyCertificate& c) { c.agency_code = "STP02"; });
  with("public_key", [&](KeyCertificate& c) { c.public_key = GenerateKeyPair().public_key; });
  with("public_key byte", [](KeyCertificate& c) { c.public_key = FlipByte(c.public_key, 0); });
  with("valid_from_ms", [](KeyCertificate& c) { c.valid_from_ms -= 1; });
  with("valid_until_ms", [](KeyCertificate& c) { c.valid_until_ms += 1; });
  with("valid_until_ms 0", [](KeyCertificate& c) { c.valid_until_ms = 0; });
  with("root_signature", [](KeyCertificate& c) { c.root_signature = FlipByte(c.root_signature, 10); });
  with("no signature", [](KeyCertificate& c) { c.root_signature.clear(); });
  // Moving text between neighbouring fields keeps CertificateText's characters but not its meaning.
  with("shifted boundary", [](KeyCertificate& c) {
    c.key_id = "STP01-2026-1\nSTP01";
    c.agency_code = "";
  });
  for (const auto& [what, c] : changed) {
    EXPECT_FALSE(VerifyCertificate(c, root_.public_key)) << what;
  }
  EXPECT_TRUE(VerifyCertificate(original, root_.public_key));
}

TEST_F(SigningCertificateTest, AnotherRootDoesNotVerify) {
  KeyPair other_root = GenerateKeyPair();
  EXPECT_FALSE(VerifyCertificate(cert_, other_root.public_key));
  EXPECT_FALSE(VerifyCertificate(cert_, agency_.public_key));  // an agency key cannot stand in for the root
  EXPECT_FALSE(VerifyCertificate(cert_, "not a key"));
  KeyCertificate by_other = cert_;
  ASSERT_TRUE(Certify(by_other, other_root.private_key).ok());
  EXPECT_TRUE(VerifyCertificate(by_other, other_root.public_key));
  EXPECT_FALSE(VerifyCertificate(by_other, root_.public_key));
}

TEST_F(SigningCertificateTest, CertifyRejectsBadFields) {
  struct Case {
    const char* field;
    void (*mutate)(KeyCertificate&);
  };
  const Case cases[] = {
      {"key_id", [](KeyCertificate& c) { c.key_id = "STP01\n2026"; }},
      {"key_id", [](KeyCertificate& c) { c.key_id.clear(); }},
      {"agency_code", [](KeyCertificate& c) { c.agency_code = "STP01\n"; }},
      {"agency_code", [](KeyCertificate& c) { c.agency_code.clear(); }},
      {"public_key", [](KeyCertificate& c) { c.public_key += "\n"; }},
      {"public_key", [](KeyCertificate& c) { c.public_key = "not base64!"; }},
      {"public_key", [](KeyCertificate& c) { c.public_key = c.public_key.substr(0, 40); }},
      {"valid_until_ms", [](KeyCertificate& c) { c.valid_until_ms = c.valid_from_ms; }},
  };
  for (const Case& tc : cases) {
    KeyCertificate c = cert_;
    c.root_signature = "unchanged";
    tc.mutate(c);
    Status s = Certify(c, root_.private_key);
    ASSERT_FALSE(s.ok()) << tc.field;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << tc.field;
    EXPECT_EQ(s.field(), tc.field);
    EXPECT_EQ(c.root_signature, "unchanged") << tc.field;
  }
  KeyCertificate c = cert_;
  Status s = Certify(c, root_.public_key);  // a public key is not a private key
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.field(), "private_key");
}

TEST_F(SigningTest, DocumentDigestIsCanonical) {
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"procedure", "1.004227"},
      {"applicant", "Nguyễn Văn An"},
      {"formula", "a=b"},  // '=' is allowed in values
      {"file_sha256", crypto::Sha256Hex("pdf bytes")},
  };
  auto a = DocumentDigest(fields);
  auto b = DocumentDigest(fields);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, "thanglong-document-v1\nprocedure=1.004227\napplicant=Nguyễn Văn An\nformula=a=b\nfile_sha256=" +
                    crypto::Sha256Hex("pdf bytes") + "\n");

  auto empty = DocumentDigest({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "thanglong-document-v1\n");

  // A changed value, a changed name, a reordering, an added or a dropped field all change the text.
  auto differs = [&](std::vector<std::pair<std::string, std::string>> f, const char* what) {
    auto d = DocumentDigest(f);
    ASSERT_TRUE(d.ok()) << what;
    EXPECT_NE(*d, *a) << what;
  };
  auto f = fields;
  f[1].second = "Nguyễn Văn Ân";
  differs(f, "value");
  f = fields;
  f[0].first = "procedure_code";
  differs(f, "name");
  f = fields;
  std::swap(f[0], f[1]);
  differs(f, "reordered");
  f = fields;
  f.emplace_back("extra", "");
  differs(f, "added");
  f = fields;
  f.pop_back();
  differs(f, "dropped");
  f = fields;
  f[3].second = crypto::Sha256Hex("other pdf bytes");
  differs(f, "file");
}

TEST_F(SigningTest, DocumentDigestRejectsAmbiguousFields) {
  struct Case {
    std::string name, value;
  };
  for (const Case& tc :
       {Case{"applicant", "An\nforged=1"}, Case{"appli\ncant", "An"}, Case{"a=b", "c"}, Case{"applicant", "\n"}}) {
    auto d = DocumentDigest({{"procedure", "1.004227"}, {tc.name, tc.value}});
    ASSERT_FALSE(d.ok()) << tc.name;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(d.status().field(), tc.name);
  }
}

TEST_F(SigningTest, SignedDocumentVerifiesWithPublicDataOnly) {
  KeyPair root = GenerateKeyPair();
  KeyPair agency = GenerateKeyPair();
  KeyCertificate cert{"STP01-2026-1", "STP01", agency.public_key, 1767225600000, 0, {}};
  ASSERT_TRUE(Certify(cert, root.private_key).ok());
  auto digest = DocumentDigest({{"number", "123/GP"}, {"holder", "Trần Thị Bình"}});
  ASSERT_TRUE(digest.ok());
  auto sig = Sign(*digest, agency.private_key);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(VerifyCertificate(cert, root.public_key));
  EXPECT_TRUE(Verify(*digest, *sig, cert.public_key));
  auto forged = DocumentDigest({{"number", "123/GP"}, {"holder", "Trần Thị Bính"}});
  ASSERT_TRUE(forged.ok());
  EXPECT_FALSE(Verify(*forged, *sig, cert.public_key));
}

TEST_F(SigningTest, SealingRoundTrip) {
  KeyPair kp = GenerateKeyPair();
  std::string master = GenerateMasterKey();
  EXPECT_EQ(master.size(), 43u);
  EXPECT_EQ(Decode(master).size(), 32u);
  EXPECT_NE(master, GenerateMasterKey());

  auto sealed = SealPrivateKey(kp.private_key, "STP01-2026-1", master);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ(Decode(*sealed).size(), 24u + 64u + 16u);  // nonce, ciphertext, tag
  EXPECT_EQ(sealed->find(kp.private_key), std::string::npos);
  EXPECT_EQ(Decode(*sealed).find(Decode(kp.private_key)), std::string::npos);

  auto opened = OpenPrivateKey(*sealed, "STP01-2026-1", master);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, kp.private_key);
  auto sig = Sign("after unsealing", *opened);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Verify("after unsealing", *sig, kp.public_key));

  // A fresh nonce each time.
  auto resealed = SealPrivateKey(kp.private_key, "STP01-2026-1", master);
  ASSERT_TRUE(resealed.ok());
  EXPECT_NE(*resealed, *sealed);
  auto reopened = OpenPrivateKey(*resealed, "STP01-2026-1", master);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*reopened, kp.private_key);
}

TEST_F(SigningTest, OpeningFailsOnAnyChange) {
  KeyPair kp = GenerateKeyPair();
  const std::string master = GenerateMasterKey();
  const std::string key_id = "STP01-2026-1";
  auto sealed_result = SealPrivateKey(kp.private_key, key_id, master);
  ASSERT_TRUE(sealed_result.ok());
  const std::string sealed = *sealed_result;
  ASSERT_TRUE(OpenPrivateKey(sealed, key_id, master).ok());

  EXPECT_FALSE(OpenPrivateKey(sealed, key_id, GenerateMasterKey()).ok());
  EXPECT_FALSE(OpenPrivateKey(sealed, key_id, FlipByte(master, 31)).ok());
  EXPECT_FALSE(OpenPrivateKey(sealed, "STP01-2026-2", master).ok());
  EXPECT_FALSE(OpenPrivateKey(sealed, "", master).ok());
  EXPECT_FALSE(OpenPrivateKey(sealed, key_id + " ", master).ok());
  // Every byte: nonce, ciphertext and tag.
  const size_t blob_size = Decode(sealed).size();
  for (size_t i = 0; i < blob_size; ++i) {
    EXPECT_FALSE(OpenPrivateKey(FlipByte(sealed, i, 0x80), key_id, master).ok()) << "byte " << i;
  }
  // Truncated or extended blobs.
  const std::string raw = Decode(sealed);
  EXPECT_FALSE(OpenPrivateKey(Base64UrlEncode(raw.substr(0, raw.size() - 1)), key_id, master).ok());
  EXPECT_FALSE(OpenPrivateKey(Base64UrlEncode(raw.substr(0, 24 + 16)), key_id, master).ok());
  EXPECT_FALSE(OpenPrivateKey(Base64UrlEncode(raw.substr(0, 10)), key_id, master).ok());
  EXPECT_FALSE(OpenPrivateKey(Base64UrlEncode(raw + "x"), key_id, master).ok());
  EXPECT_FALSE(OpenPrivateKey(sealed.substr(0, sealed.size() - 1), key_id, master).ok());
  EXPECT_FALSE(OpenPrivateKey("", key_id, master).ok());
  EXPECT_FALSE(OpenPrivateKey("!!!!", key_id, master).ok());
  // A malformed master key.
  auto bad_master = OpenPrivateKey(sealed, key_id, master.substr(0, 40));
  ASSERT_FALSE(bad_master.ok());
  EXPECT_EQ(bad_master.status().field(), "master_key");
}

TEST_F(SigningTest, SealingRejectsMalformedInput) {
  KeyPair kp = GenerateKeyPair();
  const std::string master = GenerateMasterKey();
  auto s = SealPrivateKey(kp.public_key, "k", master);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().field(), "private_key");
  s = SealPrivateKey("not base64!", "k", master);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().field(), "private_key");
  for (const std::string& bad : {std::string(), master.substr(0, 42), master + "AA", kp.private_key}) {
    s = SealPrivateKey(kp.private_key, "k", bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.status().field(), "master_key");
  }
}

TEST_F(SigningTest, Base64UrlRoundTripsEveryByteValue) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  // Every length up to 256, so each remainder modulo 3 and every byte value is covered.
  for (size_t n = 0; n <= all.size(); ++n) {
    std::string bytes = all.substr(0, n);
    std::string text = Base64UrlEncode(bytes);
    EXPECT_EQ(text.size(), (n * 4 + 2) / 3) << n;
    EXPECT_EQ(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos)
        << text;
    auto back = Base64UrlDecode(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(*back, bytes) << n;
  }
  // Reversed, so high bytes land in every position too.
  std::string reversed(all.rbegin(), all.rend());
  auto back = Base64UrlDecode(Base64UrlEncode(reversed));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, reversed);
}

TEST_F(SigningTest, Base64UrlMatchesRfc4648) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff\xbf", "-_-_"},
  };
  for (const auto& [bytes, text] : vectors) {
    EXPECT_EQ(Base64UrlEncode(bytes), text);
    auto d = Base64UrlDecode(text);
    ASSERT_TRUE(d.ok()) << text;
    EXPECT_EQ(*d, bytes);
  }
}

TEST_F(SigningTest, Base64UrlDecodingIsStrict) {
  for (const std::string& bad :
       {std::string("Zg=="),     std::string("Zg="),    std::string("Zm8="),   std::string("Zm9v===="),
        std::string("+_-_"),  // standard alphabet
        std::string("-/-_"),     std::string("Zm9v+A"), std::string("Zm9v/A"), std::string("Zm9v\n"),
        std::string(" Zm9v"),    std::string("Zm 9v"),  std::string("Zm9v\t"), std::string("Zm9v\r\n"),
        std::string("Z"),      // a length of 1 modulo 4 cannot occur
        std::string("Zm9vY"),  // ditto
        std::string("Zh"),     // non-zero trailing bits: not the canonical encoding of "f"
        std::string("Zm9"),    // ditto for "fo"
        std::string("Zm\0v", 4), std::string("Zm9v!"),  std::string("Zm9v.")}) {
    auto d = Base64UrlDecode(bad);
    ASSERT_FALSE(d.ok()) << "accepted \"" << bad << "\"";
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace tl::signing
