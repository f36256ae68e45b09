#include "raftor/storage/status.hpp"

namespace raftor {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::io_error: return "io_error";
    case ErrorCode::corruption: return "corruption";
    case ErrorCode::checksum_mismatch: return "checksum_mismatch";
    case ErrorCode::malformed_entry: return "malformed_entry";
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::not_running: return "not_running";
    case ErrorCode::out_of_range: return "out_of_range";
    case ErrorCode::not_leader: return "not_leader";
    case ErrorCode::timeout: return "timeout";
    case ErrorCode::internal: return "internal";
    case ErrorCode::busy: return "busy";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string out(raftor::to_string(code));
  out += ": ";
  out += message;
  return out;
}

}  // namespace raftor
