// The client's handles to the nodes' published endpoints: connected on first use, cached,
// and dropped by the caller when a request through one fails (the next use reconnects).
//
// Connecting never blocks past its timeout: a TCP probe first (CAF 0.17's middleman
// connects with a blocking connect(), which a silent host holds for minutes), then the
// middleman's handshake as a request with a timeout.
#pragma once

#include <caf/all.hpp>

#include <chrono>
#include <map>
#include <vector>

#include "raftor/actors/interfaces.hpp"
#include "raftor/client/endpoint.hpp"
#include "raftor/storage/status.hpp"

namespace raftor::client {

class ConnectionPool {
 public:
  // `system` must have the middleman loaded and raftor's message types registered.
  ConnectionPool(caf::actor_system& system, std::vector<Endpoint> endpoints);

  // The cached handle, or a new connection made within `timeout`. Errors name the node.
  Result<node_endpoint_actor> get(NodeId id, std::chrono::milliseconds timeout);
  void drop(NodeId id) { handles_.erase(id); }

  const Endpoint* find(NodeId id) const;
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }

 private:
  Result<node_endpoint_actor> connect(const Endpoint& endpoint, std::chrono::milliseconds timeout);

  caf::actor_system& system_;
  std::vector<Endpoint> endpoints_;
  std::map<NodeId, node_endpoint_actor> handles_;
};

}  // namespace raftor::client
