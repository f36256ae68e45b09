#include "raftor/client/connection_pool.hpp"

#include <caf/io/all.hpp>

#include <algorithm>
#include <set>
#include <string>

#include "raftor/actors/network/tcp_probe.hpp"

namespace raftor::client {

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

ConnectionPool::ConnectionPool(caf::actor_system& system, std::vector<Endpoint> endpoints)
    : system_(system), endpoints_(std::move(endpoints)) {}

const Endpoint* ConnectionPool::find(NodeId id) const {
  auto it = std::find_if(endpoints_.begin(), endpoints_.end(),
                         [id](const Endpoint& e) { return e.id == id; });
  return it == endpoints_.end() ? nullptr : &*it;
}

Result<node_endpoint_actor> ConnectionPool::get(NodeId id, std::chrono::milliseconds timeout) {
  if (auto it = handles_.find(id); it != handles_.end()) return it->second;
  const Endpoint* endpoint = find(id);
  if (endpoint == nullptr) {
    return make_error(ErrorCode::invalid_argument,
                      "node " + std::to_string(id) + " is not among the configured endpoints");
  }
  auto handle = connect(*endpoint, timeout);
  if (handle.ok()) handles_[id] = *handle;
  return handle;
}

Result<node_endpoint_actor> ConnectionPool::connect(const Endpoint& endpoint,
                                                    std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  if (auto probed = network::probe_tcp(endpoint.host, endpoint.port, timeout); !probed) {
    return make_error(ErrorCode::io_error, "unreachable (" + probed.error().message + ")");
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
  if (left.count() <= 0) return make_error(ErrorCode::timeout, "no time left to connect");

  Result<node_endpoint_actor> out =
      make_error(ErrorCode::timeout, "the handshake did not complete");
  caf::scoped_actor self{system_};
  self->request(system_.middleman().actor_handle(), left, caf::connect_atom::value, endpoint.host,
                endpoint.port)
      .receive(
          [&](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& interfaces) {
            if (!ptr) {
              out = make_error(ErrorCode::io_error, "no actor is published at that port");
            } else if (!system_.assignable(interfaces,
                                           system_.message_types<node_endpoint_actor>())) {
              out = make_error(ErrorCode::io_error,
                               "the actor published there is not a raftor node endpoint");
            } else {
              out = caf::actor_cast<node_endpoint_actor>(std::move(ptr));
            }
          },
          [&](caf::error& error) {
            const bool timed_out = error == caf::sec::request_timeout;
            out = make_error(timed_out ? ErrorCode::timeout : ErrorCode::io_error,
                             (timed_out ? "the handshake timed out: " : "connecting failed: ") +
                                 system_.render(error));
          });
  return out;
}

}  // namespace raftor::client
