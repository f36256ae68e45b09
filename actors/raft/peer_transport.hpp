// How a Raft actor reaches its peers. In one process (tests, the in-process benchmark) the
// LocalTransport hands messages to the peers' actors directly; across hosts the network
// layer implements the same interface over TCP (actors/network/network_transport.hpp).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

#include "raftor/actors/interfaces.hpp"

namespace raftor {

class PeerTransport {
 public:
  virtual ~PeerTransport() = default;
  // Sends without blocking; a message that cannot be delivered is dropped (Raft retries).
  virtual void send(raft::Message message) = 0;
  // The configuration in force (thesis §4.1), from the Raft actor: at start, on every
  // change and when the change commits (`committed`). Reach new members from now on;
  // removed ones may be let go once committed (until then they must learn of it).
  virtual void update_members(const Membership& members, bool committed) {}
};

// Delivers to raft actors registered in the same actor system. Links can be cut in either
// direction, for tests of partitions.
class LocalTransport final : public PeerTransport {
 public:
  void attach(NodeId id, raft_actor actor);
  void detach(NodeId id);
  // Drops every message from `from` to `to` until heal().
  void cut(NodeId from, NodeId to);
  void isolate(NodeId id);  // cuts every link to and from `id`
  void heal();
  // Tests: sees every message that passes the cuts; may change it, or drop it by
  // returning false. Called on the sender's thread (keep it thread-safe). Empty: none.
  using Filter = std::function<bool(raft::Message&)>;
  void set_filter(Filter filter);

  void send(raft::Message message) override;

 private:
  std::mutex mutex_;
  std::map<NodeId, raft_actor> actors_;
  std::set<std::pair<NodeId, NodeId>> cut_;
  std::set<NodeId> isolated_;
  std::shared_ptr<const Filter> filter_;
};

}  // namespace raftor
