#include "raftor/actors/network/endpoint_broker.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <utility>

#include "raftor/actors/network/client_codec.hpp"
#include "raftor/actors/network/tcp_connect.hpp"

namespace raftor::network {

namespace {
// Bytes read per event. CAF sizes (and zero-fills) its read buffer to this before every
// read, so small requests get a small buffer; a read that fills it means more is waiting
// (a large AppendEntries or snapshot chunk), and the connection moves to the large one.
constexpr std::size_t kSmallRead = 4 * 1024;
constexpr std::size_t kLargeRead = 256 * 1024;
}  // namespace

EndpointBroker::EndpointBroker(caf::actor_config& cfg, caf::io::doorman_ptr doorman,
                               NodeEndpointConfig config, std::shared_ptr<EndpointCounters> counters)
    : caf::io::broker(cfg),
      doorman_(std::move(doorman)),
      config_(std::move(config)),
      codec_{config_.cluster_id, config_.self, config_.peers},
      counters_(std::move(counters)) {}

caf::behavior EndpointBroker::make_behavior() {
  add_doorman(std::move(doorman_));
  return {
      [this](const caf::io::new_connection_msg& msg) { on_new_connection(msg.handle); },
      [this](caf::io::new_data_msg& msg) { on_data(msg); },
      [this](const caf::io::connection_closed_msg& msg) { connections_.erase(msg.handle); },
      [this](const caf::io::data_transferred_msg& msg) {
        if (msg.remaining != 0) return;
        if (auto it = connections_.find(msg.handle); it != connections_.end()) {
          it->second.caf_writes = false;  // CAF's buffers are empty: write directly again
        }
      },
      [this](const caf::io::acceptor_closed_msg&) {
        spdlog::error("node {}: the listening socket closed; no new connections", config_.self);
      },
      [this](attach_atom, raft_actor& raft) { raft_ = std::move(raft); },
      // From the node's transport: the configuration changed (PeerCodec::any_sender).
      [this](members_atom, const std::vector<NodeId>& senders, bool any_sender) {
        codec_.peers = std::set<NodeId>(senders.begin(), senders.end());
        codec_.any_sender = any_sender;
        announced_.clear();
      },
      [this](connector_atom, caf::actor& connector) { connector_ = std::move(connector); },
      // NodeEndpoint::stop(): the port is closed when this is answered.
      [this](close_port_atom) {
        close_all();
        quit();
      },
  };
}

void EndpointBroker::on_exit() {
  raft_ = nullptr;  // lets the Raft actor go even if this broker's state outlives it
  connections_.clear();
}

void EndpointBroker::on_new_connection(caf::io::connection_handle hdl) {
  // CAF's default multiplexer names a connection by its socket (the handle's id is the
  // descriptor); frames are small and replies wait on them, so Nagle's delay must not apply.
  set_tcp_nodelay(static_cast<int>(hdl.id()));
  connections_.erase(hdl);  // a stale entry, should CAF not have reported the old close
  auto it = connections_.try_emplace(hdl, config_.max_frame_bytes, ++next_serial_).first;
  it->second.who = remote_addr(hdl) + ":" + std::to_string(remote_port(hdl));
  configure_read(hdl, caf::io::receive_policy::at_most(kSmallRead));
  ack_writes(hdl, true);  // tells when CAF's write buffers drained (see send_response)
}

void EndpointBroker::adapt_read_size(caf::io::connection_handle hdl, Connection& conn,
                                     std::size_t received) {
  const std::size_t wanted = received >= conn.read_size ? kLargeRead
                             : received < kSmallRead    ? kSmallRead
                                                        : conn.read_size;
  if (wanted == conn.read_size) return;
  conn.read_size = wanted;
  configure_read(hdl, caf::io::receive_policy::at_most(wanted));
}

void EndpointBroker::on_data(caf::io::new_data_msg& msg) {
  auto it = connections_.find(msg.handle);
  if (it == connections_.end()) return;
  Connection& conn = it->second;
  conn.reader.append(msg.buf.data(), msg.buf.size());
  Frame frame;
  while (conn.reader.next(frame)) {
    switch (frame.kind) {
      case FrameKind::peer:
        on_peer_frame(conn, frame.payload);
        break;
      case FrameKind::client_request:
        if (!on_client_frame(msg.handle, conn, frame.payload)) {
          return drop_connection(msg.handle, conn.who,
                                 "a client request of " + std::to_string(frame.payload.size()) +
                                     " bytes does not parse");
        }
        break;
      case FrameKind::client_response:
        return drop_connection(msg.handle, conn.who, "a node does not take client responses");
    }
    if (!keeps_up(msg.handle)) return;
  }
  if (conn.reader.failed()) return drop_connection(msg.handle, conn.who, conn.reader.error());
  adapt_read_size(msg.handle, conn, msg.buf.size());
}

void EndpointBroker::on_peer_frame(Connection& conn, std::string_view payload) {
  auto message = codec_.decode(payload, &from_address_);
  if (!message.ok()) {
    counters_->refused.fetch_add(1, std::memory_order_relaxed);
    log_refusal(conn.who, message.error().message);
    return;
  }
  if (!raft_) {
    counters_->unattached.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // A sender accepted only because this node accepts any (a learner that joined): its
  // address lets the connector answer it. Once per sender and configuration.
  const NodeId from = message->from;
  if (connector_ && !from_address_.empty() && !codec_.peers.count(from) &&
      announced_.insert(from).second) {
    anon_send(connector_, peer_address_atom::value, from, from_address_);
  }
  anon_send(raft_, peer_atom::value, std::move(message).value());
  counters_->delivered.fetch_add(1, std::memory_order_relaxed);
}

bool EndpointBroker::on_client_frame(caf::io::connection_handle hdl, Connection& conn,
                                     std::string_view payload) {
  if (!request_.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return false;
  counters_->requests.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t id = request_.id();
  if (request_.body_case() == pb::ClientRequest::BODY_NOT_SET) {
    fail(hdl, id, ErrorCode::invalid_argument, "the request names no operation");
    return true;
  }
  if (!raft_) {
    if (request_.has_propose() || request_.has_read() || request_.has_member_change() ||
        request_.has_transfer_leader()) {
      response_.Clear();
      response_.set_id(id);
      to_proto(not_attached_reply(), *response_.mutable_reply());
      send_response(hdl, response_);
    } else {
      fail(hdl, id, ErrorCode::not_running, not_attached_reply().message);
    }
    return true;
  }
  if (conn.pending >= config_.max_pending_per_connection) {
    fail(hdl, id, ErrorCode::timeout,
         "node " + std::to_string(config_.self) + " has " + std::to_string(conn.pending) +
             " requests of this connection in progress: retry later");
    return true;
  }
  ++conn.pending;
  // The reply finds its connection by handle and serial; it may be gone (then the reply is
  // dropped).
  auto done = [this, hdl, serial = conn.serial] {
    if (auto it = connections_.find(hdl);
        it != connections_.end() && it->second.serial == serial && it->second.pending > 0) {
      --it->second.pending;
      return true;
    }
    return false;
  };
  auto on_error = [this, hdl, id, done](caf::error& error) {
    if (done()) fail(hdl, id, ErrorCode::internal, "the Raft actor failed: " + system().render(error));
  };
  auto on_reply = [this, hdl, id, done](ClientReply& reply) {
    if (!done()) return;
    response_.Clear();
    response_.set_id(id);
    to_proto(reply, *response_.mutable_reply());
    send_response(hdl, response_);
    keeps_up(hdl);
  };
  switch (request_.body_case()) {
    case pb::ClientRequest::kPropose:
      request(raft_, caf::infinite, propose_atom::value, std::move(*request_.mutable_propose()))
          .then(on_reply, on_error);
      break;
    case pb::ClientRequest::kRead: {
      const auto consistency = request_.read().consistency();
      if (consistency > static_cast<std::uint32_t>(ReadConsistency::eventual)) {
        done();
        fail(hdl, id, ErrorCode::invalid_argument,
             "unknown read consistency " + std::to_string(consistency));
        break;
      }
      std::vector<std::string> keys;
      keys.reserve(static_cast<std::size_t>(request_.read().keys_size()));
      for (auto& key : *request_.mutable_read()->mutable_keys()) keys.push_back(std::move(key));
      request(raft_, caf::infinite, read_atom::value, std::move(keys),
              static_cast<ReadConsistency>(consistency))
          .then(on_reply, on_error);
      break;
    }
    case pb::ClientRequest::kMemberChange: {
      const auto& change = request_.member_change();
      request(raft_, caf::infinite, member_atom::value,
              MembershipChange{static_cast<MembershipChangeType>(change.type()), change.node(),
                               change.address()})
          .then(on_reply, on_error);
      break;
    }
    case pb::ClientRequest::kTransferLeader:
      request(raft_, caf::infinite, transfer_atom::value, request_.transfer_leader().target())
          .then(on_reply, on_error);
      break;
    case pb::ClientRequest::kStatus:
      request(raft_, caf::infinite, status_atom::value)
          .then(
              [this, hdl, id, done](NodeStatus& status) {
                if (!done()) return;
                response_.Clear();
                response_.set_id(id);
                to_proto(status, *response_.mutable_status());
                send_response(hdl, response_);
                keeps_up(hdl);
              },
              on_error);
      break;
    case pb::ClientRequest::kSnapshot:
      request(raft_, caf::infinite, snapshot_atom::value)
          .then(
              [this, hdl, id, done](SnapshotReply& reply) {
                if (!done()) return;
                response_.Clear();
                response_.set_id(id);
                to_proto(reply, *response_.mutable_snapshot());
                send_response(hdl, response_);
                keeps_up(hdl);
              },
              on_error);
      break;
    case pb::ClientRequest::BODY_NOT_SET:
      break;  // answered above
  }
  return true;
}

void EndpointBroker::send_response(caf::io::connection_handle hdl,
                                   const pb::ClientResponse& response) {
  auto it = connections_.find(hdl);
  if (it == connections_.end()) return;
  Connection& conn = it->second;
  if (!conn.caf_writes) {
    // Straight to the socket (non-blocking): CAF's flush() would register the socket for
    // writability and unregister it once written, two epoll_ctl calls and a turn of the
    // multiplexer per response, a tenth of the leader's CPU under small writes.
    out_.clear();
    append_frame(out_, FrameKind::client_response, response);
    const ssize_t sent = ::send(static_cast<int>(hdl.id()), out_.data(), out_.size(),
                                MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent == static_cast<ssize_t>(out_.size())) return;
    // The socket's buffer is full (or the connection failed): CAF writes the rest, and
    // reports a failure as it would its own.
    const std::size_t done = sent > 0 ? static_cast<std::size_t>(sent) : 0;
    auto& buffer = wr_buf(hdl);
    buffer.insert(buffer.end(), out_.begin() + static_cast<std::ptrdiff_t>(done), out_.end());
  } else {
    append_frame(wr_buf(hdl), FrameKind::client_response, response);
  }
  conn.caf_writes = true;
  flush(hdl);
}

bool EndpointBroker::keeps_up(caf::io::connection_handle hdl) {
  auto it = connections_.find(hdl);
  if (it == connections_.end()) return false;
  const std::size_t unsent = wr_buf(hdl).size();
  if (unsent <= config_.max_frame_bytes) return true;
  drop_connection(hdl, it->second.who,
                  "it does not read its responses (" + std::to_string(unsent) +
                      " bytes unsent, more than the frame limit)");
  return false;
}

void EndpointBroker::fail(caf::io::connection_handle hdl, std::uint64_t id, ErrorCode code,
                          std::string message) {
  if (connections_.count(hdl) == 0) return;
  response_.Clear();
  response_.set_id(id);
  auto* failure = response_.mutable_failure();
  failure->set_code(static_cast<std::uint32_t>(code));
  failure->set_message(std::move(message));
  send_response(hdl, response_);
}

void EndpointBroker::drop_connection(caf::io::connection_handle hdl, const std::string& who,
                                     const std::string& why) {
  counters_->bad_streams.fetch_add(1, std::memory_order_relaxed);
  log_refusal(who, why + "; connection closed");
  connections_.erase(hdl);  // `who` may refer into it: logged above
  // CAF's close() is graceful: it would first write out what is queued, which a client
  // that does not read never lets happen. An abortive close (RST, queued bytes discarded)
  // makes its pending write fail at once, and CAF then releases the socket.
  const int fd = static_cast<int>(hdl.id());
  linger abort_on_close{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  ::shutdown(fd, SHUT_RDWR);
  close(hdl);
}

void EndpointBroker::log_refusal(const std::string& who, const std::string& why) {
  // Per remote address without the port: a flood of fresh connections is one sender.
  const std::string sender = who.substr(0, who.rfind(':'));
  if (auto count = refusals_.record(sender, why, RefusalLog::Clock::now())) {
    spdlog::warn("node {}: refused {} message(s) from {} in the last second or more; latest: {}",
                 config_.self, *count, who, why);
  }
}

ClientReply EndpointBroker::not_attached_reply() const {
  ClientReply reply;
  reply.code = static_cast<std::uint8_t>(ErrorCode::not_running);
  reply.message =
      "node " + std::to_string(config_.self) + " is starting: its Raft actor is not running yet";
  return reply;
}

}  // namespace raftor::network
