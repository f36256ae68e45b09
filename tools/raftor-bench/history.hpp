// raftor-bench's record of every operation, for raftor-lincheck: an invoke and a completion
// per operation as JSON lines (tests/integration/lincheck/README.md has the format).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace raftor::bench {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns();

// One step of an operation in the history (tests/integration/lincheck/README.md).
struct Event {
  unsigned process = 0;
  const char* type = "invoke";  // invoke | ok | fail | info
  const char* f = "put";        // put | get | cas
  std::string key;
  std::optional<std::string> value;
  bool has_value = false;  // get ok: value may be null
  std::optional<std::string> expected;
  bool has_expected = false;
  std::optional<bool> succeeded;
  std::int64_t time = 0;
};

std::string to_json(const Event& e);
std::string json_string(const std::string& s);

}  // namespace raftor::bench
