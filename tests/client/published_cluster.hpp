// An in-process LocalCluster whose nodes each publish a NodeEndpoint on loopback (port 0:
// a free one), attached to the node's Raft actor: clients reach it over real sockets, as
// they reach separate processes.
#pragma once

#include <caf/all.hpp>

#include <map>
#include <optional>
#include <vector>

#include "raftor/actors/network/node_endpoint.hpp"
#include "raftor/client/endpoint.hpp"
#include "raftor/tests/actors/raft/local_cluster.hpp"

namespace raftor::testing {

// What an actor system hosting node endpoints needs: the middleman (whose multiplexer runs
// the endpoint brokers) and raftor's message types.
void configure_endpoint_system(caf::actor_system_config& config);

class PublishedCluster {
 public:
  explicit PublishedCluster(LocalClusterOptions options = {});
  // Stops the endpoints, the nodes, then the actor system: construct and destroy on the
  // same thread (CAF 0.17 ties a thread to the system it last used).
  ~PublishedCluster();

  LocalCluster& cluster() { return *cluster_; }
  client::Endpoint endpoint(NodeId id) const;
  std::vector<client::Endpoint> endpoints() const;  // in id order
  // The node's Raft actor and its endpoint: as if its process died.
  void stop_node(NodeId id);
  NodeId leader();  // waits for one; 0 if none within 10 s
  NodeId follower();  // a running node that is not the leader

 private:
  caf::actor_system_config config_;
  std::optional<caf::actor_system> system_;
  std::optional<LocalCluster> cluster_;
  std::map<NodeId, network::NodeEndpoint> endpoints_;
  std::map<NodeId, std::uint16_t> ports_;
};

}  // namespace raftor::testing
