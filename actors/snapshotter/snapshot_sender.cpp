#include "raftor/actors/snapshotter/snapshot_sender.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "raftor/snapshot/checksum.hpp"

namespace raftor {

namespace {
double mb(std::uint64_t bytes) { return static_cast<double>(bytes) / 1e6; }
constexpr std::chrono::milliseconds kTick{100};
}  // namespace

SnapshotSender::SnapshotSender(caf::actor_config& cfg, NodeId self,
                               std::shared_ptr<snapshot::SnapshotStore> store,
                               std::shared_ptr<PeerTransport> transport, raft_actor raft,
                               SnapshotTransferConfig config)
    : snapshot_sender_actor::base(cfg),
      self_(self),
      store_(std::move(store)),
      transport_(std::move(transport)),
      raft_(std::move(raft)),
      config_(config) {
  config_.chunk_bytes = std::max<std::uint64_t>(config_.chunk_bytes, 1);
  config_.window = std::max<std::uint32_t>(config_.window, 1);
}

SnapshotSender::behavior_type SnapshotSender::make_behavior() {
  return {
      [this](send_snap_atom, NodeId to, std::uint64_t term, const SnapshotMetadata& metadata) {
        start(to, term, metadata);
      },
      [this](peer_atom, const raft::Message& m) {
        if (const auto* ack = std::get_if<raft::SnapshotChunkAck>(&m.body)) on_ack(m.from, *ack);
      },
      [this](cancel_atom) {
        for (const auto& [to, t] : transfers_) {
          spdlog::info("node {}: snapshot transfer to node {} stopped: no longer leader", self_, to);
        }
        transfers_.clear();
      },
      [this](tick_atom) {
        tick_scheduled_ = false;
        on_tick();
      },
  };
}

void SnapshotSender::on_exit() {
  transfers_.clear();
  raft_ = nullptr;  // break the handle cycle with the Raft actor
  transport_.reset();
  store_.reset();
}

void SnapshotSender::start(NodeId to, std::uint64_t term, const SnapshotMetadata& metadata) {
  if (auto it = transfers_.find(to); it != transfers_.end()) {
    if (it->second.file.metadata().last_included == metadata.last_included) {
      it->second.term = std::max(it->second.term, term);  // already on its way
      return;
    }
    transfers_.erase(it);  // a newer snapshot replaces the one being sent
  }
  auto file = snapshot::OutgoingSnapshot::open(store_->data_path(metadata.last_included), metadata);
  if (!file) {
    spdlog::error("node {}: cannot send snapshot at index {} to node {}: {}", self_,
                  metadata.last_included.index, to, file.error().to_string());
    delayed_send(raft_, config_.retry_backoff, snap_sent_atom::value, to, false);
    return;
  }
  Transfer t(to, term, std::move(file).value());
  t.started = t.last_answer = clock::now();
  spdlog::info("node {}: sending snapshot at index {} term {} ({:.1f} MB) to node {}", self_,
               metadata.last_included.index, metadata.last_included.term, mb(metadata.size), to);
  auto [it, inserted] = transfers_.emplace(to, std::move(t));
  pump(it->second);
  schedule_tick();
}

void SnapshotSender::on_ack(NodeId from, const raft::SnapshotChunkAck& ack) {
  auto it = transfers_.find(from);
  if (it == transfers_.end()) return;
  Transfer& t = it->second;
  if (ack.snapshot != t.file.metadata().last_included) return;  // about an older transfer
  t.last_answer = clock::now();
  t.timeouts = 0;
  if (ack.done) {
    const double secs = std::chrono::duration<double>(clock::now() - t.started).count();
    spdlog::info("node {}: snapshot at index {} delivered to node {}: {:.1f} MB sent in {:.2f} s "
                 "({:.0f} MB/s)", self_, ack.snapshot.index, from, mb(t.bytes_sent), secs,
                 secs > 0 ? mb(t.bytes_sent) / secs : 0.0);
    return finish(from, true, "");
  }
  if (ack.rejected) {
    // The whole file arrived but did not match its checksum: send it again from zero.
    if (++t.restarts > config_.max_restarts) {
      return finish(from, false, "the receiver rejected the whole file " +
                                     std::to_string(t.restarts) + " times");
    }
    spdlog::warn("node {}: node {} rejected the snapshot at index {} (checksum): sending it again",
                  self_, from, ack.snapshot.index);
    t.acked = t.next = 0;
    t.probing = true;
    t.rewound_to = UINT64_MAX;
    return pump(t);
  }
  if (ack.next_offset > t.file.size()) {
    return finish(from, false, "the receiver asked for offset " + std::to_string(ack.next_offset) +
                                   " past the end");
  }
  const bool first_answer = t.probing;
  t.probing = false;
  if (first_answer && ack.next_offset > 0 && t.acked == 0) {
    spdlog::info("node {}: node {} resumes the snapshot at index {} from offset {}", self_, from,
                 ack.snapshot.index, ack.next_offset);
  }
  const bool advanced = ack.next_offset > t.acked;
  if (advanced) t.acked = ack.next_offset;
  if (ack.next_offset > t.next) {
    t.next = ack.next_offset;  // the receiver already holds more: skip ahead
  } else if (!advanced && !first_answer && ack.next_offset == t.acked &&
             ack.next_offset < t.next && ack.next_offset != t.rewound_to) {
    // The receiver asks again for an offset it asked for before: a chunk was lost or
    // corrupt. Rewind once per offset; answers to the chunks still in flight repeat it.
    t.next = ack.next_offset;
    t.rewound_to = ack.next_offset;
  }
  const std::uint64_t quarter = t.acked * 4 / std::max<std::uint64_t>(t.file.size(), 1);
  if (quarter > t.logged_quarter && quarter < 4) {
    t.logged_quarter = quarter;
    spdlog::info("node {}: snapshot at index {} to node {}: {}% ({:.1f} of {:.1f} MB)", self_,
                 ack.snapshot.index, from, quarter * 25, mb(t.acked), mb(t.file.size()));
  }
  pump(t);
}

bool SnapshotSender::take_budget(std::uint64_t bytes) {
  if (config_.bytes_per_second == 0) return true;
  const auto now = clock::now();
  const double rate = static_cast<double>(config_.bytes_per_second);
  const double cap = std::max(rate / 10, static_cast<double>(config_.chunk_bytes));
  budget_ = std::min(cap, budget_ + rate * std::chrono::duration<double>(now - budget_at_).count());
  budget_at_ = now;
  if (budget_ < static_cast<double>(bytes)) return false;
  budget_ -= static_cast<double>(bytes);
  return true;
}

void SnapshotSender::pump(Transfer& t) {
  const std::uint64_t size = t.file.size();
  const std::uint64_t window_bytes = config_.chunk_bytes * (t.probing ? 1 : config_.window);
  std::string data;
  while (t.next < size && t.next < t.acked + window_bytes) {
    if (t.probing && t.next > t.acked) break;  // one chunk until the first answer
    const std::uint64_t len = std::min(config_.chunk_bytes, size - t.next);
    if (!take_budget(len)) break;  // the tick resumes once the budget refills
    if (auto s = t.file.read(t.next, len, data); !s) {
      return finish(t.to, false, s.error().to_string());
    }
    raft::SnapshotChunk chunk;
    chunk.snapshot = t.file.metadata();
    chunk.offset = t.next;
    chunk.chunk_checksum = snapshot::chunk_checksum(data);
    chunk.done = t.next + len == size;
    chunk.data = std::move(data);
    transport_->send(raft::Message{self_, t.to, t.term, std::move(chunk)});
    t.next += len;
    t.bytes_sent += len;
  }
}

void SnapshotSender::on_tick() {
  const auto now = clock::now();
  std::vector<NodeId> failed;
  for (auto& [to, t] : transfers_) {
    if (now - t.last_answer >= config_.ack_timeout) {
      if (++t.timeouts > config_.max_timeouts) {
        failed.push_back(to);
        continue;
      }
      // Unanswered: the receiver may be gone or the chunks lost. Probe again from what it
      // acknowledged; its answer says where it really is.
      t.next = t.acked;
      t.probing = true;
      t.rewound_to = UINT64_MAX;
      t.last_answer = now;
    }
    pump(t);
  }
  for (NodeId to : failed) finish(to, false, "no answer to the last chunks");
  schedule_tick();
}

void SnapshotSender::finish(NodeId to, bool ok, const std::string& why) {
  auto it = transfers_.find(to);
  if (it == transfers_.end()) return;
  if (!ok) {
    spdlog::warn("node {}: snapshot transfer to node {} failed at offset {} of {}: {}", self_, to,
                 it->second.acked, it->second.file.size(), why);
  }
  transfers_.erase(it);
  // A failure reaches the core only after a pause, so a follower that is down does not
  // get a new transfer every few milliseconds.
  if (ok) {
    send(raft_, snap_sent_atom::value, to, true);
  } else {
    delayed_send(raft_, config_.retry_backoff, snap_sent_atom::value, to, false);
  }
}

void SnapshotSender::schedule_tick() {
  if (tick_scheduled_ || transfers_.empty()) return;
  tick_scheduled_ = true;
  delayed_send(this, kTick, tick_atom::value);
}

}  // namespace raftor
