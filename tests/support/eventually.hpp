// Polling for tests of concurrent code: a condition that must come true within a bound.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace raftor::testing {

// Polls `condition` every 10 ms until it holds or `timeout` passes; whether it held.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace raftor::testing
