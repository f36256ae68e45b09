#include "raftor/actors/network/peer_connector.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "raftor/actors/network/frame.hpp"
#include "raftor/actors/network/host_port.hpp"
#include "raftor/actors/raft/core/config_history.hpp"

namespace raftor::network {

PeerConnector::PeerConnector(caf::actor_config& cfg, PeerConnectorConfig config,
                             std::shared_ptr<TransportCounters> counters)
    : caf::io::broker(cfg),
      config_(std::move(config)),
      counters_(std::move(counters)),
      jitter_(static_cast<std::minstd_rand::result_type>(config_.seed)) {
  for (const auto& peer : config_.peers) links_[peer.id].address = peer;
}

caf::behavior PeerConnector::make_behavior() {
  for (auto& [id, link] : links_) connect(id);
  return {
      [this](peer_bytes_atom, NodeId to, const std::string& bytes) { forward(to, bytes); },
      [this](members_atom, const Membership& members, bool committed) {
        update_members(members, committed);
      },
      [this](peer_address_atom, NodeId peer, const std::string& address) {
        learn_address(peer, address);
      },
      [this](reconnect_atom, NodeId peer) { connect(peer); },
      [this](connected_atom, NodeId peer, ConnectOutcome& outcome) {
        on_connect_outcome(peer, outcome);
      },
      [this](const caf::io::connection_closed_msg& msg) { on_closed(msg.handle); },
      // A peer's endpoint never writes on this connection; reading only notices its close.
      [](const caf::io::new_data_msg&) {},
  };
}

void PeerConnector::forward(NodeId to, const std::string& bytes) {
  auto it = links_.find(to);
  if (it == links_.end() || !it->second.connection) {
    counters_->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const auto hdl = *it->second.connection;
  auto& buffer = wr_buf(hdl);
  if (buffer.size() + bytes.size() > config_.max_queued_bytes) {
    counters_->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  append_frame(buffer, FrameKind::peer, bytes);
  flush(hdl);
  counters_->forwarded.fetch_add(1, std::memory_order_relaxed);
}

void PeerConnector::update_members(const Membership& members, bool committed) {
  auto link_to = [&](NodeId id) {
    if (id == config_.self) return;
    // This node's own configuration says how it reaches a peer (a route of its own, a
    // tunnel); the configuration entry's address is everyone's way to the others.
    std::optional<PeerAddress> address;
    auto configured = std::find_if(config_.peers.begin(), config_.peers.end(),
                                   [id](const PeerAddress& p) { return p.id == id; });
    if (configured != config_.peers.end()) {
      address = *configured;
    } else if (auto it = members.addresses.find(id); it != members.addresses.end()) {
      if (auto parsed = parse_host_port(it->second); parsed) {
        address = PeerAddress{id, parsed->host, parsed->port};
      } else {
        spdlog::error("node {}: member {} has a bad address in the configuration: {}",
                      config_.self, id, parsed.error().message);
      }
    }
    auto it = links_.find(id);
    if (!address) {
      if (it == links_.end() && warned_no_address_.insert(id).second) {
        spdlog::warn("node {}: member {} has no known address (add it with one); it is not "
                     "reachable from here", config_.self, id);
      }
      return;
    }
    if (it != links_.end()) {
      // A new address counts from the next (re)connect; a live connection stays.
      it->second.address = *address;
      return;
    }
    spdlog::info("node {}: new member {} at {}:{}", config_.self, id, address->host,
                 address->port);
    add_link(*address);
  };
  for (NodeId id : members.voters) link_to(id);
  for (NodeId id : members.learners) link_to(id);
  if (!committed) return;
  for (auto it = links_.begin(); it != links_.end();) {
    if (raft::is_voter(members, it->first) || raft::is_learner(members, it->first)) {
      ++it;
      continue;
    }
    spdlog::info("node {}: node {} left the cluster; closing its link", config_.self, it->first);
    if (it->second.connection) close(*it->second.connection);
    counters_->forget(it->first);
    it = links_.erase(it);
  }
}

void PeerConnector::learn_address(NodeId peer, const std::string& text) {
  if (peer == config_.self || links_.count(peer)) return;
  auto address = parse_host_port(text);
  if (!address) {
    spdlog::warn("node {}: node {} announced a bad address: {}", config_.self, peer,
                 address.error().message);
    return;
  }
  spdlog::info("node {}: node {} is reached at {} (as it announced)", config_.self, peer, text);
  add_link({peer, address->host, address->port});
}

void PeerConnector::add_link(const PeerAddress& address) {
  links_[address.id].address = address;
  counters_->set_connected(address.id, false);
  connect(address.id);
}

void PeerConnector::connect(NodeId peer) {
  auto it = links_.find(peer);
  if (it == links_.end()) return;
  Link& link = it->second;
  if (link.connecting || link.connection) return;
  link.connecting = true;
  // A detached helper: connect_tcp blocks its own thread (for at most connect_timeout plus
  // name resolution), and the actor system's shutdown waits for it no longer than that.
  caf::actor self = caf::actor_cast<caf::actor>(this);
  system().spawn<caf::detached>(
      [self, peer, address = link.address, timeout = config_.reconnect.connect_timeout] {
        ConnectOutcome outcome;
        auto socket = connect_tcp(address.host, address.port, timeout);
        if (socket.ok()) {
          outcome.socket = std::make_shared<UniqueFd>(std::move(socket).value());
        } else {
          outcome.error = socket.error().message;
        }
        caf::anon_send(self, connected_atom::value, peer, std::move(outcome));
      });
}

void PeerConnector::on_connect_outcome(NodeId peer, ConnectOutcome& outcome) {
  auto it = links_.find(peer);
  if (it == links_.end()) return;  // the peer left the cluster meanwhile: the socket closes
  Link& link = it->second;
  link.connecting = false;
  if (!outcome.socket) {
    // Once per state change: a peer that is down for an hour logs one line, not thousands.
    if (!link.reported_unreachable && !link.ever_connected) {
      spdlog::info("node {}: peer {} at {}:{} is not reachable yet ({}); retrying in the background",
                   config_.self, peer, link.address.host, link.address.port, outcome.error);
    } else {
      spdlog::debug("node {}: connecting to peer {} at {}:{} failed: {}", config_.self, peer,
                    link.address.host, link.address.port, outcome.error);
    }
    link.reported_unreachable = true;
    return retry_later(link);
  }
  const auto hdl = add_scribe(outcome.socket->release());
  configure_read(hdl, caf::io::receive_policy::at_most(4096));
  link.connection = hdl;
  link.ever_connected = true;
  link.reported_unreachable = false;
  link.next_delay = std::chrono::milliseconds{0};
  counters_->set_connected(peer, true);
  spdlog::info("node {}: connected to peer {} at {}:{}", config_.self, peer, link.address.host,
               link.address.port);
}

void PeerConnector::on_closed(caf::io::connection_handle hdl) {
  for (auto& [id, link] : links_) {
    if (link.connection != hdl) continue;
    link.connection.reset();
    counters_->set_connected(id, false);
    spdlog::info("node {}: lost peer {} at {}:{}; reconnecting", config_.self, id,
                 link.address.host, link.address.port);
    retry_later(link);
    return;
  }
}

void PeerConnector::retry_later(Link& link) {
  using std::chrono::milliseconds;
  milliseconds delay = link.next_delay.count() > 0 ? link.next_delay : config_.reconnect.initial;
  link.next_delay = std::min(delay * 2, config_.reconnect.max);
  std::uniform_int_distribution<milliseconds::rep> draw(delay.count() / 2, delay.count());
  delayed_send(this, milliseconds{draw(jitter_)}, reconnect_atom::value, link.address.id);
}

bool TransportCounters::connected(NodeId peer) const {
  std::lock_guard lock(mutex_);
  auto it = connected_.find(peer);
  return it != connected_.end() && it->second;
}

void TransportCounters::set_connected(NodeId peer, bool connected) {
  std::lock_guard lock(mutex_);
  connected_[peer] = connected;
}

void TransportCounters::forget(NodeId peer) {
  std::lock_guard lock(mutex_);
  connected_.erase(peer);
}

}  // namespace raftor::network
