#include "raftor/client/endpoint.hpp"

#include <set>

namespace raftor::client {

std::string describe(const Endpoint& endpoint) {
  const bool ipv6 = endpoint.host.find(':') != std::string::npos;
  const std::string host = ipv6 ? "[" + endpoint.host + "]" : endpoint.host;
  return "node " + std::to_string(endpoint.id) + " at " + host + ":" + std::to_string(endpoint.port);
}

Status validate_endpoints(const std::vector<Endpoint>& endpoints) {
  if (endpoints.empty()) {
    return make_error(ErrorCode::invalid_argument, "no endpoints: list the cluster's nodes");
  }
  std::set<NodeId> seen;
  for (const auto& e : endpoints) {
    if (e.id == 0) return make_error(ErrorCode::invalid_argument, "node id 0 is not valid");
    if (!seen.insert(e.id).second) {
      return make_error(ErrorCode::invalid_argument,
                        "node " + std::to_string(e.id) + " is listed twice");
    }
    if (e.host.empty() || e.port == 0) {
      return make_error(ErrorCode::invalid_argument,
                        "node " + std::to_string(e.id) + " needs a host and a port (1-65535)");
    }
  }
  return {};
}

}  // namespace raftor::client
