// Whether a TCP listener answers at host:port, within a deadline.
//
// Why: CAF 0.17's middleman connects with a *blocking* connect() inside its one middleman
// actor. A peer whose host is down (SYNs unanswered) blocks that actor for the kernel's
// connect timeout (about two minutes on Linux): every other connect, publish and unpublish
// of the process waits behind it, and so does the actor system's shutdown. The connector
// therefore probes an address with a non-blocking connect first, on a thread of its own,
// and only asks the middleman once the peer answers.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "raftor/storage/status.hpp"

namespace raftor::network {

// Blocks the calling thread for up to `timeout` (plus name resolution, which has no deadline
// here: prefer addresses or /etc/hosts names for peers). Closes the connection again.
Status probe_tcp(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout);

}  // namespace raftor::network
