// The broker behind a NodeEndpoint: accepts connections on the node's port and reads
// frames (frame.hpp) from each.
//
//   peer ══peer frame══▶ decode (PeerCodec) ──(peer, raft::Message)──▶ Raft actor
//   client ══client_request══▶ request(Raft actor) ··reply··▶ client_response ══▶ client
//
// It runs on CAF's multiplexer thread, so it never blocks: client requests are CAF
// requests to the Raft actor whose replies are written back to the connection they came
// from (if it is still open). A connection that sends a bad frame (bad magic, version or
// kind, a length over the maximum, a payload that does not parse) is closed with a
// rate-limited log line; a well-framed peer message that PeerCodec refuses (another
// cluster, unknown sender, ...) is counted and logged but keeps its connection. A client
// that leaves more than the frame limit of responses unread is closed too. Everyone else
// is served on.
#pragma once

#include <caf/io/all.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <string_view>

#include "raftor/actors/interfaces.hpp"
#include "raftor/actors/network/frame.hpp"
#include "raftor/actors/network/node_endpoint_config.hpp"
#include "raftor/actors/network/peer_codec.hpp"
#include "raftor/actors/network/refusal_log.hpp"
#include "raftor/messages/client.pb.h"

namespace raftor::network {

class EndpointBroker : public caf::io::broker {
 public:
  EndpointBroker(caf::actor_config& cfg, caf::io::doorman_ptr doorman, NodeEndpointConfig config,
                 std::shared_ptr<EndpointCounters> counters);

  caf::behavior make_behavior() override;
  void on_exit() override;
  const char* name() const override { return "raftor.node_endpoint"; }

 private:
  struct Connection {
    Connection(std::size_t max_frame, std::uint64_t serial) : reader(max_frame), serial(serial) {}
    FrameReader reader;
    // Tells this connection from a later one on the same handle: CAF's handle is the
    // socket, which the kernel reuses, and a late reply must not reach the next client.
    std::uint64_t serial;
    std::string who;            // "127.0.0.1:53422", for logs
    std::uint32_t pending = 0;  // client requests awaiting the Raft actor
    std::size_t read_size = 4 * 1024;  // the receive policy's at_most
    // CAF holds bytes of this connection it has not written yet: later responses queue
    // behind them (in wr_buf) until it reports them all written (data_transferred_msg).
    bool caf_writes = false;
  };

  void on_new_connection(caf::io::connection_handle hdl);
  void on_data(caf::io::new_data_msg& msg);
  void adapt_read_size(caf::io::connection_handle hdl, Connection& conn, std::size_t received);
  void on_peer_frame(Connection& conn, std::string_view payload);
  // False when the payload is not a ClientRequest: the connection is then closed.
  bool on_client_frame(caf::io::connection_handle hdl, Connection& conn, std::string_view payload);
  void send_response(caf::io::connection_handle hdl, const pb::ClientResponse& response);
  // False (and the connection closed) when the client left more than max_frame_bytes of
  // responses unread: a client that sends and never reads must not grow the node.
  bool keeps_up(caf::io::connection_handle hdl);
  void fail(caf::io::connection_handle hdl, std::uint64_t id, ErrorCode code, std::string message);
  void drop_connection(caf::io::connection_handle hdl, const std::string& who,
                       const std::string& why);
  void log_refusal(const std::string& who, const std::string& why);
  ClientReply not_attached_reply() const;

  caf::io::doorman_ptr doorman_;  // handed to the broker in make_behavior
  NodeEndpointConfig config_;
  PeerCodec codec_;
  std::shared_ptr<EndpointCounters> counters_;
  raft_actor raft_;
  caf::actor connector_;          // this node's peer connector (may be null)
  std::set<NodeId> announced_;    // senders whose address the connector was told
  std::string from_address_;      // scratch: the address the last peer message named
  RefusalLog refusals_;
  std::map<caf::io::connection_handle, Connection> connections_;
  std::uint64_t next_serial_ = 0;
  pb::ClientRequest request_;     // reused for every request: no allocation per message
  pb::ClientResponse response_;   // reused for every response
  std::vector<char> out_;         // reused: a response frame written straight to its socket
};

}  // namespace raftor::network
