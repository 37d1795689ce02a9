// ParseJsonFast: reads a JSON text into an nlohmann::json several times faster than
// nlohmann::json::parse, for hot paths that parse many documents the platform wrote itself (the
// NGSI-LD entities a batch upsert merges into: their parsing was ~14% of the server's CPU in that
// benchmark, docs/benchmarks-ngsild.md). nlohmann's lexer reads one character at a time through
// an input adapter and copies every number into a buffer for strtod; this one scans strings in
// runs, reads numbers with std::from_chars and appends object members with a hint when the keys
// come in order (nlohmann's dump writes them sorted), which is the common case.
//
// The contract is nlohmann's: for every text this function takes, the value is the one
// nlohmann::json::parse gives, with the same number types (unsigned for a non-negative integer,
// integer for a negative one, float for one with a fraction or an exponent) and the last of
// duplicate keys kept. Anything it does not take returns nullopt: invalid JSON, invalid UTF-8, a
// byte-order mark, a number out of range, nesting deeper than kJsonMaxFastDepth. The caller then parses with
// nlohmann, so every input still gets nlohmann's result or its error; ParseJson does exactly that.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tl {

inline constexpr int kJsonMaxFastDepth = 256;

// The value of `text`, or nullopt when it is not one this reader takes (see above).
std::optional<nlohmann::json> ParseJsonFast(std::string_view text);

// ParseJsonFast, else nlohmann::json::parse(text, nullptr, false): a discarded value for invalid JSON.
nlohmann::json ParseJson(std::string_view text);

// One member of a JSON object's text, as written: the key between its quotes (still escaped) and the
// value's text.
struct RawJsonMember {
  std::string_view key;
  std::string_view value;
};

// The members of `text` in order, when it is an object written as nlohmann's compact dump writes one
// (no white space outside strings, keys in strictly increasing byte order, none with an escape), so
// that a member can be changed by rewriting only its value's text. nullopt for any other text. The
// values are delimited, not validated: parse the ones you read (ParseJson).
std::optional<std::vector<RawJsonMember>> ScanCompactJsonObject(std::string_view text);

}  // namespace tl
