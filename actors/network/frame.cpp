#include "raftor/actors/network/frame.hpp"

#include <google/protobuf/message_lite.h>

#include <algorithm>
#include <cstring>

namespace raftor::network {

namespace {
constexpr std::size_t kShrinkAbove = 1u << 20;  // a buffer that held a big frame gives it back

void write_header(char* out, FrameKind kind, std::uint32_t length) {
  std::memcpy(out, kFrameMagic, 4);
  out[4] = static_cast<char>(kFrameVersion);
  out[5] = static_cast<char>(kind);
  out[6] = 0;
  out[7] = 0;
  out[8] = static_cast<char>(length >> 24);
  out[9] = static_cast<char>(length >> 16);
  out[10] = static_cast<char>(length >> 8);
  out[11] = static_cast<char>(length);
}

template <class Buffer>
void append_message(Buffer& out, FrameKind kind, const google::protobuf::MessageLite& message) {
  const std::size_t length = message.ByteSizeLong();
  const std::size_t start = out.size();
  out.resize(start + kFrameHeaderBytes + length);
  char* at = &out[start];
  write_header(at, kind, static_cast<std::uint32_t>(length));
  message.SerializeWithCachedSizesToArray(reinterpret_cast<std::uint8_t*>(at + kFrameHeaderBytes));
}

bool known_kind(std::uint8_t kind) {
  return kind >= static_cast<std::uint8_t>(FrameKind::peer) &&
         kind <= static_cast<std::uint8_t>(FrameKind::client_response);
}
}  // namespace

void append_frame(std::vector<char>& out, FrameKind kind,
                  const google::protobuf::MessageLite& message) {
  append_message(out, kind, message);
}

void append_frame(std::string& out, FrameKind kind, const google::protobuf::MessageLite& message) {
  append_message(out, kind, message);
}

void append_frame(std::vector<char>& out, FrameKind kind, std::string_view payload) {
  const std::size_t start = out.size();
  out.resize(start + kFrameHeaderBytes + payload.size());
  write_header(&out[start], kind, static_cast<std::uint32_t>(payload.size()));
  std::memcpy(&out[start + kFrameHeaderBytes], payload.data(), payload.size());
}

void FrameReader::append(const char* data, std::size_t size) {
  if (failed()) return;  // the caller closes the connection; keep nothing more
  if (consumed_ > 0) {   // frames handed out before are done with: drop their bytes
    buffer_.erase(0, consumed_);
    consumed_ = 0;
    if (buffer_.empty() && buffer_.capacity() > kShrinkAbove) std::string().swap(buffer_);
  }
  buffer_.append(data, size);
}

bool FrameReader::check_header(std::string_view available) {
  // The magic is checked on its first bytes already: an HTTP request or random bytes are
  // refused at once, not after 12 bytes that may never come.
  const std::size_t magic = std::min<std::size_t>(available.size(), sizeof kFrameMagic);
  if (std::memcmp(available.data(), kFrameMagic, magic) != 0) {
    error_ = "not a raftor frame (bad magic)";
    return false;
  }
  if (available.size() < kFrameHeaderBytes) return true;
  const auto* h = reinterpret_cast<const std::uint8_t*>(available.data());
  if (h[4] != kFrameVersion) {
    error_ = "frame version " + std::to_string(h[4]) + ", this node speaks " +
             std::to_string(kFrameVersion);
  } else if (!known_kind(h[5])) {
    error_ = "unknown frame kind " + std::to_string(h[5]);
  } else if (h[6] != 0 || h[7] != 0) {
    error_ = "reserved frame header bytes are set";
  } else {
    const std::uint32_t length = (std::uint32_t{h[8]} << 24) | (std::uint32_t{h[9]} << 16) |
                                 (std::uint32_t{h[10]} << 8) | std::uint32_t{h[11]};
    if (length > max_payload_) {
      error_ = "frame of " + std::to_string(length) + " bytes exceeds the maximum of " +
               std::to_string(max_payload_);
    }
  }
  return !failed();
}

bool FrameReader::next(Frame& frame) {
  if (failed()) return false;
  const std::string_view available(buffer_.data() + consumed_, buffer_.size() - consumed_);
  if (available.empty() || !check_header(available)) return false;
  if (available.size() < kFrameHeaderBytes) return false;
  const auto* h = reinterpret_cast<const std::uint8_t*>(available.data());
  const std::size_t length = (std::size_t{h[8]} << 24) | (std::size_t{h[9]} << 16) |
                             (std::size_t{h[10]} << 8) | std::size_t{h[11]};
  if (available.size() < kFrameHeaderBytes + length) return false;
  frame.kind = static_cast<FrameKind>(h[5]);
  frame.payload = available.substr(kFrameHeaderBytes, length);
  consumed_ += kFrameHeaderBytes + length;
  return true;
}

}  // namespace raftor::network
