#include "history.hpp"

#include <cstdio>

namespace raftor::bench {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string to_json(const Event& e) {
  std::string out = "{\"process\":" + std::to_string(e.process) + ",\"type\":\"" + e.type +
                    "\",\"f\":\"" + e.f + "\",\"key\":" + json_string(e.key);
  if (e.has_value) out += ",\"value\":" + (e.value ? json_string(*e.value) : "null");
  if (e.has_expected) out += ",\"expected\":" + (e.expected ? json_string(*e.expected) : "null");
  if (e.succeeded) out += std::string(",\"succeeded\":") + (*e.succeeded ? "true" : "false");
  return out + ",\"time\":" + std::to_string(e.time) + "}";
}

}  // namespace raftor::bench
