#include "raftor/storage/memory_state_machine.hpp"

#include "raftor/snapshot/kv_snapshot_file.hpp"
#include "raftor/storage/kv_apply.hpp"

namespace raftor {

Status MemoryStateMachine::start() {
  running_.store(true, std::memory_order_release);
  return {};
}

Status MemoryStateMachine::stop() {
  running_.store(false, std::memory_order_release);
  return {};
}

Status MemoryStateMachine::check_running() const {
  if (!is_running()) return make_error(ErrorCode::not_running, "memory state machine is stopped");
  return {};
}

Result<std::optional<std::string>> MemoryStateMachine::get(std::string_view key) const {
  if (auto s = check_running(); !s) return s.error();
  std::shared_lock lock(mutex_);
  auto it = data_.find(key);
  if (it == data_.end()) return std::optional<std::string>{};
  return std::optional<std::string>{it->second};
}

std::size_t MemoryStateMachine::len() const {
  std::shared_lock lock(mutex_);
  return data_.size();
}

void MemoryStateMachine::apply_chunk(std::vector<Entry> chunk, ApplyDone done) {
  done(apply(chunk));
}

namespace {
// Writes straight into the map: apply_kv_chunk validates the whole chunk before the first
// write, and map operations cannot fail, so a chunk is all or nothing.
class MapTarget final : public KvTarget {
 public:
  explicit MapTarget(std::map<std::string, std::string, std::less<>>& data) : data_(data) {}
  Result<bool> holds(std::string_view key, const std::string* expected) override {
    auto it = data_.find(key);
    if (expected == nullptr) return it == data_.end();
    return it != data_.end() && it->second == *expected;
  }
  Status put(std::string_view key, std::string_view value) override {
    auto it = data_.find(key);
    if (it == data_.end()) {
      data_.emplace(key, value);
    } else {
      it->second.assign(value);
    }
    return {};
  }
  Status del(std::string_view key) override {
    if (auto it = data_.find(key); it != data_.end()) data_.erase(it);
    return {};
  }

 private:
  std::map<std::string, std::string, std::less<>>& data_;
};
}  // namespace

Result<std::vector<ApplyResult>> MemoryStateMachine::apply(const std::vector<Entry>& chunk) {
  if (auto s = check_running(); !s) return s.error();
  std::unique_lock lock(mutex_);
  MapTarget target(data_);
  auto outcome = apply_kv_chunk(chunk, last_applied_, target, scratch_);
  if (!outcome) return outcome.error();
  if (outcome->last_applied) last_applied_ = *outcome->last_applied;
  return std::move(outcome->results);
}

void MemoryStateMachine::update_last_applied(LogId last_applied) {
  std::unique_lock lock(mutex_);
  last_applied_ = last_applied;
}

LogId MemoryStateMachine::last_applied() const {
  std::shared_lock lock(mutex_);
  return last_applied_;
}

Status MemoryStateMachine::persist_last_applied(LogId last_applied) {
  if (auto s = check_running(); !s) return s;
  update_last_applied(last_applied);
  return {};
}

void MemoryStateMachine::update_last_snapshot_metadata(const SnapshotMetadata& metadata) {
  std::unique_lock lock(mutex_);
  snapshot_metadata_ = metadata;
}

std::optional<SnapshotMetadata> MemoryStateMachine::snapshot_metadata() const {
  std::shared_lock lock(mutex_);
  return snapshot_metadata_;
}

Status MemoryStateMachine::persist_last_snapshot_metadata(const SnapshotMetadata& metadata) {
  if (auto s = check_running(); !s) return s;
  update_last_snapshot_metadata(metadata);
  return {};
}

Result<GeneratedSnapshot> MemoryStateMachine::generate_snapshot_data(
    const std::filesystem::path& path) {
  if (auto s = check_running(); !s) return s.error();
  std::shared_lock lock(mutex_);  // a consistent view; apply waits (test-only state machine)
  auto writer = snapshot::KvSnapshotWriter::create(path, last_applied_);
  if (!writer) return writer.error();
  for (const auto& [key, value] : data_) {
    if (auto s = writer->add(key, value); !s) return s.error();
  }
  return writer->finish();
}

Status MemoryStateMachine::apply_snapshot_from_file(const SnapshotMetadata& metadata,
                                                    const std::filesystem::path& path) {
  if (auto s = check_running(); !s) return s;
  std::map<std::string, std::string, std::less<>> loaded;
  auto header = snapshot::read_kv_snapshot(
      path, metadata.checksum,
      [&](std::string_view key, std::string_view value) { loaded.emplace(key, value); });
  if (!header) return header.error();
  if (header->last_included != metadata.last_included) {
    return make_error(ErrorCode::corruption,
                      "snapshot " + path.string() + " ends at index " +
                          std::to_string(header->last_included.index) + ", metadata says " +
                          std::to_string(metadata.last_included.index));
  }
  std::unique_lock lock(mutex_);
  data_.swap(loaded);
  last_applied_ = metadata.last_included;
  snapshot_metadata_ = metadata;
  return {};
}

Status MemoryStateMachine::reset() {
  if (auto s = check_running(); !s) return s;
  std::unique_lock lock(mutex_);
  data_.clear();
  last_applied_ = {};
  snapshot_metadata_.reset();
  return {};
}

}  // namespace raftor
