#include "raftor/client/client.hpp"

#include <caf/io/all.hpp>

#include <algorithm>
#include <random>
#include <thread>

#include "raftor/actors/scheduler_tuning.hpp"
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

Error transport_error(caf::actor_system& system, const caf::error& error) {
  if (error == caf::sec::request_timeout) return make_error(ErrorCode::timeout, "no reply in time");
  return make_error(ErrorCode::io_error, "request failed: " + system.render(error));
}

// One request and its reply, or the reason there was none. `self` is the client's
// long-lived requester: a fresh actor per request would make every node create (and later
// drop) a proxy for it, which costs more than the request itself.
template <class Reply, class... Ts>
Result<Reply> ask(caf::actor_system& system, caf::scoped_actor& self,
                  const node_endpoint_actor& endpoint, milliseconds timeout, bool& timed_out,
                  Ts&&... xs) {
  Result<Reply> out = make_error(ErrorCode::timeout, "no reply in time");
  self->request(endpoint, timeout, std::forward<Ts>(xs)...)
      .receive([&](Reply& reply) { out = std::move(reply); },
               [&](caf::error& error) {
                 timed_out = error == caf::sec::request_timeout;
                 out = transport_error(system, error);
               });
  return out;
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
  config.load<caf::io::middleman>();
  register_message_types(config);
}

namespace {
std::unique_ptr<caf::actor_system> start_system(caf::actor_system_config& config) {
  configure_client_system(config);
  return std::make_unique<caf::actor_system>(config);
}
}  // namespace

Client::Client(std::vector<Endpoint> endpoints, ClientOptions options)
    : own_config_(std::make_unique<caf::actor_system_config>()),
      own_system_(start_system(*own_config_)),
      system_(own_system_.get()),
      options_(std::move(options)),
      valid_(validate_endpoints(endpoints)),
      pool_(*system_, std::move(endpoints)),
      client_id_(options_.client_id != 0 ? options_.client_id : random_client_id()) {}

Client::Client(caf::actor_system& system, std::vector<Endpoint> endpoints, ClientOptions options)
    : system_(&system),
      options_(std::move(options)),
      valid_(validate_endpoints(endpoints)),
      pool_(*system_, std::move(endpoints)),
      client_id_(options_.client_id != 0 ? options_.client_id : random_client_id()) {}

Client::~Client() = default;

caf::scoped_actor& Client::requester() {
  if (!requester_) requester_ = std::make_unique<caf::scoped_actor>(*system_);
  return *requester_;
}

template <class Reply, class... Ts>
Result<Reply> Client::ask_via(const node_endpoint_actor& endpoint, std::chrono::milliseconds timeout,
                              Ts&&... xs) {
  bool timed_out = false;
  auto out = ask<Reply>(*system_, requester(), endpoint, timeout, timed_out, std::forward<Ts>(xs)...);
  // A reply that comes after its timeout would stay in the requester's mailbox for good:
  // start over with a fresh requester (timeouts are rare).
  if (timed_out) requester_.reset();
  return out;
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
                     [&](NodeId, const node_endpoint_actor& endpoint, milliseconds timeout) {
                       return ask_via<ClientReply>(endpoint, timeout, read_atom::value,
                                               std::vector<std::string>{std::string(key)},
                                               consistency);
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
               [&](NodeId node, const node_endpoint_actor& endpoint, milliseconds timeout) {
                 if (options_.on_propose) options_.on_propose(node, payload);
                 return ask_via<ClientReply>(endpoint, timeout, propose_atom::value, payload);
               });
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
    if (auto endpoint = pool_.get(target, timeout); !endpoint) {
      log.record(target, who, endpoint.error().message);
    } else if (auto reply = attempt(target, *endpoint, attempt_timeout(until)); !reply) {
      pool_.drop(target);  // reconnects next time
      outcome_unknown |= is_write;
      log.record(target, who, reply.error().message);
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
  const Endpoint* endpoint = pool_.find(node);
  if (endpoint == nullptr) {
    return make_error(ErrorCode::invalid_argument,
                      "status: node " + std::to_string(node) + " is not among the endpoints");
  }
  const std::string what = "status of " + describe(*endpoint);
  const auto until = Clock::now() + options_.deadline;
  auto handle = pool_.get(node, attempt_timeout(until));
  if (!handle) return prefixed(what, handle.error());
  auto status = ask_via<NodeStatus>(*handle, attempt_timeout(until), status_atom::value);
  if (!status) {
    pool_.drop(node);
    return prefixed(what, status.error());
  }
  return status;
}

Result<SnapshotMetadata> Client::snapshot(NodeId node) {
  if (!valid_) return prefixed("snapshot", valid_.error());
  const Endpoint* endpoint = pool_.find(node);
  if (endpoint == nullptr) {
    return make_error(ErrorCode::invalid_argument,
                      "snapshot: node " + std::to_string(node) + " is not among the endpoints");
  }
  const std::string what = "snapshot on " + describe(*endpoint);
  const auto until = Clock::now() + options_.deadline;
  auto handle = pool_.get(node, attempt_timeout(until));
  if (!handle) return prefixed(what, handle.error());
  auto reply = ask_via<SnapshotReply>(*handle, left_until(until), snapshot_atom::value);
  if (!reply) {
    pool_.drop(node);
    return prefixed(what, reply.error());
  }
  if (!reply->ok) return make_error(static_cast<ErrorCode>(reply->code), what + ": " + reply->message);
  return reply->metadata;
}

}  // namespace raftor::client
