// raftor's wire framing: every message on a node's port, from a peer or a client, is one
// frame: a fixed 12-byte header, then a protobuf payload of `length` bytes.
//
//   0      4        5     6        8          12
//   | RFTR | version | kind | 0 0 | length (BE) | payload (rpc.proto or client.proto) ...
//
// Why our own framing (and not CAF's BASP): BASP trusts the length in its header and
// reserves it before the bytes arrive, so 96 crafted bytes made a node allocate GiBs. Here
// a FrameReader holds only the bytes actually received, refuses a header that claims more
// than the configured maximum before reading further, and refuses a wrong magic, version,
// kind or the reserved bytes set at once: the caller then closes that one connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace google::protobuf {
class MessageLite;
}

namespace raftor::network {

inline constexpr char kFrameMagic[4] = {'R', 'F', 'T', 'R'};
inline constexpr std::uint8_t kFrameVersion = 1;
inline constexpr std::size_t kFrameHeaderBytes = 12;
// Fits the largest snapshot chunk (64 MiB, node/config_validation.cpp) and its envelope.
inline constexpr std::size_t kDefaultMaxFrameBytes = (64u << 20) + (1u << 20);

enum class FrameKind : std::uint8_t {
  peer = 1,             // a PeerMessage (rpc.proto), node -> node
  client_request = 2,   // a ClientRequest (client.proto), client -> node
  client_response = 3,  // a ClientResponse, node -> client
};

struct Frame {
  FrameKind kind = FrameKind::peer;
  std::string_view payload;  // valid until the reader's next append() or next()
};

// Appends one frame to `out`: the header, then `message` serialized in place (no copy).
void append_frame(std::vector<char>& out, FrameKind kind, const google::protobuf::MessageLite& message);
void append_frame(std::string& out, FrameKind kind, const google::protobuf::MessageLite& message);
// Appends one frame whose payload is already serialized.
void append_frame(std::vector<char>& out, FrameKind kind, std::string_view payload);

// Splits a byte stream into frames. One per connection; not thread-safe.
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_payload_bytes = kDefaultMaxFrameBytes)
      : max_payload_(max_payload_bytes) {}

  // Buffers received bytes (only these: never what a header claims).
  void append(const char* data, std::size_t size);

  // True with the next whole frame in `frame`; false when more bytes are needed or the
  // stream is bad (then failed() is true and error() says why; the connection is useless).
  bool next(Frame& frame);

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  bool check_header(std::string_view available);

  std::size_t max_payload_;
  std::string buffer_;
  std::size_t consumed_ = 0;  // bytes of buffer_ already returned as frames
  std::string error_;
};

}  // namespace raftor::network
