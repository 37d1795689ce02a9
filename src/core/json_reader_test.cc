#include "core/json_reader.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace tl {
namespace {

using json = nlohmann::json;

// Equal values of equal types all the way down (nlohmann's == calls 1u and 1 equal, and 0.0 and -0.0).
bool Same(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json::value_t::object: {
      if (a.size() != b.size()) return false;
      for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
        if (ia.key() != ib.key() || !Same(*ia, *ib)) return false;
      }
      return true;
    }
    case json::value_t::array: {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!Same(a[i], b[i])) return false;
      }
      return true;
    }
    case json::value_t::number_float:
      return std::bit_cast<uint64_t>(a.get<double>()) == std::bit_cast<uint64_t>(b.get<double>());
    default:
      return a == b;
  }
}

// What nlohmann makes of `text`, or a discarded value.
json Reference(std::string_view text) {
  return json::parse(text, nullptr, false);
}

// The property every input must keep: what the fast reader takes, nlohmann takes too, as the same value.
void ExpectAgreement(std::string_view text) {
  auto fast = ParseJsonFast(text);
  if (!fast) return;
  json ref = Reference(text);
  ASSERT_FALSE(ref.is_discarded()) << "taken by the fast reader, refused by nlohmann: " << text;
  ASSERT_TRUE(Same(*fast, ref)) << "different values for: " << text;
}

// Takes it, and as nlohmann does.
void ExpectTaken(std::string_view text) {
  auto fast = ParseJsonFast(text);
  ASSERT_TRUE(fast.has_value()) << "not taken: " << text;
  json ref = Reference(text);
  ASSERT_FALSE(ref.is_discarded()) << text;
  EXPECT_TRUE(Same(*fast, ref)) << text << "\nfast: " << fast->dump() << "\nnlohmann: " << ref.dump();
}

TEST(JsonReaderTest, ReadsWhatNlohmannReadsWithTheSameTypes) {
  for (const char* text : {"{}",
                           "[]",
                           "0",
                           "-0",
                           "-0.0",
                           "1",
                           "-1",
                           "18446744073709551615",
                           "-9223372036854775808",
                           "9223372036854775808",
                           "1.5",
                           "-2.5e-3",
                           "1E5",
                           "1e+2",
                           "0.1",
                           "123456789012345.678",
                           "95.84227586467811",
                           "true",
                           "false",
                           "null",
                           "\"\"",
                           "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
                           "\"\\u0000\\u001f\\u00e9\\u20AC\\ud83d\\ude00\"",
                           "\"Phường Ba Đình 😀\"",
                           " \t\r\n{ \"a\" : [ 1 , 2 , { } , [ ] ] , \"b\" : null } \n",
                           "{\"b\":1,\"a\":2}",  // keys out of order
                           "{\"a\":1,\"a\":2}",
                           "{\"b\":1,\"a\":2,\"b\":3}",  // duplicates: the last one wins
                           "[[[[[[[[[[1]]]]]]]]]]"}) {
    ExpectTaken(text);
  }
  auto dup = ParseJsonFast("{\"b\":1,\"a\":2,\"b\":3}");
  ASSERT_TRUE(dup.has_value());
  EXPECT_EQ((*dup)["b"], 3);
  EXPECT_EQ(ParseJsonFast("18446744073709551615")->type(), json::value_t::number_unsigned);
  EXPECT_EQ(ParseJsonFast("-1")->type(), json::value_t::number_integer);
  EXPECT_EQ(ParseJsonFast("-0")->type(), json::value_t::number_integer);
  EXPECT_EQ(ParseJsonFast("1e2")->type(), json::value_t::number_float);
  EXPECT_TRUE(std::signbit(ParseJsonFast("-0.0")->get<double>()));
}

TEST(JsonReaderTest, LeavesToNlohmannWhatItDoesNotTake) {
  for (const char* text : {"",
                           " ",
                           "{",
                           "}",
                           "[1,]",
                           "{\"a\":1,}",
                           "{\"a\" 1}",
                           "{a:1}",
                           "01",
                           "1.",
                           ".5",
                           "-",
                           "+1",
                           "1e",
                           "1e+",
                           "0x10",
                           "NaN",
                           "Infinity",
                           "tru",
                           "nul",
                           "\"abc",
                           "\"a\nb\"",
                           "\"\\x\"",
                           "\"\\u12\"",
                           "\"\\ud83d\"",
                           "\"\\ude00\"",
                           "\"\\ud83d\\u0041\"",
                           "\"\xff\"",
                           "\"\xc0\xaf\"",
                           "\"\xed\xa0\x80\"",
                           "\"\xf4\x90\x80\x80\"",
                           "\"\xe2\x82\"",
                           "1 2",
                           "{} x",
                           "\xef\xbb\xbf{}",  // a byte-order mark: nlohmann skips it, this reader does not
                           "1e400",
                           "-1e400",
                           "18446744073709551616",
                           "-9223372036854775809"}) {
    EXPECT_FALSE(ParseJsonFast(text).has_value()) << text;
  }
  // Each of these still gets nlohmann's result through ParseJson: a value or a discarded one.
  EXPECT_TRUE(ParseJson("[1,]").is_discarded());
  EXPECT_EQ(ParseJson("\xef\xbb\xbf{\"a\":1}")["a"], 1);
  EXPECT_EQ(ParseJson("18446744073709551616").type(), json::value_t::number_float);
  EXPECT_EQ(ParseJson("{\"a\":[1,{\"b\":\"c\"}]}"), json::parse("{\"a\":[1,{\"b\":\"c\"}]}"));
}

TEST(JsonReaderTest, DeepNestingIsLeftToNlohmann) {
  std::string deep(kJsonMaxFastDepth, '[');
  deep += std::string(kJsonMaxFastDepth, ']');
  ExpectTaken(deep);
  std::string deeper(kJsonMaxFastDepth + 1, '[');
  deeper += std::string(kJsonMaxFastDepth + 1, ']');
  EXPECT_FALSE(ParseJsonFast(deeper).has_value());
  EXPECT_TRUE(ParseJson(deeper).is_array());
}

// Random documents: strings with every kind of character, numbers of every type, nested values.
class RandomJson {
 public:
  explicit RandomJson(uint32_t seed) : rng_(seed) {}

  json Value(int depth) {
    switch (Pick(depth > 3 ? 5 : 7)) {
      case 0:
        return nullptr;
      case 1:
        return Pick(2) == 0;
      case 2:
        return String();
      case 3:
        return Number();
      case 4:
        return Number();
      case 5: {
        json o = json::object();
        for (int i = Pick(6); i > 0; --i) o[String()] = Value(depth + 1);
        return o;
      }
      default: {
        json a = json::array();
        for (int i = Pick(6); i > 0; --i) a.push_back(Value(depth + 1));
        return a;
      }
    }
  }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  json Number() {
    switch (Pick(6)) {
      case 0:
        return static_cast<int64_t>(rng_()) - (int64_t{1} << 31);
      case 1:
        return std::uniform_int_distribution<uint64_t>()(rng_);
      case 2:
        return std::uniform_int_distribution<int64_t>(INT64_MIN, -1)(rng_);
      case 3:
        return std::uniform_real_distribution<double>(-1000, 1000)(rng_);
      case 4: {
        double d;
        do d = std::bit_cast<double>(std::uniform_int_distribution<uint64_t>()(rng_));
        while (!std::isnormal(d) && d != 0);  // subnormals may be left to nlohmann (from_chars: out of range)
        return d;
      }
      default:
        return Pick(2) == 0 ? json(-0.0) : json(0);
    }
  }

  std::string String() {
    std::string s;
    for (int i = Pick(12); i > 0; --i) {
      uint32_t c = 0;
      switch (Pick(5)) {
        case 0:
          c = static_cast<uint32_t>(Pick(0x20));
          break;  // control characters
        case 1:
          c = static_cast<uint32_t>(0x20 + Pick(0x60));
          break;  // ASCII, quote and backslash included
        case 2:
          c = static_cast<uint32_t>(0x80 + Pick(0x780));
          break;
        case 3:
          do c = static_cast<uint32_t>(0x800 + Pick(0xF800));
          while (c >= 0xD800 && c <= 0xDFFF);
          break;
        default:
          c = static_cast<uint32_t>(0x10000 + Pick(0x100000));
          break;
      }
      if (c < 0x80) {
        s.push_back(static_cast<char>(c));
      } else if (c < 0x800) {
        s += {static_cast<char>(0xC0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3F))};
      } else if (c < 0x10000) {
        s += {static_cast<char>(0xE0 | (c >> 12)), static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
              static_cast<char>(0x80 | (c & 0x3F))};
      } else {
        s += {static_cast<char>(0xF0 | (c >> 18)), static_cast<char>(0x80 | ((c >> 12) & 0x3F)),
              static_cast<char>(0x80 | ((c >> 6) & 0x3F)), static_cast<char>(0x80 | (c & 0x3F))};
      }
    }
    return s;
  }

  std::mt19937_64 rng_;
};

TEST(JsonReaderTest, RandomDocumentsReadAsNlohmannReadsThem) {
  RandomJson gen(20261124);
  for (int i = 0; i < 3000; ++i) {
    json v = gen.Value(0);
    ExpectTaken(v.dump());
    ExpectTaken(v.dump(2));                               // with whitespace
    ExpectTaken(v.dump(-1, ' ', /*ensure_ascii=*/true));  // \u escapes, surrogate pairs included
  }
}

TEST(JsonReaderTest, DamagedDocumentsAreNeverReadDifferently) {
  // Bytes flipped, dropped or inserted: whatever the fast reader still takes, nlohmann takes alike.
  RandomJson gen(7);
  std::mt19937 rng(11);
  const std::string specials = "{}[]\",:\\/0123456789.eE+-tfnu \x01\x80\xbf\xc3\xed\xf0\xff";
  int taken = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string text = gen.Value(0).dump(-1, ' ', i % 2 == 0);
    if (text.empty()) continue;
    for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
      size_t at = rng() % text.size();
      char c = specials[rng() % specials.size()];
      switch (rng() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.erase(at, 1);
          break;
        default:
          text.insert(text.begin() + static_cast<ptrdiff_t>(at), c);
          break;
      }
      if (text.empty()) break;
    }
    ExpectAgreement(text);
    if (ParseJsonFast(text)) ++taken;
  }
  EXPECT_GT(taken, 100);  // the property was tried on documents the reader took, not only on refusals
}

TEST(JsonReaderTest, CompactObjectsSplitIntoTheirMembersAsWritten) {
  RandomJson gen(20261125);
  int split = 0, refused = 0;
  for (int i = 0; i < 3000; ++i) {
    json o = json::object();
    for (int n = i % 7; n > 0; --n)
      o[i % 3 == 0 ? gen.Value(3).dump() : "k" + std::to_string(n * 7919 % 1000)] = gen.Value(1);
    const std::string text = o.dump();
    auto members = ScanCompactJsonObject(text);
    // A key that needs an escape (a quote, a backslash, a control character) is refused.
    bool escaped = false;
    for (const auto& [key, value] : o.items()) escaped |= json(key).dump() != "\"" + key + "\"";
    if (escaped) {
      EXPECT_FALSE(members) << text;
      ++refused;
      continue;
    }
    ASSERT_TRUE(members) << text;
    ASSERT_EQ(members->size(), o.size()) << text;
    std::string again = "{";
    size_t at = 0;
    for (const auto& [key, value] : o.items()) {
      const RawJsonMember& m = (*members)[at++];
      EXPECT_EQ(m.key, key);
      EXPECT_EQ(json::parse(m.value), value) << text;
      if (again.size() > 1) again += ',';
      again += "\"" + std::string(m.key) + "\":" + std::string(m.value);
    }
    EXPECT_EQ(again + "}", text);
    ++split;
  }
  EXPECT_GT(split, 1000);
  EXPECT_GT(refused, 100);
  // Not nlohmann's compact form, or not an object: refused.
  for (const char* text : {"",
                           "{",
                           "}",
                           "[]",
                           "1",
                           "{\"a\":1",
                           "{\"a\":1}x",
                           "{\"a\":}",
                           "{\"a\":1,}",
                           "{,}",
                           "{\"a\" :1}",
                           "{\"a\": 1}",
                           "{ \"a\":1}",
                           "{\"a\":[1, 2]}",
                           "{\"b\":1,\"a\":2}",
                           "{\"a\":1,\"a\":2}",
                           "{\"a\":\"x}",
                           "{\"a\\\"\":1}",
                           "{\"a\":1}}",
                           "{\"a\":1]"}) {
    EXPECT_FALSE(ScanCompactJsonObject(text)) << text;
  }
  auto empty = ScanCompactJsonObject("{}");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  // Damaged texts: refused or split, never read out of bounds.
  std::mt19937 rng(5);
  for (int i = 0; i < 4000; ++i) {
    json o = json::object();
    for (int n = 1 + i % 5; n > 0; --n) o["k" + std::to_string(n)] = gen.Value(2);
    std::string text = o.dump();
    text[rng() % text.size()] = "{}[]\",:\\ x"[rng() % 10];
    if (i % 2 == 0) text.resize(rng() % text.size());
    auto members = ScanCompactJsonObject(text);
    if (!members) continue;
    for (const auto& m : *members) {
      EXPECT_GE(m.value.data(), text.data());
      EXPECT_LE(m.value.data() + m.value.size(), text.data() + text.size());
    }
  }
}

TEST(JsonReaderTest, TheProjectsDataFilesReadAsNlohmannReadsThem) {
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(THANGLONG_TEST_DATA_ROOT)) {
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".json" && ext != ".jsonld")) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    SCOPED_TRACE(entry.path().string());
    ExpectTaken(buf.str());
    ++files;
  }
  EXPECT_GE(files, 10);
}

}  // namespace
}  // namespace tl
