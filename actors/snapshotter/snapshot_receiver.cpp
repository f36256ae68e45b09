#include "raftor/actors/snapshotter/snapshot_receiver.hpp"

#include <spdlog/spdlog.h>

namespace raftor {

namespace {
double mb(std::uint64_t bytes) { return static_cast<double>(bytes) / 1e6; }
}  // namespace

SnapshotReceiver::SnapshotReceiver(caf::actor_config& cfg, NodeId self,
                                   std::shared_ptr<snapshot::SnapshotStore> store,
                                   std::shared_ptr<PeerTransport> transport, raft_actor raft)
    : snapshot_receiver_actor::base(cfg),
      self_(self),
      store_(std::move(store)),
      transport_(std::move(transport)),
      raft_(std::move(raft)) {}

SnapshotReceiver::behavior_type SnapshotReceiver::make_behavior() {
  return {
      [this](peer_atom, const raft::Message& m) {
        if (const auto* chunk = std::get_if<raft::SnapshotChunk>(&m.body)) on_chunk(m, *chunk);
      },
  };
}

void SnapshotReceiver::on_exit() {
  incoming_.reset();  // removes a partial file
  raft_ = nullptr;
  transport_.reset();
  store_.reset();
}

void SnapshotReceiver::answer(const raft::Message& m, const LogId& snapshot,
                              std::uint64_t next_offset, bool done, bool rejected) {
  transport_->send(raft::Message{self_, m.from, m.term,
                                 raft::SnapshotChunkAck{snapshot, next_offset, done, rejected}});
}

void SnapshotReceiver::on_chunk(const raft::Message& m, const raft::SnapshotChunk& chunk) {
  const SnapshotMetadata& meta = chunk.snapshot;
  const LogId id = meta.last_included;
  if (received_ && received_->last_included == id) {
    // Complete already (the leader missed our answer): say so again.
    return answer(m, id, meta.size, true);
  }
  if (!incoming_ || incoming_->metadata() != meta) {
    auto begun = snapshot::IncomingSnapshot::begin(*store_, meta);
    if (!begun) {
      spdlog::error("node {}: cannot receive snapshot at index {}: {}", self_, id.index,
                    begun.error().to_string());
      return;  // no answer: the leader times out and tries again later
    }
    if (incoming_) {
      spdlog::info("node {}: snapshot at index {} replaces the partial one at index {}", self_,
                   id.index, incoming_->metadata().last_included.index);
    }
    incoming_ = std::move(begun).value();
    spdlog::info("node {}: receiving snapshot at index {} term {} ({:.1f} MB) from node {}",
                 self_, id.index, id.term, mb(meta.size), m.from);
  }
  auto verdict = incoming_->accept(chunk.offset, chunk.data, chunk.chunk_checksum);
  if (!verdict) {
    spdlog::error("node {}: receiving snapshot at index {}: {}", self_, id.index,
                  verdict.error().to_string());
    incoming_.reset();
    return;
  }
  if (*verdict == snapshot::ChunkVerdict::corrupt) {
    spdlog::warn("node {}: snapshot chunk at offset {} from node {} is corrupt: asking again",
                 self_, chunk.offset, m.from);
  }
  if (!incoming_->complete()) return answer(m, id, incoming_->next_offset());

  auto stored = incoming_->finish();
  incoming_.reset();
  if (!stored) {
    // Nothing of it is kept: the leader sends it again from the start.
    spdlog::error("node {}: snapshot at index {} from node {} refused: {}", self_, id.index,
                  m.from, stored.error().to_string());
    return answer(m, id, 0, false, true);
  }
  spdlog::info("node {}: snapshot at index {} received and stored", self_, id.index);
  received_ = *stored;
  answer(m, id, meta.size, true);
  send(raft_, snap_recv_atom::value, m.from, m.term, *stored);
}

}  // namespace raftor
