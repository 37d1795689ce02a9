// JsonWriter: writes one JSON text straight into a string, for hot paths whose answer has a fixed
// shape (the public status look-up answers tens of thousands of times a second on one I/O thread).
// No DOM and no allocation per key: building the same answer as an nlohmann::json object and
// dumping it took ~12% of that thread's time. Everything else keeps using nlohmann::json.
//
// The caller gives the structure (BeginObject/Key/value/EndObject, BeginArray/EndArray); commas are
// placed for it. Strings are escaped as RFC 8259 requires (quote, backslash, control characters;
// other UTF-8 is written as it is), and an invalid UTF-8 sequence is written as U+FFFD, where
// nlohmann's dump would throw. Raw() embeds text that is already JSON. Misuse (a value without a
// key in an object, unbalanced ends) is a programming error, checked by assert in debug builds.
//
// Thread-safety: an instance is used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tl {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A value that is already JSON text (e.g. a column holding nlohmann's dump of a document), written
  // as it is: the caller vouches that it is one complete, valid JSON value.
  JsonWriter& Raw(std::string_view json_text);

  // The text written so far (complete once every Begin has its End).
  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();
  void Open(char bracket);
  void Close(char bracket);

  std::string out_;
  // One entry per open object or array: whether it has a member yet.
  std::vector<bool> has_member_;
  bool after_key_ = false;
};

// Appends `s` as a JSON string literal (with its quotes) to `out`, escaped as JsonWriter does.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace tl
