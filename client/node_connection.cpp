#include "raftor/client/node_connection.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace raftor::client {

namespace {
using std::chrono::milliseconds;
constexpr std::size_t kReadChunk = 64 * 1024;

int millis_left(std::chrono::steady_clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<milliseconds::rep>(left.count(), 0));
}

// 1: ready, 0: the deadline passed, -1: error (errno).
int wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, millis_left(deadline));
    if (rc < 0 && errno == EINTR) continue;
    return rc;
  }
}
}  // namespace

void NodeConnection::close() {
  socket_.reset();
  reader_ = network::FrameReader();  // a half-read frame of the old connection is void
}

Status NodeConnection::fail(std::string why) {
  close();
  return make_error(ErrorCode::io_error, std::move(why));
}

Status NodeConnection::connect(Clock::time_point deadline) {
  auto socket = network::connect_tcp(endpoint_.host, endpoint_.port,
                                     milliseconds{millis_left(deadline)});
  if (!socket) return make_error(ErrorCode::io_error, "unreachable (" + socket.error().message + ")");
  socket_ = std::move(socket).value();
  return {};
}

Status NodeConnection::call(pb::ClientRequest& request, pb::ClientResponse& response,
                            milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  sent_ = false;
  if (!socket_) {
    if (auto s = connect(deadline); !s) return s;
  }
  const std::uint64_t id = ++next_id_;
  request.set_id(id);
  out_.clear();
  network::append_frame(out_, network::FrameKind::client_request, request);
  if (auto s = write_all(deadline); !s) return s;
  return read_response(id, response, deadline);
}

Status NodeConnection::write_all(Clock::time_point deadline) {
  std::size_t written = 0;
  while (written < out_.size()) {
    const ssize_t n = ::send(socket_.get(), out_.data() + written, out_.size() - written, MSG_NOSIGNAL);
    if (n > 0) {
      sent_ = true;
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const int ready = wait_for(socket_.get(), POLLOUT, deadline);
      if (ready > 0) continue;
      // Part of a frame may be out: the stream is no longer usable.
      if (ready == 0) {
        close();
        return make_error(ErrorCode::timeout, "the node did not take the request in time");
      }
    }
    return fail(std::string("sending failed: ") + std::strerror(errno));
  }
  return {};
}

Status NodeConnection::read_response(std::uint64_t id, pb::ClientResponse& response,
                                     Clock::time_point deadline) {
  in_.resize(kReadChunk);
  for (;;) {
    network::Frame frame;
    while (reader_.next(frame)) {
      if (frame.kind != network::FrameKind::client_response) {
        return fail("the node sent a frame that is not a client response");
      }
      if (!response.ParseFromArray(frame.payload.data(), static_cast<int>(frame.payload.size()))) {
        return fail("the node's response does not parse");
      }
      if (response.id() == id) return {};
      // Otherwise a late answer to a request that timed out before: discarded.
    }
    if (reader_.failed()) return fail("bad response stream: " + reader_.error());
    const int ready = wait_for(socket_.get(), POLLIN, deadline);
    if (ready == 0) return make_error(ErrorCode::timeout, "no reply in time");
    if (ready < 0) return fail(std::string("waiting for the reply failed: ") + std::strerror(errno));
    const ssize_t n = ::recv(socket_.get(), in_.data(), in_.size(), 0);
    if (n == 0) return fail("the node closed the connection");
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return fail(std::string("receiving failed: ") + std::strerror(errno));
    }
    reader_.append(in_.data(), static_cast<std::size_t>(n));
  }
}

}  // namespace raftor::client
