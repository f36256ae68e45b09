// Where a client reaches the nodes of a cluster: each node's published endpoint.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace raftor::client {

struct Endpoint {
  NodeId id = 0;
  std::string host;
  std::uint16_t port = 0;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// "node 2 at 127.0.0.1:7002"
std::string describe(const Endpoint& endpoint);

// At least one endpoint; ids > 0 and distinct; a host and a port each.
Status validate_endpoints(const std::vector<Endpoint>& endpoints);

}  // namespace raftor::client
