// The StateMachineTestSuite's performance cases against each built-in (label perf; run
// with `make perf`, not in the default test run).
#include "raftor/storage/file_state_machine.hpp"
#include "raftor/storage/memory_state_machine.hpp"
#include "raftor/storage/rocksdb_state_machine.hpp"
#include "raftor/tests/state_machine_suite/state_machine_test_suite.hpp"

RAFTOR_STATE_MACHINE_PERF_SUITE(Memory, {
    .build = [](const std::filesystem::path&) { return std::make_unique<raftor::MemoryStateMachine>(); },
    .persistent = false,
})

RAFTOR_STATE_MACHINE_PERF_SUITE(File, {
    .build = [](const std::filesystem::path& dir) { return std::make_unique<raftor::FileStateMachine>(dir); },
})

RAFTOR_STATE_MACHINE_PERF_SUITE(RocksDb, {
    .build = [](const std::filesystem::path& dir) { return std::make_unique<raftor::RocksDbStateMachine>(dir); },
})
