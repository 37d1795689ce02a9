#include "app/simulation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <ostream>
#include <random>
#include <set>

#include "app/write_backs.h"

namespace tl::app {
namespace {

using nlohmann::json;
constexpr int64_t kHour = 3600 * 1000;

const std::vector<std::pair<const char*, double>> kFamilyNames = {
    {"Nguyễn", 38}, {"Trần", 11}, {"Lê", 9.5}, {"Phạm", 7.1}, {"Hoàng", 5.1}, {"Phan", 4.5}, {"Vũ", 3.9},
    {"Đặng", 2.1},  {"Bùi", 2},   {"Đỗ", 1.4}, {"Hồ", 1.3},   {"Ngô", 1.3},   {"Dương", 1}, {"Lý", 0.5}};
const std::vector<const char*> kMiddleMale = {"Văn", "Đức", "Minh", "Hữu", "Quang", "Thanh", "Công", "Xuân"};
const std::vector<const char*> kMiddleFemale = {"Thị", "Ngọc", "Thu", "Thanh", "Minh", "Phương", "Hồng", "Mai"};
const std::vector<const char*> kGivenMale = {"An", "Bình", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Minh",
                                             "Nam", "Quân", "Sơn", "Tuấn", "Việt", "Thắng", "Phong", "Đạt"};
const std::vector<const char*> kGivenFemale = {"Anh", "Châu", "Giang", "Hà", "Hương", "Lan", "Linh", "Mai",
                                               "Ngọc", "Phương", "Tâm", "Thảo", "Trang", "Vy", "Yến", "Hạnh"};

// A returning citizen of the simulation: their account, how they fill in an applicant, and the id of
// the identity card in their wallet.
struct Returning {
  http::Principal account;
  dossiers::Applicant applicant;
  std::string identity_document;
};

constexpr int64_t kHanoiOffset = 7 * kHour;  // Hà Nội dates are UTC+7

class Sim {
 public:
  Sim(Application& app, ManualClock& clock, const SimulationOptions& o, std::ostream& log)
      : app_(app), clock_(clock), o_(o), rng_(o.seed), log_(log) {}

  Status Prepare() {
    // Procedures by popularity: commune-level ones are most of the traffic.
    for (const char* level : {"commune", "province"}) {
      std::optional<std::string> cursor;
      do {
        procedures::SearchQuery q;
        q.level = level;
        q.limit = 100;
        q.cursor = cursor;
        TL_ASSIGN_OR_RETURN(auto page, app_.procedures().Search(q));
        for (const auto& item : page.items_json) {
          auto j = json::parse(item);
          auto& list = std::string(level) == "commune" ? commune_procs_ : city_procs_;
          // A death registration's result needs the deceased in the registry (write_backs.h); the
          // simulated applicants are nobody's relatives, so it is not simulated.
          if (IsDeathRegistration(j["code"].get<std::string>())) continue;
          list.push_back(j["code"]);
        }
        cursor = page.next_cursor;
      } while (cursor);
    }
    if (commune_procs_.empty()) return FailedPrecondition("the catalogue is empty; import procedures first");
    std::shuffle(commune_procs_.begin(), commune_procs_.end(), rng_);
    std::shuffle(city_procs_.begin(), city_procs_.end(), rng_);
    // The procedures the catalogue has its own form for (data/procedures/forms/) are among a
    // commune's commonest, so they lead the popularity order: birth registration, permanent
    // residence, marriage registration, household businesses.
    static const std::vector<std::string> kCommonest = {"1.001193", "1.004222", "1.000894", "1.001612"};
    auto rank = [](const std::string& code) {
      return std::find(kCommonest.begin(), kCommonest.end(), code) - kCommonest.begin();
    };
    auto by_rank = [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); };
    std::stable_sort(commune_procs_.begin(), commune_procs_.end(), by_rank);
    std::stable_sort(city_procs_.begin(), city_procs_.end(), by_rank);
    TL_ASSIGN_OR_RETURN(auto units, app_.units().List(std::string("01")));
    for (const auto& u : units) {
      units_.push_back(u.code);
      unit_weight_.push_back(std::lognormal_distribution<double>(0.0, 0.5)(rng_));
    }
    // One simulated citizen account is the online applicant of every simulated dossier.
    identity::Actor system = identity::Actor::Cli("simulate");
    identity::NewUser citizen;
    citizen.username = "sim.citizen";
    citizen.without_password = true;
    citizen.role = "citizen";
    citizen.full_name = "Công dân mô phỏng";
    citizen.personal_id = "001099999999";
    auto created = app_.identity().CreateUser(system, citizen);
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) return created.status();
    TL_ASSIGN_OR_RETURN(auto user, app_.identity().GetUser(system, "sim.citizen"));
    citizen_.user_id = user.id;
    citizen_.username = user.username;
    citizen_.role = "citizen";
    if (!o_.bulk) TL_RETURN_IF_ERROR(PrepareReturningCitizens());
    return Status::Ok();
  }

  // Returning citizens: a pool of applicants with their own accounts and wallets, who submit about
  // half of the online dossiers. Their wallets start with what the state already issued them (the
  // identity card, the birth certificate from the digitised civil-status book, for some a marriage
  // certificate or a recent certificate of marital status), and every result of their dossiers is
  // added to it; their submissions refer to those documents instead of uploads wherever the
  // procedure's components allow (once-only), which the service index counts as reuse.
  Status PrepareReturningCitizens() {
    const int64_t n = std::clamp<int64_t>(o_.dossiers / 10, 10, 500);
    identity::Actor system = identity::Actor::Cli("simulate");
    const std::string first_day = FormatDate(o_.from_ms + kHanoiOffset);
    for (int64_t i = 0; i < n; ++i) {
      Returning r;
      r.applicant = Person();
      const std::string& pid = *r.applicant.personal_id;
      identity::NewUser u;
      u.username = "sim.citizen." + pid;
      u.without_password = true;
      u.role = "citizen";
      u.full_name = r.applicant.full_name;
      u.personal_id = pid;
      u.phone = r.applicant.phone;
      auto user = app_.identity().CreateUser(system, u);
      if (!user.ok() && user.status().code() != StatusCode::kAlreadyExists) return user.status();
      if (!user.ok()) user = app_.identity().GetUser(system, u.username);  // made by an earlier run
      if (!user.ok()) continue;  // the personal id belongs to another account already
      r.account.user_id = user->id;
      r.account.username = user->username;
      r.account.full_name = user->full_name;
      r.account.role = "citizen";
      r.account.personal_id = pid;
      // Born on a day of the year the personal id encodes.
      const int year = (pid[3] >= '2' ? 2000 : 1900) + std::stoi(pid.substr(4, 2));
      char born[11];
      std::snprintf(born, sizeof born, "%04d-%02d-%02d", year, Uniform(1, 12), Uniform(1, 28));
      auto days_before_start = [&](int lo, int hi) {
        return FormatDate(o_.from_ms + kHanoiOffset - static_cast<int64_t>(Uniform(lo, hi)) * 86400 * 1000);
      };
      const int age = std::stoi(first_day.substr(0, 4)) - year;
      const bool married = age >= 22 && Chance(0.6);
      const bool confirmation = !married && age >= 18 && Chance(0.4);
      const std::string home = "UBND" + PickUnit();
      TL_RETURN_IF_ERROR(app_.db().Write([&](storage::Session& s) -> Status {
        TL_ASSIGN_OR_RETURN(auto held, app_.wallet().SignedDocumentsIn(s, pid));
        if (!held.empty()) {  // a simulation run before gave them their papers
          for (const auto& d : held) {
            if (d.type == "identity") r.identity_document = d.id;
          }
          return Status::Ok();
        }
        auto issue = [&](const char* type, std::string title, std::string number, std::string issuer,
                         std::string issued_on, std::string valid_until, const char* source) -> Result<std::string> {
          wallet::NewDocument d;
          d.holder = pid;
          d.type = type;
          d.title = std::move(title);
          d.number = std::move(number);
          d.issuer_agency = std::move(issuer);
          d.issued_on = std::move(issued_on);
          d.valid_until = std::move(valid_until);
          d.source = source;
          return app_.wallet().Issue(s, d, "simulate");
        };
        std::string card_issued = days_before_start(30, 3650);
        std::string card_until = std::to_string(std::stoi(card_issued.substr(0, 4)) + 15) + card_issued.substr(4);
        TL_ASSIGN_OR_RETURN(r.identity_document, issue("identity", "Căn cước công dân", pid, "CATP01", card_issued,
                                                       card_until, "simulate:identity-card"));
        TL_RETURN_IF_ERROR(issue("1.001193", "Giấy khai sinh (sổ hộ tịch đã số hóa)",
                                 std::to_string(Uniform(1, 900)) + "/" + std::to_string(year), home, born, "",
                                 "simulate:civil-status-book")
                               .status());
        if (married) {
          TL_RETURN_IF_ERROR(issue("1.000894", "Giấy chứng nhận kết hôn", std::to_string(Uniform(1, 300)) + "/KH",
                                   home, days_before_start(200, 365 * std::max(1, age - 20)), "",
                                   "simulate:civil-status-book")
                                 .status());
        }
        if (confirmation) {
          TL_RETURN_IF_ERROR(issue("1.004873", "Giấy xác nhận tình trạng hôn nhân",
                                   std::to_string(Uniform(1, 500)) + "/XNHN", home, days_before_start(1, 60), "",
                                   "simulate:civil-status-book")
                                 .status());
        }
        return Status::Ok();
      }));
      returning_.push_back(std::move(r));
    }
    return Status::Ok();
  }

  // Once-only: the returning citizen's wallet documents that can stand for components of the
  // procedure (the one-stop shop's own offers, and for a procedure without its own component list
  // the identity card for "Giấy tờ tùy thân"), each referenced instead of handed in. A document
  // issued after the simulated day (a later dossier's result, already played) is not offered.
  void ReferWalletDocuments(const Returning& r, dossiers::SubmitRequest& req) {
    const std::string today = FormatDate(clock_.NowMillis() + kHanoiOffset);
    auto offers = app_.dossiers().WalletOffers(r.account, req.procedure_code);
    const bool own_components = offers.ok() && !(*offers)["components"].empty();
    if (own_components) {
      for (const auto& c : (*offers)["components"]) {
        for (const auto& d : c["documents"]) {
          if (d.value("issued_on", "") > today) continue;
          req.wallet_documents.push_back({c["component"].get<std::string>(), d["id"].get<std::string>()});
          break;
        }
      }
    } else if (!r.identity_document.empty() &&
               std::find(req.components.begin(), req.components.end(), "Giấy tờ tùy thân") != req.components.end()) {
      req.wallet_documents.push_back({"Giấy tờ tùy thân", r.identity_document});
    }
    for (const auto& w : req.wallet_documents) {  // referred to, not handed in
      req.components.erase(std::remove(req.components.begin(), req.components.end(), w.component),
                           req.components.end());
    }
  }

  Result<std::string> Specialist(const std::string& agency) {
    std::string name = "sim.cv." + agency;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (specialists_.count(agency)) return name;
    identity::NewUser u;
    u.username = name;
    u.without_password = true;  // nobody logs in as a simulated official (and no hash to compute)
    u.role = "specialist";
    u.full_name = "Chuyên viên mô phỏng " + agency;
    u.agency_code = agency;
    auto created = app_.identity().CreateUser(identity::Actor::Cli("simulate"), u);
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) return created.status();
    specialists_.insert(agency);
    return name;
  }

  http::Principal Official(const std::string& role, const std::string& agency) {
    http::Principal p;
    p.username = "sim." + std::string(role == "desk_officer" ? "mc" : role == "leader" ? "ld" : "cv") + "." + agency;
    for (auto& c : p.username) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    p.role = role;
    p.agency = agency;
    p.agencies_in_jurisdiction = {agency};
    p.city_wide = true;  // the simulation acts everywhere; the timeline still names the agency's official
    return p;
  }

  std::string Pick(const std::vector<std::string>& list) {
    // Zipf-like popularity: the i-th procedure (after a fixed shuffle) weighs 1 / (i + 1)^1.1.
    if (zipf_.empty() || zipf_.size() != list.size()) {
      zipf_.clear();
      double acc = 0;
      for (size_t i = 0; i < list.size(); ++i) zipf_.push_back(acc += 1.0 / std::pow(static_cast<double>(i + 1), 1.1));
    }
    double r = std::uniform_real_distribution<double>(0, zipf_.back())(rng_);
    size_t i = static_cast<size_t>(std::lower_bound(zipf_.begin(), zipf_.end(), r) - zipf_.begin());
    return list[std::min(i, list.size() - 1)];
  }

  std::string PickUnit() {
    std::discrete_distribution<size_t> d(unit_weight_.begin(), unit_weight_.end());
    return units_[d(rng_)];
  }

  dossiers::Applicant Person() {
    double total = 0;
    for (const auto& f : kFamilyNames) total += f.second;
    double r = std::uniform_real_distribution<double>(0, total)(rng_);
    std::string family = kFamilyNames.back().first;
    for (const auto& f : kFamilyNames) {
      if ((r -= f.second) <= 0) {
        family = f.first;
        break;
      }
    }
    bool female = Chance(0.5);
    auto pick = [&](const std::vector<const char*>& v) { return std::string(v[Uniform(0, static_cast<int>(v.size()) - 1)]); };
    dossiers::Applicant a;
    a.full_name = family + " " + pick(female ? kMiddleFemale : kMiddleMale) + " " + pick(female ? kGivenFemale : kGivenMale);
    int year = Uniform(1950, 2007);
    int digit = (year >= 2000 ? 2 : 0) + (female ? 1 : 0);
    char id[20];
    std::snprintf(id, sizeof id, "001%d%02d%06d", digit, year % 100, Uniform(0, 999999));
    a.personal_id = id;
    char phone[11];
    std::snprintf(phone, sizeof phone, "09%08d", Uniform(0, 99999999));
    a.phone = phone;
    a.address = "Hà Nội";
    return a;
  }

  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int Uniform(int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng_); }

  // Plays one dossier's life up to `until`; returns false if a step failed unexpectedly.
  bool Play(int64_t t_submit, SimulationReport& report) {
    bool city = !city_procs_.empty() && Chance(0.12);
    std::string procedure = Pick(city ? city_procs_ : commune_procs_);
    std::string unit = PickUnit();
    bool online = Chance(0.6);
    const Returning* returning = nullptr;
    if (online && !returning_.empty() && Chance(0.5)) {
      returning = &returning_[static_cast<size_t>(Uniform(0, static_cast<int>(returning_.size()) - 1))];
    }
    const http::Principal& applicant = returning ? returning->account : citizen_;
    dossiers::SubmitRequest req;
    req.procedure_code = procedure;
    if (!city) req.unit_code = unit;
    req.channel = online ? "online" : "desk";
    req.delivery = Chance(0.3) ? "online" : (Chance(0.2) ? "post" : "desk");
    req.applicant = returning ? returning->applicant : Person();
    // A procedure with its own form (data/procedures/forms/) is filled in as its schema's example
    // (read once per procedure).
    if (auto facts = Facts(procedure); facts.ok()) {
      req.form = (*facts)->form;
      req.components = (*facts)->components;
    } else {
      req.components = {"Tờ khai", "Giấy tờ tùy thân"};
    }
    audit::Entry ctx{"simulate", "", "", "sim", "", ""};
    clock_.Set(t_submit);
    if (returning) ReferWalletDocuments(*returning, req);
    http::Principal submitter = applicant;
    if (!online) {
      std::string desk_agency = city ? "TTPVHCC01" : "UBND" + unit;
      submitter = Official("desk_officer", desk_agency);
    }
    auto d = app_.dossiers().Submit(submitter, req, ctx);
    if (!d.ok() && online && d.status().code() == StatusCode::kFailedPrecondition &&
        d.status().field() != "wallet_documents") {
      // Not offered online: the applicant goes to the desk instead (and hands in paper).
      online = false;
      req.channel = "desk";
      for (auto& w : req.wallet_documents) req.components.push_back(std::move(w.component));
      req.wallet_documents.clear();
      submitter = Official("desk_officer", city ? "TTPVHCC01" : "UBND" + unit);
      d = app_.dossiers().Submit(submitter, req, ctx);
    }
    if (!d.ok()) {
      if (report.failed++ < 5) log_ << "simulation: submit failed: " << d.status().ToString() << "\n";
      return false;
    }
    report.submitted++;
    json cur = *d;
    std::string code = cur["code"];
    std::string receiving = cur["receiving_agency"], handling = cur["handling_agency"];
    int64_t t = t_submit;
    auto act = [&](const std::string& action, const http::Principal& who, int64_t at, dossiers::ActionRequest a) {
      if (at > o_.until_ms) return false;
      clock_.Set(at);
      a.version = cur["version"];
      auto r = app_.dossiers().Act(who, code, action, a, ctx);
      if (!r.ok()) {
        if (report.failed++ < 5) {
          log_ << "simulation: " << action << " on " << code << " failed: " << r.status().ToString() << "\n";
        }
        return false;
      }
      report.actions++;
      cur = *r;
      return true;
    };
    auto wait_hours = [&](double lo, double hi) {
      return static_cast<int64_t>(std::uniform_real_distribution<double>(lo, hi)(rng_) * kHour);
    };
    auto note = [](const char* n) {
      dossiers::ActionRequest a;
      a.note = n;
      return a;
    };
    if (online) {
      t += wait_hours(0.2, 20);
      if (Chance(0.02)) return act("refuse", Official("desk_officer", receiving), t, note("Hồ sơ không thuộc thẩm quyền"));
      if (!act("receive", Official("desk_officer", receiving), t, {})) return true;
    }
    if (online && Chance(0.015)) {
      act("withdraw", applicant, t + wait_hours(1, 48), note("Công dân xin rút hồ sơ"));
      return true;
    }
    auto specialist = Specialist(handling);
    if (!specialist.ok()) return false;
    dossiers::ActionRequest assign;
    assign.assignee = *specialist;
    t += wait_hours(0.1, 3);
    if (!act("assign", Official("desk_officer", receiving), t, assign)) return true;
    int64_t received = t;
    if (Chance(0.10)) {
      t += wait_hours(2, 24);
      if (!act("request-supplement", Official("specialist", handling), t, note("Đề nghị bổ sung giấy tờ"))) return true;
      t += wait_hours(24, 120);
      if (!act("supplement", online ? applicant : Official("desk_officer", receiving), t, note("Đã bổ sung"))) return true;
    }
    if (Chance(0.03) && handling != "STP01") {
      dossiers::ActionRequest tr = note("Lấy ý kiến cơ quan liên quan");
      tr.agency = "STP01";
      t += wait_hours(2, 24);
      if (!act("transfer", Official("specialist", handling), t, tr)) return true;
      dossiers::ActionRequest back = note("Đã có ý kiến");
      back.agency = handling;
      t += wait_hours(8, 48);
      if (!act("transfer", Official("specialist", "STP01"), t, back)) return true;
    }
    // Most dossiers finish well inside their time; about 3% run late.
    double working_days = cur.value("working_days", 5.0);
    double span_hours = std::max(1.0, working_days * 24.0 * 7.0 / 5.0);
    double fraction = Chance(0.03) ? std::uniform_real_distribution<double>(1.05, 1.6)(rng_)
                                   : std::uniform_real_distribution<double>(0.2, 0.85)(rng_);
    t = std::max(t, received) + static_cast<int64_t>(span_hours * fraction * kHour * 0.5);
    if (!act("propose", Official("specialist", handling), t, note("Đề nghị phê duyệt"))) return true;
    bool approve = !Chance(0.04);
    t += wait_hours(0.5, 8);
    if (!act(approve ? "approve" : "reject", Official("leader", handling), t,
             approve ? dossiers::ActionRequest{} : note("Không đủ điều kiện")))
      return true;
    t += wait_hours(0.5, 4);
    if (!act("issue-result", Official("specialist", handling), t, {})) return true;
    t += wait_hours(1, 72);
    if (!act("return", Official("desk_officer", receiving), t, {})) return true;
    report.returned++;
    if (online && Chance(0.3)) {
      clock_.Set(std::min(o_.until_ms, t + wait_hours(1, 24)));
      auto rated = app_.dossiers().Rate(applicant, code, Chance(0.8) ? 5 : Uniform(2, 4), "", ctx);
      if (!rated.ok() && report.failed++ < 5) log_ << "simulation: rating failed: " << rated.status().ToString() << "\n";
    }
    return true;
  }

  // The same life as Play(), decided in memory for the bulk loader (DossierService::ImportHistory):
  // the same shares of online submission, refusal, withdrawal, supplements, transfers, lateness,
  // rejection and ratings; actions after `until` are left out, so recent dossiers stay open.
  Result<dossiers::HistoricalDossier> Plan(int64_t t_submit) {
    bool city = !city_procs_.empty() && Chance(0.12);
    std::string procedure = Pick(city ? city_procs_ : commune_procs_);
    std::string unit = PickUnit();
    TL_ASSIGN_OR_RETURN(const ProcedureFacts* facts, Facts(procedure));
    bool online = Chance(0.6) && facts->online;
    dossiers::HistoricalDossier h;
    h.submitted_at = t_submit;
    h.req.procedure_code = procedure;
    if (!city) h.req.unit_code = unit;
    h.req.channel = online ? "online" : "desk";
    h.req.delivery = Chance(0.3) ? "online" : (Chance(0.2) ? "post" : "desk");
    h.req.applicant = Person();
    h.req.components = facts->components;
    h.req.form = facts->form;
    h.submitter = online ? citizen_ : Official("desk_officer", city ? "TTPVHCC01" : "UBND" + unit);
    TL_ASSIGN_OR_RETURN(auto route, app_.dossiers().Route(facts->json, h.req.unit_code, h.submitter, h.req.channel));
    std::string receiving = route[0], handling = route[1];
    double working_days = dossiers::DossierService::WorkingDaysOf(facts->json, h.req.channel);
    int64_t t = t_submit;
    bool cut = false;
    auto act = [&](const std::string& action, const http::Principal& who, int64_t at, const char* note = "",
                   std::optional<std::string> assignee = std::nullopt,
                   std::optional<std::string> to_agency = std::nullopt) {
      if (cut || at > o_.until_ms) {
        cut = true;
        return false;
      }
      h.actions.push_back({action, at, who.username, who.role, who.agency, note, std::move(assignee),
                           std::move(to_agency)});
      return true;
    };
    auto wait_hours = [&](double lo, double hi) {
      return static_cast<int64_t>(std::uniform_real_distribution<double>(lo, hi)(rng_) * kHour);
    };
    if (online) {
      t += wait_hours(0.2, 20);
      if (Chance(0.02)) {
        act("refuse", Official("desk_officer", receiving), t, "Hồ sơ không thuộc thẩm quyền");
        return h;
      }
      if (!act("receive", Official("desk_officer", receiving), t)) return h;
    }
    if (online && Chance(0.015)) {
      act("withdraw", citizen_, t + wait_hours(1, 48), "Công dân xin rút hồ sơ");
      return h;
    }
    TL_ASSIGN_OR_RETURN(auto specialist, Specialist(handling));
    t += wait_hours(0.1, 3);
    if (!act("assign", Official("desk_officer", receiving), t, "", specialist)) return h;
    int64_t received = t;
    if (Chance(0.10)) {
      t += wait_hours(2, 24);
      if (!act("request-supplement", Official("specialist", handling), t, "Đề nghị bổ sung giấy tờ")) return h;
      t += wait_hours(24, 120);
      if (!act("supplement", online ? citizen_ : Official("desk_officer", receiving), t, "Đã bổ sung")) return h;
    }
    if (Chance(0.03) && handling != "STP01") {
      t += wait_hours(2, 24);
      if (!act("transfer", Official("specialist", handling), t, "Lấy ý kiến cơ quan liên quan", std::nullopt,
               std::string("STP01")))
        return h;
      t += wait_hours(8, 48);
      if (!act("transfer", Official("specialist", "STP01"), t, "Đã có ý kiến", std::nullopt, handling)) return h;
    }
    double span_hours = std::max(1.0, working_days * 24.0 * 7.0 / 5.0);
    double fraction = Chance(0.03) ? std::uniform_real_distribution<double>(1.05, 1.6)(rng_)
                                   : std::uniform_real_distribution<double>(0.2, 0.85)(rng_);
    t = std::max(t, received) + static_cast<int64_t>(span_hours * fraction * kHour * 0.5);
    if (!act("propose", Official("specialist", handling), t, "Đề nghị phê duyệt")) return h;
    bool approve = !Chance(0.04);
    t += wait_hours(0.5, 8);
    if (!act(approve ? "approve" : "reject", Official("leader", handling), t, approve ? "" : "Không đủ điều kiện")) {
      return h;
    }
    t += wait_hours(0.5, 4);
    if (!act("issue-result", Official("specialist", handling), t)) return h;
    t += wait_hours(1, 72);
    if (!act("return", Official("desk_officer", receiving), t)) return h;
    if (online && Chance(0.3)) h.rating = Chance(0.8) ? 5 : Uniform(2, 4);
    return h;
  }

 private:
  struct ProcedureFacts {
    nlohmann::json json;
    bool online = false;
    std::vector<std::string> components{"Tờ khai", "Giấy tờ tùy thân"};
    nlohmann::json form = nlohmann::json::object();
  };
  // A procedure's catalogue entry and form example, read once.
  Result<const ProcedureFacts*> Facts(const std::string& code) {
    auto it = facts_.find(code);
    if (it != facts_.end()) return &it->second;
    TL_ASSIGN_OR_RETURN(auto detail, app_.procedures().DetailJson(code, std::nullopt));
    ProcedureFacts f;
    f.json = json::parse(detail);
    for (const auto& p : f.json.value("processing", json::array())) f.online = f.online || p.value("channel", "") == "online";
    if (f.json.contains("form_schema") && f.json["form_schema"].is_object()) {
      json example = f.json["form_schema"].value("examples", json::array());
      if (!example.empty()) {
        f.form = example[0].value("form", json::object());
        f.components = example[0].value("components", std::vector<std::string>{});
      }
    }
    return &facts_.emplace(code, std::move(f)).first->second;
  }

  std::vector<Returning> returning_;
  std::map<std::string, ProcedureFacts> facts_;
  Application& app_;
  ManualClock& clock_;
  SimulationOptions o_;
  std::mt19937_64 rng_;
  std::vector<std::string> commune_procs_, city_procs_, units_;
  std::vector<double> unit_weight_, zipf_;
  std::set<std::string> specialists_;
  http::Principal citizen_;
  std::ostream& log_;
};

}  // namespace

Result<SimulationReport> SimulateDossiers(Application& app, ManualClock& clock, const SimulationOptions& o,
                                          std::ostream& log) {
  if (o.dossiers <= 0) return InvalidArgument("must be positive", "dossiers");
  if (o.until_ms <= o.from_ms) return InvalidArgument("the period is empty", "until");
  auto started = std::chrono::steady_clock::now();
  Sim sim(app, clock, o, log);
  TL_RETURN_IF_ERROR(sim.Prepare());
  SimulationReport report;
  const auto cal = app.calendar();
  double step = static_cast<double>(o.until_ms - o.from_ms) / static_cast<double>(o.dossiers);
  std::mt19937_64 jitter(o.seed + 1);
  std::vector<dossiers::HistoricalDossier> batch;
  audit::Entry bulk_ctx{"simulate", "", "", "sim", "", ""};
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    TL_ASSIGN_OR_RETURN(auto r, app.dossiers().ImportHistory(batch, bulk_ctx));
    report.submitted += r.dossiers;
    report.actions += r.events - r.dossiers;
    report.failed += r.actions_refused;
    for (const auto& h : batch) {
      if (!h.actions.empty() && h.actions.back().action == "return") report.returned++;
    }
    batch.clear();
    return Status::Ok();
  };
  for (int64_t i = 0; i < o.dossiers; ++i) {
    int64_t t = o.from_ms + static_cast<int64_t>(step * (static_cast<double>(i) + 0.5));
    // Submissions happen in office hours on working days, mostly; online ones also at night.
    auto start = cal->CountingStart(t);
    if (start.ok()) t = *start + static_cast<int64_t>(std::uniform_real_distribution<double>(0, 8)(jitter) * kHour);
    if (t > o.until_ms) break;
    if (o.bulk) {
      TL_ASSIGN_OR_RETURN(auto h, sim.Plan(t));
      batch.push_back(std::move(h));
      if (batch.size() >= 5000) TL_RETURN_IF_ERROR(flush());
    } else {
      sim.Play(t, report);
    }
    if (o.progress && (i + 1) % (o.bulk ? 50000 : 500) == 0) {
      log << "\rsimulated " << (i + 1) << " / " << o.dossiers << " dossiers" << std::flush;
    }
  }
  TL_RETURN_IF_ERROR(flush());
  if (o.progress) log << "\n";
  clock.Set(o.until_ms);
  report.open = report.submitted - report.returned;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace tl::app
