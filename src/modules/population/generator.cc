#include "modules/population/generator.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>

#include "core/civil_date.h"

namespace tl::population {
namespace {

// ---------------------------------------------------------------------------------------------------
// Random numbers: xoshiro256** (Blackman & Vigna), seeded through the splitmix64 finaliser.

constexpr uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      word = Mix64(seed);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) by multiply-shift (Lemire); the bias, below n / 2^32, does not matter here.
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(((Next() >> 32) * n) >> 32); }
  // Uniform in [lo, hi].
  int Between(int lo, int hi) { return lo + static_cast<int>(Below(static_cast<uint32_t>(hi - lo + 1))); }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Uniform() < p; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_{};
};

// Weighted choice among n items by binary search in the cumulative weights.
class Picker {
 public:
  void Add(double weight) {
    total_ += std::max(weight, 0.0);
    cumulative_.push_back(total_);
  }
  size_t size() const { return cumulative_.size(); }
  size_t Pick(Rng& rng) const {
    const double u = rng.Uniform() * total_;
    const size_t i = std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin();
    return std::min(i, cumulative_.size() - 1);
  }

 private:
  std::vector<double> cumulative_;
  double total_ = 0;
};

// ---------------------------------------------------------------------------------------------------
// Tables. Weights are relative. Name weights are given for two cohorts, people born around 1955
// (`older`) and around 2005 (`younger`), and interpolated linearly by birth decade in between.

struct Name {
  std::string_view text;
  double weight;
};

struct CohortName {
  std::string_view text;
  double older;
  double younger;
};

// Family names (họ) by their share of the population, in percent.
constexpr Name kFamilyNames[] = {
    {"Nguyễn", 38.0}, {"Trần", 11.0},   {"Lê", 9.5},   {"Phạm", 7.0},  {"Hoàng", 5.0}, {"Phan", 4.5},
    {"Vũ", 3.9},      {"Đặng", 2.1},    {"Bùi", 2.0},  {"Đỗ", 1.4},    {"Hồ", 1.3},    {"Ngô", 1.3},
    {"Dương", 1.0},   {"Lý", 0.5},      {"Đinh", 0.9}, {"Đào", 0.8},   {"Trịnh", 0.7}, {"Trương", 0.6},
    {"Mai", 0.5},     {"Lương", 0.5},   {"Hà", 0.5},   {"Võ", 0.4},    {"Cao", 0.4},   {"Tạ", 0.4},
    {"Lưu", 0.3},     {"Kiều", 0.3},    {"Chu", 0.3},  {"Tô", 0.3},    {"Phùng", 0.3}, {"Huỳnh", 0.2},
    {"Quách", 0.2},   {"Văn", 0.2},     {"Lại", 0.2},  {"Triệu", 0.2}, {"Lâm", 0.2},   {"Vương", 0.2},
    {"Khuất", 0.15},  {"Nghiêm", 0.15}, {"Đàm", 0.15}, {"Doãn", 0.1},  {"Thái", 0.1},  {"Kim", 0.1},
    {"Âu", 0.1},      {"Mạc", 0.1},     {"Tăng", 0.1}, {"Lã", 0.1},    {"Ninh", 0.1},  {"Giáp", 0.1},
    {"Nông", 0.1},    {"Đồng", 0.1},    {"Hứa", 0.1},  {"La", 0.1},    {"Thân", 0.1},  {"Phí", 0.1},
    {"Khúc", 0.05},   {"Khổng", 0.05},
};

// Middle names (tên đệm). The first entry of the female list must stay "Thị".
constexpr CohortName kMaleMiddleNames[] = {
    {"Văn", 60, 12}, {"Đức", 6, 12},    {"Minh", 4, 14},  {"Quang", 4, 8},  {"Hữu", 6, 2},     {"Công", 4, 3},
    {"Thành", 3, 4}, {"Xuân", 3, 2},    {"Mạnh", 2, 3},   {"Tuấn", 2, 4},   {"Đình", 5, 2},    {"Trọng", 2, 3},
    {"Ngọc", 2, 2},  {"Thế", 2, 2},     {"Anh", 0.5, 5},  {"Gia", 0.2, 8},  {"Bảo", 0.2, 6},   {"Hoàng", 1, 4},
    {"Duy", 1, 4},   {"Đăng", 0.3, 3},  {"Nhật", 0.2, 3}, {"Tiến", 1, 2},   {"Việt", 1, 3},    {"Trung", 1, 2},
    {"Hải", 1, 2},   {"Khánh", 0.3, 3}, {"Phúc", 0.2, 2}, {"Hồng", 1, 0.3}, {"Kim", 0.5, 0.1},
};
constexpr CohortName kFemaleMiddleNames[] = {
    {"Thị", 75, 12},  {"Ngọc", 3, 10},  {"Thu", 3, 6},     {"Thanh", 3, 6},  {"Phương", 1, 6},  {"Minh", 0.5, 8},
    {"Hồng", 3, 3},   {"Thùy", 1, 5},   {"Kim", 2, 2},     {"Mai", 1, 4},    {"Bảo", 0.2, 6},   {"Khánh", 0.2, 5},
    {"Hoài", 1, 2},   {"Diệu", 0.3, 3}, {"Tuyết", 1, 0.5}, {"Bích", 2, 1},   {"Quỳnh", 0.5, 3}, {"Gia", 0.1, 4},
    {"Hà", 0.3, 3},   {"Lan", 0.5, 3},  {"Hải", 0.5, 3},   {"Thảo", 0.2, 3}, {"Như", 0.2, 3},   {"Cẩm", 0.5, 1},
    {"Tú", 0.5, 1.5}, {"Vân", 0.5, 1},
};

// Given names (tên).
constexpr CohortName kMaleGivenNames[] = {
    {"An", 2, 3},       {"Bình", 4, 1.5}, {"Cường", 4, 2},   {"Dũng", 5, 2},    {"Đạt", 2, 4},      {"Hải", 4, 3},
    {"Hiếu", 2, 4},     {"Hùng", 6, 2},   {"Huy", 1.5, 5},   {"Khánh", 1, 3},   {"Long", 3, 4},     {"Minh", 3, 6},
    {"Nam", 3, 5},      {"Phong", 2, 3},  {"Quân", 1, 5},    {"Sơn", 5, 2},     {"Thắng", 5, 2},    {"Trung", 4, 3},
    {"Tuấn", 4, 4},     {"Việt", 2, 3},   {"Anh", 1.5, 6},   {"Bảo", 0.3, 4},   {"Chiến", 3, 0.5},  {"Công", 2, 1},
    {"Duy", 1, 4},      {"Đức", 3, 4},    {"Giang", 1, 1},   {"Hào", 0.5, 1.5}, {"Hậu", 1.5, 1},    {"Hiển", 1, 1},
    {"Hoàng", 1.5, 4},  {"Khoa", 0.5, 4}, {"Khôi", 0.2, 5},  {"Kiên", 2, 2},    {"Lâm", 1, 3},      {"Lộc", 1, 2},
    {"Luân", 0.5, 1},   {"Mạnh", 2, 2},   {"Nghĩa", 3, 2},   {"Nhân", 1, 2},    {"Phúc", 1, 4},     {"Quang", 3, 3},
    {"Quý", 2, 1},      {"Tài", 1.5, 2},  {"Thành", 4, 3},   {"Thịnh", 1.5, 2}, {"Tiến", 3, 2},     {"Toàn", 2, 2},
    {"Tú", 1, 2},       {"Tùng", 3, 3},   {"Vinh", 3, 2},    {"Vũ", 1, 2},      {"Hưng", 3, 3},     {"Thanh", 3, 1},
    {"Thái", 1.5, 1.5}, {"Hòa", 3, 0.5},  {"Lợi", 2, 0.3},   {"Định", 2, 0.3},  {"Chính", 2, 0.2},  {"Tâm", 2, 1},
    {"Kiệt", 0.1, 3},   {"Đăng", 0.3, 3}, {"Phát", 0.2, 3},  {"Khang", 0.2, 4}, {"Nguyên", 0.5, 3}, {"Thiện", 1, 2},
    {"Đông", 2, 0.5},   {"Hiệp", 2, 1},   {"Quyết", 2, 0.5}, {"Phú", 2, 1},
};
constexpr CohortName kFemaleGivenNames[] = {
    {"Anh", 2, 8},     {"Chi", 1, 5},   {"Dung", 4, 1},    {"Giang", 2, 3},  {"Hà", 4, 4},    {"Hạnh", 4, 2},
    {"Hoa", 5, 1.5},   {"Hương", 6, 3}, {"Lan", 6, 2},     {"Linh", 2, 8},   {"Loan", 4, 1},  {"Mai", 4, 3},
    {"My", 0.5, 5},    {"Nga", 5, 1},   {"Ngân", 1.5, 4},  {"Nhung", 4, 2},  {"Oanh", 3, 1},  {"Phương", 3, 3},
    {"Quỳnh", 1.5, 4}, {"Thảo", 2, 5},  {"Trang", 3, 5},   {"Vân", 4, 2},    {"Yến", 4, 3},   {"Hằng", 4, 2},
    {"Huyền", 3, 3},   {"Hiền", 4, 2},  {"Hồng", 4, 0.5},  {"Liên", 4, 0.5}, {"Lý", 2, 0.3},  {"Ly", 1, 3},
    {"Ngọc", 2, 4},    {"Nhi", 0.3, 5}, {"Nhàn", 3, 0.3},  {"Tâm", 2, 2},    {"Thúy", 4, 1},  {"Thủy", 5, 1},
    {"Thu", 3, 2},     {"Thư", 0.5, 4}, {"Tuyết", 3, 0.3}, {"Uyên", 0.5, 3}, {"Vy", 0.2, 5},  {"Xuân", 3, 0.5},
    {"Diệp", 0.5, 1},  {"Hân", 0.1, 4}, {"An", 0.5, 3},    {"Châu", 1, 2},   {"Lụa", 2, 0.1}, {"Huệ", 3, 0.5},
    {"Thơm", 2, 0.1},  {"Cúc", 2, 0.1}, {"Đào", 2, 0.3},   {"Duyên", 2, 2},  {"Hậu", 1, 1},
};

// Provinces of birth registration for people born outside Hà Nội (001), with the code and name of the
// province they belong to since the merger of 2025-07-01 (births registered from then on carry it).
struct Province {
  int code;
  std::string_view name;
  int code_since_2025;
  std::string_view name_since_2025;
  double weight;
};

constexpr Province kProvinces[] = {
    {38, "Thanh Hóa", 38, "Thanh Hóa", 12},
    {40, "Nghệ An", 40, "Nghệ An", 9},
    {36, "Nam Định", 37, "Ninh Bình", 9},
    {34, "Thái Bình", 33, "Hưng Yên", 8},
    {30, "Hải Dương", 31, "Thành phố Hải Phòng", 6},
    {33, "Hưng Yên", 33, "Hưng Yên", 5},
    {25, "Phú Thọ", 25, "Phú Thọ", 5},
    {35, "Hà Nam", 37, "Ninh Bình", 4},
    {37, "Ninh Bình", 37, "Ninh Bình", 4},
    {27, "Bắc Ninh", 24, "Bắc Ninh", 4},
    {24, "Bắc Giang", 24, "Bắc Ninh", 4},
    {31, "Thành phố Hải Phòng", 31, "Thành phố Hải Phòng", 4},
    {26, "Vĩnh Phúc", 25, "Phú Thọ", 4},
    {42, "Hà Tĩnh", 42, "Hà Tĩnh", 4},
    {19, "Thái Nguyên", 19, "Thái Nguyên", 3},
    {22, "Quảng Ninh", 22, "Quảng Ninh", 2},
    {17, "Hòa Bình", 25, "Phú Thọ", 2},
    {79, "Thành phố Hồ Chí Minh", 79, "Thành phố Hồ Chí Minh", 2},
    {48, "Thành phố Đà Nẵng", 48, "Thành phố Đà Nẵng", 1},
    {20, "Lạng Sơn", 20, "Lạng Sơn", 1},
    {8, "Tuyên Quang", 8, "Tuyên Quang", 1},
    {15, "Yên Bái", 15, "Lào Cai", 1},
    {44, "Quảng Bình", 44, "Quảng Trị", 1},
    {14, "Sơn La", 14, "Sơn La", 1},
};
constexpr int kHanoiCode = 1;

// Streets (urban wards) and village names (communes).
constexpr std::string_view kStreets[] = {
    "phố Hàng Bạc",
    "phố Hàng Gai",
    "phố Hàng Buồm",
    "phố Quán Thánh",
    "phố Phan Đình Phùng",
    "phố Đội Cấn",
    "phố Kim Mã",
    "phố Văn Cao",
    "phố Đốc Ngữ",
    "phố Thụy Khuê",
    "phố Láng Hạ",
    "phố Thái Hà",
    "phố Tây Sơn",
    "phố Chùa Bộc",
    "phố Khâm Thiên",
    "phố Nguyễn Lương Bằng",
    "phố Nguyễn Chí Thanh",
    "phố Lý Thường Kiệt",
    "phố Bà Triệu",
    "phố Huế",
    "phố Lê Thanh Nghị",
    "phố Đại La",
    "phố Minh Khai",
    "phố Bạch Mai",
    "phố Lò Đúc",
    "phố Kim Ngưu",
    "phố Vọng",
    "phố Trương Định",
    "phố Định Công",
    "phố Kim Giang",
    "phố Hoàng Quốc Việt",
    "phố Trần Cung",
    "phố Cổ Nhuế",
    "phố Âu Cơ",
    "phố Nghi Tàm",
    "phố Ngọc Lâm",
    "phố Đức Giang",
    "phố Sài Đồng",
    "phố Tôn Đức Thắng",
    "phố Tố Hữu",
    "đường Giải Phóng",
    "đường Trường Chinh",
    "đường Nguyễn Trãi",
    "đường Lạc Long Quân",
    "đường Hoàng Hoa Thám",
    "đường Xuân Thủy",
    "đường Cầu Giấy",
    "đường Trần Duy Hưng",
    "đường Láng",
    "đường Tam Trinh",
    "đường Lĩnh Nam",
    "đường Nguyễn Xiển",
    "đường Quang Trung",
    "đường Nguyễn Văn Cừ",
    "đường Ngọc Thụy",
    "đường Nguyễn Văn Linh",
    "đường Cổ Linh",
    "đường Phạm Văn Đồng",
    "đường Hồ Tùng Mậu",
    "đường Mỹ Đình",
};
constexpr std::string_view kVillages[] = {
    "Đông",    "Đoài",      "Thượng",   "Hạ",         "Trung",    "Nam",       "Bắc",        "Cao",
    "Phú Mỹ",  "An Lạc",    "Văn Minh", "Đại Đồng",   "Tân Lập",  "Phúc Thọ",  "Hòa Bình",   "Kim Bài",
    "Yên Nội", "Thanh Lâm", "Đồng Tâm", "Hưng Thịnh", "Lương Xá", "Vĩnh Ninh", "Quang Minh", "Tiên Lữ",
};

// Vietnam's population by 5-year age band in 2024 (0-4, 5-9, ..., 75-79, 80+), in percent, for
// reference; the household model below is fitted so that the people it emits follow it.
//   7.0 8.0 7.7 6.9 6.6 7.4 8.2 8.0 7.4 6.7 6.0 5.3 4.6 3.7 2.6 1.6 2.3
constexpr int kBands = 17;

// The head's age band (same bands). Fitted by simulation against the pyramid above, together with
// the household shapes in HouseholdKind() and the fertility in ChildrenEverBorn().
constexpr std::array<double, kBands> kHeadAgeBandWeights = {0,    0,    0,   0.5, 2.4, 5.6, 13.2, 14.3, 13.4,
                                                            12.1, 10.5, 8.8, 7.0, 5.2, 3.1, 1.4,  2.4};

constexpr double kDaysPerYear = 365.2425;
constexpr int kMaxMembers = 16;
constexpr uint32_t kSerials = 1'000'000;  // the last 6 digits
constexpr int kFirstYear = 1900;
constexpr int kYears = 200;  // 1900..2099: century/sex digits 0..3
constexpr int kNameEras = kYears / 10;

int32_t Years(double years) {
  return static_cast<int32_t>(years * kDaysPerYear);
}

enum class Role : uint8_t { kHead, kSpouse, kChild, kParent, kOther };

const char* RoleName(Role r) {
  switch (r) {
    case Role::kHead:
      return "head";
    case Role::kSpouse:
      return "spouse";
    case Role::kChild:
      return "child";
    case Role::kParent:
      return "parent";
    case Role::kOther:
      return "other";
  }
  return "other";
}

enum class Kind : uint8_t { kAlone, kSingleParent, kCouple };

struct Member {
  int64_t id = 0;
  int32_t birth = 0;  // days since 1970-01-01
  int32_t died = 0;   // days, when deceased
  int32_t birth_unit = 0;
  int32_t temporary_unit = -1;
  int16_t province = -1;  // index in kProvinces; -1 for Hà Nội
  int16_t family = 0;
  int16_t middle = 0;
  int16_t middle2 = -1;
  int16_t given = 0;
  int16_t father = -1;  // indices in the household
  int16_t mother = -1;
  int16_t spouse = -1;
  Role role = Role::kHead;
  bool female = false;
  bool deceased = false;
};

void AppendInt(std::string& out, int64_t value) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

template <typename T>
void SetText(std::optional<std::string>& field, const T& text) {
  if (field) {
    field->assign(text);
  } else {
    field.emplace(text);
  }
}

// ---------------------------------------------------------------------------------------------------

class Generator {
 public:
  Generator(const GeneratorOptions& options, int32_t reference_day)
      : options_(options), rng_(options.seed), id_salt_(Mix64(options.seed ^ 0x5eed1d5a17ULL)), ref_(reference_day) {
    reform_day_ = static_cast<int32_t>(DaysSinceEpoch(CivilDate{2025, 7, 1}));
    first_day_ = static_cast<int32_t>(DaysSinceEpoch(CivilDate{kFirstYear, 1, 1}));
    for (const auto& n : kFamilyNames) family_.Add(n.weight);
    for (const auto& p : kProvinces) provinces_.Add(p.weight);
    for (double w : kHeadAgeBandWeights) head_band_.Add(w);
    for (const auto& u : options.units) {
      units_.Add(u.weight);
      rural_.push_back(u.name.rfind("Xã", 0) == 0);
    }
    for (int era = 0; era < kNameEras; ++era) {
      // 0 for births up to 1955, 1 from 2005.
      const double t = std::clamp((kFirstYear + era * 10 + 5 - 1955) / 50.0, 0.0, 1.0);
      auto fill = [t](Picker& picker, const auto& table) {
        for (const CohortName& n : table) picker.Add(n.older * (1 - t) + n.younger * t);
      };
      fill(male_middle_[era], kMaleMiddleNames);
      fill(female_middle_[era], kFemaleMiddleNames);
      fill(male_given_[era], kMaleGivenNames);
      fill(female_given_[era], kFemaleGivenNames);
    }
    serials_.assign(static_cast<size_t>(100) * kYears * 2, 0);
    slots_.resize(kMaxMembers);
  }

  Status Run(const std::function<void(const Person&)>& emit) {
    int64_t emitted = 0;
    while (emitted < options_.people) {
      BuildHousehold();
      if (!status_.ok()) return status_;
      const int k = static_cast<int>(std::min<int64_t>(count_, options_.people - emitted));
      EmitHousehold(k, emit);
      emitted += k;
    }
    return Status::Ok();
  }

 private:
  double AgeOf(int32_t birth) const { return (ref_ - birth) / kDaysPerYear; }

  // A birth day for someone whose age falls in the band, at least `min_years` old.
  int32_t BirthInBand(int band, double min_years) {
    double lo = band * 5.0;
    double hi = lo + 5;
    if (band == kBands - 1) {  // 80+: 80-84 half, 85-89 30%, 90-94 15%, 95-98 5%
      const double u = rng_.Uniform();
      lo = u < 0.5 ? 80 : u < 0.8 ? 85 : u < 0.95 ? 90 : 95;
      hi = std::min(lo + 5, 99.0);
    }
    lo = std::max(lo, min_years);
    if (hi <= lo) hi = lo + 1;
    return ref_ - Years(lo) - static_cast<int32_t>(rng_.Uniform() * (Years(hi) - Years(lo))) - 1;
  }

  // ----- Households ------------------------------------------------------------------------------

  static Kind HouseholdKind(double head_age, double u) {
    double alone = 0.04;
    double single_parent = 0.07;
    if (head_age < 25) {
      alone = 0.5;
      single_parent = 0.02;
    } else if (head_age < 35) {
      alone = 0.12;
      single_parent = 0.05;
    } else if (head_age >= 75) {
      alone = 0.25;
      single_parent = 0.04;
    } else if (head_age >= 60) {
      alone = 0.10;
      single_parent = 0.06;
    }
    return u < alone ? Kind::kAlone : u < alone + single_parent ? Kind::kSingleParent : Kind::kCouple;
  }

  static double ParentsProbability(double head_age) {
    if (head_age < 25) return 0.02;
    if (head_age < 35) return 0.20;
    if (head_age < 45) return 0.22;
    if (head_age < 55) return 0.17;
    if (head_age < 65) return 0.06;
    return 0;
  }

  // Share of children of that age still living with their parents.
  static double AtHomeProbability(double age) {
    if (age < 18) return 1;
    if (age < 23) return 0.9;
    if (age < 27) return 0.7;
    if (age < 31) return 0.4;
    if (age < 36) return 0.15;
    return 0.03;
  }

  // Children ever born to a woman of that birth year.
  int ChildrenEverBorn(int mother_year) {
    static constexpr double kOld[] = {2, 3, 8, 17, 20, 18, 14, 10, 8};  // born before 1955: 0..8
    static constexpr double kMid[] = {3, 6, 22, 30, 20, 12, 7};         // 1955-1969
    static constexpr double kNew[] = {5, 14, 50, 23, 8};                // from 1970
    auto pick = [this](const auto& table) {
      double total = 0;
      for (double w : table) total += w;
      double u = rng_.Uniform() * total;
      int n = 0;
      for (double w : table) {
        if (u < w) return n;
        u -= w;
        ++n;
      }
      return n - 1;
    };
    if (mother_year < 1955) return pick(kOld);
    if (mother_year < 1970) return pick(kMid);
    return pick(kNew);
  }

  // Age of death rates for the people who may be recorded as deceased (spouses and parents).
  static double DeceasedProbability(double age) {
    if (age < 50) return 0.0005;
    if (age < 60) return 0.004;
    if (age < 70) return 0.017;
    if (age < 80) return 0.05;
    if (age < 90) return 0.13;
    return 0.24;
  }

  void BuildHousehold() {
    count_ = 0;
    unit_ = static_cast<int32_t>(units_.Pick(rng_));
    BuildAddress(unit_, /*temporary=*/false, address_);

    const int band = static_cast<int>(head_band_.Pick(rng_));
    const int32_t head_birth = BirthInBand(band, 18);
    const double head_age = AgeOf(head_birth);
    const Kind kind = HouseholdKind(head_age, rng_.Uniform());
    bool head_female;
    switch (kind) {
      case Kind::kCouple:
        head_female = rng_.Chance(0.18);
        break;
      case Kind::kSingleParent:
        head_female = rng_.Chance(0.8);
        break;
      default:
        head_female = rng_.Chance(head_age >= 60 ? 0.65 : 0.45);
        break;
    }
    const int head = AddMember(Role::kHead, head_female, head_birth, -1, -1);

    int wife = head_female ? head : -1;
    int husband = head_female ? -1 : head;
    if (kind == Kind::kCouple) {
      // The husband is usually 0-6 years older; a wife is at least 18, a husband at least 20.
      const int32_t gap = Years(rng_.Between(-2, 3) + rng_.Between(0, 4)) + rng_.Between(-180, 180);
      int32_t spouse_birth = head_female ? head_birth - gap : head_birth + gap;
      const double min_age = head_female ? 20 : 18;
      spouse_birth = std::min(spouse_birth, ref_ - Years(min_age) - rng_.Between(1, 700));
      spouse_birth = std::max(spouse_birth, ref_ - Years(98.5));
      const int spouse = AddMember(Role::kSpouse, !head_female, spouse_birth, -1, -1);
      members_[head].spouse = static_cast<int16_t>(spouse);
      members_[spouse].spouse = static_cast<int16_t>(head);
      (head_female ? husband : wife) = spouse;
    }

    if (kind != Kind::kAlone || head_age < 30) {
      if (rng_.Chance(ParentsProbability(head_age))) {
        const int spouse = members_[head].spouse;
        AddParents(spouse >= 0 && rng_.Chance(0.2) ? spouse : head);
      }
    }
    if (kind != Kind::kAlone) AddChildren(wife, husband);
    if (kind != Kind::kAlone && head_age >= 30 && rng_.Chance(0.03)) AddOther(head);

    for (int i = 1; i < count_; ++i) {
      Member& m = members_[i];
      if (m.role != Role::kSpouse && m.role != Role::kParent) continue;
      if (rng_.Chance(DeceasedProbability(AgeOf(m.birth)))) MarkDeceased(i);
    }
    for (int i = 0; i < count_; ++i) {
      Member& m = members_[i];
      if (m.deceased || AgeOf(m.birth) < 18 || units_.size() < 2 || !rng_.Chance(0.08)) continue;
      for (int attempt = 0; attempt < 8 && m.temporary_unit < 0; ++attempt) {
        const auto u = static_cast<int32_t>(units_.Pick(rng_));
        if (u != unit_) m.temporary_unit = u;
      }
    }
  }

  // The parents of member `child`: both, or only the mother or only the father (widowed).
  void AddParents(int child) {
    const int32_t child_birth = members_[child].birth;
    const int32_t mother_birth = child_birth - Years(19 + rng_.Uniform() * 19);
    const int32_t gap = Years(rng_.Between(-2, 3) + rng_.Between(0, 4)) + rng_.Between(-180, 180);
    int32_t father_birth = mother_birth - gap;
    father_birth = std::clamp(father_birth, child_birth - Years(58), child_birth - Years(18.2));
    const double u = rng_.Uniform();
    const bool with_father = u < 0.5 || u >= 0.85;
    const bool with_mother = u < 0.85;
    const int inherit = members_[child].province;
    int father = -1;
    int mother = -1;
    if (with_father && AgeOf(father_birth) < 98.5) {
      father = AddMember(Role::kParent, false, father_birth, members_[child].family, inherit);
    }
    if (with_mother && AgeOf(mother_birth) < 98.5) {
      mother = AddMember(Role::kParent, true, mother_birth, -1, inherit);
    }
    if (father >= 0 && mother >= 0) {
      members_[father].spouse = static_cast<int16_t>(mother);
      members_[mother].spouse = static_cast<int16_t>(father);
    }
    members_[child].father = static_cast<int16_t>(father);
    members_[child].mother = static_cast<int16_t>(mother);
  }

  // Children of the couple (or single parent) still at home. A missing parent is only a birth date.
  void AddChildren(int mother, int father) {
    const int32_t mother_birth =
        mother >= 0 ? members_[mother].birth : members_[father].birth + Years(rng_.Between(0, 5));
    const int32_t father_birth = father >= 0 ? members_[father].birth : mother_birth - Years(rng_.Between(0, 6));
    const int mother_year = CivilDateFromDays(mother_birth).year;
    const int16_t family = father >= 0 ? members_[father].family : PickFamily();
    const int n = ChildrenEverBorn(mother_year);
    const int first_lo = mother_year < 1960 ? 19 : mother_year < 1980 ? 21 : 23;
    int32_t birth = mother_birth + Years(first_lo + rng_.Uniform() * 7);
    for (int k = 0; k < n && count_ < kMaxMembers - 1; ++k) {
      if (k > 0) birth += rng_.Between(500, 2000);
      if (birth - mother_birth > Years(44.9) || birth - father_birth > Years(59.9) || birth >= ref_) break;
      if (birth - mother_birth < Years(18.1) || birth - father_birth < Years(18.1)) continue;
      if (!rng_.Chance(AtHomeProbability(AgeOf(birth)))) continue;
      const int c = AddMember(Role::kChild, !rng_.Chance(0.52), birth, family, -1);
      members_[c].father = static_cast<int16_t>(father);
      members_[c].mother = static_cast<int16_t>(mother);
    }
  }

  // A relative (a nephew or niece studying or working in the city, a sibling).
  void AddOther(int head) {
    const int32_t birth = ref_ - Years(16 + rng_.Uniform() * 14);
    const int16_t family = rng_.Chance(0.4) ? members_[head].family : static_cast<int16_t>(-1);
    AddMember(Role::kOther, rng_.Chance(0.5), birth, family, -1);
  }

  void MarkDeceased(int i) {
    Member& m = members_[i];
    int32_t lo = std::max(m.birth + 1, ref_ - Years(10));
    for (int j = 0; j < count_; ++j) {
      if (members_[j].father == i || members_[j].mother == i) lo = std::max(lo, members_[j].birth);
    }
    const int32_t hi = ref_ - 1;
    if (lo > hi) return;
    m.deceased = true;
    m.died = lo + static_cast<int32_t>(rng_.Below(static_cast<uint32_t>(hi - lo + 1)));
  }

  // ----- People ----------------------------------------------------------------------------------

  int16_t PickFamily() { return static_cast<int16_t>(family_.Pick(rng_)); }

  // Adds a member; family < 0 draws a family name, inherit >= 0 is a province of birth to favour.
  int AddMember(Role role, bool female, int32_t birth, int family, int inherit) {
    const int i = count_++;
    Member& m = members_[i];
    m = Member{};
    m.role = role;
    m.female = female;
    m.birth = std::max(birth, first_day_);
    m.family = static_cast<int16_t>(family >= 0 ? family : PickFamily());
    const int year = CivilDateFromDays(m.birth).year;
    PickNames(m, year);

    const double age = AgeOf(m.birth);
    if (inherit >= 0 && rng_.Chance(0.7)) {
      m.province = static_cast<int16_t>(inherit);
    } else {
      double elsewhere = age < 18 ? 0.07 : 0.30;
      if (role == Role::kOther || (role == Role::kHead && age < 30)) elsewhere = 0.5;
      if (rng_.Chance(elsewhere)) m.province = static_cast<int16_t>(provinces_.Pick(rng_));
    }
    if (m.province < 0) {
      const bool local = rng_.Chance(age < 18 ? 0.9 : 0.55);
      m.birth_unit = local ? unit_ : static_cast<int32_t>(units_.Pick(rng_));
    }

    int code = kHanoiCode;
    if (m.province >= 0) {
      const Province& p = kProvinces[m.province];
      code = m.birth >= reform_day_ ? p.code_since_2025 : p.code;
    }
    const int century_sex = (year >= 2000 ? 2 : 0) + (female ? 1 : 0);
    const size_t key = (static_cast<size_t>(code) * kYears + (year - kFirstYear)) * 2 + (female ? 1 : 0);
    const uint32_t serial = serials_[key]++;
    if (serial >= kSerials) {
      status_ = ResourceExhausted("more than 10^6 people of one sex born in one year in one province");
    }
    m.id = ((static_cast<int64_t>(code) * 10 + century_sex) * 100 + year % 100) * kSerials + Scramble(serial, key);
    return i;
  }

  void PickNames(Member& m, int year) {
    const int era = std::clamp((year - kFirstYear) / 10, 0, kNameEras - 1);
    const Picker& middles = m.female ? female_middle_[era] : male_middle_[era];
    const Picker& givens = m.female ? female_given_[era] : male_given_[era];
    const auto* middle_table = m.female ? kFemaleMiddleNames : kMaleMiddleNames;
    const auto* given_table = m.female ? kFemaleGivenNames : kMaleGivenNames;
    m.middle = static_cast<int16_t>(middles.Pick(rng_));
    // "Thị" is often followed by a second middle name: Nguyễn Thị Thu Hà.
    if (m.female && m.middle == 0 && rng_.Chance(0.12)) {
      for (int attempt = 0; attempt < 4 && m.middle2 <= 0; ++attempt) {
        m.middle2 = static_cast<int16_t>(middles.Pick(rng_));
      }
      if (m.middle2 == 0) m.middle2 = -1;
    }
    const std::string_view last_middle = middle_table[m.middle2 >= 0 ? m.middle2 : m.middle].text;
    for (int attempt = 0; attempt < 8; ++attempt) {
      m.given = static_cast<int16_t>(givens.Pick(rng_));
      if (given_table[m.given].text != last_middle) break;
    }
  }

  // A bijection of [0, 10^6), keyed by the (province, year, sex) counter and the seed: an affine map
  // followed by three Feistel rounds on the two halves of 3 digits.
  uint32_t Scramble(uint32_t serial, uint64_t key) const {
    const uint64_t h = Mix64(key * 0x9e3779b97f4a7c15ULL ^ id_salt_);
    uint32_t x = static_cast<uint32_t>((uint64_t{serial % kSerials} * 387'403 + h % kSerials) % kSerials);
    for (uint64_t round = 1; round <= 3; ++round) {
      const uint32_t left = x / 1000;
      const uint32_t right = x % 1000;
      const auto f = static_cast<uint32_t>(Mix64(h + round * 0x632be59bd9b4e019ULL + right) % 1000);
      x = right * 1000 + (left + f) % 1000;
    }
    return x;
  }

  // ----- Text ------------------------------------------------------------------------------------

  void BuildAddress(int32_t unit, bool temporary, std::string& out) {
    out.clear();
    if (rural_[unit]) {
      const std::string_view village = kVillages[rng_.Below(std::size(kVillages))];
      const double u = rng_.Uniform();
      if (u < 0.45) {
        out.append("Thôn ").append(village);
      } else if (u < 0.75) {
        out.append("Xóm ");
        AppendInt(out, rng_.Between(1, 12));
        out.append(", thôn ").append(village);
      } else {
        out.append("Thôn ");
        AppendInt(out, rng_.Between(1, 15));
      }
      return;
    }
    const std::string_view street = kStreets[rng_.Below(std::size(kStreets))];
    if (temporary) {  // a rented room
      out.append("Phòng ");
      AppendInt(out, rng_.Between(1, 5) * 100 + rng_.Between(1, 8));
      out.append(", số ");
      AppendInt(out, rng_.Between(1, 90));
      out.append(" ngõ ");
      AppendInt(out, rng_.Between(1, 400));
      out.append(" ").append(street);
      return;
    }
    const double u = rng_.Uniform();
    if (u < 0.9) {
      out.append("Số ");
      AppendInt(out, u < 0.3 ? rng_.Between(1, 250) : rng_.Between(1, 90));
      if (u >= 0.75) {
        out.append(" ngách ");
        AppendInt(out, rng_.Between(1, 120));
      }
      if (u >= 0.3) {
        out.append(" ngõ ");
        AppendInt(out, rng_.Between(1, 400));
      }
    } else {
      out.append("Căn hộ ");
      AppendInt(out, rng_.Between(2, 35) * 100 + rng_.Between(1, 20));
      out.append(", tòa ");
      out.push_back(static_cast<char>('A' + rng_.Below(4)));
      AppendInt(out, rng_.Between(1, 4));
      out.append(",");
    }
    out.append(" ").append(street);
  }

  static void FormatDate(int32_t day, std::string& out) {
    const CivilDate d = CivilDateFromDays(day);
    char buf[10] = {static_cast<char>('0' + d.year / 1000),
                    static_cast<char>('0' + d.year / 100 % 10),
                    static_cast<char>('0' + d.year / 10 % 10),
                    static_cast<char>('0' + d.year % 10),
                    '-',
                    static_cast<char>('0' + d.month / 10),
                    static_cast<char>('0' + d.month % 10),
                    '-',
                    static_cast<char>('0' + d.day / 10),
                    static_cast<char>('0' + d.day % 10)};
    out.assign(buf, sizeof buf);
  }

  void FormatName(const Member& m, std::string& out) const {
    const auto* middle_table = m.female ? kFemaleMiddleNames : kMaleMiddleNames;
    const auto* given_table = m.female ? kFemaleGivenNames : kMaleGivenNames;
    out.assign(kFamilyNames[m.family].text);
    out.push_back(' ');
    out.append(middle_table[m.middle].text);
    if (m.middle2 >= 0) {
      out.push_back(' ');
      out.append(middle_table[m.middle2].text);
    }
    out.push_back(' ');
    out.append(given_table[m.given].text);
  }

  void EmitHousehold(int k, const std::function<void(const Person&)>& emit) {
    const int64_t head_id = members_[0].id;
    const std::string& unit_code = options_.units[unit_].code;
    auto link = [&](int16_t j) -> std::optional<int64_t> {
      if (j < 0 || j >= k) return std::nullopt;
      return members_[j].id;
    };
    for (int i = 0; i < k; ++i) {
      const Member& m = members_[i];
      Person& p = slots_[i];
      p.personal_id = m.id;
      FormatName(m, p.full_name);
      FormatDate(m.birth, p.birth_date);
      p.sex = m.female ? Sex::kFemale : Sex::kMale;
      if (m.province < 0) {
        p.birth_place.assign(options_.units[m.birth_unit].code);
      } else {
        const Province& prov = kProvinces[m.province];
        p.birth_place.assign(m.birth >= reform_day_ ? prov.name_since_2025 : prov.name);
      }
      SetText(p.permanent_unit, unit_code);
      SetText(p.permanent_address, address_);
      if (m.temporary_unit >= 0) {
        SetText(p.temporary_unit, options_.units[m.temporary_unit].code);
        if (!p.temporary_address) p.temporary_address.emplace();
        BuildAddress(m.temporary_unit, /*temporary=*/true, *p.temporary_address);
      } else {
        p.temporary_unit.reset();
        p.temporary_address.reset();
      }
      p.household_id = head_id;
      SetText(p.household_role, std::string_view(RoleName(m.role)));
      p.father_id = link(m.father);
      p.mother_id = link(m.mother);
      p.spouse_id = link(m.spouse);
      if (m.deceased) {
        p.status = LifeStatus::kDeceased;
        if (!p.died_on) p.died_on.emplace();
        FormatDate(m.died, *p.died_on);
      } else {
        p.status = LifeStatus::kLiving;
        p.died_on.reset();
      }
      emit(p);
    }
  }

  const GeneratorOptions& options_;
  Rng rng_;
  uint64_t id_salt_;
  int32_t ref_;
  int32_t reform_day_ = 0;
  int32_t first_day_ = 0;
  Status status_;

  Picker family_;
  Picker provinces_;
  Picker head_band_;
  Picker units_;
  std::vector<bool> rural_;
  std::array<Picker, kNameEras> male_middle_;
  std::array<Picker, kNameEras> female_middle_;
  std::array<Picker, kNameEras> male_given_;
  std::array<Picker, kNameEras> female_given_;
  std::vector<uint32_t> serials_;  // next serial by (province code, birth year, sex)

  // The household being built.
  std::array<Member, kMaxMembers> members_{};
  int count_ = 0;
  int32_t unit_ = 0;
  std::string address_;
  std::vector<Person> slots_;  // reused, so that steady-state emission does not allocate
};

}  // namespace

Status GeneratePopulation(const GeneratorOptions& options, const std::function<void(const Person&)>& emit) {
  if (options.people < 0) return InvalidArgument("must not be negative", "people");
  if (options.people > kMaxGeneratedPeople) {
    return InvalidArgument("must be at most " + std::to_string(kMaxGeneratedPeople), "people");
  }
  if (options.units.empty()) return InvalidArgument("give at least one unit to place households in", "units");
  double total = 0;
  for (const UnitWeight& u : options.units) {
    if (u.code.empty()) return InvalidArgument("every unit needs a code", "units.code");
    if (!std::isfinite(u.weight) || u.weight < 0) {
      return InvalidArgument("unit " + u.code + ": a weight is a finite number >= 0", "units.weight");
    }
    total += u.weight;
  }
  if (!(total > 0) || !std::isfinite(total)) return InvalidArgument("the weights sum to zero", "units.weight");
  auto date = ParseCivilDate(options.reference_date, "reference_date");
  if (!date.ok()) return date.status();
  if (date->year < 2000 || date->year > 2099) {
    return InvalidArgument("must be between 2000-01-01 and 2099-12-31", "reference_date");
  }
  if (options.reference_year != date->year) {
    return InvalidArgument("must be the year of reference_date", "reference_year");
  }
  if (options.people == 0) return Status::Ok();
  if (!emit) return InvalidArgument("a callback is needed", "emit");
  Generator generator(options, static_cast<int32_t>(DaysSinceEpoch(*date)));
  return generator.Run(emit);
}

}  // namespace tl::population
