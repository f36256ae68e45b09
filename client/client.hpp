// A client of a raftor cluster: key-value reads and writes with leader discovery and retries,
// and per-node status and snapshot requests, over the nodes' published endpoints.
//
//   Client ──connect (probe + handshake)──▶ node's NodeEndpoint ──delegate──▶ its Raft actor
//
// Writes go to the leader: the client starts with the leader it cached (else the first
// endpoint), follows the `leader` hint of a not_leader reply, else tries the next node; an
// unreachable node, a timeout or a node that cannot serve moves on to another one; after
// every node failed in a row it backs off. At the deadline it gives up with an error that
// names each node tried and what it answered. Nothing throws.
//
// Every write carries this client's id and a sequence number that increases per write; the
// retries of one write reuse its number, so the cluster applies it once (Raft thesis §6.3).
//
// Threads: use a Client from one thread, the one that created it. Calls block that thread
// (each for at most the deadline) and are not synchronized. A Client that owns its actor
// system must also be destroyed on that thread: CAF 0.17 ties a thread to the actor system
// it last used, and a system destroyed elsewhere can wait for that thread forever.
#pragma once

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raftor/actors/actor_messages.hpp"
#include "raftor/actors/interfaces.hpp"
#include "raftor/client/client_options.hpp"
#include "raftor/client/connection_pool.hpp"
#include "raftor/client/endpoint.hpp"
#include "raftor/storage/command.hpp"
#include "raftor/storage/status.hpp"

namespace raftor::client {

struct GetResult {
  std::optional<std::string> value;  // nullopt: the key does not exist
  std::uint64_t index = 0;           // the applied index the read was served at
};

struct CasResult {
  bool swapped = false;     // false: the current value did not match `expected`
  std::uint64_t index = 0;  // the log index of the compare-and-swap entry
};

// What a client's actor system needs: the middleman and raftor's message types.
void configure_client_system(caf::actor_system_config& config);

class Client {
 public:
  // With an actor system of its own.
  explicit Client(std::vector<Endpoint> endpoints, ClientOptions options = {});
  // On the caller's system (configured with configure_client_system), which must outlive
  // the Client.
  Client(caf::actor_system& system, std::vector<Endpoint> endpoints, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Writes: the log index at which the write was applied.
  Result<std::uint64_t> put(std::string_view key, std::string_view value);
  Result<std::uint64_t> del(std::string_view key);
  // expected == nullopt: swaps only if the key is absent.
  Result<CasResult> cas(std::string_view key, std::optional<std::string_view> expected,
                        std::string_view new_value);
  // linearizable and lease reads go to the leader; eventual reads to any node.
  Result<GetResult> get(std::string_view key,
                        ReadConsistency consistency = ReadConsistency::linearizable);

  // One node, no retries.
  Result<NodeStatus> status(NodeId node);
  // Has the node take a snapshot now. Waits up to the deadline (not the request timeout):
  // writing a large state takes a while.
  Result<SnapshotMetadata> snapshot(NodeId node);

  std::uint64_t client_id() const { return client_id_; }
  NodeId cached_leader() const { return leader_; }
  // The (client id, sequence) of the latest write sent; {id, 0} before any.
  command::ClientSequence last_sent() const { return {client_id_, sequence_}; }
  const std::vector<Endpoint>& endpoints() const { return pool_.endpoints(); }
  const ClientOptions& options() const { return options_; }

 private:
  using Clock = std::chrono::steady_clock;
  // One request to one node: its reply, or an error when the node did not answer.
  using Attempt = std::function<Result<ClientReply>(NodeId node, const node_endpoint_actor&,
                                                    std::chrono::milliseconds timeout)>;

  Result<ClientReply> write(std::string_view what, std::string payload);
  Result<ClientReply> route(std::string_view what, bool needs_leader, bool is_write,
                            const Attempt& attempt);
  NodeId next_after(NodeId node) const;
  // The requester every call uses (created on first use, on the client's thread).
  caf::scoped_actor& requester();
  template <class Reply, class... Ts>
  Result<Reply> ask_via(const node_endpoint_actor& endpoint, std::chrono::milliseconds timeout,
                        Ts&&... xs);
  std::chrono::milliseconds attempt_timeout(Clock::time_point until) const;

  std::unique_ptr<caf::actor_system_config> own_config_;
  std::unique_ptr<caf::actor_system> own_system_;
  caf::actor_system* system_;
  ClientOptions options_;
  Status valid_;  // of the endpoints: every call fails with it when they are not
  ConnectionPool pool_;  // after the system: destroyed (handles released) before it
  std::unique_ptr<caf::scoped_actor> requester_;  // destroyed before the system too
  std::uint64_t client_id_ = 0;
  std::uint64_t sequence_ = 0;
  NodeId leader_ = 0;
};

}  // namespace raftor::client
