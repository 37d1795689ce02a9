// Document signature verification on one core: the wallet's full check of an issued document
// (canonical digest of its fields, the agency key's certificate against the root, the document's
// signature), beside libsodium's bare Ed25519 verification of a message of the same size measured
// in the same run. Prints "RESULT <name> <value>" lines.
//   signing_bench [--seconds N]
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/crypto.h"
#include "core/signing.h"

namespace {

template <typename F>
double PerSecond(double seconds, F&& once) {
  auto start = std::chrono::steady_clock::now();
  int64_t n = 0;
  double elapsed = 0;
  do {
    for (int i = 0; i < 256; ++i) {
      if (!once()) {
        std::fprintf(stderr, "verification failed\n");
        std::exit(1);
      }
    }
    n += 256;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  return static_cast<double>(n) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
  }
  if (!tl::crypto::InitCrypto().ok()) return 1;
  using namespace tl::signing;
  KeyPair root = GenerateKeyPair();
  KeyPair agency = GenerateKeyPair();
  KeyCertificate cert{"UBND00004-2026-1", "UBND00004", agency.public_key, 1795000000000, 0, ""};
  if (!Certify(cert, root.private_key).ok()) return 1;
  const std::vector<std::pair<std::string, std::string>> fields = {{"id", "k3J9x0aQ2mZ8vB1c"},
                                {"holder", "001090012345"},
                                {"type", "1.001193"},
                                {"number", "UBND00004-261118-0001"},
                                {"title", "Giấy khai sinh: Nguyễn Minh Anh (001326964401)"},
                                {"issuer_agency", "UBND00004"},
                                {"issued_on", "2026-11-18"},
                                {"valid_until", ""},
                                {"source", "dossier:UBND00004-261118-0001"},
                                {"file_sha256", std::string(64, 'a')},
                                {"key_id", "UBND00004-2026-1"}};
  auto digest = DocumentDigest(fields);
  if (!digest.ok()) return 1;
  auto signature = Sign(*digest, agency.private_key);
  if (!signature.ok()) return 1;

  // Baseline: libsodium alone on raw bytes.
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES];
  crypto_sign_keypair(pk, sk);
  std::string msg = *digest;
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), sk);
  double raw = PerSecond(seconds, [&] {
    return crypto_sign_verify_detached(sig, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), pk) == 0;
  });
  // The wallet's check of one document: rebuild the digest, check the key's certificate, then the signature.
  double full = PerSecond(seconds, [&] {
    auto d = DocumentDigest(fields);
    return d.ok() && VerifyCertificate(cert, root.public_key) && Verify(*d, *signature, agency.public_key);
  });
  // Certificates are few; with the certificate checked once per key, a document costs one verification.
  double doc_only = PerSecond(seconds, [&] { return Verify(*digest, *signature, agency.public_key); });
  std::printf("RESULT raw_ed25519_verify_per_s %.0f\n", raw);
  std::printf("RESULT document_verify_with_certificate_per_s %.0f\n", full);
  std::printf("RESULT document_verify_per_s %.0f\n", doc_only);
  return 0;
}
