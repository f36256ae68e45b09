// FrameReader and append_frame: round trips, streams split anywhere, and every refusal
// (bad magic, version, kind, reserved bytes, a length over the maximum) before the reader
// buffers more than what arrived.
#include "raftor/actors/network/frame.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "raftor/messages/client.pb.h"

namespace raftor::network {
namespace {

std::vector<char> two_frames() {
  pb::ClientRequest request;
  request.set_id(7);
  request.set_propose(std::string(1000, 'p'));
  std::vector<char> bytes;
  append_frame(bytes, FrameKind::client_request, request);
  append_frame(bytes, FrameKind::peer, std::string_view("peer-bytes"));
  return bytes;
}

TEST(FrameReader, ReadsFramesSplitAtEveryByte) {
  const auto bytes = two_frames();
  FrameReader reader;
  std::vector<std::pair<FrameKind, std::string>> frames;
  for (char c : bytes) {
    reader.append(&c, 1);
    Frame frame;
    while (reader.next(frame)) frames.emplace_back(frame.kind, std::string(frame.payload));
    ASSERT_FALSE(reader.failed()) << reader.error();
  }
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].first, FrameKind::client_request);
  pb::ClientRequest request;
  ASSERT_TRUE(request.ParseFromString(frames[0].second));
  EXPECT_EQ(request.id(), 7u);
  EXPECT_EQ(request.propose(), std::string(1000, 'p'));
  EXPECT_EQ(frames[1].first, FrameKind::peer);
  EXPECT_EQ(frames[1].second, "peer-bytes");
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(FrameReader, ReadsManyFramesFromOneChunk) {
  const auto bytes = two_frames();
  FrameReader reader;
  reader.append(bytes.data(), bytes.size());
  Frame frame;
  EXPECT_TRUE(reader.next(frame));
  EXPECT_TRUE(reader.next(frame));
  EXPECT_FALSE(reader.next(frame));
  EXPECT_FALSE(reader.failed());
}

std::string header(std::string magic, std::uint8_t version, std::uint8_t kind,
                   std::uint8_t reserved, std::uint32_t length) {
  std::string h = magic;
  h.push_back(static_cast<char>(version));
  h.push_back(static_cast<char>(kind));
  h.push_back(static_cast<char>(reserved));
  h.push_back(0);
  for (int i = 3; i >= 0; --i) h.push_back(static_cast<char>(length >> (8 * i)));
  return h;
}

struct Refused {
  std::string bytes;
  std::string reason;
};

TEST(FrameReader, RefusesBadHeadersWithAReason) {
  const std::vector<Refused> cases = {
      {"GET / HTTP/1.1\r\n", "bad magic"},
      {"R", ""},  // a prefix of the magic: more bytes needed
      {"RX", "bad magic"},
      {header("RFTR", 2, 1, 0, 4), "frame version 2"},
      {header("RFTR", kFrameVersion, 0, 0, 4), "unknown frame kind 0"},
      {header("RFTR", kFrameVersion, 4, 0, 4), "unknown frame kind 4"},
      {header("RFTR", kFrameVersion, 1, 1, 4), "reserved"},
      {header("RFTR", kFrameVersion, 1, 0, 0xffffffffu), "exceeds the maximum of 1024"},
      {header("RFTR", kFrameVersion, 1, 0, 1025), "1025 bytes exceeds the maximum"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.bytes);
    FrameReader reader(1024);
    reader.append(c.bytes.data(), c.bytes.size());
    Frame frame;
    EXPECT_FALSE(reader.next(frame));
    if (c.reason.empty()) {
      EXPECT_FALSE(reader.failed());
    } else {
      ASSERT_TRUE(reader.failed());
      EXPECT_NE(reader.error().find(c.reason), std::string::npos) << reader.error();
    }
  }
}

TEST(FrameReader, AFrameAtTheMaximumIsRead) {
  FrameReader reader(1024);
  const std::string bytes = header("RFTR", kFrameVersion, 1, 0, 1024) + std::string(1024, 'x');
  reader.append(bytes.data(), bytes.size());
  Frame frame;
  ASSERT_TRUE(reader.next(frame));
  EXPECT_EQ(frame.payload.size(), 1024u);
}

TEST(FrameReader, HoldsOnlyTheBytesReceivedWhateverTheHeaderClaims) {
  FrameReader reader;  // the default maximum: 65 MiB
  const std::string bytes = header("RFTR", kFrameVersion, 1, 0, 60u << 20) + "abc";
  reader.append(bytes.data(), bytes.size());
  Frame frame;
  EXPECT_FALSE(reader.next(frame));
  EXPECT_FALSE(reader.failed());
  EXPECT_EQ(reader.buffered(), bytes.size());
}

TEST(FrameReader, AppendsNothingAfterAFailure) {
  FrameReader reader;
  reader.append("XXXX", 4);
  Frame frame;
  EXPECT_FALSE(reader.next(frame));
  ASSERT_TRUE(reader.failed());
  reader.append("RFTR", 4);
  EXPECT_FALSE(reader.next(frame));
  EXPECT_TRUE(reader.failed());
}

}  // namespace
}  // namespace raftor::network
