// A client of a raftor cluster: key-value reads and writes with leader discovery and retries,
// and per-node status and snapshot requests, over the nodes' endpoints.
//
//   Client ══client_request frames (TCP)══▶ node's NodeEndpoint ──request──▶ its Raft actor
//
// It speaks raftor's framed protocol over plain blocking sockets (node_connection.hpp):
// no actor system is needed; the constructor that takes one is kept for existing callers.
//
// Writes go to the leader: the client starts with the leader it cached (else the first
// endpoint), follows the `leader` hint of a not_leader reply (a leader that is not among the
// endpoints, because it joined later, is looked up in the configuration of the node that
// named it, which carries every member's address), else tries the next node; an
// unreachable node, a timeout or a node that cannot serve moves on to another one; after
// every node failed in a row it backs off. At the deadline it gives up with an error that
// names each node tried and what it answered. Nothing throws.
//
// Every write carries this client's id and a sequence number that increases per write; the
// retries of one write reuse its number, so the cluster applies it once (Raft thesis §6.3).
//
// Threads: use a Client from one thread at a time. Calls block that thread (each for at
// most the deadline) and are not synchronized.
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
#include "raftor/messages/client.pb.h"
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

// Tunes an actor system for a client process and registers raftor's message types. A
// Client itself needs no actor system; this is for processes that run one anyway.
void configure_client_system(caf::actor_system_config& config);

class Client {
 public:
  explicit Client(std::vector<Endpoint> endpoints, ClientOptions options = {});
  // The same: the system is not used (kept for callers written for the CAF transport).
  Client(caf::actor_system& system, std::vector<Endpoint> endpoints, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Writes: the log index at which the write was applied.
  Result<std::uint64_t> put(std::string_view key, std::string_view value);
  Result<std::uint64_t> del(std::string_view key);
  // A write the caller encoded itself (storage/command.hpp) with the id next_write_id()
  // handed out: for callers that keep connections of their own, fall back on this client
  // and must retry with the same bytes, so that the cluster applies the write once.
  command::ClientSequence next_write_id() { return {client_id_, ++sequence_}; }
  Result<ClientReply> propose(std::string payload) { return write("propose", std::move(payload)); }
  // expected == nullopt: swaps only if the key is absent.
  Result<CasResult> cas(std::string_view key, std::optional<std::string_view> expected,
                        std::string_view new_value);
  // linearizable and lease reads go to the leader; eventual reads to any node.
  Result<GetResult> get(std::string_view key,
                        ReadConsistency consistency = ReadConsistency::linearizable);

  // Membership, one server at a time (Raft thesis §4.1), at the leader: the index of the
  // configuration entry once it is committed. A retry of a change that took effect (its
  // first answer lost) succeeds. busy while another change or a leadership transfer is
  // under way (retried until the deadline); invalid_argument for a change that does not
  // fit (adding a member, promoting a voter, removing the last voter, a bad address).
  Result<std::uint64_t> add_learner(NodeId node, std::string_view address);
  Result<std::uint64_t> promote(NodeId node);
  Result<std::uint64_t> remove_member(NodeId node);
  // Leadership transfer (thesis §3.10) to `target` (0: the most up-to-date voter): the id
  // of the node that leads afterwards (0 if not known yet). Writes pause meanwhile.
  Result<NodeId> transfer_leader(NodeId target = 0);

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
  using Attempt = std::function<Result<ClientReply>(NodeId node, NodeConnection& connection,
                                                    std::chrono::milliseconds timeout)>;

  Result<ClientReply> write(std::string_view what, std::string payload);
  Result<std::uint64_t> change_membership(std::string_view what, pb::MemberChangeRequest::Type type,
                                          NodeId node, std::string_view address);
  Result<ClientReply> route(std::string_view what, bool needs_leader, bool is_write,
                            const Attempt& attempt);
  // Sends request_ and answers with the node's KvReply (a failure becomes a !ok reply).
  Result<ClientReply> kv_call(NodeConnection& connection, std::chrono::milliseconds timeout);
  // A node named as leader that is not among the endpoints (it joined the cluster after
  // this client was configured): asks `from` for its configuration, whose entries carry
  // every member's address (thesis §4.1), and adds that node as an endpoint.
  void learn_endpoint(NodeId from, NodeId node, Clock::time_point until);
  NodeId next_after(NodeId node) const;
  std::chrono::milliseconds attempt_timeout(Clock::time_point until) const;

  ClientOptions options_;
  Status valid_;  // of the endpoints: every call fails with it when they are not
  ConnectionPool pool_;
  pb::ClientRequest request_;    // reused by every call
  pb::ClientResponse response_;  // reused by every call
  std::uint64_t client_id_ = 0;
  std::uint64_t sequence_ = 0;
  NodeId leader_ = 0;
};

}  // namespace raftor::client
