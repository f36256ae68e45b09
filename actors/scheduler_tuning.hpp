// How raftor's processes configure CAF's scheduler.
//
// CAF 0.17's default work-stealing scheduler keeps idle workers polling: 100 tight polls,
// then 500 polls 50 µs apart, before it sleeps 10 ms at a time. A raftor node idles between
// bursts of small messages, so every worker of every process on the host spends its idle time
// in nanosleep wake-ups; measured on 2 cores with three nodes and a load generator, that
// polling was the largest single item of the profile. Nodes and clients therefore use CAF's
// "sharing" policy (one queue, workers park on a condition variable).
#pragma once

#include <caf/actor_system_config.hpp>

namespace raftor {

// Call before the actor system is created. RAFTOR_CAF_SCHEDULER=stealing|sharing overrides
// the choice (for measurements).
void tune_scheduler(caf::actor_system_config& config);

}  // namespace raftor
