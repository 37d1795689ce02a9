// The NGSI-LD query language (ETSI GS CIM 009 v1.6+, clause 4.9): the `q` parameter of entity queries
// and subscriptions, parsed once into an immutable tree and evaluated in memory against entities.
//
// Contract:
// - Query::Parse takes the URL-decoded `q` string and fails with InvalidArgument(field "q") on any
//   syntax error, with the byte position in the message. Input is capped (kMaxQueryLength bytes,
//   kMaxNestingDepth levels of parentheses); it must be valid UTF-8 and is NFC-normalised like all
//   stored text. No whitespace is allowed outside quoted strings.
// - Query::Matches takes one entity in NGSI-LD normalized form (attributes are objects with "type"
//   Property / GeoProperty / Relationship / LanguageProperty / VocabProperty / JsonProperty /
//   ListProperty / ListRelationship; several instances of one attribute may be an array). It never
//   fails: a term over a missing attribute, or comparing values of different types (a number with a
//   string, a boolean with a number), is false, for != as well.
// - Attribute names are compared literally with the entity's keys: the caller compacts (or expands)
//   both with the same @context.
// Grammar (`;` = AND binds tighter than `|` = OR; parentheses group):
//   term  := path | "!" path | path op value
//   path  := name ("." name)* ("[" key "]")*   a.b = sub-attribute b of a; a[k] = key k of a's value
//   op    := == != > >= < <= ~= !~=
//   value := number | "string" | true | false | dateTime | date | time | URI   (unquoted)
//            | value ".." value (range, == and != only) | value "," value ... (list, == and != only)
// A path step naming an attribute member (observedAt, unitCode, datasetId...) yields the member itself.
// Values that are arrays, and multi-instance attributes, match when one element does; != (and !~=)
// hold when some value is comparable and none is equal (matches). Strings that are both ISO 8601
// date-times compare as instants, other strings by bytes.
// Names are ASCII letters, digits, '_', and ':' / '-' (compact IRIs); full IRIs are not supported.
// Patterns (~=) are ECMAScript regular expressions, quoted or unquoted (an unquoted pattern ends at a
// `;`, a `|` or a `)` outside its own groups), searched anywhere in the string; a leading "(?i)"
// makes them case-insensitive (ASCII). Back-references are refused, and the pattern's size times the
// string's length is bounded (kMaxPatternWork), so matching is polynomial and bounded: a string too
// long for a pattern does not match it.
//
// Thread-safety: a parsed Query is immutable; Matches may be called from any number of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tl::ngsild {

inline constexpr size_t kMaxQueryLength = 4096;             // bytes of the decoded q
inline constexpr int kMaxNestingDepth = 64;                 // parentheses, in q and inside a pattern
inline constexpr size_t kMaxPatternWork = size_t{1} << 20;  // pattern size x string length

// A literal of the query. Numbers keep an exact integer when they are written as one.
struct Literal {
  enum class Kind { kNumber, kString, kBoolean, kDateTime, kDate, kTime, kUri };
  Kind kind = Kind::kString;
  double number = 0;        // kNumber
  bool is_integer = false;  // kNumber written without fraction or exponent, within int64
  int64_t integer = 0;      // when is_integer
  bool boolean = false;     // kBoolean
  std::string text;         // kString (unescaped), date/time and URI text; a number's spelling

  std::string ToString() const;  // as written in a query (strings quoted and escaped)
};

// `a.b.c[k1][k2]`: attribute a, sub-attribute path b.c, then keys into the (compound) value.
struct AttributePath {
  std::vector<std::string> names;  // at least one: the attribute, then sub-attributes
  std::vector<std::string> keys;   // compound-value keys, in order

  const std::string& attribute() const { return names.front(); }
  std::string ToString() const;
};

enum class Operator {
  kExists,     // `a`
  kNotExists,  // `!a` (an extension found in later versions of the spec and in Orion-LD)
  kEqual,
  kUnequal,
  kGreater,
  kGreaterOrEqual,
  kLess,
  kLessOrEqual,
  kMatches,     // ~=
  kNotMatches,  // !~=
};

struct CompiledPattern;  // opaque: the compiled regular expression

struct Term {
  AttributePath path;
  Operator op = Operator::kExists;
  std::vector<Literal> values;  // comparisons: one value, a list (== !=), or {low, high} if is_range
  bool is_range = false;
  std::string pattern;                              // kMatches / kNotMatches, as written
  std::shared_ptr<const CompiledPattern> compiled;  // shared by copies of the query

  std::string ToString() const;
};

struct QueryNode {
  enum class Kind { kTerm, kAnd, kOr };
  Kind kind = Kind::kTerm;
  Term term;                        // kTerm
  std::vector<QueryNode> children;  // kAnd / kOr: two or more

  std::string ToString() const;
};

// A regular expression as ~= takes it (ECMAScript, optional "(?i)" prefix, bounded work), for the
// other parameters that take one (idPattern). Immutable; copies share the compiled form.
class Pattern {
 public:
  // Errors: InvalidArgument naming `field`.
  static Result<Pattern> Compile(std::string_view pattern, std::string_view field);
  // True when the expression matches somewhere in `s` (anchor it with ^...$ to match all of it).
  bool Search(std::string_view s) const;

 private:
  std::shared_ptr<const CompiledPattern> compiled_;
};

class Query {
 public:
  // Parses a URL-decoded `q`. Errors: InvalidArgument with field "q".
  static Result<Query> Parse(std::string_view q);

  // True when `entity` (normalized NGSI-LD JSON) satisfies the query. Never fails.
  bool Matches(const nlohmann::json& entity) const;

  // The distinct attribute names the query refers to (first element of each path), in order of first
  // appearance: what a projection must keep and what a subscription watches.
  const std::vector<std::string>& attributes() const { return attributes_; }

  const QueryNode& root() const { return root_; }

  // A canonical rendering that parses back to the same query (redundant parentheses removed).
  std::string ToString() const { return root_.ToString(); }

 private:
  Query(QueryNode root, std::vector<std::string> attributes)
      : root_(std::move(root)), attributes_(std::move(attributes)) {}

  QueryNode root_;
  std::vector<std::string> attributes_;
};

}  // namespace tl::ngsild
