#include "core/signing.h"

#include <sodium.h>

#include <string>

namespace tl::signing {
namespace {

constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
constexpr std::string_view kCertificateTag = "thanglong-key-cert-v1";
constexpr std::string_view kDocumentTag = "thanglong-document-v1";

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

// Overwrites a string that held secret bytes. The string keeps its size; its contents become zeros.
void Wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
}

// Decodes a base64url field that must hold exactly `size` bytes; InvalidArgument naming `field`.
Result<std::string> DecodeExact(std::string_view text, size_t size, const char* field) {
  auto decoded = Base64UrlDecode(text);
  if (!decoded.ok()) return InvalidArgument(std::string(field) + " is not valid base64url", field);
  if (decoded->size() != size) {
    Wipe(*decoded);
    return InvalidArgument(std::string(field) + " must be " + std::to_string(size) + " bytes", field);
  }
  return decoded;
}

bool ContainsNewline(std::string_view s) {
  return s.find('\n') != std::string_view::npos;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), Bytes(bytes), bytes.size(), kVariant);
  out.resize(std::char_traits<char>::length(out.c_str()));  // drop the terminator (shrinking keeps the buffer)
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  // No `ignore` characters and a null b64_end: libsodium then fails unless the whole input is
  // consumed, so padding, whitespace, '+', '/' and non-canonical trailing bits are all errors.
  if (sodium_base642bin(Bytes(out), out.size(), text.data(), text.size(), /*ignore=*/nullptr, &len,
                        /*b64_end=*/nullptr, kVariant) != 0) {
    Wipe(out);
    return InvalidArgument("not valid base64url without padding");
  }
  out.resize(len);
  return out;
}

KeyPair GenerateKeyPair() {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  KeyPair kp;
  kp.public_key = Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(pk), sizeof pk));
  kp.private_key = Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(sk), sizeof sk));
  sodium_memzero(sk, sizeof sk);
  return kp;
}

Result<std::string> Sign(std::string_view message, std::string_view private_key) {
  TL_ASSIGN_OR_RETURN(std::string sk, DecodeExact(private_key, crypto_sign_SECRETKEYBYTES, "private_key"));
  unsigned char sig[crypto_sign_BYTES];
  int rc = crypto_sign_detached(sig, nullptr, Bytes(message), message.size(), Bytes(sk));
  Wipe(sk);
  if (rc != 0) return Internal("Ed25519 signing failed");
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(sig), sizeof sig));
}

bool Verify(std::string_view message, std::string_view signature, std::string_view public_key) {
  auto sig = Base64UrlDecode(signature);
  if (!sig.ok() || sig->size() != crypto_sign_BYTES) return false;
  auto pk = Base64UrlDecode(public_key);
  if (!pk.ok() || pk->size() != crypto_sign_PUBLICKEYBYTES) return false;
  return crypto_sign_verify_detached(Bytes(*sig), Bytes(message), message.size(), Bytes(*pk)) == 0;
}

std::string CertificateText(const KeyCertificate& c) {
  std::string text;
  text.reserve(kCertificateTag.size() + c.key_id.size() + c.agency_code.size() + c.public_key.size() + 48);
  text.append(kCertificateTag).append("\n");
  text.append(c.key_id).append("\n");
  text.append(c.agency_code).append("\n");
  text.append(c.public_key).append("\n");
  text.append(std::to_string(c.valid_from_ms)).append("\n");
  text.append(std::to_string(c.valid_until_ms));
  return text;
}

Status Certify(KeyCertificate& c, std::string_view root_private_key) {
  if (c.key_id.empty()) return InvalidArgument("key_id is required", "key_id");
  if (c.agency_code.empty()) return InvalidArgument("agency_code is required", "agency_code");
  if (ContainsNewline(c.key_id)) return InvalidArgument("key_id must not contain a newline", "key_id");
  if (ContainsNewline(c.agency_code)) {
    return InvalidArgument("agency_code must not contain a newline", "agency_code");
  }
  if (ContainsNewline(c.public_key)) return InvalidArgument("public_key must not contain a newline", "public_key");
  auto pk = Base64UrlDecode(c.public_key);
  if (!pk.ok() || pk->size() != crypto_sign_PUBLICKEYBYTES) {
    return InvalidArgument("public_key must be a 32-byte base64url Ed25519 key", "public_key");
  }
  if (c.valid_until_ms != 0 && c.valid_until_ms <= c.valid_from_ms) {
    return InvalidArgument("valid_until_ms must be 0 or after valid_from_ms", "valid_until_ms");
  }
  TL_ASSIGN_OR_RETURN(c.root_signature, Sign(CertificateText(c), root_private_key));
  return Status::Ok();
}

bool VerifyCertificate(const KeyCertificate& c, std::string_view root_public_key) {
  // Certify never signs such fields; refusing them here keeps the canonical text unambiguous even if
  // that rule were ever relaxed.
  if (ContainsNewline(c.key_id) || ContainsNewline(c.agency_code) || ContainsNewline(c.public_key)) return false;
  return Verify(CertificateText(c), c.root_signature, root_public_key);
}

Result<std::string> DocumentDigest(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string text;
  size_t size = kDocumentTag.size() + 1;
  for (const auto& [name, value] : fields) size += name.size() + value.size() + 2;
  text.reserve(size);
  text.append(kDocumentTag).append("\n");
  for (const auto& [name, value] : fields) {
    if (ContainsNewline(name)) return InvalidArgument("field name must not contain a newline", name);
    if (name.find('=') != std::string::npos) return InvalidArgument("field name must not contain '='", name);
    if (ContainsNewline(value)) return InvalidArgument("field value must not contain a newline", name);
    text.append(name).append("=").append(value).append("\n");
  }
  return text;
}

std::string GenerateMasterKey() {
  unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
  crypto_aead_xchacha20poly1305_ietf_keygen(key);
  std::string out = Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(key), sizeof key));
  sodium_memzero(key, sizeof key);
  return out;
}

Result<std::string> SealPrivateKey(std::string_view private_key, std::string_view key_id, std::string_view master_key) {
  TL_ASSIGN_OR_RETURN(std::string sk, DecodeExact(private_key, crypto_sign_SECRETKEYBYTES, "private_key"));
  auto key = DecodeExact(master_key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "master_key");
  if (!key.ok()) {
    Wipe(sk);
    return key.status();
  }
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::string blob(kNonce + sk.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  randombytes_buf(blob.data(), kNonce);
  unsigned long long ct_len = 0;
  int rc = crypto_aead_xchacha20poly1305_ietf_encrypt(Bytes(blob) + kNonce, &ct_len, Bytes(sk), sk.size(),
                                                      Bytes(key_id), key_id.size(), nullptr, Bytes(blob), Bytes(*key));
  Wipe(sk);
  Wipe(*key);
  if (rc != 0) return Internal("sealing the private key failed");
  blob.resize(kNonce + ct_len);
  return Base64UrlEncode(blob);
}

Result<std::string> OpenPrivateKey(std::string_view sealed, std::string_view key_id, std::string_view master_key) {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  constexpr size_t kSealedSize = kNonce + crypto_sign_SECRETKEYBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
  TL_ASSIGN_OR_RETURN(std::string blob, DecodeExact(sealed, kSealedSize, "sealed"));
  TL_ASSIGN_OR_RETURN(std::string key,
                      DecodeExact(master_key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "master_key"));
  std::string sk(crypto_sign_SECRETKEYBYTES, '\0');
  unsigned long long sk_len = 0;
  int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(Bytes(sk), &sk_len, nullptr, Bytes(blob) + kNonce,
                                                      blob.size() - kNonce, Bytes(key_id), key_id.size(), Bytes(blob),
                                                      Bytes(key));
  Wipe(key);
  if (rc != 0 || sk_len != crypto_sign_SECRETKEYBYTES) {
    Wipe(sk);
    return Internal("sealed private key failed authentication (wrong master key or key id, or altered)");
  }
  std::string out = Base64UrlEncode(sk);
  Wipe(sk);
  return out;
}

}  // namespace tl::signing
