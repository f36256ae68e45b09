// A custom raftor state machine: a small document store.
//
// Documents live in memory, keyed by id ("collection/name"); each carries a revision
// that every write bumps, and the store answers per-collection counts — things a plain
// key-value map does not do. Durability is checkpoint-based: flush() writes the whole
// state to a checkpoint file (atomically, via rename), and start() loads it. Between
// checkpoints Raft's log is the durable record: after a crash the handler re-applies
// from last_applied + 1, so the store only has to come back as *some* whole prefix.
// That trades O(state) per flush for simplicity; fine for small state, see README.md.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>

#include <raftor/messages/command.pb.h>
#include <raftor/storage/state_machine.hpp>

namespace docstore {

class DocumentStore final : public raftor::StateMachine {
 public:
  explicit DocumentStore(std::filesystem::path dir);
  ~DocumentStore() override;

  // What a document store adds to the key-value contract.
  std::optional<std::uint64_t> revision(std::string_view id) const;
  std::size_t count_in_collection(std::string_view collection) const;

  // raftor::StateMachine
  raftor::Status start() override;
  raftor::Status stop() override;
  bool is_running() const override;
  raftor::Result<std::optional<std::string>> get(std::string_view id) const override;
  std::size_t len() const override;
  void apply_chunk(std::vector<raftor::Entry> chunk, ApplyDone done) override;
  void update_last_applied(raftor::LogId last_applied) override;
  raftor::LogId last_applied() const override;
  raftor::Status persist_last_applied(raftor::LogId last_applied) override;
  void update_last_snapshot_metadata(const raftor::SnapshotMetadata& metadata) override;
  std::optional<raftor::SnapshotMetadata> snapshot_metadata() const override;
  raftor::Status persist_last_snapshot_metadata(const raftor::SnapshotMetadata& metadata) override;
  raftor::Result<raftor::GeneratedSnapshot> generate_snapshot_data(
      const std::filesystem::path& path) override;
  raftor::Status apply_snapshot_from_file(const raftor::SnapshotMetadata& metadata,
                                          const std::filesystem::path& path) override;
  raftor::Status save_hard_state() override { return flush(); }
  raftor::Status flush() override;
  raftor::Status reset() override;

  struct Document {
    std::uint64_t revision = 0;
    std::string body;
  };
  using Documents = std::map<std::string, Document, std::less<>>;

 private:
  raftor::Status check_running() const;
  // Writes documents + last_applied (+ snapshot metadata) to `path`; caller holds a lock.
  raftor::Result<raftor::GeneratedSnapshot> write_state(const std::filesystem::path& path) const;
  raftor::Status checkpoint_locked();

  const std::filesystem::path dir_;
  mutable std::shared_mutex mutex_;
  Documents docs_;
  raftor::LogId last_applied_;
  std::optional<raftor::SnapshotMetadata> snapshot_metadata_;
  bool running_ = false;
  raftor::pb::Command scratch_;
};

}  // namespace docstore
