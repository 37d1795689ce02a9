// The one-stop shop's forms 01, 04 and 06 built from a dossier's facts (see documents.h).
#include "modules/documents/documents.h"

#include <utf8proc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/civil_date.h"
#include "core/text.h"
#include "core/working_calendar.h"

namespace tl::documents {
namespace {

using nlohmann::json;

constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;
constexpr size_t kMaxCellCodePoints = 600;  // a table row must fit on one A4 page

// Type-safe reads of the dossier document (nlohmann's value() throws on a type mismatch).
std::string Str(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
const json& Member(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it != j.end() ? *it : kNull;
}

Result<std::optional<int64_t>> OptTime(const json& j, const char* key) {
  std::string s = Str(j, key);
  if (s.empty()) return std::optional<int64_t>();
  TL_ASSIGN_OR_RETURN(int64_t ms, ParseUtcTimestamp(s, key));
  return std::optional<int64_t>(ms);
}

std::string TwoDigits(int v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

// Hà Nội local date and minutes after midnight of an instant.
std::pair<CivilDate, int> LocalDateAndMinute(int64_t unix_ms) {
  int64_t local = unix_ms + kVietnamUtcOffsetMinutes * 60LL * 1000;
  int64_t day = local >= 0 ? local / kDayMs : -((-local + kDayMs - 1) / kDayMs);
  int64_t tod = local - day * kDayMs;
  return {CivilDateFromDays(day), static_cast<int>(tod / 60000)};
}

std::string_view WeekdayName(CivilDate d) {
  static constexpr std::string_view kNames[] = {"thứ Hai", "thứ Ba",  "thứ Tư",  "thứ Năm",
                                                "thứ Sáu", "thứ Bảy", "Chủ nhật"};
  return kNames[IsoWeekday(d) - 1];
}

// "10:05 13/02/2026", for table cells.
std::string ShortDateTime(int64_t unix_ms) {
  auto [d, minute] = LocalDateAndMinute(unix_ms);
  return TwoDigits(minute / 60) + ":" + TwoDigits(minute % 60) + " " + TwoDigits(d.day) + "/" + TwoDigits(d.month) +
         "/" + std::to_string(d.year);
}

std::string ShortDateTime(const std::optional<int64_t>& unix_ms) {
  return unix_ms ? ShortDateTime(*unix_ms) : std::string("(chưa có)");
}

std::string LongDateTime(const std::optional<int64_t>& unix_ms) {
  return unix_ms ? VietnameseDateTime(*unix_ms) : std::string("(chưa xác định)");
}

// Upper case of UTF-8 text (Vietnamese letters included); invalid input is returned unchanged.
std::string Upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) return std::string(s);
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t m = utf8proc_encode_char(utf8proc_toupper(cp), buf);
    out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(m));
    p += n;
    left -= n;
  }
  return out;
}

// At most `max` code points of valid UTF-8 text, with an ellipsis when cut.
std::string Truncate(const std::string& s, size_t max) {
  long count = text::CodePointCount(s);
  if (count < 0 || static_cast<size_t>(count) <= max) return s;
  size_t i = 0, seen = 0;
  while (i < s.size() && seen < max) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
    ++seen;
  }
  return s.substr(0, i) + "…";
}

std::string WorkingDaysText(double days) {
  if (std::floor(days) == days) return std::to_string(static_cast<long long>(days));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", days);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  std::replace(s.begin(), s.end(), '.', ',');  // Vietnamese decimal comma
  return s;
}

std::string AgencyName(const AgencyLabel& a) {
  return a.name.empty() ? a.code : a.name;
}

// A People's Committee is printed on two lines, "ỦY BAN NHÂN DÂN" over the unit ("PHƯỜNG BA ĐÌNH").
std::string CommitteeOnTwoLines(std::string name) {
  static const std::string kCommittee = "Ủy ban nhân dân ";
  if (name.rfind(kCommittee, 0) == 0) name[kCommittee.size() - 1] = '\n';
  return name;
}

Letterhead LetterheadOf(const AgencyLabel& agency, const std::string& place_date) {
  Letterhead h;
  h.parent = Upper(agency.parent_name);
  h.issuer = Upper(CommitteeOnTwoLines(AgencyName(agency)));
  if (!place_date.empty()) h.place_date = "Hà Nội, " + place_date;
  return h;
}

Paragraph PR(std::vector<Run> runs, ParagraphStyle style = ParagraphStyle::kBody) {
  return {style, std::move(runs)};
}
Paragraph P(std::string text, ParagraphStyle style = ParagraphStyle::kBody) {
  return {style, {{std::move(text)}}};
}

std::string_view DeliveryLabel(const std::string& delivery) {
  if (delivery == "desk") return "Nhận trực tiếp tại Bộ phận Một cửa";
  if (delivery == "online") return "Nhận trực tuyến (bản điện tử trên Cổng Dịch vụ công, kho dữ liệu cá nhân)";
  if (delivery == "post") return "Nhận qua dịch vụ bưu chính công ích";
  return delivery;
}

std::string_view ActionLabel(const std::string& action) {
  static const std::map<std::string, std::string_view, std::less<>> kLabels = {
      {"submit", "Nộp hồ sơ trực tuyến"},
      {"receive", "Tiếp nhận hồ sơ"},
      {"refuse", "Từ chối tiếp nhận"},
      {"assign", "Phân công xử lý"},
      {"request-supplement", "Yêu cầu bổ sung, hoàn thiện hồ sơ"},
      {"supplement", "Bổ sung hồ sơ"},
      {"transfer", "Chuyển liên thông"},
      {"propose", "Trình phê duyệt"},
      {"approve", "Phê duyệt"},
      {"reject", "Không phê duyệt"},
      {"issue-result", "Ban hành kết quả"},
      {"return", "Trả kết quả"},
      {"withdraw", "Rút hồ sơ"},
      {"stop", "Dừng giải quyết"},
      {"apologise", "Xin lỗi, gia hạn thời gian giải quyết"},
  };
  auto it = kLabels.find(action);
  return it == kLabels.end() ? std::string_view(action) : it->second;
}

std::string_view RoleLabel(const std::string& role) {
  static const std::map<std::string, std::string_view, std::less<>> kLabels = {
      {"applicant", "Người nộp hồ sơ"},
      {"citizen", "Công dân"},
      {"organisation", "Tổ chức"},
      {"desk_officer", "Cán bộ một cửa"},
      {"specialist", "Chuyên viên"},
      {"leader", "Lãnh đạo"},
      {"agency_admin", "Quản trị cơ quan"},
      {"city_admin", "Quản trị thành phố"},
      {"operator", "Vận hành"},
  };
  auto it = kLabels.find(role);
  return it == kLabels.end() ? std::string_view(role) : it->second;
}

// What the step's detail adds to its note on the control sheet.
std::string DetailText(const TimelineStep& step) {
  const json& d = step.detail;
  std::vector<std::string> parts;
  if (std::string v = Str(d, "assignee"); !v.empty()) parts.push_back("Giao: " + v);
  if (std::string to = Str(d, "to_agency"); !to.empty()) {
    std::string name = Str(d, "to_agency_name");
    parts.push_back("Chuyển đến: " + (name.empty() ? to : name));
  }
  std::string due = Str(d, "due_at");
  if (!due.empty()) {
    auto ms = ParseUtcTimestamp(due, "due_at");
    std::string when = ms.ok() ? ShortDateTime(*ms) : due;
    if (step.action == "apologise") {
      auto prev = ParseUtcTimestamp(Str(d, "previous_due_at"), "previous_due_at");
      parts.push_back("Gia hạn: " + (prev.ok() ? ShortDateTime(*prev) : std::string("(chưa có)")) + " → " + when);
    } else {
      parts.push_back("Hẹn trả: " + when);
    }
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace

Result<int64_t> ParseUtcTimestamp(std::string_view s, std::string_view field) {
  auto bad = [&] {
    return InvalidArgument("not an RFC 3339 UTC timestamp: '" + std::string(s) + "'", std::string(field));
  };
  // YYYY-MM-DDTHH:MM:SS[.f+]Z
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
      (s.back() != 'Z' && s.back() != 'z')) {
    return bad();
  }
  auto num = [&](size_t pos, size_t len, int* out) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, &y) || !num(5, 2, &mo) || !num(8, 2, &d) || !num(11, 2, &h) || !num(14, 2, &mi) || !num(17, 2, &se)) {
    return bad();
  }
  if (!IsValidCivilDate(y, mo, d) || h > 23 || mi > 59 || se > 59) return bad();
  int64_t millis = 0;
  size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() - 1 && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (int i = digits; i < 3; ++i) millis *= 10;
  }
  if (pos != s.size() - 1) return bad();
  return DaysSinceEpoch({y, mo, d}) * kDayMs + ((h * 60LL + mi) * 60 + se) * 1000 + millis;
}

std::string VietnameseDate(int64_t unix_ms) {
  CivilDate d = LocalDateAndMinute(unix_ms).first;
  return "ngày " + TwoDigits(d.day) + " tháng " + TwoDigits(d.month) + " năm " + std::to_string(d.year);
}

std::string VietnameseDateTime(int64_t unix_ms) {
  auto [d, minute] = LocalDateAndMinute(unix_ms);
  return TwoDigits(minute / 60) + " giờ " + TwoDigits(minute % 60) + " phút, " + std::string(WeekdayName(d)) + " " +
         VietnameseDate(unix_ms);
}

Result<DossierFacts> FactsFromDossierJson(const json& dossier, const AgencyLookup& agencies) {
  if (!dossier.is_object()) return Internal("the dossier document is not an object");
  std::map<std::string, AgencyLabel> cache;
  auto agency = [&](const std::string& code) -> Result<AgencyLabel> {
    if (code.empty()) return AgencyLabel{};
    if (auto it = cache.find(code); it != cache.end()) return it->second;
    auto found = agencies(code);
    AgencyLabel label;
    if (found.ok()) {
      label = std::move(found).value();
    } else if (found.status().code() == StatusCode::kNotFound) {
      label.code = code;
    } else {
      return found.status();
    }
    if (label.code.empty()) label.code = code;
    cache[code] = label;
    return label;
  };

  DossierFacts f;
  f.code = Str(dossier, "code");
  if (f.code.empty()) return Internal("the dossier document has no code");
  const json& proc = Member(dossier, "procedure");
  f.procedure_code = Str(proc, "code");
  f.procedure_name = Str(proc, "name");
  TL_ASSIGN_OR_RETURN(f.receiving_agency, agency(Str(dossier, "receiving_agency")));
  TL_ASSIGN_OR_RETURN(f.handling_agency, agency(Str(dossier, "handling_agency")));
  const json& a = Member(dossier, "applicant");
  f.applicant_name = Str(a, "full_name");
  f.applicant_id_number = Str(a, "id_number");
  f.applicant_phone = Str(a, "phone");
  f.applicant_email = Str(a, "email");
  f.applicant_address = Str(a, "address");
  if (const json& c = Member(dossier, "components"); c.is_array()) {
    for (const auto& item : c) {
      if (item.is_string()) f.components.push_back(item.get<std::string>());
    }
  }
  f.channel = Str(dossier, "channel");
  f.delivery = Str(dossier, "delivery");
  if (const json& w = Member(dossier, "working_days"); w.is_number()) f.working_days = w.get<double>();
  TL_ASSIGN_OR_RETURN(f.submitted_at_ms, OptTime(dossier, "submitted_at"));
  TL_ASSIGN_OR_RETURN(f.received_at_ms, OptTime(dossier, "received_at"));
  TL_ASSIGN_OR_RETURN(f.due_at_ms, OptTime(dossier, "due_at"));
  f.status_label = Str(dossier, "status_label");
  if (const json& tl = Member(dossier, "timeline"); tl.is_array()) {
    for (const auto& e : tl) {
      TimelineStep step;
      if (const json& seq = Member(e, "seq"); seq.is_number_integer()) step.seq = seq.get<int64_t>();
      step.action = Str(e, "action");
      step.to_label = Str(e, "to_label");
      step.actor = Str(e, "actor");
      step.actor_role = Str(e, "actor_role");
      TL_ASSIGN_OR_RETURN(step.agency, agency(Str(e, "agency")));
      TL_ASSIGN_OR_RETURN(step.at_ms, ParseUtcTimestamp(Str(e, "at"), "timeline.at"));
      step.note = Str(e, "note");
      if (const json& d = Member(e, "detail"); d.is_object()) step.detail = d;
      if (std::string to = Str(step.detail, "to_agency"); !to.empty()) {
        TL_ASSIGN_OR_RETURN(auto label, agency(to));
        step.detail["to_agency_name"] = AgencyName(label);
      }
      f.timeline.push_back(std::move(step));
    }
  }
  return f;
}

Result<Printable> ReceiptForm(const DossierFacts& d, const std::string& tracking_url) {
  if (!d.received_at_ms) {
    return FailedPrecondition("dossier " + d.code + " has not been received yet; the receipt is issued at reception");
  }
  TL_ASSIGN_OR_RETURN(QrCode qr, EncodeQr(tracking_url, "tracking_url"));
  std::string desk = AgencyName(d.receiving_agency);
  Printable doc;
  doc.title = "Giấy tiếp nhận hồ sơ và hẹn trả kết quả — " + d.code;
  doc.paper = Paper::kA5;
  auto& b = doc.blocks;
  b.push_back(LetterheadOf(d.receiving_agency, VietnameseDate(*d.received_at_ms)));
  b.push_back(P("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", ParagraphStyle::kTitle));
  b.push_back(PR({{"Mã hồ sơ: "}, {d.code, true}}, ParagraphStyle::kCentered));
  b.push_back(P(desk + " tiếp nhận hồ sơ của:"));
  b.push_back(PR({{"Ông/bà: "}, {d.applicant_name, true}}, ParagraphStyle::kListItem));
  std::string contact;
  auto add = [&contact](const std::string& label, const std::string& value) {
    if (!value.empty()) contact += (contact.empty() ? "" : "; ") + label + value;
  };
  add("Số định danh / mã số thuế: ", d.applicant_id_number);
  add("Điện thoại: ", d.applicant_phone);
  add("Thư điện tử: ", d.applicant_email);
  if (!contact.empty()) b.push_back(P(contact + ".", ParagraphStyle::kListItem));
  if (!d.applicant_address.empty()) b.push_back(P("Địa chỉ: " + d.applicant_address, ParagraphStyle::kListItem));
  b.push_back(PR({{"Nội dung yêu cầu giải quyết: "},
                  {d.procedure_name, true},
                  {d.procedure_code.empty() ? "" : " (mã thủ tục " + d.procedure_code + ")"}}));
  b.push_back(P("1. Thành phần hồ sơ nộp gồm:"));
  if (d.components.empty()) b.push_back(P("(không kê khai thành phần)", ParagraphStyle::kListItem));
  for (size_t i = 0; i < d.components.size(); ++i) {
    b.push_back(P(std::to_string(i + 1) + ") " + d.components[i], ParagraphStyle::kListItem));
  }
  b.push_back(P("2. Số lượng hồ sơ: 01 (bộ)."));
  b.push_back(P("3. Thời gian giải quyết hồ sơ theo quy định: " + WorkingDaysText(d.working_days) + " ngày làm việc."));
  b.push_back(P("4. Thời gian nhận hồ sơ: " + LongDateTime(d.received_at_ms) + "."));
  b.push_back(PR({{"5. Thời gian trả kết quả giải quyết hồ sơ: "}, {LongDateTime(d.due_at_ms), true}, {"."}}));
  b.push_back(P("6. Hình thức nhận kết quả: " + std::string(DeliveryLabel(d.delivery)) + "."));
  if (d.delivery == "desk")
    b.push_back(P("Nơi trả kết quả: Bộ phận Một cửa, " + desk + ".", ParagraphStyle::kListItem));
  b.push_back(P("Người nộp hồ sơ mang theo Giấy tiếp nhận hồ sơ và hẹn trả kết quả này khi đến nhận kết quả.",
                ParagraphStyle::kNote));
  b.push_back(Signatures{{{"NGƯỜI NỘP HỒ SƠ", "(Ký và ghi rõ họ tên)", d.applicant_name},
                          {"NGƯỜI TIẾP NHẬN HỒ SƠ", "(Ký và ghi rõ họ tên)", ""}}});
  b.push_back(QrBlock{std::move(qr),
                      {{"Tra cứu tình trạng hồ sơ\n", true},
                       {"Quét mã QR hoặc truy cập " + tracking_url +
                        ", nhập 4 chữ số cuối của số định danh hoặc số điện thoại của người nộp."}}});
  return doc;
}

Result<Printable> ApologyForm(const DossierFacts& d) {
  auto it = std::find_if(d.timeline.rbegin(), d.timeline.rend(),
                         [](const TimelineStep& s) { return s.action == "apologise"; });
  if (it == d.timeline.rend()) return NotFound("dossier " + d.code + " has no apology letter");
  const TimelineStep& step = *it;
  std::optional<int64_t> previous_due, new_due;
  if (std::string s = Str(step.detail, "previous_due_at"); !s.empty()) {
    TL_ASSIGN_OR_RETURN(int64_t ms, ParseUtcTimestamp(s, "detail.previous_due_at"));
    previous_due = ms;
  }
  if (std::string s = Str(step.detail, "due_at"); !s.empty()) {
    TL_ASSIGN_OR_RETURN(int64_t ms, ParseUtcTimestamp(s, "detail.due_at"));
    new_due = ms;
  }
  const AgencyLabel& issuer = step.agency.code.empty() ? d.handling_agency : step.agency;
  std::string agency = AgencyName(issuer);
  std::string received = d.received_at_ms ? VietnameseDate(*d.received_at_ms) : VietnameseDate(step.at_ms);
  received[0] = 'N';  // starts the sentence

  Printable doc;
  doc.title = "Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết — " + d.code;
  doc.paper = Paper::kA5;
  auto& b = doc.blocks;
  b.push_back(LetterheadOf(issuer, VietnameseDate(step.at_ms)));
  b.push_back(P("VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT", ParagraphStyle::kTitle));
  b.push_back(PR({{"Mã hồ sơ: "}, {d.code, true}}, ParagraphStyle::kCentered));
  b.push_back(PR({{"Kính gửi: Ông/bà "}, {d.applicant_name, true}}, ParagraphStyle::kCentered));
  b.push_back(P(received + ", " + AgencyName(d.receiving_agency) +
                " tiếp nhận hồ sơ của Ông/bà đề nghị giải quyết thủ tục “" + d.procedure_name + "”, mã hồ sơ " +
                d.code + "."));
  b.push_back(P("Thời hạn trả kết quả giải quyết hồ sơ ghi trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả: " +
                LongDateTime(previous_due) + "."));
  b.push_back(
      P("Tuy nhiên, đến nay " + agency + " chưa thể trả kết quả giải quyết hồ sơ của Ông/bà đúng thời hạn nêu trên."));
  b.push_back(PR({{"Lý do: "}, {step.note.empty() ? "(không ghi)" : step.note, false, true}}));
  b.push_back(P("Sự chậm trễ này đã gây phiền hà, tốn kém thời gian và chi phí đi lại của Ông/bà. " + agency +
                " xin lỗi Ông/bà và đề nghị gia hạn thời gian trả kết quả giải quyết hồ sơ đến:"));
  b.push_back(PR({{LongDateTime(new_due), true}}, ParagraphStyle::kCentered));
  b.push_back(P(agency + " xin trân trọng cảm ơn sự hợp tác của Ông/bà./."));
  b.push_back(P("Nơi nhận: như trên; lưu hồ sơ " + d.code + ".", ParagraphStyle::kNote));
  b.push_back(Signatures{{{"", "", ""}, {"THỦ TRƯỞNG CƠ QUAN", "(Ký, ghi rõ họ tên và đóng dấu)", ""}}});
  return doc;
}

Result<Printable> ControlSheetForm(const DossierFacts& d) {
  Printable doc;
  doc.title = "Phiếu kiểm soát quá trình giải quyết hồ sơ — " + d.code;
  doc.paper = Paper::kA4;
  auto& b = doc.blocks;
  b.push_back(LetterheadOf(d.receiving_agency, ""));
  b.push_back(P("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", ParagraphStyle::kTitle));
  b.push_back(
      P("(Kèm theo Giấy tiếp nhận hồ sơ và hẹn trả kết quả, mã hồ sơ " + d.code + ")", ParagraphStyle::kSubtitle));
  b.push_back(PR({{"Mã hồ sơ: "}, {d.code, true}}));
  b.push_back(PR({{"Thủ tục: "}, {d.procedure_name}, {d.procedure_code.empty() ? "" : " (" + d.procedure_code + ")"}}));
  b.push_back(PR({{"Người nộp hồ sơ: "}, {d.applicant_name}}));
  b.push_back(PR({{"Cơ quan tiếp nhận: "}, {AgencyName(d.receiving_agency)}}));
  b.push_back(PR({{"Cơ quan giải quyết: "}, {AgencyName(d.handling_agency)}}));
  b.push_back(PR({{"Thời gian nhận hồ sơ: "}, {LongDateTime(d.received_at_ms)}}));
  b.push_back(PR({{"Thời hạn trả kết quả: "}, {LongDateTime(d.due_at_ms), true}}));
  b.push_back(PR({{"Tình trạng hiện tại: "}, {d.status_label}}));
  Table t;
  t.header = {"STT", "Bước xử lý", "Người thực hiện", "Vai trò", "Cơ quan", "Thời điểm tiếp nhận", "Ghi chú"};
  t.widths = {0.75, 2.1, 1.45, 1.35, 2.05, 1.45, 2.5};
  for (size_t i = 0; i < d.timeline.size(); ++i) {
    const TimelineStep& s = d.timeline[i];
    std::string step(ActionLabel(s.action));
    if (!s.to_label.empty()) step += "\n→ " + s.to_label;
    std::string note = s.note;
    if (std::string detail = DetailText(s); !detail.empty()) note += (note.empty() ? "" : "\n") + detail;
    t.rows.push_back({std::to_string(s.seq > 0 ? s.seq : static_cast<int64_t>(i + 1)), step, s.actor,
                      std::string(RoleLabel(s.actor_role)), s.agency.code.empty() ? "—" : AgencyName(s.agency),
                      ShortDateTime(s.at_ms), Truncate(note, kMaxCellCodePoints)});
  }
  b.push_back(std::move(t));
  b.push_back(P("Thời điểm theo giờ Hà Nội (UTC+7). Hạn trả hiện tại: " + ShortDateTime(d.due_at_ms) + ".",
                ParagraphStyle::kNote));
  return doc;
}

Result<std::string> PublicBaseUrl(const http::Request& req) {
  auto host = req.Header("host");
  if (!host || host->empty()) return InvalidArgument("a Host header is needed to build the tracking link", "host");
  std::string_view h = *host;
  // A host name or IPv4 address, or a bracketed IPv6 address, with an optional port.
  bool ok = h.size() <= 255;
  bool bracket = !h.empty() && h[0] == '[';
  for (char c : h) {
    bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':';
    if (!plain && !(bracket && (c == '[' || c == ']'))) ok = false;
  }
  if (!ok || h.front() == '.' || h.front() == '-' || h.front() == ':') {
    return InvalidArgument("the Host header is not a host name", "host");
  }
  std::string scheme = "http";
  if (auto proto = req.Header("x-forwarded-proto")) {
    std::string_view p = text::Trim(proto->substr(0, proto->find(',')));
    if (p.size() == 5 && (p[0] | 0x20) == 'h' && (p[1] | 0x20) == 't' && (p[2] | 0x20) == 't' && (p[3] | 0x20) == 'p' &&
        (p[4] | 0x20) == 's') {
      scheme = "https";
    }
  }
  std::string lower(h);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; });
  return scheme + "://" + lower;
}

Result<Printable> WalletDocumentForm(const wallet::DocumentRecord& d, const AgencyLabel& issuer,
                                     const std::string& verify_url) {
  TL_ASSIGN_OR_RETURN(QrCode qr, EncodeQr(verify_url, "verify_url"));
  // "ngày 12 tháng 11 năm 2026" from the stored YYYY-MM-DD.
  auto long_date = [](const std::string& iso) {
    if (iso.size() != 10) return iso;
    return "ngày " + iso.substr(8, 2) + " tháng " + iso.substr(5, 2) + " năm " + iso.substr(0, 4);
  };
  Printable doc;
  doc.title = d.title + " — " + d.id;
  doc.keywords = "ThangLong-Document-Id: " + d.id;
  doc.paper = Paper::kA5;
  auto& b = doc.blocks;
  Letterhead head = LetterheadOf(issuer, long_date(d.issued_on));
  if (!d.number.empty()) head.number = "Số: " + d.number;
  b.push_back(std::move(head));
  b.push_back(P(Upper(d.title), ParagraphStyle::kTitle));
  b.push_back(P(d.state == "certified" ? "Bản sao điện tử được chứng thực từ bản chính"
                                       : "Bản điện tử của kết quả giải quyết thủ tục hành chính",
                ParagraphStyle::kSubtitle));
  Table facts{{"Thông tin", "Nội dung"}, {0.4, 0.6}, {}};
  facts.rows.push_back({"Mã văn bản điện tử", d.id});
  facts.rows.push_back({"Số, ký hiệu", d.number.empty() ? "—" : d.number});
  facts.rows.push_back({"Loại giấy tờ", d.type});
  facts.rows.push_back({"Số định danh / mã số thuế của người được cấp", d.holder});
  facts.rows.push_back({"Cơ quan cấp", AgencyName(issuer) + (issuer.name.empty() ? "" : " (" + issuer.code + ")")});
  facts.rows.push_back({"Ngày cấp", long_date(d.issued_on)});
  facts.rows.push_back({"Có giá trị đến", d.valid_until.empty() ? "Không thời hạn" : long_date(d.valid_until)});
  b.push_back(std::move(facts));
  b.push_back(P("Văn bản này được " + AgencyName(issuer) +
                " ký số trên hệ thống ThangLong. Tệp PDF này cũng được ký: mọi thay đổi dù nhỏ đều bị phát hiện "
                "khi xác thực.",
                ParagraphStyle::kNote));
  b.push_back(QrBlock{std::move(qr),
                      {{"Xác thực văn bản\n", true},
                       {"Quét mã QR hoặc truy cập " + verify_url +
                        "; hoặc tải chính tệp này lên trang xác thực để kiểm tra tệp không bị sửa đổi."}}});
  return doc;
}

std::string VerifyUrl(const std::string& base, const std::string& id) {
  std::string url = TrackingUrl(base, id);  // the same percent-encoding
  return base + "/verify?id=" + url.substr(base.size() + std::string_view("/track?code=").size());
}

std::string TrackingUrl(const std::string& base, const std::string& code) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = base + "/track?code=";
  for (unsigned char c : code) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace tl::documents
