// The calendar API's routes (see calendar.h).
#include "modules/calendar/calendar.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "core/civil_date.h"
#include "core/clock.h"
#include "core/text.h"
#include "http/json_body.h"
#include "modules/audit/audit_log.h"

namespace tl::calendar {
namespace {

using nlohmann::json;

constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;
constexpr double kMaxWorkingDays = 1000;

bool Digits(std::string_view s, size_t pos, size_t len, int* out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// A non-negative decimal with at most 4 integer and 3 fraction digits ("3", "0.5"); no sign, exponent,
// hex or NaN, which strtod would accept.
Result<double> ParseWorkingDays(std::string_view s) {
  auto bad = [] {
    return InvalidArgument("must be a number of working days from 0 to 1000, e.g. 3 or 0.5", "working_days");
  };
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  int w = 0, f = 0;
  if (whole.empty() || whole.size() > 4 || !Digits(whole, 0, whole.size(), &w)) return bad();
  if (dot != std::string_view::npos && (frac.empty() || frac.size() > 3 || !Digits(frac, 0, frac.size(), &f))) {
    return bad();
  }
  double scale = 1;
  for (size_t i = 0; i < frac.size(); ++i) scale *= 10;
  double v = w + f / scale;
  if (v > kMaxWorkingDays) return bad();
  return v;
}

// "HH:MM" -> minutes after midnight.
Result<int> ParseCutoff(std::string_view s) {
  int h = 0, m = 0;
  if (s.size() != 5 || s[2] != ':' || !Digits(s, 0, 2, &h) || !Digits(s, 3, 2, &m) || h > 23 || m > 59) {
    return InvalidArgument("must be a time of day HH:MM, e.g. 15:00", "cutoff");
  }
  return h * 60 + m;
}

// The calendar's errors name its own arguments; the API names its query parameters.
Status AsQueryError(const Status& s) {
  if (s.code() == StatusCode::kInvalidArgument) {
    if (s.field() == "received_at") return InvalidArgument(s.message(), "from");
    if (s.field() == "cutoff_minute") return InvalidArgument(s.message(), "cutoff");
    return InvalidArgument(s.message(), "working_days");
  }
  if (s.code() == StatusCode::kFailedPrecondition) return InvalidArgument(s.message(), "working_days");
  return s;
}

json NumberJson(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v))) return static_cast<int64_t>(v);
  return v;
}

json DayJson(const Holiday& h) {
  std::string_view occasion = OccasionId(h.occasion);
  return {{"date", FormatCivilDate(h.date)},
          {"weekday", IsoWeekday(h.date)},
          {"reason", h.reason},
          {"occasion", occasion.empty() ? json(nullptr) : json(std::string(occasion))},
          {"official", h.official}};
}

constexpr size_t kMaxEntriesPerYear = 100;

// A year in a path or query: four digits within the calendar's years.
Result<int> ParseYear(const std::optional<std::string>& text, const WorkingCalendarOptions& o) {
  int year = 0;
  if (!text || text->size() != 4 || !Digits(*text, 0, 4, &year) || year < o.first_year || year > o.last_year) {
    return InvalidArgument("must be a year " + std::to_string(o.first_year) + "–" + std::to_string(o.last_year),
                           "year");
  }
  return year;
}

json EntryJson(const StoredScheduleEntry& s) {
  const ScheduleEntry& e = s.entry;
  std::string_view occasion = OccasionId(e.occasion);
  return {{"date", FormatCivilDate(e.date)},
          {"weekday", IsoWeekday(e.date)},
          {"kind", std::string(KindId(e.kind))},
          {"reason", e.reason},
          {"occasion", occasion.empty() ? json(nullptr) : json(std::string(occasion))},
          {"source", e.source},
          {"confidence", e.confidence.empty() ? json(nullptr) : json(e.confidence)},
          {"note", e.note},
          {"changed_by", s.changed_by},
          {"changed_at", s.changed_at}};
}

json YearJson(const YearSchedule& y) {
  json entries = json::array();
  for (const auto& e : y.entries) entries.push_back(EntryJson(e));
  return {{"year", y.year}, {"revision", y.revision}, {"entries", entries}};
}

// The body of PUT /api/v1/calendar/schedules/{year}: {"entries": [...]}; errors name "entries[i].<member>".
Result<std::vector<ScheduleEntry>> ParseScheduleBody(const http::Request& req) {
  TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"entries"}));
  const json* list = body.Raw("entries");
  if (!list || !list->is_array()) return InvalidArgument("must be an array of schedule entries", "entries");
  if (list->size() > kMaxEntriesPerYear) {
    return InvalidArgument("at most " + std::to_string(kMaxEntriesPerYear) + " entries a year", "entries");
  }
  static const std::set<std::string> kMembers = {"date",       "kind", "reason",  "occasion",   "source",
                                                 "confidence", "note", "weekday", "changed_by", "changed_at"};
  std::vector<ScheduleEntry> out;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& e = (*list)[i];
    const std::string field = "entries[" + std::to_string(i) + "]";
    if (!e.is_object()) return InvalidArgument("must be an object", field);
    for (const auto& [key, value] : e.items()) {
      if (!kMembers.count(key)) return InvalidArgument("unknown field '" + key + "'", field + "." + key);
    }
    // An optional string member: NFC, trimmed, no control characters beyond tab/newline, at most `max`.
    auto str = [&](const char* key, size_t max) -> Result<std::string> {
      const std::string f = field + "." + key;
      auto it = e.find(key);
      if (it == e.end() || it->is_null()) return std::string();
      if (!it->is_string()) return InvalidArgument("must be a string", f);
      TL_ASSIGN_OR_RETURN(std::string v, text::NormalizeNfc(it->get_ref<const std::string&>(), f));
      for (unsigned char c : v) {
        if (c < 0x20 && c != '\n' && c != '\t') return InvalidArgument("must not hold control characters", f);
      }
      v = std::string(text::Trim(v));
      if (static_cast<size_t>(text::CodePointCount(v)) > max) {
        return InvalidArgument("must be at most " + std::to_string(max) + " characters", f);
      }
      return v;
    };
    ScheduleEntry entry;
    TL_ASSIGN_OR_RETURN(std::string date, str("date", 10));
    if (date.empty()) return InvalidArgument("is required (YYYY-MM-DD)", field + ".date");
    TL_ASSIGN_OR_RETURN(entry.date, ParseCivilDate(date, field + ".date"));
    TL_ASSIGN_OR_RETURN(std::string kind, str("kind", 20));
    if (kind == "day_off") {
      entry.kind = DayKind::kOff;
    } else if (kind == "make_up_workday") {
      entry.kind = DayKind::kWork;
    } else {
      return InvalidArgument("must be \"day_off\" or \"make_up_workday\"", field + ".kind");
    }
    TL_ASSIGN_OR_RETURN(std::string occasion, str("occasion", 20));
    if (!occasion.empty()) {
      auto o = OccasionFromId(occasion);
      if (!o) {
        return InvalidArgument("must be one of new_year, tet, hung_kings, reunification, labour_day, national_day",
                               field + ".occasion");
      }
      entry.occasion = *o;
    }
    TL_ASSIGN_OR_RETURN(entry.reason, str("reason", 200));
    if (entry.reason.empty()) {
      std::string name(OccasionName(entry.occasion));
      if (entry.kind == DayKind::kWork) {
        entry.reason = name.empty() ? "làm bù" : "làm bù " + name;
      } else if (!name.empty()) {
        entry.reason = name;
      } else {
        return InvalidArgument("is required for a day off not tied to a holiday", field + ".reason");
      }
    }
    TL_ASSIGN_OR_RETURN(entry.source, str("source", 1000));
    TL_ASSIGN_OR_RETURN(entry.confidence, str("confidence", 10));
    if (!entry.confidence.empty()) {
      TL_RETURN_IF_ERROR(http::OneOf(entry.confidence, {"high", "medium", "low"}, field + ".confidence"));
    }
    TL_ASSIGN_OR_RETURN(entry.note, str("note", 1000));
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace

Result<int64_t> ParseRfc3339(std::string_view s, std::string_view field) {
  auto bad = [&] {
    return InvalidArgument("must be an RFC 3339 date-time with an offset, e.g. 2026-02-13T10:00:00+07:00",
                           std::string(field));
  };
  int y, mo, d, h, mi, se;
  if (s.size() < 20 || !Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !Digits(s, 11, 2, &h) || s[13] != ':' ||
      !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &se)) {
    return bad();
  }
  if (!IsValidCivilDate(y, mo, d) || h > 23 || mi > 59 || se > 59) return bad();
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return bad();
    for (int i = digits; i < 3; ++i) millis *= 10;
  }
  int offset_minutes = 0;
  if (pos + 1 == s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    offset_minutes = 0;
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-' || s[pos] == ' ') && s[pos + 3] == ':') {
    // ' ': an unencoded '+' in a query string arrives as a space (form encoding).
    int oh = 0, om = 0;
    if (!Digits(s, pos + 1, 2, &oh) || !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) return bad();
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
  } else {
    return bad();
  }
  int64_t local = DaysSinceEpoch({y, mo, d}) * kDayMs + ((h * 60LL + mi) * 60 + se) * 1000 + millis;
  return local - offset_minutes * 60LL * 1000;
}

std::string FormatVietnamTime(int64_t unix_ms) {
  int64_t local = unix_ms + kVietnamUtcOffsetMinutes * 60LL * 1000;
  int64_t day = local >= 0 ? local / kDayMs : -((-local + kDayMs - 1) / kDayMs);
  int64_t tod = local - day * kDayMs;
  CivilDate date = CivilDateFromDays(day);
  int ms = static_cast<int>(tod % 1000);
  int64_t secs = tod / 1000;
  char buf[48];
  if (ms != 0) {
    std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02d.%03d+07:00", FormatCivilDate(date).c_str(),
                  static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60), ms);
  } else {
    std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02d+07:00", FormatCivilDate(date).c_str(),
                  static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  }
  return buf;
}

std::vector<http::Route> Routes(CalendarProvider* provider) {
  using http::Access;
  using http::Method;
  std::vector<http::Route> r;
  r.push_back(
      {Method::kGet,
       "/api/v1/calendar/due-date",
       Access::Public(),
       [provider](http::Request& req) -> Result<http::Response> {
         auto from_text = req.Query("from");
         if (!from_text) return InvalidArgument("give the instant the dossier was received", "from");
         TL_ASSIGN_OR_RETURN(int64_t from, ParseRfc3339(*from_text, "from"));
         auto days_text = req.Query("working_days");
         if (!days_text) return InvalidArgument("give the number of working days", "working_days");
         TL_ASSIGN_OR_RETURN(double days, ParseWorkingDays(*days_text));
         DueTimeOptions options;
         auto cutoff_text = req.Query("cutoff");
         if (cutoff_text) {
           TL_ASSIGN_OR_RETURN(int cutoff, ParseCutoff(*cutoff_text));
           options.cutoff_minute = cutoff;
         }
         TL_ASSIGN_OR_RETURN(auto calendar, provider->Current());
         auto start = calendar->CountingStart(from, options);
         if (!start.ok()) return AsQueryError(start.status());
         auto due = calendar->DueTime(from, days, options);
         if (!due.ok()) return AsQueryError(due.status());
         json body = {{"from", FormatRfc3339(from)},
                      {"working_days", NumberJson(days)},
                      {"cutoff", cutoff_text ? json(*cutoff_text) : json(nullptr)},
                      {"counting_start", FormatRfc3339(*start)},
                      {"counting_start_local", FormatVietnamTime(*start)},
                      {"due_at", FormatRfc3339(*due)},
                      {"due_at_local", FormatVietnamTime(*due)}};
         return http::Response::Json(200, body.dump());
       },
       {"The due instant of a number of working days counted from a reception (Vietnamese working calendar, "
        "Hà Nội time)",
        "calendar",
        {{"from", "query", "Reception instant, RFC 3339 with offset, e.g. 2026-02-13T10:00:00+07:00", true},
         {"working_days", "query", "Working days, a non-negative decimal up to 1000 (0.5 = 4 working hours)", true,
          "number"},
         {"cutoff", "query", "Same-day cut-off HH:MM, e.g. 15:00"}},
        "",
        R"({"type":"object","properties":{"from":{"type":"string","format":"date-time"},"working_days":{"type":"number"},"cutoff":{"type":["string","null"]},"counting_start":{"type":"string","format":"date-time"},"counting_start_local":{"type":"string","format":"date-time"},"due_at":{"type":"string","format":"date-time"},"due_at_local":{"type":"string","format":"date-time"}}})"}});
  r.push_back(
      {Method::kGet,
       "/api/v1/calendar/holidays",
       Access::Public(),
       [provider](http::Request& req) -> Result<http::Response> {
         TL_ASSIGN_OR_RETURN(int year, ParseYear(req.Query("year"), provider->options()));
         TL_ASSIGN_OR_RETURN(auto calendar, provider->Current());
         json days_off = json::array(), make_up = json::array();
         for (const auto& h : calendar->HolidaysOf(year)) days_off.push_back(DayJson(h));
         for (const auto& h : calendar->MakeUpWorkdaysOf(year)) make_up.push_back(DayJson(h));
         json body = {{"year", year}, {"days_off", days_off}, {"make_up_workdays", make_up}};
         return http::Response::Json(200, body.dump());
       },
       {"Days off (statutory holidays, compensation days, the official schedule) and make-up working days of a year",
        "calendar",
        {{"year", "query", "Year, e.g. 2026", true, "integer"}},
        "",
        R"({"type":"object","properties":{"year":{"type":"integer"},"days_off":{"type":"array","items":{"type":"object","properties":{"date":{"type":"string","format":"date"},"weekday":{"type":"integer"},"reason":{"type":"string"},"occasion":{"type":["string","null"]},"official":{"type":"boolean"}}}},"make_up_workdays":{"type":"array"}}})"}});
  const std::string entry_props =
      R"("date":{"type":"string","format":"date"},"kind":{"enum":["day_off","make_up_workday"]},"reason":{"type":"string","maxLength":200},"occasion":{"enum":["new_year","tet","hung_kings","reunification","labour_day","national_day",null]},"source":{"type":"string","maxLength":1000},"confidence":{"enum":["high","medium","low",null]},"note":{"type":"string","maxLength":1000})";
  const std::string year_schema =
      R"({"type":"object","properties":{"year":{"type":"integer"},"revision":{"type":"integer"},"entries":{"type":"array","items":{"type":"object","properties":{)" +
      entry_props +
      R"(,"weekday":{"type":"integer"},"changed_by":{"type":"string"},"changed_at":{"type":"string","format":"date-time"}}}}}})";
  const std::string put_schema =
      R"({"type":"object","required":["entries"],"properties":{"entries":{"type":"array","maxItems":100,"items":{"type":"object","required":["date","kind"],"properties":{)" +
      entry_props + R"(}}}}})";
  const http::ParamDoc year_param{"year", "path", "Year, e.g. 2026", true, "integer"};
  r.push_back({Method::kGet,
               "/api/v1/calendar/schedules/{year}",
               Access::Public(),
               [provider](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(int year, ParseYear(req.Param("year"), provider->options()));
                 TL_ASSIGN_OR_RETURN(auto schedule, provider->Year(year));
                 return http::Response::Json(200, YearJson(schedule).dump());
               },
               {"The official schedule of a year: days off and make-up working days set by the Government, with "
                "their legal basis and who last changed them",
                "calendar",
                {year_param},
                "",
                year_schema}});
  r.push_back({Method::kPut,
               "/api/v1/calendar/schedules/{year}",
               Access::Roles({"city_admin"}),
               [provider](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(int year, ParseYear(req.Param("year"), provider->options()));
                 TL_ASSIGN_OR_RETURN(auto entries, ParseScheduleBody(req));
                 TL_ASSIGN_OR_RETURN(auto schedule,
                                     provider->ReplaceYear(audit::EntryFor(req, "", ""), year, std::move(entries)));
                 return http::Response::Json(200, YearJson(schedule).dump());
               },
               {"Replace the official schedule of a year (city admins; audited). Due dates and holidays follow at "
                "once",
                "calendar",
                {year_param},
                put_schema,
                year_schema}});
  r.push_back({Method::kDelete,
               "/api/v1/calendar/schedules/{year}",
               Access::Roles({"city_admin"}),
               [provider](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(int year, ParseYear(req.Param("year"), provider->options()));
                 TL_ASSIGN_OR_RETURN(bool deleted, provider->DeleteYear(audit::EntryFor(req, "", ""), year));
                 (void)deleted;
                 return http::Response::NoContent();
               },
               {"Remove the official schedule of a year, which then follows the Labour Code's default rule (city "
                "admins; audited)",
                "calendar",
                {year_param},
                "",
                "",
                204}});
  return r;
}

}  // namespace tl::calendar
