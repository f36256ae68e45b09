#include "published_cluster.hpp"

#include <caf/io/all.hpp>

#include <stdexcept>

#include "raftor/client/client.hpp"
#include "raftor/actors/interfaces.hpp"

namespace raftor::testing {

void configure_endpoint_system(caf::actor_system_config& config) {
  config.load<caf::io::middleman>();
  register_message_types(config);
}

PublishedCluster::PublishedCluster(LocalClusterOptions options) {
  configure_endpoint_system(config_);
  system_.emplace(config_);
  cluster_.emplace(*system_, options);
  cluster_->start_all();
  for (NodeId id : cluster_->ids()) {
    auto endpoint = network::NodeEndpoint::start(*system_, {id, "client-test", {}, "127.0.0.1", 0});
    if (!endpoint.ok()) throw std::runtime_error(endpoint.error().to_string());
    endpoint->attach(cluster_->actor(id));
    ports_[id] = endpoint->port();
    endpoints_.emplace(id, std::move(endpoint).value());
  }
}

PublishedCluster::~PublishedCluster() {
  endpoints_.clear();  // each stops: its port closed, its broker ended
  cluster_.reset();
  system_.reset();
}

client::Endpoint PublishedCluster::endpoint(NodeId id) const {
  return {id, "127.0.0.1", ports_.at(id)};
}

std::vector<client::Endpoint> PublishedCluster::endpoints() const {
  std::vector<client::Endpoint> out;
  for (const auto& [id, port] : ports_) out.push_back(endpoint(id));
  return out;
}

void PublishedCluster::stop_node(NodeId id) {
  endpoints_.erase(id);
  cluster_->stop(id);
}

NodeId PublishedCluster::leader() { return cluster_->wait_for_leader().value_or(0); }

NodeId PublishedCluster::follower() {
  const NodeId leader = this->leader();
  for (NodeId id : cluster_->ids()) {
    if (id != leader && cluster_->running(id)) return id;
  }
  return 0;
}

}  // namespace raftor::testing
