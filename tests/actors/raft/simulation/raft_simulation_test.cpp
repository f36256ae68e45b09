// Randomized, seeded simulation of the Raft core: every schedule is one seed, and a failing
// seed replays identically (RAFTOR_SIM_SEED=<seed> prints every event).
//
//   RAFTOR_SIM_SEEDS=N       number of seeds (RandomSchedules: 300, Soak: 20000)
//   RAFTOR_SIM_FIRST_SEED=S  first seed (RandomSchedules: 1, Soak: 1000001)
//   RAFTOR_SIM_SEED=S        replay one seed verbosely (RandomSchedules only)
//   RAFTOR_SIM_STEPS=K       steps per schedule before the final heal (default 4000)
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "random_schedule.hpp"

namespace raftor::sim {
namespace {

constexpr std::uint64_t kDefaultSteps = 4000;
// Sanitizer builds run about 20x slower: fewer default seeds keep them within ctest's limit.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::uint64_t kDefaultSeeds = 20;
#else
constexpr std::uint64_t kDefaultSeeds = 300;
#endif

std::optional<std::uint64_t> env_u64(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::strtoull(value, nullptr, 10);
}

// If the core crashes the process (assert, segfault) gtest prints nothing: a signal handler
// names the seed that was running, from a line prepared before the run.
char g_running[96] = "";

extern "C" void on_fatal_signal(int sig) {
  const ssize_t n = static_cast<ssize_t>(std::strlen(g_running));
  if (n > 0 && ::write(STDERR_FILENO, g_running, static_cast<std::size_t>(n)) < 0) {
    // nothing more can be done in a signal handler
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void announce(std::uint64_t seed) {
  std::snprintf(g_running, sizeof g_running,
                "\nfatal signal while running seed=%llu (replay with RAFTOR_SIM_SEED)\n",
                static_cast<unsigned long long>(seed));
  static const bool installed = [] {
    for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, on_fatal_signal);
    return true;
  }();
  (void)installed;
}

std::string replay_hint(std::uint64_t seed, std::uint64_t steps) {
  std::string hint = "replay: RAFTOR_SIM_SEED=" + std::to_string(seed);
  if (steps != kDefaultSteps) hint += " RAFTOR_SIM_STEPS=" + std::to_string(steps);
  return hint + " build-sim/tests/actors/raft/simulation/raft_simulation_test " +
         "--gtest_filter=RaftSimulation.RandomSchedules";
}

// Runs seeds [first, first + count); stops after a few failures to keep the output usable.
void run_seeds(std::uint64_t first, std::uint64_t count, std::uint64_t steps) {
  const auto start = std::chrono::steady_clock::now();
  CheckStats total;
  std::uint64_t total_steps = 0;
  std::uint64_t crashes = 0;
  std::uint64_t installs = 0;
  std::uint64_t schedules_with_installs = 0;
  std::uint64_t config_changes = 0;
  std::uint64_t transfers = 0;
  int failures = 0;
  for (std::uint64_t seed = first; seed < first + count && failures < 3; ++seed) {
    SCOPED_TRACE("seed=" + std::to_string(seed));
    announce(seed);
    ScheduleOutcome out = run_random_schedule(seed, ScheduleOptions{steps, false});
    total_steps += out.steps;
    crashes += out.crashes;
    installs += out.snapshots_installed;
    if (out.snapshots_installed != 0) ++schedules_with_installs;
    config_changes += out.config_changes;
    transfers += out.transfers;
    total.leaders += out.stats.leaders;
    total.applied += out.stats.applied;
    total.acked += out.stats.acked;
    total.reads_checked += out.stats.reads_checked;
    total.lease_reads_checked += out.stats.lease_reads_checked;
    total.reads_failed += out.stats.reads_failed;
    total.reused_proposal_indexes += out.stats.reused_proposal_indexes;
    if (!out.ok) {
      ++failures;
      ADD_FAILURE() << "seed=" << seed << " (" << out.shape << ")\n"
                    << out.report << replay_hint(seed, steps);
    }
  }
  g_running[0] = '\0';
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << count << " schedules from seed " << first << " in " << seconds << " s: "
            << total_steps << " steps, " << total.leaders << " leaders, " << total.applied
            << " committed, " << total.acked << " acknowledged writes, " << total.reads_checked
            << " ReadIndex reads confirmed (" << total.reads_failed << " failed), "
            << total.lease_reads_checked << " lease reads, " << crashes << " crashes, "
            << installs << " snapshots installed (in " << schedules_with_installs
            << " schedules), " << config_changes << " membership changes, " << transfers
            << " leadership transfers; "
            << total.reused_proposal_indexes << " proposals at an index the same node had "
            << "already given to a pending proposal\n";
}

TEST(RaftSimulation, RandomSchedules) {
  const std::uint64_t steps = env_u64("RAFTOR_SIM_STEPS").value_or(kDefaultSteps);
  if (auto seed = env_u64("RAFTOR_SIM_SEED")) {
    SCOPED_TRACE("seed=" + std::to_string(*seed));
    ScheduleOutcome out = run_random_schedule(*seed, ScheduleOptions{steps, true});
    std::cout << out.report << "\nfingerprint " << out.fingerprint << '\n';
    EXPECT_TRUE(out.ok) << "seed=" << *seed << " (" << out.shape << ")\n" << out.report;
    return;
  }
  run_seeds(env_u64("RAFTOR_SIM_FIRST_SEED").value_or(1),
            env_u64("RAFTOR_SIM_SEEDS").value_or(kDefaultSeeds), steps);
}

// `make soak`: many more seeds, past the default range.
TEST(RaftSimulation, DISABLED_Soak) {
  run_seeds(env_u64("RAFTOR_SIM_FIRST_SEED").value_or(1'000'001),
            env_u64("RAFTOR_SIM_SEEDS").value_or(20'000),
            env_u64("RAFTOR_SIM_STEPS").value_or(kDefaultSteps));
}

// The checks have teeth: a driver that answers before its log is durable (a vote or an
// acknowledgement forgotten in a crash) is caught within a few dozen seeds.
TEST(RaftSimulation, DetectsDriverThatRepliesBeforeSync) {
  std::vector<std::string> caught;
  for (std::uint64_t seed = 1; seed <= 300 && caught.size() < 3; ++seed) {
    ScheduleOutcome out = run_random_schedule(seed, ScheduleOptions{kDefaultSteps, false, true});
    if (!out.ok) caught.push_back(out.report.substr(0, out.report.find('\n')));
  }
  ASSERT_FALSE(caught.empty()) << "no property noticed replies sent before the log was durable";
  for (const auto& c : caught) std::cout << "caught " << c.substr(0, 200) << '\n';
}

// No wall clock, no address-dependent order: a seed is a run.
TEST(RaftSimulation, SameSeedSameRun) {
  for (std::uint64_t seed : {7, 8, 9}) {
    SCOPED_TRACE("seed=" + std::to_string(seed));
    ScheduleOutcome a = run_random_schedule(seed, ScheduleOptions{600, false});
    ScheduleOutcome b = run_random_schedule(seed, ScheduleOptions{600, false});
    EXPECT_EQ(a.fingerprint, b.fingerprint);
    EXPECT_EQ(a.report, b.report);
    EXPECT_EQ(a.steps, b.steps);
  }
}

}  // namespace
}  // namespace raftor::sim
