// Simulation of one-stop-shop traffic through the service layer (`thanglong simulate dossiers`).
//
// Generates dossiers over a period with a skewed procedure popularity (Zipf over the catalogue's
// commune- and city-level procedures), spread over Hà Nội's 126 communes by weight and over working
// days and office hours, with realistic shares of online submission, refusals, supplements, transfers,
// rejections, lateness, withdrawals and ratings. Every dossier goes through DossierService like a real
// one (same rules, deadlines, audit), with the application's clock moved to each event's time.
// Events later than `until` are not played, so the most recent dossiers stay open in the queues.
// Simulated officials (one specialist per commune and department, "sim.*"), one account for one-off
// online applicants ("sim.citizen") and, outside bulk mode, a pool of returning citizens with their
// own accounts and wallets ("sim.citizen.<personal id>", who refer to wallet documents instead of
// uploads: once-only) are created on first use, all without a password.
//
// Thread-safety: run from one thread, on an Application whose clock is the ManualClock passed in.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "app/application.h"
#include "core/clock.h"

namespace tl::app {

struct SimulationOptions {
  int64_t from_ms = 0;    // first submission instant
  int64_t until_ms = 0;   // no event after this instant is played
  int64_t dossiers = 0;   // how many to submit
  uint64_t seed = 2025;
  bool progress = true;
  // Decide each dossier's life in memory and load the histories in batches through
  // DossierService::ImportHistory (same rules and calendar; no per-action notifications or audit
  // entries): a simulated year of four million dossiers in minutes instead of hours.
  bool bulk = false;
};

struct SimulationReport {
  int64_t submitted = 0, actions = 0, returned = 0, open = 0, failed = 0;
  double seconds = 0;
};

Result<SimulationReport> SimulateDossiers(Application& app, ManualClock& clock, const SimulationOptions& options,
                                          std::ostream& log);

}  // namespace tl::app
