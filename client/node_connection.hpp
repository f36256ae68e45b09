// One client connection to one node's endpoint: a plain blocking TCP socket speaking
// raftor's framed protocol (actors/network/frame.hpp, messages/client.proto). No CAF.
//
// call() connects if needed (a non-blocking connect with a timeout: a silent host must not
// hold the caller for the kernel's two minutes), writes the request with a fresh id and
// waits with poll() for the response that carries that id. A response to an earlier
// request that timed out arrives later on the same connection and is discarded by its id,
// so a timeout keeps the connection; an I/O error or a bad frame closes it (the next call
// reconnects).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "raftor/actors/network/frame.hpp"
#include "raftor/actors/network/tcp_connect.hpp"
#include "raftor/client/endpoint.hpp"
#include "raftor/messages/client.pb.h"
#include "raftor/storage/status.hpp"

namespace raftor::client {

class NodeConnection {
 public:
  explicit NodeConnection(Endpoint endpoint) : endpoint_(std::move(endpoint)) {}

  // Sends `request` (its id is set here) and fills `response` with the matching answer.
  // Errors: timeout (no answer in time; the request may still be served), io_error.
  Status call(pb::ClientRequest& request, pb::ClientResponse& response,
              std::chrono::milliseconds timeout);

  void close();
  // Whether the last call's request (or part of it) went out: false when it could not connect.
  bool request_sent() const { return sent_; }
  bool connected() const { return static_cast<bool>(socket_); }
  const Endpoint& endpoint() const { return endpoint_; }

 private:
  using Clock = std::chrono::steady_clock;

  Status connect(Clock::time_point deadline);
  Status write_all(Clock::time_point deadline);
  Status read_response(std::uint64_t id, pb::ClientResponse& response, Clock::time_point deadline);
  Status fail(std::string why);  // closes, returns io_error

  Endpoint endpoint_;
  network::UniqueFd socket_;
  network::FrameReader reader_;
  std::string out_;            // the request being written; reused
  std::vector<char> in_;       // receive buffer; reused
  std::uint64_t next_id_ = 0;
  bool sent_ = false;
};

}  // namespace raftor::client
