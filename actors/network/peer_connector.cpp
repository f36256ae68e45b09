#include "raftor/actors/network/peer_connector.hpp"

#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "raftor/actors/network/tcp_probe.hpp"

namespace raftor::network {

PeerConnector::PeerConnector(caf::actor_config& cfg, PeerConnectorConfig config,
                             std::shared_ptr<TransportCounters> counters)
    : peer_connector_actor::base(cfg),
      config_(std::move(config)),
      counters_(std::move(counters)),
      jitter_(static_cast<std::minstd_rand::result_type>(config_.seed)) {
  for (const auto& peer : config_.peers) links_[peer.id].address = peer;
}

auto PeerConnector::make_behavior() -> behavior_type {
  endpoint_interface_ = system().message_types<node_endpoint_actor>();
  set_down_handler([this](caf::down_msg& down) { on_down(down); });
  for (auto& [id, link] : links_) probe(id);
  return {
      [this](peer_bytes_atom, NodeId to, std::string& bytes) { forward(to, bytes); },
      [this](reconnect_atom, NodeId peer) { probe(peer); },
      [this](probed_atom, NodeId peer, bool reachable, const std::string& why) {
        if (reachable) {
          connect(peer);
        } else {
          on_connect_failed(peer, why);
        }
      },
  };
}

void PeerConnector::forward(NodeId to, std::string& bytes) {
  auto it = links_.find(to);
  if (it == links_.end() || !it->second.endpoint) {
    counters_->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Not anon_send: the receiving endpoint names the sending node in its refusal logs.
  send(it->second.endpoint, peer_bytes_atom::value, std::move(bytes));
  counters_->forwarded.fetch_add(1, std::memory_order_relaxed);
}

void PeerConnector::probe(NodeId peer) {
  auto it = links_.find(peer);
  if (it == links_.end()) return;
  Link& link = it->second;
  if (link.connecting || link.endpoint) return;
  link.connecting = true;
  // A detached helper: the probe blocks its own thread (for at most probe_timeout plus name
  // resolution), and the actor system's shutdown waits for it no longer than that.
  auto self = caf::actor_cast<peer_connector_actor>(this);
  system().spawn<caf::detached>(
      [self, peer, address = link.address, timeout = config_.reconnect.probe_timeout] {
        auto status = probe_tcp(address.host, address.port, timeout);
        caf::anon_send(self, probed_atom::value, peer, status.ok(),
                       status.ok() ? std::string() : status.error().message);
      });
}

void PeerConnector::connect(NodeId peer) {
  Link& link = links_.at(peer);
  // The middleman actor answers once the BASP handshake is done (or failed). Its connect()
  // blocks, but the probe just saw the peer answer, so it returns at once.
  auto middleman = system().middleman().actor_handle();
  request(middleman, config_.reconnect.connect_timeout, caf::connect_atom::value,
          link.address.host, link.address.port)
      .then(
          [this, peer](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
            on_connected(peer, std::move(ptr), ifs);
          },
          [this, peer](caf::error& error) { on_connect_failed(peer, system().render(error)); });
}

void PeerConnector::on_connected(NodeId peer, caf::strong_actor_ptr ptr,
                                 const std::set<std::string>& ifs) {
  Link& link = links_.at(peer);
  link.connecting = false;
  if (!ptr) return on_connect_failed(peer, "no actor is published at that port");
  if (!system().assignable(ifs, endpoint_interface_)) {
    return on_connect_failed(peer, "the actor published there is not a raftor node endpoint");
  }
  link.endpoint = caf::actor_cast<node_endpoint_actor>(std::move(ptr));
  // A peer that already went away (a proxy the middleman still cached) is reported by an
  // immediate down_msg, which reconnects.
  monitor(link.endpoint);
  link.ever_connected = true;
  link.reported_unreachable = false;
  link.next_delay = std::chrono::milliseconds{0};
  set_connected(peer, true);
  spdlog::info("node {}: connected to peer {} at {}:{}", config_.self, peer, link.address.host,
               link.address.port);
}

void PeerConnector::on_connect_failed(NodeId peer, const std::string& why) {
  Link& link = links_.at(peer);
  link.connecting = false;
  // Once per state change: a peer that is down for an hour logs one line, not thousands.
  if (!link.reported_unreachable && !link.ever_connected) {
    spdlog::info("node {}: peer {} at {}:{} is not reachable yet ({}); retrying in the background",
                 config_.self, peer, link.address.host, link.address.port, why);
  } else {
    spdlog::debug("node {}: connecting to peer {} at {}:{} failed: {}", config_.self, peer,
                  link.address.host, link.address.port, why);
  }
  link.reported_unreachable = true;
  retry_later(link);
}

void PeerConnector::on_down(const caf::down_msg& down) {
  for (auto& [id, link] : links_) {
    if (!link.endpoint || link.endpoint.address() != down.source) continue;
    link.endpoint = nullptr;
    set_connected(id, false);
    spdlog::info("node {}: lost peer {} at {}:{} ({}); reconnecting", config_.self, id,
                 link.address.host, link.address.port, system().render(down.reason));
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

void PeerConnector::set_connected(NodeId peer, bool connected) {
  auto it = counters_->connected.find(peer);
  if (it != counters_->connected.end()) it->second.store(connected, std::memory_order_release);
}

}  // namespace raftor::network
