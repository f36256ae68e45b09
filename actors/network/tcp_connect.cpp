#include "raftor/actors/network/tcp_connect.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

namespace raftor::network {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void UniqueFd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void set_tcp_nodelay(int fd) {
  int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

namespace {
using Clock = std::chrono::steady_clock;

// A non-blocking connect to one address: the socket, or the errno why not.
int connect_within(const addrinfo& address, Clock::time_point deadline, UniqueFd& out) {
  UniqueFd fd(::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       address.ai_protocol));
  if (!fd) return errno;
  int error = 0;
  if (::connect(fd.get(), address.ai_addr, address.ai_addrlen) != 0) {
    error = errno;
    if (error == EINPROGRESS) {
      pollfd wait{fd.get(), POLLOUT, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      const int ready = ::poll(&wait, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
      if (ready == 1) {
        socklen_t len = sizeof error;
        if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
      } else {
        error = ready == 0 ? ETIMEDOUT : errno;
      }
    }
  }
  if (error == 0) out = std::move(fd);
  return error;
}
}  // namespace

Result<UniqueFd> connect_tcp(const std::string& host, std::uint16_t port,
                             std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return make_error(ErrorCode::io_error, "cannot resolve " + host + ": " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
  int error = ETIMEDOUT;
  for (const addrinfo* a = addresses.get(); a != nullptr && Clock::now() < deadline; a = a->ai_next) {
    UniqueFd fd;
    error = connect_within(*a, deadline, fd);
    if (error == 0) {
      set_tcp_nodelay(fd.get());
      return fd;
    }
  }
  return make_error(ErrorCode::io_error, host + ":" + service + ": " + std::strerror(error));
}

}  // namespace raftor::network
