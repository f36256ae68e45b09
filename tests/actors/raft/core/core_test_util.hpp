// Helpers for the Raft core's unit tests: a single core driven by hand (Solo), a tiny
// network of cores whose messages the test delivers (Network), and message builders.
// Deterministic: no threads, no clocks; durability is MemoryRaftLog's sync()/crash().
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "raftor/actors/raft/core/raft_core.hpp"
#include "raftor/storage/memory_raft_log.hpp"

namespace raftor::raft::test {

// election 10, heartbeat 1, pre-vote and check-quorum on, fixed seed.
RaftConfig make_config(NodeId id, std::vector<NodeId> voters, std::vector<NodeId> learners = {});

// Entries with the given (index, term) pairs and payload "i<index>t<term>".
std::vector<Entry> make_entries(std::vector<std::pair<std::uint64_t, std::uint64_t>> ids);
// Entries [first, last] all in `term`.
std::vector<Entry> entry_run(std::uint64_t first, std::uint64_t last, std::uint64_t term);

Message append(NodeId from, NodeId to, std::uint64_t term, LogId prev,
               std::vector<Entry> entries = {}, std::uint64_t commit = 0,
               std::uint64_t context = 0);
Message append_ok(NodeId from, NodeId to, std::uint64_t term, std::uint64_t match,
                  std::uint64_t context = 0);
Message append_reject(NodeId from, NodeId to, std::uint64_t term, LogId hint,
                      std::uint64_t context = 0);
Message vote_request(NodeId from, NodeId to, std::uint64_t term, LogId last,
                     bool pre_vote = false, bool transfer = false);
Message vote_response(NodeId from, NodeId to, std::uint64_t term, bool granted,
                      bool pre_vote = false);

// Messages of one kind (optionally to one node) from a batch.
template <class T>
std::vector<std::pair<Message, T>> only(const std::vector<Message>& messages, NodeId to = 0) {
  std::vector<std::pair<Message, T>> out;
  for (const Message& m : messages) {
    if (const T* body = std::get_if<T>(&m.body); body != nullptr && (to == 0 || m.to == to)) {
      out.emplace_back(m, *body);
    }
  }
  return out;
}

std::string describe_all(const std::vector<Message>& messages);

// One core and its log, driven by hand.
struct Solo {
  explicit Solo(RaftConfig cfg, std::vector<Entry> initial = {}, HardState hard_state = {});

  RaftCore& operator*() { return *core; }
  RaftCore* operator->() { return core.get(); }
  CoreStatus status() const { return core->status(); }

  // take_ready(), then — like a driver — sync the log and report it when asked.
  Ready ready();
  Ready ready_without_sync() { return core->take_ready(); }
  // Ticks until the role changes (at most `limit` ticks); returns the ticks taken.
  int tick_until_role_changes(int limit = 100);
  // Wins an election at once: campaigns and collects a grant from every other voter.
  void make_leader();
  // make_leader(), then every follower acknowledges the leader's log: all in replicate.
  void make_leader_with_followers_in_sync();
  void restart(std::uint64_t applied = 0);  // MemoryRaftLog::crash() and a new core

  RaftConfig config;
  MemoryRaftLog log;
  std::unique_ptr<RaftCore> core;
};

// A few cores exchanging messages through a queue the test drains by hand.
class Network {
 public:
  struct Node {
    RaftConfig config;
    MemoryRaftLog log;
    std::unique_ptr<RaftCore> core;
    std::vector<Entry> applied;  // what its state machine applied, index 1 onwards
    std::vector<ReadState> reads;
    std::vector<std::uint64_t> failed_reads;
    int snapshots_installed = 0;
    std::optional<SnapshotMetadata> snapshot;  // the newest one installed (restart input)
    std::vector<Membership> memberships;        // every Ready::membership, in order
  };

  explicit Network(std::vector<NodeId> voters, std::vector<NodeId> learners = {},
                   const std::function<void(RaftConfig&)>& tweak = {});

  // A node that joins later, started with this bootstrap membership (for a joining node:
  // the current voters, itself a learner).
  void add_node(NodeId id, std::vector<NodeId> voters, std::vector<NodeId> learners);
  // Leader `id` snapshots its applied state and purges its log up to it (Raft §7).
  void compact(NodeId id);

  Node& node(NodeId id) { return *nodes_.at(id); }
  RaftCore& core(NodeId id) { return *nodes_.at(id)->core; }
  std::vector<NodeId> ids() const;

  // Takes every node's Ready (syncing logs when asked, applying committed entries) and
  // queues its messages.
  bool collect();
  // collect() and deliver until nothing moves. Returns the messages delivered.
  std::vector<Message> settle();
  void tick(NodeId id) { core(id).tick(); }
  void tick_all();
  // Ticks `id` until it campaigns, then settles. Returns the leader (0 if none).
  NodeId elect(NodeId id);
  NodeId leader() const;  // the unique node in role leader with the highest term, or 0

  void isolate(NodeId id) { isolated_.insert(id); }
  void heal() { isolated_.clear(); }
  // Crash: the node loses unsynced writes; its state machine keeps what it applied.
  void restart(NodeId id);

  std::deque<Message>& queue() { return queue_; }
  bool dropped(const Message& m) const {
    return isolated_.count(m.from) != 0 || isolated_.count(m.to) != 0;
  }
  void deliver(const Message& m);

 private:
  std::map<NodeId, std::unique_ptr<Node>> nodes_;
  std::deque<Message> queue_;
  std::set<NodeId> isolated_;
  std::map<LogId, std::vector<Entry>> snapshots_;  // by last included entry
  std::function<void(RaftConfig&)> tweak_;
};

}  // namespace raftor::raft::test
