#include "raftor/actors/scheduler_tuning.hpp"

#include <caf/atom.hpp>

#include <cstdlib>
#include <string_view>

namespace raftor {

void tune_scheduler(caf::actor_system_config& config) {
  const char* env = std::getenv("RAFTOR_CAF_SCHEDULER");
  const std::string_view choice = env != nullptr ? env : "sharing";
  if (choice == "stealing") {
    config.set("scheduler.policy", caf::atom("stealing"));
  } else {
    config.set("scheduler.policy", caf::atom("sharing"));
  }
}

}  // namespace raftor
