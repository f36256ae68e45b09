// Crash-consistency cases: a child process is SIGKILLed in the middle of apply_chunk or of
// apply_snapshot_from_file; the reopened state must be the state after a whole prefix of
// chunks (or exactly the old or the new snapshot state), never a mix.
#pragma once

#include "raftor/tests/state_machine_suite/suite_support.hpp"

namespace raftor::testing::detail {

void crash_during_apply_chunk(SuiteCase& t);
void crash_during_snapshot_install(SuiteCase& t);

}  // namespace raftor::testing::detail
