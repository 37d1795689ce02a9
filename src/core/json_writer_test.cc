#include "core/json_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace tl {
namespace {

using nlohmann::json;

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(JsonWriterTest, WritesWhatNlohmannDumpsForTheSameObject) {
  JsonWriter w;
  w.BeginObject()
      .Key("code")
      .String("000.00.01.H26-251122-0001")
      .Key("procedure")
      .String("Đăng ký khai sinh")
      .Key("due_at")
      .Null()
      .Key("overdue")
      .Bool(false)
      .Key("count")
      .Int(-42)
      .Key("items")
      .BeginArray()
      .Int(1)
      .String("a")
      .BeginObject()
      .Key("x")
      .Bool(true)
      .EndObject()
      .BeginArray()
      .EndArray()
      .EndArray()
      .Key("empty")
      .BeginObject()
      .EndObject()
      .EndObject();
  json expected = json::object();
  expected["code"] = "000.00.01.H26-251122-0001";
  expected["procedure"] = "Đăng ký khai sinh";
  expected["due_at"] = nullptr;
  expected["overdue"] = false;
  expected["count"] = -42;
  expected["items"] = json::array({1, "a", json{{"x", true}}, json::array()});
  expected["empty"] = json::object();
  EXPECT_EQ(json::parse(w.text()), expected);
  // Same keys in the same order as nlohmann's (sorted) object: the same bytes.
  JsonWriter sorted;
  sorted.BeginObject().Key("a").Int(1).Key("b").String("Hà Nội").Key("c").Null().EndObject();
  EXPECT_EQ(sorted.Take(), json({{"a", 1}, {"b", "Hà Nội"}, {"c", nullptr}}).dump());
}

TEST(JsonWriterTest, RawEmbedsJsonTextAsAValueWithItsCommas) {
  JsonWriter w;
  w.BeginObject().Key("a").Raw(R"({"x":[1,2.5]})").Key("b").BeginArray().Raw("null").Raw("3").EndArray().EndObject();
  EXPECT_EQ(w.text(), R"({"a":{"x":[1,2.5]},"b":[null,3]})");
}

TEST(JsonWriterTest, EscapesEveryAsciiByteAsNlohmannDoes) {
  for (int c = 0; c < 0x80; ++c) {
    std::string s = "a" + std::string(1, static_cast<char>(c)) + "b";
    EXPECT_EQ(Quoted(s), json(s).dump()) << "byte " << c;
    EXPECT_EQ(json::parse(Quoted(s)).get<std::string>(), s) << "byte " << c;
  }
}

TEST(JsonWriterTest, KeepsValidUtf8AndReplacesInvalidSequences) {
  const std::string valid = "Nguyễn Thị Minh Khai, Phường Ba Đình 😀 \xE2\x82\xAC";
  EXPECT_EQ(Quoted(valid), json(valid).dump());
  struct Case {
    std::string in, out;
  } cases[] = {
      {"\xC3", "\xEF\xBF\xBD"},                                                  // a lead byte at the end
      {"a\xC3(b", "a\xEF\xBF\xBD(b"},                                            // a lead byte without its continuation
      {"\x80", "\xEF\xBF\xBD"},                                                  // a lone continuation byte
      {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},                                  // overlong '/'
      {"\xE0\x80\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},                  // overlong, 3 bytes
      {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},                  // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // beyond U+10FFFF
      {"\xF0\x9F\x98", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},                  // a 4-byte sequence cut short
  };
  for (const auto& c : cases) {
    std::string quoted = Quoted(c.in);
    EXPECT_EQ(quoted, "\"" + c.out + "\"");
    EXPECT_TRUE(json::accept(quoted)) << quoted;
  }
}

TEST(JsonWriterTest, WritesTheWholeRangeOfIntegers) {
  JsonWriter w;
  w.BeginArray().Int(std::numeric_limits<int64_t>::min()).Int(0).Int(std::numeric_limits<int64_t>::max()).EndArray();
  EXPECT_EQ(w.text(), "[-9223372036854775808,0,9223372036854775807]");
}

}  // namespace
}  // namespace tl
