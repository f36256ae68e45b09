// The performance cases of the StateMachineTestSuite (ctest label `perf`, not in the
// default run): generous bounds that catch a state machine that is pathologically slow or
// superlinear, with the measured times printed.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "raftor/tests/state_machine_suite/state_machine_test_suite.hpp"
#include "raftor/tests/state_machine_suite/suite_support.hpp"

namespace raftor::testing {

namespace {
using namespace detail;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kChunk = 10;

// Applies `n` puts of 100-byte values in chunks of kChunk, then flushes; returns seconds.
double time_apply(StateMachine& sm, std::uint64_t first_index, std::size_t n) {
  std::vector<std::vector<Entry>> chunks;
  for (std::size_t i = 0; i < n; i += kChunk) {
    std::vector<Entry> chunk;
    for (std::size_t j = i; j < std::min(n, i + kChunk); ++j) {
      chunk.push_back(put_entry(first_index + j, "key" + std::to_string(j), std::string(100, 'v')));
    }
    chunks.push_back(std::move(chunk));
  }
  const auto start = Clock::now();
  for (auto& chunk : chunks) apply_ok(sm, std::move(chunk));
  EXPECT_TRUE(sm.flush().ok());
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Best of three fresh runs: the least disturbed by the rest of the machine.
double best_time(SuiteCase& t, std::size_t n, const std::string& tag) {
  double best = 1e9;
  for (int run = 0; run < 3; ++run) {
    auto sm = t.open_at(t.scratch_dir(tag + std::to_string(run)));
    best = std::min(best, time_apply(*sm, 1, n));
  }
  return best;
}

void hundred_entries_under_one_second(SuiteCase& t) {
  const double s = best_time(t, 100, "hundred");
  std::printf("[ perf ] 100 entries: %.3f ms (%.0f entries/s)\n", s * 1e3, 100 / s);
  EXPECT_LT(s, 1.0) << "applying 100 entries took " << s << " s";
}

void thousand_entries_scale_linearly(SuiteCase& t) {
  const double t100 = best_time(t, 100, "h");
  const double t1000 = best_time(t, 1000, "t");
  const double ratio = t1000 / t100;
  std::printf("[ perf ] 100 entries: %.3f ms, 1000 entries: %.3f ms, ratio %.1fx\n", t100 * 1e3,
              t1000 * 1e3, ratio);
  // About 10x is linear; the seed's bound is "not 100x". Fixed costs (flush) make small
  // runs relatively slower, so the ratio is usually below 10.
  EXPECT_LT(ratio, 30.0) << "1000 entries took " << ratio << "x the time of 100";
}
}  // namespace

bool register_state_machine_perf_suite(const std::string& name, StateMachineBuilder builder) {
  auto shared = std::make_shared<const StateMachineBuilder>(std::move(builder));
  const std::string suite = "StateMachinePerf/" + name;
  register_case(suite, {"HundredEntriesUnderOneSecond", false}, shared,
                hundred_entries_under_one_second);
  register_case(suite, {"ThousandEntriesScaleLinearly", false}, shared,
                thousand_entries_scale_linearly);
  return true;
}

}  // namespace raftor::testing
