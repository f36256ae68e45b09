// A TCP connection made within a deadline, by a non-blocking connect() and poll().
//
// Why: a blocking connect() to a host that is down (SYNs unanswered) waits for the kernel's
// connect timeout, about two minutes on Linux. Whoever connects must therefore never be a
// CAF scheduler or multiplexer thread: the peer connector runs this on a detached helper
// and then adopts the connected socket into its broker; the client runs it on its own
// (blocking) thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "raftor/storage/status.hpp"

namespace raftor::network {

// Owns a file descriptor: closes it unless release()d.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset();
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// A connected, non-blocking socket with TCP_NODELAY set (frames are small and latency
// matters more than packet count). Blocks the calling thread for up to `timeout` plus name
// resolution, which has no deadline here: prefer addresses or /etc/hosts names for peers.
Result<UniqueFd> connect_tcp(const std::string& host, std::uint16_t port,
                             std::chrono::milliseconds timeout);

void set_tcp_nodelay(int fd);

}  // namespace raftor::network
