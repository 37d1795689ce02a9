#include "modules/ngsild/q_query.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <compare>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <utility>

#include "core/civil_date.h"
#include "core/text.h"

namespace tl::ngsild {

using nlohmann::json;

// The compiled form of a ~= pattern. libstdc++'s polynomial mode runs a Thompson NFA (no
// backtracking, no recursion over the string); the pattern is wrapped so that one regex_match pass
// finds a match anywhere in the string.
struct CompiledPattern {
  std::regex regex;
  size_t max_subject = 0;  // longer strings do not match (kMaxPatternWork / size)
};

namespace {

#if defined(__GLIBCXX__)
// libstdc++: a Thompson NFA instead of backtracking; refuses back-references.
constexpr auto kPolynomial = std::regex_constants::__polynomial;
#else
constexpr auto kPolynomial = std::regex_constants::syntax_option_type{};
#endif

constexpr size_t kSaturated = std::numeric_limits<size_t>::max() / 4;
constexpr size_t kMaxPatternSize = 4096;  // estimated NFA size of one pattern

size_t AddSat(size_t a, size_t b) {
  return std::min(kSaturated, a + b);
}
size_t MulSat(size_t a, size_t b) {
  return (b != 0 && a > kSaturated / b) ? kSaturated : std::min(kSaturated, a * b);
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':' || c == '-';
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

// ---------------------------------------------------------------------------------------------------
// Dates and times.

// Reads exactly `n` digits at s[i...].
std::optional<int> Digits(std::string_view s, size_t i, size_t n) {
  if (i + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t k = i; k < i + n; ++k) {
    if (!IsDigit(s[k])) return std::nullopt;
    v = v * 10 + (s[k] - '0');
  }
  return v;
}

bool IsDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  auto y = Digits(s, 0, 4), m = Digits(s, 5, 2), d = Digits(s, 8, 2);
  return y && m && d && IsValidCivilDate(*y, *m, *d);
}

// hh:mm:ss[.f+][Z|+hh:mm|-hh:mm] from s[i...] to the end; seconds of day, nanoseconds and zone offset.
struct TimeOfDay {
  int64_t seconds = 0;
  int64_t nanos = 0;
  int64_t offset_seconds = 0;
};
std::optional<TimeOfDay> ParseTimeOfDay(std::string_view s, size_t i) {
  auto h = Digits(s, i, 2), mi = Digits(s, i + 3, 2), se = Digits(s, i + 6, 2);
  if (!h || !mi || !se || s[i + 2] != ':' || s[i + 5] != ':') return std::nullopt;
  if (*h > 23 || *mi > 59 || *se > 60) return std::nullopt;
  TimeOfDay t;
  t.seconds = *h * 3600 + *mi * 60 + *se;
  size_t k = i + 8;
  if (k < s.size() && s[k] == '.') {
    ++k;
    size_t start = k;
    int64_t scale = 100000000;
    while (k < s.size() && IsDigit(s[k])) {
      t.nanos += (s[k] - '0') * scale;
      scale /= 10;
      ++k;
    }
    if (k == start) return std::nullopt;
  }
  if (k == s.size()) return t;
  if (s[k] == 'Z' && k + 1 == s.size()) return t;
  if ((s[k] == '+' || s[k] == '-') && k + 6 == s.size() && s[k + 3] == ':') {
    auto oh = Digits(s, k + 1, 2), om = Digits(s, k + 4, 2);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    t.offset_seconds = (s[k] == '+' ? 1 : -1) * (*oh * 3600 + *om * 60);
    return t;
  }
  return std::nullopt;
}

bool IsTime(std::string_view s) {
  return s.size() >= 8 && ParseTimeOfDay(s, 0).has_value();
}

// An ISO 8601 date-time as (seconds since the epoch in UTC, nanoseconds); no zone means UTC.
std::optional<std::pair<int64_t, int64_t>> ParseDateTime(std::string_view s) {
  if (s.size() < 19 || s[10] != 'T' || !IsDate(s.substr(0, 10))) return std::nullopt;
  auto t = ParseTimeOfDay(s, 11);
  if (!t) return std::nullopt;
  CivilDate d{*Digits(s, 0, 4), *Digits(s, 5, 2), *Digits(s, 8, 2)};
  return std::pair<int64_t, int64_t>{DaysSinceEpoch(d) * 86400 + t->seconds - t->offset_seconds, t->nanos};
}

// Strings compare by instant when both are ISO 8601 date-times (so "...:00Z" equals "...:00.000Z" and
// "+07:00" offsets are honoured), otherwise by bytes (which orders dates and times of one format).
std::partial_ordering CompareText(std::string_view a, std::string_view b) {
  if (a.size() >= 19 && b.size() >= 19) {
    auto da = ParseDateTime(a);
    if (da) {
      auto db = ParseDateTime(b);
      if (db) return *da <=> *db;
    }
  }
  return a <=> b;
}

// ---------------------------------------------------------------------------------------------------
// Literals.

bool ParseNumber(std::string_view s, Literal* out) {
  // JSON-like: -?digits(.digits)?([eE][+-]?digits)? (no "inf", "nan", hex or a leading '+').
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  size_t int_start = i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (i == int_start) return false;
  bool integral = true;
  if (i < s.size() && s[i] == '.') {
    integral = false;
    size_t f = ++i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == f) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    integral = false;
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t e = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == e) return false;
  }
  if (i != s.size()) return false;
  double d = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(d)) return false;
  out->kind = Literal::Kind::kNumber;
  out->number = d;
  out->text = std::string(s);
  if (integral) {
    int64_t v = 0;
    auto [p2, ec2] = std::from_chars(s.data(), s.data() + s.size(), v);
    out->is_integer = ec2 == std::errc() && p2 == s.data() + s.size();
    if (out->is_integer) out->integer = v;
  }
  return true;
}

bool IsUri(std::string_view s) {
  // scheme ":" rest, as in RFC 3986 (urn:ngsi-ld:..., https://...).
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size() || !IsAlpha(s[0])) return false;
  for (size_t i = 1; i < colon; ++i) {
    char c = s[i];
    if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  for (char c : s) {
    if (IsSpace(c) || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '}') {
      return false;
    }
  }
  return true;
}

std::string QuoteString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Patterns.

// An upper bound of the NFA size of an ECMAScript pattern (each atom 1, a quantifier multiplies its
// operand by its largest count + 1); only for bounding the work, std::regex checks the syntax.
class PatternSizer {
 public:
  explicit PatternSizer(std::string_view p) : p_(p) {}

  // The estimated size, or std::nullopt when groups nest deeper than kMaxNestingDepth.
  std::optional<size_t> Size() {
    size_t total = 0;
    while (i_ < p_.size()) {
      total = AddSat(total, Alternation());
      if (too_deep_) return std::nullopt;
      if (i_ < p_.size()) ++i_;  // a stray ')': std::regex rejects it
    }
    return total;
  }

 private:
  size_t Alternation() {
    size_t total = Sequence();
    while (!too_deep_ && i_ < p_.size() && p_[i_] == '|') {
      ++i_;
      total = AddSat(total, AddSat(Sequence(), 1));
    }
    return total;
  }

  size_t Sequence() {
    size_t total = 0;
    while (!too_deep_ && i_ < p_.size() && p_[i_] != '|' && p_[i_] != ')') total = AddSat(total, Quantified(Atom()));
    return total;
  }

  size_t Atom() {
    char c = p_[i_];
    if (c == '\\') {
      i_ = std::min(p_.size(), i_ + 2);
      return 1;
    }
    if (c == '[') {
      ++i_;
      if (i_ < p_.size() && p_[i_] == '^') ++i_;
      if (i_ < p_.size() && p_[i_] == ']') ++i_;
      while (i_ < p_.size() && p_[i_] != ']') i_ += (p_[i_] == '\\') ? 2 : 1;
      i_ = std::min(p_.size(), i_ + 1);
      return 1;
    }
    if (c == '(') {
      if (++depth_ > kMaxNestingDepth) {
        too_deep_ = true;
        return 0;
      }
      ++i_;
      if (p_.substr(i_, 2) == "?:" || p_.substr(i_, 2) == "?=" || p_.substr(i_, 2) == "?!") i_ += 2;
      size_t inner = Alternation();
      if (i_ < p_.size() && p_[i_] == ')') ++i_;
      --depth_;
      return AddSat(inner, 2);
    }
    ++i_;
    return 1;
  }

  size_t Quantified(size_t atom) {
    if (i_ >= p_.size()) return atom;
    char c = p_[i_];
    if (c == '*' || c == '+' || c == '?') {
      ++i_;
    } else if (c == '{') {
      // {n}, {n,}, {n,m}; anything else is a literal brace.
      size_t k = i_ + 1;
      size_t n = 0, m = 0;
      size_t start = k;
      while (k < p_.size() && IsDigit(p_[k])) n = std::min<size_t>(n * 10 + (p_[k++] - '0'), 1000000);
      if (k == start) return atom;
      m = n;
      if (k < p_.size() && p_[k] == ',') {
        ++k;
        size_t m_start = k;
        m = 0;
        while (k < p_.size() && IsDigit(p_[k])) m = std::min<size_t>(m * 10 + (p_[k++] - '0'), 1000000);
        if (k == m_start) m = n + 1;  // {n,}
      }
      if (k >= p_.size() || p_[k] != '}') return atom;
      i_ = k + 1;
      atom = MulSat(atom, std::max(n, m) + 1);
      if (i_ < p_.size() && p_[i_] == '?') ++i_;
      return atom;
    } else {
      return atom;
    }
    if (i_ < p_.size() && p_[i_] == '?') ++i_;  // lazy
    return MulSat(atom, 2);
  }

  std::string_view p_;
  size_t i_ = 0;
  int depth_ = 0;
  bool too_deep_ = false;
};

// Compiles a ~= pattern (an optional "(?i)" prefix, then an ECMAScript regular expression); null
// with `*error` set when it is malformed or too complex.
std::shared_ptr<const CompiledPattern> CompilePattern(std::string_view body, std::string* error) {
  auto flags = std::regex::ECMAScript | kPolynomial;
  if (body.substr(0, 4) == "(?i)") {
    body.remove_prefix(4);
    flags |= std::regex::icase;
    if (body.empty()) {
      *error = "expected a regular expression after '(?i)'";
      return nullptr;
    }
  }
  std::optional<size_t> size = PatternSizer(body).Size();
  if (!size) {
    *error = "groups nest deeper than " + std::to_string(kMaxNestingDepth) + " levels in the pattern";
    return nullptr;
  }
  if (*size > kMaxPatternSize) {
    *error = "the regular expression is too complex";
    return nullptr;
  }
  auto compiled = std::make_shared<CompiledPattern>();
  try {
    std::regex check(body.begin(), body.end(), flags);  // the pattern alone must be well-formed
    std::string wrapped = "[\\s\\S]*(?:" + std::string(body) + ")[\\s\\S]*";
    compiled->regex = std::regex(wrapped, flags);
  } catch (const std::regex_error& e) {
    *error = "invalid regular expression (" + std::string(e.what()) + ")";
    return nullptr;
  } catch (const std::exception&) {
    *error = "invalid regular expression";
    return nullptr;
  }
  compiled->max_subject = kMaxPatternWork / std::max<size_t>(*size + 2, 1);
  return compiled;
}

bool PatternMatches(const CompiledPattern& p, std::string_view s) {
  if (s.size() > p.max_subject) return false;
  try {
    return std::regex_match(s.begin(), s.end(), p.regex);
  } catch (const std::exception&) {
    return false;  // error_complexity / error_stack: treated as no match, never thrown
  }
}

// ---------------------------------------------------------------------------------------------------
// The parser: recursive descent over the decoded, NFC-normalised query.

class Parser {
 public:
  explicit Parser(std::string_view q) : q_(q) {}

  Result<QueryNode> ParseQuery() {
    if (q_.empty()) return InvalidArgument("q: the query is empty", "q");
    TL_ASSIGN_OR_RETURN(QueryNode root, ParseOr());
    if (pos_ < q_.size()) {
      if (q_[pos_] == ')') return Error("unbalanced ')'");
      return Unexpected("expected ';', '|' or the end of the query");
    }
    return root;
  }

  std::vector<std::string> TakeAttributes() { return std::move(attributes_); }

 private:
  Status Error(std::string_view message, size_t at) const {
    return InvalidArgument("q: " + std::string(message) + " at position " + std::to_string(at + 1), "q");
  }
  Status Error(std::string_view message) const { return Error(message, pos_); }

  // An error about the character at pos_ (or the end), naming it.
  Status Unexpected(std::string_view expected) const {
    if (pos_ >= q_.size()) return Error(std::string(expected) + ", found the end of the query");
    char c = q_[pos_];
    if (IsSpace(c)) return Error("whitespace is not allowed outside quoted strings");
    std::string found = (static_cast<unsigned char>(c) < 0x80) ? std::string("'") + c + "'" : "a non-ASCII character";
    return Error(std::string(expected) + ", found " + found);
  }

  bool AtEnd() const { return pos_ >= q_.size(); }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < q_.size() ? q_[pos_ + ahead] : '\0'; }
  bool Consume(std::string_view token) {
    if (q_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }

  static void Append(QueryNode::Kind kind, QueryNode child, QueryNode* parent) {
    if (child.kind == kind) {
      for (auto& c : child.children) parent->children.push_back(std::move(c));
    } else {
      parent->children.push_back(std::move(child));
    }
  }

  Result<QueryNode> ParseOr() {
    TL_ASSIGN_OR_RETURN(QueryNode first, ParseAnd());
    if (Peek() != '|') return first;
    QueryNode node;
    node.kind = QueryNode::Kind::kOr;
    Append(node.kind, std::move(first), &node);
    while (Consume("|")) {
      TL_ASSIGN_OR_RETURN(QueryNode next, ParseAnd());
      Append(node.kind, std::move(next), &node);
    }
    return node;
  }

  Result<QueryNode> ParseAnd() {
    TL_ASSIGN_OR_RETURN(QueryNode first, ParsePrimary());
    if (Peek() != ';') return first;
    QueryNode node;
    node.kind = QueryNode::Kind::kAnd;
    Append(node.kind, std::move(first), &node);
    while (Consume(";")) {
      TL_ASSIGN_OR_RETURN(QueryNode next, ParsePrimary());
      Append(node.kind, std::move(next), &node);
    }
    return node;
  }

  Result<QueryNode> ParsePrimary() {
    if (Peek() == '(') {
      size_t open = pos_;
      if (++depth_ > kMaxNestingDepth) {
        return Error("parentheses nest deeper than " + std::to_string(kMaxNestingDepth) + " levels");
      }
      ++pos_;
      TL_ASSIGN_OR_RETURN(QueryNode inner, ParseOr());
      if (!Consume(")")) {
        if (AtEnd()) return Error("unbalanced '('", open);
        return Unexpected("expected ')'");
      }
      --depth_;
      return inner;
    }
    QueryNode node;
    TL_ASSIGN_OR_RETURN(node.term, ParseTerm());
    return node;
  }

  Result<std::string> ParseName(std::string_view what) {
    size_t start = pos_;
    while (!AtEnd() && IsNameChar(Peek())) ++pos_;
    if (pos_ == start) return Unexpected("expected " + std::string(what));
    return std::string(q_.substr(start, pos_ - start));
  }

  Result<AttributePath> ParsePath() {
    AttributePath path;
    TL_ASSIGN_OR_RETURN(std::string first, ParseName("an attribute name"));
    path.names.push_back(std::move(first));
    while (Consume(".")) {
      TL_ASSIGN_OR_RETURN(std::string sub, ParseName("a sub-attribute name after '.'"));
      path.names.push_back(std::move(sub));
    }
    while (Consume("[")) {
      TL_ASSIGN_OR_RETURN(std::string key, ParseName("a key after '['"));
      if (!Consume("]")) return Unexpected("expected ']'");
      path.keys.push_back(std::move(key));
    }
    if (std::find(attributes_.begin(), attributes_.end(), path.attribute()) == attributes_.end()) {
      attributes_.push_back(path.attribute());
    }
    return path;
  }

  Result<Term> ParseTerm() {
    Term term;
    if (Consume("!")) {
      TL_ASSIGN_OR_RETURN(term.path, ParsePath());
      term.op = Operator::kNotExists;
      return term;
    }
    TL_ASSIGN_OR_RETURN(term.path, ParsePath());
    if (AtEnd() || Peek() == ';' || Peek() == '|' || Peek() == ')') {
      term.op = Operator::kExists;
      return term;
    }
    size_t op_at = pos_;
    if (Consume("==")) {
      term.op = Operator::kEqual;
    } else if (Consume("!=")) {
      term.op = Operator::kUnequal;
    } else if (Consume(">=")) {
      term.op = Operator::kGreaterOrEqual;
    } else if (Consume(">")) {
      term.op = Operator::kGreater;
    } else if (Consume("<=")) {
      term.op = Operator::kLessOrEqual;
    } else if (Consume("<")) {
      term.op = Operator::kLess;
    } else if (Consume("~=")) {
      term.op = Operator::kMatches;
    } else if (Consume("!~=")) {
      term.op = Operator::kNotMatches;
    } else if (Peek() == '=') {
      return Error("unknown operator; use '==' for equality");
    } else {
      return Unexpected("expected an operator (== != > >= < <= ~= !~=), ';', '|' or ')'");
    }
    if (term.op == Operator::kMatches || term.op == Operator::kNotMatches) {
      TL_RETURN_IF_ERROR(ParsePattern(&term));
      return term;
    }
    bool equality = term.op == Operator::kEqual || term.op == Operator::kUnequal;
    std::string_view op_text = q_.substr(op_at, pos_ - op_at);
    TL_ASSIGN_OR_RETURN(Literal first, ParseValue(op_text));
    if (!equality && (first.kind == Literal::Kind::kBoolean || first.kind == Literal::Kind::kUri)) {
      return Error("'" + std::string(op_text) + "' needs a number, a quoted string or a date/time", op_at);
    }
    term.values.push_back(std::move(first));
    if (Peek() == '.' && Peek(1) == '.') {
      if (!equality) return Error("a range (..) is only allowed with == and !=");
      pos_ += 2;
      TL_ASSIGN_OR_RETURN(Literal high, ParseValue(".."));
      const Literal& low = term.values.front();
      bool low_number = low.kind == Literal::Kind::kNumber, high_number = high.kind == Literal::Kind::kNumber;
      if (low.kind == Literal::Kind::kBoolean || high.kind == Literal::Kind::kBoolean ||
          low.kind == Literal::Kind::kUri || high.kind == Literal::Kind::kUri || low_number != high_number) {
        return Error("a range needs two numbers, two strings or two dates/times", op_at);
      }
      term.values.push_back(std::move(high));
      term.is_range = true;
    } else if (Peek() == ',') {
      if (!equality) return Error("a value list (,) is only allowed with == and !=");
      while (Consume(",")) {
        TL_ASSIGN_OR_RETURN(Literal next, ParseValue(","));
        term.values.push_back(std::move(next));
      }
      if (Peek() == '.' && Peek(1) == '.') return Error("a value list cannot contain a range");
    }
    if (!AtEnd() && Peek() != ';' && Peek() != '|' && Peek() != ')') {
      return Unexpected("expected ';', '|', ')' or the end after the value");
    }
    return term;
  }

  // A quoted string from pos_ (at '"'). For patterns only \" is unescaped (the regex keeps \\, \d...).
  Result<std::string> ParseQuoted(bool pattern) {
    size_t open = pos_++;
    std::string out;
    while (!AtEnd()) {
      char c = q_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\' && pos_ + 1 < q_.size()) {
        char next = q_[pos_ + 1];
        if (next == '"' || (!pattern && next == '\\')) {
          out += next;
          pos_ += 2;
          continue;
        }
      }
      out += c;
      ++pos_;
    }
    return Error("unterminated quoted string", open);
  }

  Result<Literal> ParseValue(std::string_view after) {
    Literal lit;
    if (Peek() == '"') {
      TL_ASSIGN_OR_RETURN(lit.text, ParseQuoted(false));
      lit.kind = Literal::Kind::kString;
      return lit;
    }
    size_t start = pos_;
    while (!AtEnd()) {
      char c = Peek();
      if (c == ';' || c == '|' || c == ')' || c == ',' || (c == '.' && Peek(1) == '.')) break;
      if (IsSpace(c)) return Error("whitespace is not allowed outside quoted strings");
      if (c == '"') return Error("a quote inside an unquoted value");
      ++pos_;
    }
    std::string_view token = q_.substr(start, pos_ - start);
    if (token.empty()) return Unexpected("expected a value after '" + std::string(after) + "'");
    if (token == "true" || token == "false") {
      lit.kind = Literal::Kind::kBoolean;
      lit.boolean = token == "true";
      lit.text = std::string(token);
      return lit;
    }
    if (ParseNumber(token, &lit)) return lit;
    lit.text = std::string(token);
    if (ParseDateTime(token)) {
      lit.kind = Literal::Kind::kDateTime;
    } else if (IsDate(token)) {
      lit.kind = Literal::Kind::kDate;
    } else if (IsTime(token)) {
      lit.kind = Literal::Kind::kTime;
    } else if (IsUri(token)) {
      lit.kind = Literal::Kind::kUri;
    } else {
      return Error("unquoted value '" + std::string(token) +
                       "' is not a number, true/false, a date/time or a URI (quote strings: \"...\")",
                   start);
    }
    return lit;
  }

  Status ParsePattern(Term* term) {
    size_t start = pos_;
    if (Peek() == '"') {
      TL_ASSIGN_OR_RETURN(term->pattern, ParseQuoted(true));
    } else {
      // Unquoted: up to a ';', '|' or ')' outside the pattern's own groups and character classes.
      int depth = 0;
      bool in_class = false;
      while (!AtEnd()) {
        char c = Peek();
        if (c == '\\') {
          pos_ = std::min(q_.size(), pos_ + 2);
          continue;
        }
        if (in_class) {
          if (c == ']') in_class = false;
        } else if (c == '[') {
          in_class = true;
        } else if (c == '(') {
          ++depth;
        } else if (c == ')') {
          if (depth == 0) break;
          --depth;
        } else if ((c == ';' || c == '|') && depth == 0) {
          break;
        } else if (IsSpace(c)) {
          return Error("whitespace in an unquoted pattern (quote it: \"...\")");
        }
        ++pos_;
      }
      term->pattern = std::string(q_.substr(start, pos_ - start));
    }
    if (term->pattern.empty()) return Error("expected a regular expression after '~='", start);
    if (!AtEnd() && Peek() != ';' && Peek() != '|' && Peek() != ')') {
      return Unexpected("expected ';', '|', ')' or the end after the pattern");
    }
    std::string error;
    term->compiled = CompilePattern(term->pattern, &error);
    if (!term->compiled) return Error(error, start);
    return Status::Ok();
  }

  std::string_view q_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::vector<std::string> attributes_;
};

// ---------------------------------------------------------------------------------------------------
// Evaluation.

// Members of an attribute that are not sub-attributes: a path reaching one yields it as it is
// (`speed.observedAt`, `speed.unitCode`).
bool IsReservedMember(std::string_view name) {
  static constexpr std::string_view kReserved[] = {
      "type",       "value",    "object",    "languageMap", "vocab",      "json",      "valueList",  "objectList",
      "observedAt", "unitCode", "datasetId", "createdAt",   "modifiedAt", "deletedAt", "instanceId", "lang",
  };
  return std::find(std::begin(kReserved), std::end(kReserved), name) != std::end(kReserved);
}

// The value an attribute carries, by its type (or, untyped, by the member present).
const json* AttributeValue(const json& attribute) {
  static constexpr std::pair<std::string_view, std::string_view> kByType[] = {
      {"Property", "value"},         {"GeoProperty", "value"},
      {"Relationship", "object"},    {"LanguageProperty", "languageMap"},
      {"VocabProperty", "vocab"},    {"JsonProperty", "json"},
      {"ListProperty", "valueList"}, {"ListRelationship", "objectList"},
  };
  auto type = attribute.find("type");
  if (type != attribute.end() && type->is_string()) {
    const std::string& t = type->get_ref<const std::string&>();
    for (const auto& [name, member] : kByType) {
      if (t == name) {
        auto it = attribute.find(member);
        return it == attribute.end() ? nullptr : &*it;
      }
    }
  }
  for (std::string_view member : {"value", "object", "languageMap", "vocab", "json", "valueList", "objectList"}) {
    auto it = attribute.find(member);
    if (it != attribute.end()) return &*it;
  }
  return nullptr;
}

// The attribute objects under `key` of `holder` (one, or each instance of a multi-instance attribute).
void AttributeInstances(const json& holder, const std::string& key, std::vector<const json*>* out) {
  auto it = holder.find(key);
  if (it == holder.end()) return;
  if (it->is_object()) {
    out->push_back(&*it);
  } else if (it->is_array()) {
    for (const json& instance : *it) {
      if (instance.is_object()) out->push_back(&instance);
    }
  }
}

// The JSON values a path designates in `entity` (empty when it does not exist).
std::vector<const json*> Resolve(const json& entity, const AttributePath& path) {
  std::vector<const json*> attributes;
  std::vector<const json*> values;
  AttributeInstances(entity, path.names.front(), &attributes);
  for (size_t i = 1; i < path.names.size() && !attributes.empty(); ++i) {
    const std::string& name = path.names[i];
    std::vector<const json*> next;
    if (IsReservedMember(name)) {
      for (const json* a : attributes) {
        auto it = a->find(name);
        if (it != a->end()) values.push_back(&*it);
      }
      if (i + 1 < path.names.size()) return {};  // nothing below a member such as observedAt
      attributes.clear();
      break;
    }
    for (const json* a : attributes) AttributeInstances(*a, name, &next);
    attributes = std::move(next);
  }
  for (const json* a : attributes) {
    const json* v = AttributeValue(*a);
    if (v == nullptr) continue;
    auto type = a->find("type");
    if (path.keys.empty() && v->is_object() && type != a->end() && *type == "LanguageProperty") {
      for (const json& text : *v) values.push_back(&text);  // any language matches
    } else {
      values.push_back(v);
    }
  }
  for (const std::string& key : path.keys) {
    std::vector<const json*> next;
    for (const json* v : values) {
      if (v->is_object()) {
        auto it = v->find(key);
        if (it != v->end()) next.push_back(&*it);
      } else if (v->is_array()) {
        for (const json& element : *v) {
          if (!element.is_object()) continue;
          auto it = element.find(key);
          if (it != element.end()) next.push_back(&*it);
        }
      }
    }
    values = std::move(next);
  }
  return values;
}

// Unwraps a JSON-LD value object {"@value": x} and a list member {"object": uri}.
const json& Unwrap(const json& v) {
  if (v.is_object()) {
    auto it = v.find("@value");
    if (it != v.end()) return *it;
    if (v.size() == 1) {
      it = v.find("object");
      if (it != v.end()) return *it;
    }
  }
  return v;
}

// The scalars to compare: each value, or each element of an array value.
std::vector<const json*> Scalars(const std::vector<const json*>& values) {
  std::vector<const json*> out;
  for (const json* v : values) {
    const json& u = Unwrap(*v);
    if (u.is_array()) {
      for (const json& element : u) out.push_back(&Unwrap(element));
    } else {
      out.push_back(&u);
    }
  }
  return out;
}

// Three-way comparison of a target scalar with a literal; unordered when their types differ.
std::partial_ordering Compare(const json& v, const Literal& lit) {
  switch (lit.kind) {
    case Literal::Kind::kNumber:
      if (lit.is_integer && v.is_number_integer()) {
        if (v.is_number_unsigned()) {
          uint64_t u = v.get<uint64_t>();
          if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::partial_ordering::greater;
          return static_cast<int64_t>(u) <=> lit.integer;
        }
        return v.get<int64_t>() <=> lit.integer;
      }
      if (v.is_number()) return v.get<double>() <=> lit.number;
      return std::partial_ordering::unordered;
    case Literal::Kind::kBoolean:
      if (v.is_boolean()) return v.get<bool>() <=> lit.boolean;
      return std::partial_ordering::unordered;
    default:
      if (v.is_string()) return CompareText(v.get_ref<const std::string&>(), lit.text);
      return std::partial_ordering::unordered;
  }
}

bool EvaluateTerm(const Term& term, const json& entity) {
  std::vector<const json*> values = Resolve(entity, term.path);
  switch (term.op) {
    case Operator::kExists:
      return std::any_of(values.begin(), values.end(), [](const json* v) { return !v->is_null(); });
    case Operator::kNotExists:
      return std::none_of(values.begin(), values.end(), [](const json* v) { return !v->is_null(); });
    case Operator::kMatches:
    case Operator::kNotMatches: {
      bool any_string = false, any_match = false;
      for (const json* s : Scalars(values)) {
        if (!s->is_string()) continue;
        any_string = true;
        if (PatternMatches(*term.compiled, s->get_ref<const std::string&>())) {
          any_match = true;
          break;
        }
      }
      return term.op == Operator::kMatches ? any_match : (any_string && !any_match);
    }
    default:
      break;
  }
  bool comparable = false, hit = false;
  for (const json* s : Scalars(values)) {
    if (term.is_range) {
      auto low = Compare(*s, term.values[0]);
      auto high = Compare(*s, term.values[1]);
      if (low == std::partial_ordering::unordered || high == std::partial_ordering::unordered) continue;
      comparable = true;
      hit = hit || (low >= 0 && high <= 0);
      continue;
    }
    for (const Literal& lit : term.values) {
      auto c = Compare(*s, lit);
      if (c == std::partial_ordering::unordered) continue;
      comparable = true;
      switch (term.op) {
        case Operator::kEqual:
        case Operator::kUnequal:
          hit = hit || c == 0;
          break;
        case Operator::kGreater:
          hit = hit || c > 0;
          break;
        case Operator::kGreaterOrEqual:
          hit = hit || c >= 0;
          break;
        case Operator::kLess:
          hit = hit || c < 0;
          break;
        case Operator::kLessOrEqual:
          hit = hit || c <= 0;
          break;
        default:
          break;
      }
    }
    if (hit && term.op != Operator::kUnequal) return true;
  }
  return term.op == Operator::kUnequal ? (comparable && !hit) : hit;
}

bool Evaluate(const QueryNode& node, const json& entity) {
  switch (node.kind) {
    case QueryNode::Kind::kTerm:
      return EvaluateTerm(node.term, entity);
    case QueryNode::Kind::kAnd:
      return std::all_of(node.children.begin(), node.children.end(),
                         [&](const QueryNode& c) { return Evaluate(c, entity); });
    case QueryNode::Kind::kOr:
      return std::any_of(node.children.begin(), node.children.end(),
                         [&](const QueryNode& c) { return Evaluate(c, entity); });
  }
  return false;
}

std::string_view OperatorText(Operator op) {
  switch (op) {
    case Operator::kExists:
      return "";
    case Operator::kNotExists:
      return "!";
    case Operator::kEqual:
      return "==";
    case Operator::kUnequal:
      return "!=";
    case Operator::kGreater:
      return ">";
    case Operator::kGreaterOrEqual:
      return ">=";
    case Operator::kLess:
      return "<";
    case Operator::kLessOrEqual:
      return "<=";
    case Operator::kMatches:
      return "~=";
    case Operator::kNotMatches:
      return "!~=";
  }
  return "";
}

}  // namespace

std::string Literal::ToString() const {
  switch (kind) {
    case Kind::kString:
      return QuoteString(text);
    case Kind::kBoolean:
      return boolean ? "true" : "false";
    default:
      return text;
  }
}

std::string AttributePath::ToString() const {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += '.';
    out += names[i];
  }
  for (const std::string& key : keys) out += "[" + key + "]";
  return out;
}

std::string Term::ToString() const {
  if (op == Operator::kExists) return path.ToString();
  if (op == Operator::kNotExists) return "!" + path.ToString();
  std::string out = path.ToString();
  out += OperatorText(op);
  if (op == Operator::kMatches || op == Operator::kNotMatches) {
    std::string quoted = "\"";
    for (char c : pattern) {
      if (c == '"') quoted += '\\';
      quoted += c;
    }
    return out + quoted + "\"";
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += is_range ? ".." : ",";
    out += values[i].ToString();
  }
  return out;
}

std::string QueryNode::ToString() const {
  if (kind == Kind::kTerm) return term.ToString();
  std::string out;
  for (size_t i = 0; i < children.size(); ++i) {
    if (i > 0) out += kind == Kind::kAnd ? ";" : "|";
    bool wrap = kind == Kind::kAnd && children[i].kind == Kind::kOr;
    out += wrap ? "(" + children[i].ToString() + ")" : children[i].ToString();
  }
  return out;
}

Result<Query> Query::Parse(std::string_view q) {
  if (q.size() > kMaxQueryLength) {
    return InvalidArgument("q: the query is longer than " + std::to_string(kMaxQueryLength) + " bytes", "q");
  }
  if (q.find('\0') != std::string_view::npos) return InvalidArgument("q: the query contains a NUL byte", "q");
  auto normalized = text::NormalizeNfc(q, "q");
  if (!normalized.ok()) return InvalidArgument("q: the query is not valid UTF-8", "q");
  Parser parser(*normalized);
  TL_ASSIGN_OR_RETURN(QueryNode root, parser.ParseQuery());
  return Query(std::move(root), parser.TakeAttributes());
}

Result<Pattern> Pattern::Compile(std::string_view pattern, std::string_view field) {
  if (pattern.empty()) return InvalidArgument("the regular expression is empty", std::string(field));
  if (pattern.size() > kMaxQueryLength) {
    return InvalidArgument("the regular expression is longer than " + std::to_string(kMaxQueryLength) + " bytes",
                           std::string(field));
  }
  std::string error;
  auto compiled = CompilePattern(pattern, &error);
  if (!compiled) return InvalidArgument(error, std::string(field));
  Pattern p;
  p.compiled_ = std::move(compiled);
  return p;
}

bool Pattern::Search(std::string_view s) const {
  return compiled_ && PatternMatches(*compiled_, s);
}

bool Query::Matches(const json& entity) const {
  if (!entity.is_object()) return false;
  return Evaluate(root_, entity);
}

}  // namespace tl::ngsild
