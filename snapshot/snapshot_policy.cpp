#include "raftor/snapshot/snapshot_policy.hpp"

namespace raftor::snapshot {

std::string_view to_string(SnapshotTrigger trigger) noexcept {
  switch (trigger) {
    case SnapshotTrigger::none: return "none";
    case SnapshotTrigger::entries: return "entries";
    case SnapshotTrigger::log_bytes: return "log bytes";
    case SnapshotTrigger::interval: return "interval";
  }
  return "unknown";
}

SnapshotTrigger snapshot_trigger(const SnapshotPolicy& policy, const SnapshotProgress& progress) {
  if (progress.entries == 0) return SnapshotTrigger::none;  // nothing new to capture
  if (policy.max_entries != 0 && progress.entries >= policy.max_entries) {
    return SnapshotTrigger::entries;
  }
  if (policy.max_log_bytes != 0 && progress.log_bytes >= policy.max_log_bytes) {
    return SnapshotTrigger::log_bytes;
  }
  if (policy.max_interval.count() > 0 && progress.elapsed >= policy.max_interval) {
    return SnapshotTrigger::interval;
  }
  return SnapshotTrigger::none;
}

}  // namespace raftor::snapshot
