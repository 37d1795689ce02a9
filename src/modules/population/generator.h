// Synthetic population: realistic, reproducible Vietnamese people for loading and exercising the
// registry (a stand-in for the national population database in development, tests and benchmarks).
//
// GeneratePopulation streams exactly `options.people` people to `emit`, household by household: the
// head first, then the spouse, the head's (or the spouse's) elderly parents, the children and other
// relatives. Family names follow their national frequencies (Nguyễn about 38%), middle and given names
// depend on sex and birth cohort, ages follow Vietnam's 2024 population pyramid, and relations are
// consistent: spouses point at each other, children carry their father's family name and were born
// when their mother was 18–45 and their father 18–60, household_id is the head's number, and no link
// points at a person who is not emitted (the last household is cut to fit the count, links to the
// members left out are dropped). Personal numbers are well formed (province of birth registration,
// century/sex digit, birth year) and unique: the last 6 digits are a per-(province, century/sex, year)
// counter passed through a keyed permutation of [0, 10^6), so memory does not grow with the population.
// About 0.5% of the people, mostly elderly, are recorded as deceased. Units are chosen by weight;
// units whose name starts with "Xã" get village addresses, the others street addresses.
//
// The output is a pure function of the options (integer and IEEE double arithmetic only): the same seed
// gives the same people, and a longer run starts with the people of a shorter one.
//
// Thread-safety: GeneratePopulation keeps all its state in the call, so concurrent calls are safe;
// `emit` runs on the calling thread and must not keep the reference past its return (the Person is
// reused for the next one).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "modules/population/person.h"

namespace tl::population {

// A commune or ward and its share of the population (weights are relative; they need not sum to 1).
struct UnitWeight {
  std::string code;  // "00004"
  std::string name;  // "Phường Ba Đình"
  double weight = 0;
};

struct GeneratorOptions {
  int64_t people = 0;  // at most kMaxGeneratedPeople
  uint64_t seed = 1;
  int reference_year = 2026;                  // must be the year of reference_date
  std::string reference_date = "2026-07-01";  // "today": everyone is born before it (2000-01-01 .. 2099-12-31)
  std::vector<UnitWeight> units;
};

// Large enough for the whole country; keeps every per-(province, sex, year) counter below 10^6.
inline constexpr int64_t kMaxGeneratedPeople = 100'000'000;

// Calls `emit` once per person, household by household, exactly options.people times. Returns
// InvalidArgument naming the field for people < 0 or above kMaxGeneratedPeople, an empty unit list, a
// unit without a code, a negative or non-finite weight (or all zero), a bad reference date or a
// reference year that is not its year, or an empty `emit` when people > 0.
Status GeneratePopulation(const GeneratorOptions& options, const std::function<void(const Person&)>& emit);

}  // namespace tl::population
