// The client's connections to the nodes' endpoints, one per node: connected on first use
// and kept; a connection that failed reconnects on its next use. The endpoints are the
// ones given, plus nodes learned from the cluster's configuration.
#pragma once

#include <map>
#include <vector>

#include "raftor/client/endpoint.hpp"
#include "raftor/client/node_connection.hpp"

namespace raftor::client {

class ConnectionPool {
 public:
  explicit ConnectionPool(std::vector<Endpoint> endpoints);

  // The node's connection (maybe not connected yet); null when `id` is not an endpoint.
  NodeConnection* get(NodeId id);

  const Endpoint* find(NodeId id) const;
  // Adds a node learned later (Client::learn_endpoint); false when the id is known already.
  bool add(Endpoint endpoint);
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }

 private:
  std::vector<Endpoint> endpoints_;
  std::map<NodeId, NodeConnection> connections_;
};

}  // namespace raftor::client
