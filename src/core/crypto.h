// Random identifiers, hashing and password hashing, backed by libsodium.
//
// InitCrypto() must be called once at start-up (it is idempotent). Passwords are hashed with
// Argon2id (crypto_pwhash_str); the cost parameters are stored inside each hash, so changing them
// only affects new hashes. Tokens are 256 random bits, base64url-encoded; only their SHA-256 is stored.
//
// Thread-safety: all functions are safe from any thread after InitCrypto().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tl::crypto {

Status InitCrypto();

// `bytes` random bytes, base64url without padding.
std::string RandomToken(size_t bytes = 32);
// The same encoding of `bytes` bytes from a ChaCha20 stream of the calling thread, keyed once from the
// system's generator, with a per-call nonce: unique and unguessable without a system call per
// token (RandomToken's getrandom(2) was ~3% of a status look-up's CPU). For identifiers such as
// request ids, not for keys or session tokens.
std::string FastRandomToken(size_t bytes);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

std::string HexEncode(std::string_view bytes);

struct PasswordCost {
  unsigned long long ops_limit;
  size_t mem_limit;
  static PasswordCost Interactive();  // libsodium's interactive limits (64 MiB, 2 passes)
  static PasswordCost Minimum();      // for tests only
};

Result<std::string> HashPassword(std::string_view password, PasswordCost cost);
bool VerifyPassword(std::string_view hash, std::string_view password);

// Constant-time comparison.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace tl::crypto
