#include "raftor/actors/raft/peer_transport.hpp"

namespace raftor {

void LocalTransport::attach(NodeId id, raft_actor actor) {
  std::lock_guard lock(mutex_);
  actors_[id] = std::move(actor);
}

void LocalTransport::detach(NodeId id) {
  std::lock_guard lock(mutex_);
  actors_.erase(id);
}

void LocalTransport::cut(NodeId from, NodeId to) {
  std::lock_guard lock(mutex_);
  cut_.emplace(from, to);
}

void LocalTransport::isolate(NodeId id) {
  std::lock_guard lock(mutex_);
  isolated_.insert(id);
}

void LocalTransport::heal() {
  std::lock_guard lock(mutex_);
  cut_.clear();
  isolated_.clear();
}

void LocalTransport::set_filter(Filter filter) {
  std::lock_guard lock(mutex_);
  filter_ = filter ? std::make_shared<const Filter>(std::move(filter)) : nullptr;
}

void LocalTransport::send(raft::Message message) {
  raft_actor target;
  std::shared_ptr<const Filter> filter;
  {
    std::lock_guard lock(mutex_);
    if (isolated_.count(message.from) || isolated_.count(message.to) ||
        cut_.count({message.from, message.to})) {
      return;
    }
    auto it = actors_.find(message.to);
    if (it == actors_.end()) return;
    target = it->second;
    filter = filter_;
  }
  if (filter && !(*filter)(message)) return;
  caf::anon_send(target, peer_atom::value, std::move(message));
}

}  // namespace raftor
