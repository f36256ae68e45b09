// The key-value semantics of a chunk of entries, shared by the built-in state machines:
// decoding, the idempotency skip, compare-and-swap and per-entry results. A state machine
// supplies the storage as a KvTarget and makes the target's writes atomic.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raftor/messages/command.pb.h"
#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace raftor {

class KvTarget {
 public:
  virtual ~KvTarget() = default;
  // Whether `key` currently holds `expected` (absent when expected == nullptr), seeing
  // the writes this chunk already made.
  virtual Result<bool> holds(std::string_view key, const std::string* expected) = 0;
  virtual Status put(std::string_view key, std::string_view value) = 0;
  virtual Status del(std::string_view key) = 0;
};

struct KvChunkOutcome {
  std::vector<ApplyResult> results;  // one per input entry, in input order
  std::optional<LogId> last_applied;  // set when at least one entry was newly applied
};

// Validates the whole chunk first (contiguous ascending indexes, every payload decodes), so
// a bad entry is reported, naming its index, before `target` sees any write. Entries at or
// below `last_applied` are skipped (Raft may re-deliver them). `scratch` is reused for
// decoding so that no message is allocated per entry.
Result<KvChunkOutcome> apply_kv_chunk(const std::vector<Entry>& chunk, LogId last_applied,
                                      KvTarget& target, pb::Command& scratch);

}  // namespace raftor
