// Rate limit for the log of refused peer messages: a misconfigured or hostile peer can send
// thousands of bad messages a second, and each must not cost a log line. At most one line
// per (sender, reason) and interval; the line says how many were refused since the last one.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace raftor::network {

class RefusalLog {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RefusalLog(Clock::duration interval = std::chrono::seconds(1)) : interval_(interval) {}

  // Records one refusal. Returns the number of refusals the caller should log now (this one
  // and those suppressed since the last line), or nothing while the interval runs.
  std::optional<std::uint64_t> record(const std::string& sender, const std::string& reason,
                                      Clock::time_point now);

  // Reasons that differ only in numbers ("7 bytes", "node 4") count as one reason.
  static std::string reason_key(const std::string& reason);

 private:
  struct Entry {
    Clock::time_point last_logged;
    std::uint64_t suppressed = 0;
  };
  static constexpr std::size_t kMaxEntries = 4096;  // bounds memory against many senders

  Clock::duration interval_;
  std::map<std::pair<std::string, std::string>, Entry> entries_;
};

}  // namespace raftor::network
