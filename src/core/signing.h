// Digital signatures for issued documents: Ed25519 (libsodium), a two-level key hierarchy and
// sealed private keys.
//
// The city holds one root key. Each issuing agency holds its own signing keys; an agency key is
// valid only with a certificate, which is the root's signature over the canonical text of
// (key id, agency code, public key, valid from, valid until). Documents are signed by an agency key
// over the canonical text of their fields (see DocumentDigest), so verifying a document needs only
// public data: the document's fields and signature, the agency key's certificate, the root's public
// key, and the key's revocation state (kept by the caller, since it changes).
//
// Private keys never leave the process unsealed: SealPrivateKey encrypts one with the platform's
// 32-byte master key (XChaCha20-Poly1305, the key id as associated data) for storage in the database;
// OpenPrivateKey reverses it and fails if the ciphertext or its key id were changed.
//
// Encodings: keys, signatures and sealed blobs are base64url without padding; times are Unix ms.
//
// Thread-safety: pure functions after crypto::InitCrypto(); safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace tl::signing {

struct KeyPair {
  std::string public_key;   // 32 bytes, base64url
  std::string private_key;  // 64 bytes (libsodium's secret key), base64url; keep sealed at rest
};

KeyPair GenerateKeyPair();

// A detached Ed25519 signature (base64url) of `message`.
Result<std::string> Sign(std::string_view message, std::string_view private_key);
// True only for a valid signature of `message` by `public_key`; false for any malformed input.
bool Verify(std::string_view message, std::string_view signature, std::string_view public_key);

struct KeyCertificate {
  std::string key_id;       // "STP01-2026-1"
  std::string agency_code;  // "STP01"
  std::string public_key;   // the agency key, base64url
  int64_t valid_from_ms = 0;
  int64_t valid_until_ms = 0;  // 0: no end
  std::string root_signature;  // the root's signature over CertificateText()
};

// The canonical text the root signs: the fields above except root_signature (times in decimal) joined
// by '\n' in that order, prefixed by a version tag. Certify rejects fields containing '\n', so a field
// cannot move into its neighbour.
std::string CertificateText(const KeyCertificate& c);
// Fills c.root_signature.
Status Certify(KeyCertificate& c, std::string_view root_private_key);
bool VerifyCertificate(const KeyCertificate& c, std::string_view root_public_key);

// The canonical text of a document an agency signs: a version tag, then each field as
// "name=value\n" in the given order (names and values must not contain '\n', nor names '=';
// InvalidArgument naming the field otherwise). The file itself enters as its SHA-256.
Result<std::string> DocumentDigest(const std::vector<std::pair<std::string, std::string>>& fields);

// Master key: 32 bytes, base64url. GenerateMasterKey for a new installation.
std::string GenerateMasterKey();
Result<std::string> SealPrivateKey(std::string_view private_key, std::string_view key_id, std::string_view master_key);
Result<std::string> OpenPrivateKey(std::string_view sealed, std::string_view key_id, std::string_view master_key);

// Base64url without padding (RFC 4648 §5), and its strict decoding (InvalidArgument on bad input).
std::string Base64UrlEncode(std::string_view bytes);
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace tl::signing
