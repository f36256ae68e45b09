// A network address as configured and as recorded in a cluster's membership: "HOST:PORT",
// or "[IPv6]:PORT". Parsed in one place for the node's configuration, the membership's
// addresses and the transport that dials them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "raftor/storage/status.hpp"

namespace raftor::network {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;

  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// "HOST:PORT" or "[IPv6]:PORT"; port 1-65535. invalid_argument naming the expected form.
Result<HostPort> parse_host_port(std::string_view text);
std::string to_string(const HostPort& address);  // IPv6 hosts in brackets

}  // namespace raftor::network
