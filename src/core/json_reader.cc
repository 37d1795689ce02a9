#include "core/json_reader.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <utility>

#include <utf8proc.h>

namespace tl {
namespace {

using json = nlohmann::json;

class Reader {
 public:
  explicit Reader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  std::optional<json> Document() {
    json out;
    SkipSpace();
    if (!Value(out, 0)) return std::nullopt;
    SkipSpace();
    if (p_ != end_) return std::nullopt;
    return out;
  }

 private:
  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  bool Value(json& out, int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        return Object(out, depth + 1);
      case '[':
        return Array(out, depth + 1);
      case '"': {
        std::string s;
        if (!String(s)) return false;
        out = std::move(s);
        return true;
      }
      case 't':
        if (!Literal("true")) return false;
        out = true;
        return true;
      case 'f':
        if (!Literal("false")) return false;
        out = false;
        return true;
      case 'n':
        if (!Literal("null")) return false;
        out = nullptr;
        return true;
      default:
        return Number(out);
    }
  }

  // The inside of an object or an array, after its opening bracket: `element` reads one member or
  // item, then comes ',' or `close`.
  template <typename Element>
  bool Sequence(char close, int depth, const Element& element) {
    if (depth > kJsonMaxFastDepth) return false;
    ++p_;  // the opening bracket
    SkipSpace();
    if (p_ != end_ && *p_ == close) {
      ++p_;
      return true;
    }
    while (true) {
      if (!element()) return false;
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == close) {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
      SkipSpace();
    }
  }

  bool Object(json& out, int depth) {
    out = json::object();
    auto& members = out.get_ref<json::object_t&>();
    return Sequence('}', depth, [&] {
      if (p_ == end_ || *p_ != '"') return false;
      std::string key;
      if (!String(key)) return false;
      SkipSpace();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      SkipSpace();
      json value;
      if (!Value(value, depth)) return false;
      if (members.empty() || members.rbegin()->first < key) {
        members.emplace_hint(members.end(), std::move(key), std::move(value));  // in order: no search
      } else {
        members[std::move(key)] = std::move(value);  // out of order, or a duplicate: the last one wins
      }
      return true;
    });
  }

  bool Array(json& out, int depth) {
    out = json::array();
    auto& items = out.get_ref<json::array_t&>();
    return Sequence(']', depth, [&] {
      items.emplace_back();
      return Value(items.back(), depth);
    });
  }

  // RFC 8259 numbers; nlohmann's types: no fraction or exponent gives an unsigned (or, with a
  // minus sign, an integer), else a float. Out of range is left to nlohmann.
  bool Number(json& out) {
    const char* start = p_;
    const char* q = p_;
    bool negative = false;
    if (q != end_ && *q == '-') {
      negative = true;
      ++q;
    }
    if (q == end_) return false;
    if (*q == '0') {
      ++q;
    } else if (*q >= '1' && *q <= '9') {
      while (q != end_ && *q >= '0' && *q <= '9') ++q;
    } else {
      return false;
    }
    bool is_float = false;
    if (q != end_ && *q == '.') {
      is_float = true;
      ++q;
      if (q == end_ || *q < '0' || *q > '9') return false;
      while (q != end_ && *q >= '0' && *q <= '9') ++q;
    }
    if (q != end_ && (*q == 'e' || *q == 'E')) {
      is_float = true;
      ++q;
      if (q != end_ && (*q == '+' || *q == '-')) ++q;
      if (q == end_ || *q < '0' || *q > '9') return false;
      while (q != end_ && *q >= '0' && *q <= '9') ++q;
    }
    if (is_float) {
      double d = 0;
      auto [ptr, ec] = std::from_chars(start, q, d);
      if (ec != std::errc() || ptr != q) return false;
      out = d;
    } else if (negative) {
      int64_t i = 0;
      auto [ptr, ec] = std::from_chars(start, q, i);
      if (ec != std::errc() || ptr != q) return false;
      out = i;
    } else {
      uint64_t u = 0;
      auto [ptr, ec] = std::from_chars(start, q, u);
      if (ec != std::errc() || ptr != q) return false;
      out = u;
    }
    p_ = q;
    return true;
  }

  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool Hex4(uint32_t& code) {
    if (end_ - p_ < 4) return false;
    code = 0;
    for (int i = 0; i < 4; ++i) {
      int h = Hex(p_[i]);
      if (h < 0) return false;
      code = code << 4 | static_cast<uint32_t>(h);
    }
    p_ += 4;
    return true;
  }

  static void AppendUtf8(std::string& s, uint32_t code) {
    if (code < 0x80) {
      s.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (code >> 6)));
      s.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (code >> 12)));
      s.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (code >> 18)));
      s.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
  }

  bool String(std::string& s) {
    ++p_;  // opening quote
    while (true) {
      // A run of plain ASCII, copied at once.
      const char* run = p_;
      while (p_ != end_) {
        const auto c = static_cast<unsigned char>(*p_);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++p_;
      }
      s.append(run, p_);
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;  // a control character must be escaped
      if (c >= 0x80) {
        // Well-formed UTF-8 as nlohmann requires it (no overlongs, surrogates or truncated
        // sequences): the same check as text::IsValidUtf8 and JsonWriter.
        utf8proc_int32_t code = 0;
        utf8proc_ssize_t n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(p_), end_ - p_, &code);
        if (n <= 0 || code < 0) return false;
        s.append(p_, static_cast<size_t>(n));
        p_ += n;
        continue;
      }
      // A backslash escape.
      ++p_;
      if (p_ == end_) return false;
      const char e = *p_++;
      static constexpr std::string_view kEscaped = "\"\\/bfnrt";
      static constexpr std::string_view kMeant = "\"\\/\b\f\n\r\t";
      if (size_t at = kEscaped.find(e); at != std::string_view::npos) {
        s.push_back(kMeant[at]);
        continue;
      }
      if (e != 'u') return false;
      uint32_t code = 0;
      if (!Hex4(code)) return false;
      if (code >= 0xDC00 && code <= 0xDFFF) return false;  // a low surrogate alone
      if (code >= 0xD800 && code <= 0xDBFF) {
        uint32_t low = 0;
        if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
        p_ += 2;
        if (!Hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
      }
      AppendUtf8(s, code);
    }
  }

  const char* p_;
  const char* end_;
};

// The end of the compact JSON value starting at `at` in `text` (no white space outside strings), or
// npos when there is none. Strings are skipped escape by escape; everything else by its delimiters.
size_t SkipCompactValue(std::string_view text, size_t at) {
  size_t depth = 0;
  size_t i = at;
  while (i < text.size()) {
    char c = text[i];
    if (c == '"') {
      ++i;
      while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
      if (i >= text.size()) return std::string_view::npos;
      ++i;
    } else if (c == '{' || c == '[') {
      ++depth;
      ++i;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return i == at ? std::string_view::npos : i;
      --depth;
      ++i;
    } else if (c == ',' || c == ':') {
      if (depth == 0) return i == at ? std::string_view::npos : i;
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      return std::string_view::npos;
    } else {
      ++i;
    }
    if (depth == 0 && i < text.size() && (text[i] == ',' || text[i] == '}')) return i;
  }
  return depth == 0 && i > at ? i : std::string_view::npos;
}

}  // namespace

std::optional<std::vector<RawJsonMember>> ScanCompactJsonObject(std::string_view text) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return std::nullopt;
  std::vector<RawJsonMember> members;
  size_t i = 1;
  if (text[i] == '}') return i + 1 == text.size() ? std::optional(members) : std::nullopt;
  while (true) {
    if (i >= text.size() || text[i] != '"') return std::nullopt;
    size_t key_end = text.find('"', i + 1);
    if (key_end == std::string_view::npos) return std::nullopt;
    std::string_view key = text.substr(i + 1, key_end - i - 1);
    if (key.find('\\') != std::string_view::npos) return std::nullopt;
    if (!members.empty() && !(members.back().key < key)) return std::nullopt;
    i = key_end + 1;
    if (i >= text.size() || text[i] != ':') return std::nullopt;
    ++i;
    size_t end = SkipCompactValue(text, i);
    if (end == std::string_view::npos || end >= text.size()) return std::nullopt;
    members.push_back({key, text.substr(i, end - i)});
    i = end;
    if (text[i] == '}') return i + 1 == text.size() ? std::optional(std::move(members)) : std::nullopt;
    if (text[i] != ',') return std::nullopt;
    ++i;
  }
}

std::optional<nlohmann::json> ParseJsonFast(std::string_view text) {
  return Reader(text).Document();
}

nlohmann::json ParseJson(std::string_view text) {
  if (auto fast = ParseJsonFast(text)) return std::move(*fast);
  return nlohmann::json::parse(text, nullptr, false);
}

}  // namespace tl
