// Shared plumbing of the StateMachineTestSuite cases: test registration, a fresh
// directory per case, synchronous wrappers around the asynchronous API, entry builders,
// a reference model of the key-value state, and child processes for the crash cases.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "raftor/storage/state_machine.hpp"
#include "raftor/tests/state_machine_suite/state_machine_test_suite.hpp"

namespace raftor::testing::detail {

// --- entries ----------------------------------------------------------------------------------
Entry put_entry(std::uint64_t index, std::string_view key, std::string_view value,
                std::uint64_t term = 1);
Entry del_entry(std::uint64_t index, std::string_view key, std::uint64_t term = 1);
Entry cas_entry(std::uint64_t index, std::string_view key, std::optional<std::string_view> expected,
                std::string_view value, std::uint64_t term = 1);
Entry noop_entry(std::uint64_t index, std::uint64_t term = 1);
Entry config_entry(std::uint64_t index, std::uint64_t term = 1);

// The state a correct key-value state machine reaches: applies entries the same way.
struct Model {
  std::map<std::string, std::string> data;
  LogId last_applied;
  void apply(const std::vector<Entry>& chunk);
};

// --- the fixture --------------------------------------------------------------------------------
class SuiteCase : public ::testing::Test {
 public:
  explicit SuiteCase(std::shared_ptr<const StateMachineBuilder> builder) : builder_(std::move(builder)) {}
  void SetUp() override;
  void TearDown() override;

  // Builds and starts a state machine on dir() (fails the test if start fails).
  std::unique_ptr<StateMachine> open();
  std::unique_ptr<StateMachine> open_at(const std::filesystem::path& dir);
  const std::filesystem::path& dir() const { return dir_; }
  // A fresh directory beside dir(), removed with it.
  std::filesystem::path scratch_dir(const std::string& name);
  bool persistent() const { return builder_->persistent; }
  const StateMachineBuilder& builder() const { return *builder_; }

 private:
  std::shared_ptr<const StateMachineBuilder> builder_;
  std::filesystem::path root_;
  std::filesystem::path dir_;
  std::vector<std::filesystem::path> extra_dirs_;
};

// Calls apply_chunk and waits for `done` (which must be called exactly once).
Result<std::vector<ApplyResult>> apply(StateMachine& sm, std::vector<Entry> chunk);
// Applies and asserts success, returning the results.
std::vector<ApplyResult> apply_ok(StateMachine& sm, std::vector<Entry> chunk);

// Expects the state machine to hold exactly `model`: same len, every model key with its
// value, every key of `universe` not in the model absent, and the same last_applied.
void expect_state(const StateMachine& sm, const Model& model,
                  const std::vector<std::string>& universe);
std::optional<std::string> get_value(const StateMachine& sm, std::string_view key);

// Generates a snapshot into `path` and returns metadata describing it.
SnapshotMetadata take_snapshot(StateMachine& sm, const std::filesystem::path& path);

// --- registration -------------------------------------------------------------------------------
using CaseBody = void (*)(SuiteCase&);
struct CaseSpec {
  const char* name;
  bool needs_persistence;
};
void register_case(const std::string& suite, const CaseSpec& spec,
                   std::shared_ptr<const StateMachineBuilder> builder,
                   std::function<void(SuiteCase&)> body);

// --- child processes (crash cases) --------------------------------------------------------------
// In a child started by spawn_child: the directory it must work on. Otherwise nullopt.
std::optional<std::filesystem::path> child_dir();
// Writes a line for the parent (only in a child).
void child_report(const std::string& line);

class Child {
 public:
  // Re-runs the current test in a new process of this binary with child_dir() == dir.
  explicit Child(const std::filesystem::path& dir);
  ~Child();  // kills and reaps if still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Next line reported by the child, or nullopt if it exited / timed out.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void kill();        // SIGKILL and reap
  int wait();         // reap; returns the exit status (raw waitpid status)

 private:
  int pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace raftor::testing::detail
