#include "modules/population/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "core/civil_date.h"
#include "core/personal_id.h"
#include "core/text.h"

namespace tl::population {
namespace {

constexpr int kYear = 2026;
constexpr char kToday[] = "2026-07-01";
constexpr int64_t kPeople = 200'000;

// Vietnam 2024, percent by 5-year band (0-4 ... 75-79, 80+).
constexpr std::array<double, 17> kPyramid = {7.0, 8.0, 7.7, 6.9, 6.6, 7.4, 8.2, 8.0, 7.4,
                                             6.7, 6.0, 5.3, 4.6, 3.7, 2.6, 1.6, 2.3};

// 126 units like Hà Nội's after the 2025 reform: 51 wards and 75 communes, of varied weights. Unit 0
// is the heaviest (20), unit 1 the lightest (0.5).
std::vector<UnitWeight> Units() {
  std::vector<UnitWeight> units;
  for (int i = 0; i < 126; ++i) {
    char code[8];
    std::snprintf(code, sizeof code, "%05d", 4 + i * 7);
    const std::string name = (i < 51 ? "Phường " : "Xã ") + std::to_string(i + 1);
    const double weight = i == 0 ? 20 : i == 1 ? 0.5 : 1 + (i * 37 % 23) * 0.5;
    units.push_back({code, name, weight});
  }
  return units;
}

GeneratorOptions Options(int64_t people, uint64_t seed = 7) {
  GeneratorOptions o;
  o.people = people;
  o.seed = seed;
  o.reference_year = kYear;
  o.reference_date = kToday;
  o.units = Units();
  return o;
}

std::string Id12(int64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%012lld", static_cast<long long>(id));
  return buf;
}

// "YYYY-MM-DD" with digits where they belong, naming a real day.
bool IsIsoDate(const std::string& d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(d[i]))) return false;
  }
  return IsValidCivilDate(std::stoi(d.substr(0, 4)), std::stoi(d.substr(5, 2)), std::stoi(d.substr(8, 2)));
}

int YearOf(const std::string& date) {
  return std::stoi(date.substr(0, 4));
}

int AgeOn(const std::string& birth, const std::string& today) {
  return YearOf(today) - YearOf(birth) - (birth.substr(5) > today.substr(5) ? 1 : 0);
}

// Combining diacritics U+0300..U+036F are 0xCC 0x80..0xBF and 0xCD 0x80..0xAF in UTF-8; NFC
// Vietnamese never needs them.
bool HasCombiningMark(std::string_view s) {
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const auto d = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xCC && d >= 0x80 && d <= 0xBF) || (c == 0xCD && d >= 0x80 && d <= 0xAF)) return true;
  }
  return false;
}

bool IsNfcText(std::string_view s) {
  if (!text::IsValidUtf8(s) || HasCombiningMark(s)) return false;
  auto nfc = text::NormalizeNfc(s);
  return nfc.ok() && *nfc == s;
}

std::string Describe(const Person& p) {
  auto opt = [](const auto& o) {
    if (!o) return std::string("-");
    if constexpr (std::is_same_v<std::decay_t<decltype(*o)>, std::string>) {
      return *o;
    } else {
      return std::to_string(*o);
    }
  };
  return Id12(p.personal_id) + "|" + p.full_name + "|" + p.birth_date + "|" + (p.sex == Sex::kFemale ? "F" : "M") +
         "|" + p.birth_place + "|" + opt(p.permanent_unit) + "|" + opt(p.permanent_address) + "|" +
         opt(p.temporary_unit) + "|" + opt(p.temporary_address) + "|" + opt(p.household_id) + "|" +
         opt(p.household_role) + "|" + opt(p.father_id) + "|" + opt(p.mother_id) + "|" + opt(p.spouse_id) + "|" +
         (p.status == LifeStatus::kDeceased ? "deceased" : "living") + "|" + opt(p.died_on);
}

// What the relation checks need of a person.
struct Row {
  int64_t id = 0;
  int born = 0;  // YYYYMMDD: 18 years later is born + 18'00'00
  bool female = false;
  std::string family;
  std::string unit;
  std::string role;
  int64_t household = 0;
  std::optional<int64_t> father, mother, spouse;
};

Row RowOf(const Person& p) {
  Row r;
  r.id = p.personal_id;
  if (IsIsoDate(p.birth_date)) {
    r.born = std::stoi(p.birth_date.substr(0, 4) + p.birth_date.substr(5, 2) + p.birth_date.substr(8, 2));
  }
  r.female = p.sex == Sex::kFemale;
  r.family = p.full_name.substr(0, p.full_name.find(' '));
  r.unit = p.permanent_unit.value_or("");
  r.role = p.household_role.value_or("");
  r.household = p.household_id.value_or(0);
  r.father = p.father_id;
  r.mother = p.mother_id;
  r.spouse = p.spouse_id;
  return r;
}

// A failed check: how many people and the first of them.
struct Defect {
  int64_t count = 0;
  std::string example;
};

struct Sample {
  Status status;
  std::vector<Row> rows;
  std::unordered_map<int64_t, size_t> by_id;  // id -> row (the last one, if duplicated)
  std::map<std::string, Defect> defects;      // by check
  std::map<std::string, int64_t, std::less<>> families;
  std::array<int64_t, 17> bands{};
  std::map<std::string, int64_t, std::less<>> per_unit;
  std::set<std::string, std::less<>> male_given, female_given;
  int64_t born_elsewhere = 0;
  int64_t adults = 0;
  int64_t temporary = 0;
  int64_t deceased = 0;
  int64_t deceased_60_plus = 0;

  void Fail(const char* check, const Row& r, std::string_view what = {}) {
    Defect& d = defects[check];
    if (d.count++ == 0) d.example = Id12(r.id) + " " + std::string(what);
  }
  void Check(bool ok, const char* check, const Row& r, std::string_view what = {}) {
    if (!ok) Fail(check, r, what);
  }
};

// Relation checks on a whole run; every problem is recorded in `s.defects`.
void CheckRelations(Sample& s) {
  auto find = [&s](std::optional<int64_t> id) -> const Row* {
    if (!id) return nullptr;
    auto it = s.by_id.find(*id);
    return it == s.by_id.end() ? nullptr : &s.rows[it->second];
  };
  const Row* head = nullptr;
  for (const Row& r : s.rows) {
    // Households are contiguous and start with their head.
    if (!head || r.household != head->id) {
      s.Check(r.role == "head" && r.household == r.id, "household starts with its head", r);
      head = &r;
    }
    const Row* h = find(r.household);
    s.Check(h != nullptr && h->role == "head", "household_id refers to an emitted head", r);
    s.Check(r.unit == head->unit, "members share the household's unit", r);
    for (auto link : {r.father, r.mother, r.spouse}) {
      if (link && !find(link)) s.Fail("links refer to emitted people", r, std::to_string(*link));
    }
    if (const Row* f = find(r.father)) {
      s.Check(!f->female, "fathers are men", r);
      s.Check(f->household == r.household, "parents live in the household", r);
      if (f->born + 18'00'00 > r.born || r.born >= f->born + 61'00'00) {
        s.Fail("father 18-60 at the birth", r, std::to_string(f->born) + " -> " + std::to_string(r.born));
      }
      if (f->family != r.family) s.Fail("children carry their father's family name", r, f->family + " / " + r.family);
    }
    if (const Row* m = find(r.mother)) {
      s.Check(m->female, "mothers are women", r);
      if (m->born + 18'00'00 > r.born || r.born >= m->born + 46'00'00) {
        s.Fail("mother 18-45 at the birth", r, std::to_string(m->born) + " -> " + std::to_string(r.born));
      }
    }
    if (const Row* sp = find(r.spouse)) {
      s.Check(sp->spouse == r.id, "spouse links are reciprocal", r);
      s.Check(sp->female != r.female, "spouses are of opposite sex", r);
      s.Check(sp->household == r.household, "spouses live together", r);
      s.Check(std::abs(sp->born - r.born) <= 15'00'00, "spouses' age gap is plausible", r);
    }
    if (r.role == "child") {
      const bool of_couple = (r.father && (*r.father == head->id || head->spouse == *r.father)) ||
                             (r.mother && (*r.mother == head->id || head->spouse == *r.mother));
      s.Check(of_couple, "a child is the head's or the spouse's", r);
    }
  }
  // A "parent" member is the parent of the head or of the spouse.
  std::set<int64_t> parents_of_couple;
  for (const Row& r : s.rows) {
    if (r.role != "head" && r.role != "spouse") continue;
    if (r.father) parents_of_couple.insert(*r.father);
    if (r.mother) parents_of_couple.insert(*r.mother);
  }
  for (const Row& r : s.rows) {
    if (r.role == "parent") s.Check(parents_of_couple.count(r.id) > 0, "a parent member is the couple's parent", r);
  }
}

Sample Generate(const GeneratorOptions& options) {
  Sample s;
  s.rows.reserve(static_cast<size_t>(std::max<int64_t>(options.people, 0)));
  s.by_id.reserve(s.rows.capacity());
  s.status = GeneratePopulation(options, [&s](const Person& p) {
    const Row r = RowOf(p);
    s.by_id[r.id] = s.rows.size();
    s.rows.push_back(r);
    if (!IsIsoDate(p.birth_date) || p.birth_date >= kToday || YearOf(p.birth_date) < 1900) {
      s.Fail("birth date before the reference date", r, p.birth_date);
      return;
    }
    // Personal number.
    const std::string id = Id12(p.personal_id);
    auto info = ValidatePersonalId(id, kYear);
    s.Check(id.size() == 12 && info.ok(), "12-digit valid personal id", r, id);
    if (info.ok()) {
      s.Check(info->birth_year == YearOf(p.birth_date), "id's birth year", r, p.birth_date);
      s.Check(info->female == (p.sex == Sex::kFemale), "id's sex digit", r);
      const bool hanoi_birth = p.birth_place.size() == 5 && std::isdigit(static_cast<unsigned char>(p.birth_place[0]));
      s.Check((info->province_code == "001") == hanoi_birth, "id's province agrees with birth_place", r, p.birth_place);
      if (info->province_code != "001") ++s.born_elsewhere;
    }
    // Text: NFC (no combining marks), three to five words for a name.
    for (std::string_view t : {std::string_view(p.full_name), std::string_view(p.birth_place),
                               p.permanent_address ? std::string_view(*p.permanent_address) : std::string_view()}) {
      s.Check(!HasCombiningMark(t) && text::IsValidUtf8(t), "valid UTF-8 without combining marks", r, t);
    }
    if (p.temporary_address) s.Check(!HasCombiningMark(*p.temporary_address), "NFC temporary address", r);
    const auto words = std::count(p.full_name.begin(), p.full_name.end(), ' ') + 1;
    s.Check(words >= 3 && words <= 5, "names have 3-5 words", r, p.full_name);
    auto& given = r.female ? s.female_given : s.male_given;
    const std::string_view given_name = std::string_view(p.full_name).substr(p.full_name.rfind(' ') + 1);
    if (given.find(given_name) == given.end()) given.emplace(given_name);
    auto family = s.families.find(r.family);
    if (family == s.families.end()) family = s.families.emplace(r.family, 0).first;
    ++family->second;
    // Dates and life status.
    const int age = AgeOn(p.birth_date, kToday);
    ++s.bands[std::clamp(age / 5, 0, 16)];
    if (p.status == LifeStatus::kDeceased) {
      ++s.deceased;
      if (age >= 60) ++s.deceased_60_plus;
      const bool ok = p.died_on && IsIsoDate(*p.died_on) && *p.died_on > p.birth_date && *p.died_on < kToday;
      s.Check(ok, "died between birth and today", r);
    } else {
      s.Check(!p.died_on, "the living have no date of death", r);
    }
    // Residence.
    s.Check(p.permanent_unit && p.permanent_address && !p.permanent_address->empty(), "permanent residence", r);
    auto unit = s.per_unit.find(r.unit);
    if (unit == s.per_unit.end()) unit = s.per_unit.emplace(r.unit, 0).first;
    ++unit->second;
    s.Check(p.temporary_unit.has_value() == p.temporary_address.has_value(), "temporary unit and address", r);
    if (age >= 18 && p.status == LifeStatus::kLiving) {
      ++s.adults;
      if (p.temporary_unit) {
        ++s.temporary;
        s.Check(*p.temporary_unit != r.unit, "temporary residence is in another unit", r);
      }
    }
  });
  CheckRelations(s);
  return s;
}

// One 200,000-person run shared by the tests below.
const Sample& TheSample() {
  static const Sample sample = Generate(Options(kPeople));
  return sample;
}

void ExpectNoDefect(const Sample& s, const std::string& check) {
  auto it = s.defects.find(check);
  if (it != s.defects.end()) {
    ADD_FAILURE() << check << ": " << it->second.count << " people, e.g. " << it->second.example;
  }
}

double Percent(int64_t part, size_t whole) {
  return 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

TEST(GeneratorTest, EmitsExactlyTheRequestedNumberOfPeople) {
  const Sample& s = TheSample();
  ASSERT_TRUE(s.status.ok()) << s.status.ToString();
  EXPECT_EQ(static_cast<int64_t>(s.rows.size()), kPeople);
}

TEST(GeneratorTest, PersonalIdsAreUniqueAndAgreeWithSexAndBirthDate) {
  const Sample& s = TheSample();
  std::vector<int64_t> ids;
  ids.reserve(s.rows.size());
  for (const Row& r : s.rows) ids.push_back(r.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "duplicate personal id";
  for (const char* check :
       {"12-digit valid personal id", "id's birth year", "id's sex digit", "id's province agrees with birth_place"}) {
    ExpectNoDefect(s, check);
  }
  // About a quarter were born (and registered) outside Hà Nội.
  const double elsewhere = Percent(s.born_elsewhere, s.rows.size());
  EXPECT_GT(elsewhere, 15);
  EXPECT_LT(elsewhere, 35);
}

TEST(GeneratorTest, NamesFollowVietnameseFrequenciesInNfc) {
  const Sample& s = TheSample();
  ExpectNoDefect(s, "valid UTF-8 without combining marks");
  ExpectNoDefect(s, "NFC temporary address");
  ExpectNoDefect(s, "names have 3-5 words");
  std::vector<std::pair<int64_t, std::string>> ranked;
  for (const auto& [name, n] : s.families) ranked.emplace_back(n, name);
  std::sort(ranked.rbegin(), ranked.rend());
  ASSERT_GE(ranked.size(), 20u);
  EXPECT_EQ(ranked[0].second, "Nguyễn");
  EXPECT_EQ(ranked[1].second, "Trần");
  EXPECT_EQ(ranked[2].second, "Lê");
  const double nguyen = Percent(ranked[0].first, s.rows.size());
  EXPECT_GT(nguyen, 33);
  EXPECT_LT(nguyen, 43);
  EXPECT_GE(s.male_given.size(), 40u);
  EXPECT_GE(s.female_given.size(), 40u);
  // Full NFC check (utf8proc) of every distinct given and family name.
  for (const auto* names : {&s.male_given, &s.female_given}) {
    for (const std::string& n : *names) EXPECT_TRUE(IsNfcText(n)) << n;
  }
  for (const auto& [name, n] : s.families) EXPECT_TRUE(IsNfcText(name)) << name;
}

TEST(GeneratorTest, AgesFollowThePopulationPyramid) {
  const Sample& s = TheSample();
  ExpectNoDefect(s, "birth date before the reference date");
  const double under15 = Percent(s.bands[0] + s.bands[1] + s.bands[2], s.rows.size());
  const double over65 = Percent(s.bands[13] + s.bands[14] + s.bands[15] + s.bands[16], s.rows.size());
  EXPECT_GT(under15, 18);
  EXPECT_LT(under15, 28);
  EXPECT_GT(over65, 7);
  EXPECT_LT(over65, 14);
  for (size_t b = 0; b < kPyramid.size(); ++b) {
    const double share = Percent(s.bands[b], s.rows.size());
    EXPECT_NEAR(share, kPyramid[b], kPyramid[b] * 0.2) << "ages " << b * 5 << "-" << b * 5 + 4;
  }
}

TEST(GeneratorTest, HouseholdsAreConsistent) {
  const Sample& s = TheSample();
  for (const char* check :
       {"household starts with its head", "household_id refers to an emitted head",
        "members share the household's unit", "links refer to emitted people", "a child is the head's or the spouse's",
        "a parent member is the couple's parent", "permanent residence"}) {
    ExpectNoDefect(s, check);
  }
  std::map<int64_t, int> sizes;
  for (const Row& r : s.rows) ++sizes[r.household];
  const double mean = static_cast<double>(s.rows.size()) / static_cast<double>(sizes.size());
  EXPECT_GT(mean, 2.8);
  EXPECT_LT(mean, 4.2);
  const auto alone = std::count_if(sizes.begin(), sizes.end(), [](const auto& kv) { return kv.second == 1; });
  EXPECT_GT(Percent(alone, sizes.size()), 4);
  EXPECT_LT(Percent(alone, sizes.size()), 20);
  const auto parents = std::count_if(s.rows.begin(), s.rows.end(), [](const Row& r) { return r.role == "parent"; });
  const auto spouses = std::count_if(s.rows.begin(), s.rows.end(), [](const Row& r) { return r.role == "spouse"; });
  EXPECT_GT(Percent(parents, s.rows.size()), 2);
  EXPECT_GT(Percent(spouses, sizes.size()), 50) << "most households have a couple";
}

TEST(GeneratorTest, FamilyLinksAreConsistent) {
  const Sample& s = TheSample();
  for (const char* check :
       {"fathers are men", "mothers are women", "parents live in the household", "father 18-60 at the birth",
        "mother 18-45 at the birth", "children carry their father's family name", "spouse links are reciprocal",
        "spouses are of opposite sex", "spouses live together", "spouses' age gap is plausible"}) {
    ExpectNoDefect(s, check);
  }
  const auto with_father = std::count_if(s.rows.begin(), s.rows.end(), [](const Row& r) { return r.father; });
  EXPECT_GT(Percent(with_father, s.rows.size()), 25);
}

TEST(GeneratorTest, FewAndMostlyElderlyDeceased) {
  const Sample& s = TheSample();
  ExpectNoDefect(s, "died between birth and today");
  ExpectNoDefect(s, "the living have no date of death");
  const double share = Percent(s.deceased, s.rows.size());
  EXPECT_GT(share, 0.2);
  EXPECT_LT(share, 1.0);
  EXPECT_GT(Percent(s.deceased_60_plus, static_cast<size_t>(s.deceased)), 70);
}

TEST(GeneratorTest, ResidenceFollowsUnitWeights) {
  const Sample& s = TheSample();
  ExpectNoDefect(s, "temporary unit and address");
  ExpectNoDefect(s, "temporary residence is in another unit");
  const std::vector<UnitWeight> units = Units();
  double total = 0;
  for (const UnitWeight& u : units) total += u.weight;
  auto count = [&s](const std::string& code) {
    auto it = s.per_unit.find(code);
    return it == s.per_unit.end() ? int64_t{0} : it->second;
  };
  EXPECT_GT(count(units[0].code), 10 * count(units[1].code)) << "the heaviest unit against the lightest";
  for (const UnitWeight& u : units) {
    const double expected = static_cast<double>(kPeople) * u.weight / total;
    if (expected >= 1000) {
      EXPECT_NEAR(count(u.code), expected, expected * 0.25) << u.code;
    }
  }
  EXPECT_LE(s.per_unit.size(), units.size()) << "only the given units";
  const double temporary = Percent(s.temporary, static_cast<size_t>(s.adults));
  EXPECT_GT(temporary, 5);
  EXPECT_LT(temporary, 11);
}

std::vector<std::string> FirstPeople(uint64_t seed, int64_t n) {
  std::vector<std::string> out;
  Status st = GeneratePopulation(Options(n, seed), [&out](const Person& p) { out.push_back(Describe(p)); });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

TEST(GeneratorTest, IsDeterministic) {
  const std::vector<std::string> a = FirstPeople(42, 1000);
  const std::vector<std::string> b = FirstPeople(42, 1000);
  const std::vector<std::string> c = FirstPeople(43, 1000);
  ASSERT_EQ(a.size(), 1000u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // A longer run starts with the same people.
  const std::vector<std::string> longer = FirstPeople(42, 3000);
  EXPECT_TRUE(std::equal(a.begin(), a.end() - 20, longer.begin()));  // the last household may be cut
}

TEST(GeneratorTest, CutsTheLastHouseholdWithoutDanglingLinks) {
  for (int64_t n = 0; n <= 120; ++n) {
    Sample s = Generate(Options(n, static_cast<uint64_t>(n) + 1000));
    ASSERT_TRUE(s.status.ok()) << s.status.ToString();
    EXPECT_EQ(static_cast<int64_t>(s.rows.size()), n);
    for (const auto& [check, defect] : s.defects) {
      ADD_FAILURE() << n << " people: " << check << ": " << defect.count << ", e.g. " << defect.example;
    }
  }
}

TEST(GeneratorTest, RejectsBadOptions) {
  auto emit = [](const Person&) {};
  GeneratorOptions o = Options(-1);
  Status st = GeneratePopulation(o, emit);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.field(), "people");

  o = Options(10);
  o.units.clear();
  st = GeneratePopulation(o, emit);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.field(), "units");

  o = Options(10);
  o.units[3].weight = -1;
  EXPECT_EQ(GeneratePopulation(o, emit).field(), "units.weight");

  o = Options(10);
  o.reference_date = "2026-02-30";
  EXPECT_EQ(GeneratePopulation(o, emit).field(), "reference_date");

  o = Options(10);
  o.reference_year = 2025;
  EXPECT_EQ(GeneratePopulation(o, emit).field(), "reference_year");

  EXPECT_EQ(GeneratePopulation(Options(10), {}).field(), "emit");
  int calls = 0;
  EXPECT_TRUE(GeneratePopulation(Options(0), [&calls](const Person&) { ++calls; }).ok());
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace tl::population
