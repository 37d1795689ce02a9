// Vietnamese-aware text utilities: UTF-8 validation, NFC normalisation and diacritics folding.
//
// All text that enters storage is NFC-normalised (NormalizeNfc). Search keys are folded with
// FoldForSearch: NFD, marks stripped, case folded and 'đ'/'Đ' mapped to 'd', so that
// "Đăng ký khai sinh" and "dang ky khai sinh" give the same key. Backed by utf8proc.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tl::text {

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or truncated sequences).
bool IsValidUtf8(std::string_view s);

// NFC form of `s`. Fails with InvalidArgument(field) when `s` is not valid UTF-8.
Result<std::string> NormalizeNfc(std::string_view s, std::string_view field = {});

// Lower-case, diacritics-free key of `s` for search ("Phường Ba Đình" -> "phuong ba dinh").
// Invalid UTF-8 yields an empty string.
std::string FoldForSearch(std::string_view s);

// Splits a folded string on whitespace and punctuation.
std::vector<std::string> Tokens(std::string_view folded);

std::string_view Trim(std::string_view s);

// Tidies text from outside sources: no-break spaces become spaces, runs of whitespace collapse to one,
// the ends are trimmed, and the result is NFC. Invalid UTF-8 is returned trimmed but otherwise as is.
std::string CleanText(std::string_view raw);

// Number of Unicode code points (for length limits); -1 for invalid UTF-8.
long CodePointCount(std::string_view s);

// Splits one CSV line (RFC 4180 quoting: "a, b" and "" inside quotes; fields may not contain line
// breaks; a trailing \r is dropped). InvalidArgument for an unterminated quote.
Result<std::vector<std::string>> SplitCsvLine(std::string_view line);

// "a,b,c" from {"a","b","c"} (no escaping: items must not contain `sep`), and back; empty items are
// dropped when splitting.
std::string Join(const std::vector<std::string>& items, char sep = ',');
std::vector<std::string> Split(std::string_view text, char sep = ',');

}  // namespace tl::text
