#include "raftor/client/client.hpp"

#include <algorithm>
#include <random>
#include <thread>

#include "raftor/actors/interfaces.hpp"
#include "raftor/actors/scheduler_tuning.hpp"
#include "raftor/actors/network/client_codec.hpp"
#include "raftor/actors/network/host_port.hpp"
#include "raftor/client/attempt_log.hpp"

namespace raftor::client {

namespace {
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::uint64_t random_client_id() {
  std::random_device device;
  std::uint64_t id = 0;
  while (id == 0) id = (std::uint64_t{device()} << 32) | device();  // 0 = not deduplicated
  return id;
}

milliseconds left_until(Clock::time_point until) {
  return std::max(milliseconds{0}, std::chrono::duration_cast<milliseconds>(until - Clock::now()));
}

Error unexpected_answer() {
  return make_error(ErrorCode::io_error, "the node answered with an unexpected response");
}

// Errors that another node (or a later try) cannot fix: the request itself is wrong.
bool retryable(ErrorCode code) {
  return code != ErrorCode::invalid_argument && code != ErrorCode::malformed_entry;
}

std::string outcome(const ClientReply& reply) {
  return std::string(to_string(static_cast<ErrorCode>(reply.code))) + ": " + reply.message;
}

Error prefixed(std::string_view what, const Error& error) {
  return make_error(error.code, std::string(what) + ": " + error.message);
}
}  // namespace

void configure_client_system(caf::actor_system_config& config) {
  tune_scheduler(config);
  register_message_types(config);
}

Client::Client(std::vector<Endpoint> endpoints, ClientOptions options)
    : options_(std::move(options)),
      valid_(validate_endpoints(endpoints)),
      pool_(std::move(endpoints)),
      client_id_(options_.client_id != 0 ? options_.client_id : random_client_id()) {}

Client::Client(caf::actor_system&, std::vector<Endpoint> endpoints, ClientOptions options)
    : Client(std::move(endpoints), std::move(options)) {}

Client::~Client() = default;

Result<ClientReply> Client::kv_call(NodeConnection& connection, milliseconds timeout) {
  if (auto sent = connection.call(request_, response_, timeout); !sent) return sent.error();
  switch (response_.body_case()) {
    case pb::ClientResponse::kReply:
      return network::from_proto(std::move(*response_.mutable_reply()));
    case pb::ClientResponse::kFailure: {
      // The node could not take the request (starting, overloaded): like a !ok reply.
      ClientReply reply;
      reply.code = static_cast<std::uint8_t>(response_.failure().code());
      reply.message = response_.failure().message();
      return reply;
    }
    default:
      connection.close();
      return unexpected_answer();
  }
}

// --- key-value operations ----------------------------------------------------------------

Result<std::uint64_t> Client::put(std::string_view key, std::string_view value) {
  auto reply = write("put", command::put(key, value, {client_id_, ++sequence_}));
  if (!reply) return reply.error();
  return reply->index;
}

Result<std::uint64_t> Client::del(std::string_view key) {
  auto reply = write("del", command::del(key, {client_id_, ++sequence_}));
  if (!reply) return reply.error();
  return reply->index;
}

Result<CasResult> Client::cas(std::string_view key, std::optional<std::string_view> expected,
                              std::string_view new_value) {
  auto reply = write("cas", command::cas(key, expected, new_value, {client_id_, ++sequence_}));
  if (!reply) return reply.error();
  return CasResult{reply->succeeded, reply->index};
}

Result<GetResult> Client::get(std::string_view key, ReadConsistency consistency) {
  const bool needs_leader = consistency != ReadConsistency::eventual;
  auto reply = route("get", needs_leader, /*is_write=*/false,
                     [&](NodeId, NodeConnection& connection, milliseconds timeout) {
                       request_.Clear();
                       auto* read = request_.mutable_read();
                       read->add_keys(key.data(), key.size());
                       read->set_consistency(static_cast<std::uint32_t>(consistency));
                       return kv_call(connection, timeout);
                     });
  if (!reply) return reply.error();
  GetResult out;
  out.index = reply->index;
  if (!reply->found.empty() && reply->found.front() && !reply->values.empty()) {
    out.value = std::move(reply->values.front());
  }
  return out;
}

Result<ClientReply> Client::write(std::string_view what, std::string payload) {
  // Every attempt sends these very bytes: the same client id and sequence number.
  return route(what, /*needs_leader=*/true, /*is_write=*/true,
               [&](NodeId node, NodeConnection& connection, milliseconds timeout) {
                 if (options_.on_propose) options_.on_propose(node, payload);
                 request_.Clear();
                 request_.set_propose(payload);
                 return kv_call(connection, timeout);
               });
}

// --- membership and leadership -----------------------------------------------------------

Result<std::uint64_t> Client::add_learner(NodeId node, std::string_view address) {
  return change_membership("member add", pb::MemberChangeRequest::ADD_LEARNER, node, address);
}

Result<std::uint64_t> Client::promote(NodeId node) {
  return change_membership("member promote", pb::MemberChangeRequest::PROMOTE, node, {});
}

Result<std::uint64_t> Client::remove_member(NodeId node) {
  return change_membership("member remove", pb::MemberChangeRequest::REMOVE, node, {});
}

Result<std::uint64_t> Client::change_membership(std::string_view what,
                                                pb::MemberChangeRequest::Type type, NodeId node,
                                                std::string_view address) {
  auto reply = route(what, /*needs_leader=*/true, /*is_write=*/true,
                     [&](NodeId, NodeConnection& connection, milliseconds timeout) {
                       request_.Clear();
                       auto* change = request_.mutable_member_change();
                       change->set_type(type);
                       change->set_node(node);
                       change->set_address(address.data(), address.size());
                       return kv_call(connection, timeout);
                     });
  if (!reply) return reply.error();
  return reply->index;
}

Result<NodeId> Client::transfer_leader(NodeId target) {
  auto reply = route("transfer-leader", /*needs_leader=*/true, /*is_write=*/true,
                     [&](NodeId, NodeConnection& connection, milliseconds timeout) {
                       request_.Clear();
                       request_.mutable_transfer_leader()->set_target(target);
                       return kv_call(connection, timeout);
                     });
  if (!reply) return reply.error();
  leader_ = reply->leader;  // the node that took over, where the next write should go
  return reply->leader;
}

// --- leader discovery and retries --------------------------------------------------------

Result<ClientReply> Client::route(std::string_view what, bool needs_leader, bool is_write,
                                  const Attempt& attempt) {
  if (!valid_) return prefixed(what, valid_.error());
  const auto until = Clock::now() + options_.deadline;
  AttemptLog log;
  bool outcome_unknown = false;  // a write was sent and not answered: it may have applied
  milliseconds backoff = options_.backoff;
  std::size_t failures_in_a_row = 0;
  NodeId target = leader_ != 0 ? leader_ : pool_.endpoints().front().id;

  for (milliseconds timeout = attempt_timeout(until); timeout.count() > 0;
       timeout = attempt_timeout(until)) {
    const std::string who = describe(*pool_.find(target));
    NodeId hint = 0;
    NodeConnection& connection = *pool_.get(target);
    if (auto reply = attempt(target, connection, timeout); !reply) {
      // A write that went out unanswered may have been applied.
      outcome_unknown |= is_write && connection.request_sent();
      log.record(target, who, reply.error().message,
                 /*cut_short=*/timeout < options_.request_timeout);
    } else if (reply->ok) {
      if (needs_leader) leader_ = target;
      return reply;
    } else {
      const auto code = static_cast<ErrorCode>(reply->code);
      if (!retryable(code)) {
        return make_error(code, std::string(what) + ": " + who + " refused it: " + reply->message);
      }
      outcome_unknown |= is_write && code == ErrorCode::timeout;
      log.record(target, who, outcome(*reply));
      if (code == ErrorCode::not_leader) hint = reply->leader;
      if (hint != 0 && pool_.find(hint) == nullptr) learn_endpoint(target, hint, until);
    }

    if (target == leader_) leader_ = 0;
    if (++failures_in_a_row >= pool_.endpoints().size()) {
      // Every node failed in a row (an election, or the cluster is down): wait a little.
      failures_in_a_row = 0;
      std::this_thread::sleep_for(std::min(backoff, left_until(until)));
      backoff = std::min(backoff * 2, options_.backoff_max);
    }
    target = (hint != 0 && hint != target && pool_.find(hint) != nullptr) ? hint
                                                                           : next_after(target);
  }

  std::string message = std::string(what) + ": gave up after " +
                        std::to_string(options_.deadline.count()) + " ms and " +
                        std::to_string(log.attempts()) + " attempt(s); " + log.summary();
  if (outcome_unknown) message += " (a request went unanswered: the write may have been applied)";
  return make_error(ErrorCode::timeout, std::move(message));
}

void Client::learn_endpoint(NodeId from, NodeId node, Clock::time_point until) {
  const milliseconds timeout = attempt_timeout(until);
  NodeConnection* connection = pool_.get(from);
  if (connection == nullptr || timeout.count() <= 0) return;
  request_.Clear();
  request_.mutable_status();
  if (!connection->call(request_, response_, timeout) || !response_.has_status()) return;
  const NodeStatus status = network::from_proto(response_.status());
  const auto entry = status.membership.addresses.find(node);
  if (entry == status.membership.addresses.end()) return;
  auto address = network::parse_host_port(entry->second);
  if (!address) return;  // the next attempt goes to another known node instead
  pool_.add({node, address->host, address->port});
}

NodeId Client::next_after(NodeId node) const {
  const auto& all = pool_.endpoints();
  auto it = std::find_if(all.begin(), all.end(), [node](const Endpoint& e) { return e.id == node; });
  if (it == all.end() || ++it == all.end()) return all.front().id;
  return it->id;
}

milliseconds Client::attempt_timeout(Clock::time_point until) const {
  return std::min(options_.request_timeout, left_until(until));
}

// --- one node ----------------------------------------------------------------------------

Result<NodeStatus> Client::status(NodeId node) {
  if (!valid_) return prefixed("status", valid_.error());
  NodeConnection* connection = pool_.get(node);
  if (connection == nullptr) {
    return make_error(ErrorCode::invalid_argument,
                      "status: node " + std::to_string(node) + " is not among the endpoints");
  }
  const std::string what = "status of " + describe(connection->endpoint());
  request_.Clear();
  request_.mutable_status();
  const auto until = Clock::now() + options_.deadline;
  if (auto sent = connection->call(request_, response_, attempt_timeout(until)); !sent) {
    return prefixed(what, sent.error());
  }
  if (response_.has_status()) return network::from_proto(response_.status());
  if (response_.has_failure()) {
    return make_error(static_cast<ErrorCode>(response_.failure().code()),
                      what + ": " + response_.failure().message());
  }
  return prefixed(what, unexpected_answer());
}

Result<SnapshotMetadata> Client::snapshot(NodeId node) {
  if (!valid_) return prefixed("snapshot", valid_.error());
  NodeConnection* connection = pool_.get(node);
  if (connection == nullptr) {
    return make_error(ErrorCode::invalid_argument,
                      "snapshot: node " + std::to_string(node) + " is not among the endpoints");
  }
  const std::string what = "snapshot on " + describe(connection->endpoint());
  request_.Clear();
  request_.mutable_snapshot();
  const auto until = Clock::now() + options_.deadline;
  if (auto sent = connection->call(request_, response_, left_until(until)); !sent) {
    return prefixed(what, sent.error());
  }
  if (response_.has_failure()) {
    return make_error(static_cast<ErrorCode>(response_.failure().code()),
                      what + ": " + response_.failure().message());
  }
  if (!response_.has_snapshot()) return prefixed(what, unexpected_answer());
  auto reply = network::from_proto(response_.snapshot());
  if (!reply.ok) return make_error(static_cast<ErrorCode>(reply.code), what + ": " + reply.message);
  return reply.metadata;
}

}  // namespace raftor::client
