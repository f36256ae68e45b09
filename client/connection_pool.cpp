#include "raftor/client/connection_pool.hpp"

#include <algorithm>

namespace raftor::client {

ConnectionPool::ConnectionPool(std::vector<Endpoint> endpoints) : endpoints_(std::move(endpoints)) {}

const Endpoint* ConnectionPool::find(NodeId id) const {
  auto it = std::find_if(endpoints_.begin(), endpoints_.end(),
                         [id](const Endpoint& e) { return e.id == id; });
  return it == endpoints_.end() ? nullptr : &*it;
}

bool ConnectionPool::add(Endpoint endpoint) {
  if (find(endpoint.id) != nullptr) return false;
  endpoints_.push_back(std::move(endpoint));
  return true;
}

NodeConnection* ConnectionPool::get(NodeId id) {
  if (auto it = connections_.find(id); it != connections_.end()) return &it->second;
  const Endpoint* endpoint = find(id);
  if (endpoint == nullptr) return nullptr;
  return &connections_.emplace(id, NodeConnection(*endpoint)).first->second;
}

}  // namespace raftor::client
