#include "raftor/actors/network/host_port.hpp"

#include <charconv>

namespace raftor::network {

namespace {
constexpr std::string_view kHostPortFormat = "HOST:PORT or [IPv6]:PORT with port 1-65535";

Error bad_format(std::string_view text) {
  return make_error(ErrorCode::invalid_argument, "expected " + std::string(kHostPortFormat) +
                                                     ", got '" + std::string(text) + "'");
}
}  // namespace

Result<HostPort> parse_host_port(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {  // IPv6 literals contain ':' themselves
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return bad_format(text);
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad_format(text);
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad_format(text);
  }
  std::uint64_t number = 0;
  const char* end = port.data() + port.size();
  auto [ptr, ec] = std::from_chars(port.data(), end, number);
  if (host.empty() || ec != std::errc{} || ptr != end || number < 1 || number > 65535) {
    return bad_format(text);
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(number)};
}

std::string to_string(const HostPort& address) {
  const bool ipv6 = address.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
}

}  // namespace raftor::network
