// When to take a snapshot: after enough entries, enough log bytes, or enough time since the
// last one (any trigger fires; a trigger set to 0 is off). Pure: the snapshotter feeds it
// what it knows, so the decision is unit-tested without actors or disks.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace raftor::snapshot {

struct SnapshotPolicy {
  std::uint64_t max_entries = 10'000;   // entries applied since the last snapshot
  std::uint64_t max_log_bytes = 64 << 20;  // payload bytes committed since the last snapshot
  // Time since the last snapshot (or since start). Fires only if something was applied
  // since: an unchanged state needs no new snapshot.
  std::chrono::milliseconds max_interval = std::chrono::hours(1);
};

// What changed since the last snapshot.
struct SnapshotProgress {
  std::uint64_t entries = 0;
  std::uint64_t log_bytes = 0;
  std::chrono::milliseconds elapsed{0};
};

enum class SnapshotTrigger : std::uint8_t { none, entries, log_bytes, interval };
std::string_view to_string(SnapshotTrigger trigger) noexcept;

// The first trigger that fires, in the order entries, log bytes, time; none otherwise.
SnapshotTrigger snapshot_trigger(const SnapshotPolicy& policy, const SnapshotProgress& progress);

inline bool should_snapshot(const SnapshotPolicy& policy, const SnapshotProgress& progress) {
  return snapshot_trigger(policy, progress) != SnapshotTrigger::none;
}

}  // namespace raftor::snapshot
