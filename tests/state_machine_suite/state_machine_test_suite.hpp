// StateMachineTestSuite: the contract of raftor::StateMachine (storage/state_machine.hpp)
// as GoogleTest cases, for the built-ins and for your own state machine.
//
//   #include <raftor/tests/state_machine_suite/state_machine_test_suite.hpp>
//   RAFTOR_STATE_MACHINE_SUITE(MyCounter, {
//       .build = [](const std::filesystem::path& dir) { return std::make_unique<Counter>(dir); },
//   })
//
// Link raftor::testing and GTest::gtest_main. Each case gets a fresh directory and builds
// the state machine on it (not started); "reopen" cases build a second instance on the
// same directory. The crash cases re-run the test binary as a child process (same
// --gtest_filter, RAFTOR_SUITE_CHILD set) and SIGKILL it mid-write, so the builder must
// behave the same in a fresh process.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "raftor/storage/state_machine.hpp"

namespace raftor::testing {

struct StateMachineBuilder {
  // Builds an unstarted state machine whose files live in `dir` (which exists, and holds
  // whatever an earlier instance on it left).
  std::function<std::unique_ptr<StateMachine>(const std::filesystem::path& dir)> build;
  // Removes what `build` created outside `dir`; the suite removes `dir` itself. Optional.
  std::function<void(const std::filesystem::path& dir)> cleanup;
  // false for a state machine that keeps nothing across instances (MemoryStateMachine):
  // the reopen and crash cases are then skipped.
  bool persistent = true;
};

// Registers the functional cases as test suite "StateMachineSuite/<name>".
// Returns true so it can initialise a static (see the macros).
bool register_state_machine_suite(const std::string& name, StateMachineBuilder builder);

// Registers the performance cases as "StateMachinePerf/<name>": 100 entries applied in
// under 1 s, and 1000 entries taking about 10x the time of 100 (not 100x). Prints times.
bool register_state_machine_perf_suite(const std::string& name, StateMachineBuilder builder);

}  // namespace raftor::testing

// Designated initializers may leave fields out (that is what defaults are for): keep
// GCC's -Wmissing-field-initializers quiet about it in users' builds.
#define RAFTOR_SUITE_IGNORE_MISSING_FIELDS_BEGIN \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmissing-field-initializers\"")
#define RAFTOR_SUITE_IGNORE_MISSING_FIELDS_END _Pragma("GCC diagnostic pop")

#define RAFTOR_STATE_MACHINE_SUITE(NAME, ...)                                           \
  RAFTOR_SUITE_IGNORE_MISSING_FIELDS_BEGIN                                              \
  [[maybe_unused]] static const bool raftor_sm_suite_registered_##NAME =                \
      ::raftor::testing::register_state_machine_suite(                                  \
          #NAME, ::raftor::testing::StateMachineBuilder __VA_ARGS__);                   \
  RAFTOR_SUITE_IGNORE_MISSING_FIELDS_END

#define RAFTOR_STATE_MACHINE_PERF_SUITE(NAME, ...)                                      \
  RAFTOR_SUITE_IGNORE_MISSING_FIELDS_BEGIN                                              \
  [[maybe_unused]] static const bool raftor_sm_perf_registered_##NAME =                 \
      ::raftor::testing::register_state_machine_perf_suite(                             \
          #NAME, ::raftor::testing::StateMachineBuilder __VA_ARGS__);                   \
  RAFTOR_SUITE_IGNORE_MISSING_FIELDS_END
