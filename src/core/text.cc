#include "core/text.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

namespace tl::text {
namespace {

struct FreeDeleter {
  // utf8proc allocates with malloc; this deleter hands it back. NOLINTNEXTLINE(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
  void operator()(utf8proc_uint8_t* p) const { std::free(p); }
};

bool MapUtf8(std::string_view s, int options, std::string* out) {
  utf8proc_uint8_t* raw = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                    static_cast<utf8proc_ssize_t>(s.size()), &raw,
                                    static_cast<utf8proc_option_t>(options));
  std::unique_ptr<utf8proc_uint8_t, FreeDeleter> owned(raw);
  if (n < 0) return false;
  out->assign(reinterpret_cast<const char*>(raw), static_cast<size_t>(n));
  return true;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    if (*p < 0x80) {  // ASCII fast path
      ++p;
      --left;
      continue;
    }
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n < 0 || cp < 0) return false;
    p += n;
    left -= n;
  }
  return true;
}

Result<std::string> NormalizeNfc(std::string_view s, std::string_view field) {
  if (s.find('\0') != std::string_view::npos) {
    return InvalidArgument("text contains a NUL character", std::string(field));
  }
  if (!IsValidUtf8(s)) return InvalidArgument("text is not valid UTF-8", std::string(field));
  bool ascii = true;
  for (unsigned char c : s) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return std::string(s);
  std::string out;
  if (!MapUtf8(s, UTF8PROC_STABLE | UTF8PROC_COMPOSE, &out)) {
    return InvalidArgument("text is not valid UTF-8", std::string(field));
  }
  return out;
}

std::string FoldForSearch(std::string_view s) {
  std::string decomposed;
  if (!MapUtf8(s, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD,
               &decomposed)) {
    return {};
  }
  // 'đ' (U+0111) has no decomposition; casefold already turned 'Đ' into it.
  std::string out;
  out.reserve(decomposed.size());
  for (size_t i = 0; i < decomposed.size(); ++i) {
    if (static_cast<unsigned char>(decomposed[i]) == 0xC4 && i + 1 < decomposed.size() &&
        static_cast<unsigned char>(decomposed[i + 1]) == 0x91) {
      out.push_back('d');
      ++i;
    } else {
      out.push_back(decomposed[i]);
    }
  }
  return out;
}

std::vector<std::string> Tokens(std::string_view folded) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : folded) {
    auto uc = static_cast<unsigned char>(c);
    bool word = uc >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.';
    if (word) {
      cur.push_back(c);
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::string_view Trim(std::string_view s) {
  const char* ws = " \t\r\n\f\v";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string CleanText(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  bool pending_space = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    auto c = static_cast<unsigned char>(raw[i]);
    bool nbsp = c == 0xC2 && i + 1 < raw.size() && static_cast<unsigned char>(raw[i + 1]) == 0xA0;
    if (nbsp || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      if (nbsp) ++i;
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += raw[i];
  }
  auto nfc = NormalizeNfc(out);
  return nfc.ok() ? std::move(*nfc) : out;
}

long CodePointCount(std::string_view s) {
  if (!IsValidUtf8(s)) return -1;
  long n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

Result<std::vector<std::string>> SplitCsvLine(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"' && cur.empty()) {
      quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(cur));
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  if (quoted) return InvalidArgument("unterminated quoted field", "line");
  out.push_back(std::move(cur));
  return out;
}

std::string Join(const std::vector<std::string>& items, char sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

std::vector<std::string> Split(std::string_view text, char sep) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(sep, i);
    if (j == std::string_view::npos) j = text.size();
    if (j > i) out.emplace_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace tl::text
