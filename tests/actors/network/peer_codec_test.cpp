#include "raftor/actors/network/peer_codec.hpp"

#include <gtest/gtest.h>

#include <random>

#include "raftor/messages/rpc.pb.h"

namespace raftor::network {
namespace {

PeerCodec codec_for(NodeId self) { return PeerCodec{"cluster-a", self, {1, 2, 3}}; }

raft::Message append_message() {
  raft::AppendRequest req;
  req.prev = {41, 3};
  req.entries = {{42, 3, EntryType::normal, "payload-42"}, {43, 4, EntryType::noop, ""},
                 {44, 4, EntryType::config, std::string("\0\1", 2)}};
  req.commit = 40;
  req.read_context = 9;
  return {1, 2, 4, std::move(req)};
}

TEST(PeerCodec, RoundTripsEveryRaftMessage) {
  const auto sender = codec_for(1);
  const auto receiver = codec_for(2);
  std::vector<raft::Message> messages = {
      append_message(),
      {1, 2, 5, raft::VoteRequest{{10, 4}, true, true}},
      {1, 2, 5, raft::VoteResponse{true, true}},
      {1, 2, 6, raft::AppendResponse{false, 0, 17, 2, 11}},
  };
  for (const auto& m : messages) {
    auto decoded = receiver.decode(sender.encode(m));
    ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
    EXPECT_EQ(raft::describe(*decoded), raft::describe(m));
    EXPECT_EQ(decoded->body.index(), m.body.index());
  }
  auto decoded = receiver.decode(sender.encode(append_message()));
  const auto& req = std::get<raft::AppendRequest>(decoded->body);
  EXPECT_EQ(req.entries, std::get<raft::AppendRequest>(append_message().body).entries);
  EXPECT_EQ(req.prev, (LogId{41, 3}));
  EXPECT_EQ(req.commit, 40u);
  EXPECT_EQ(req.read_context, 9u);
}

TEST(PeerCodec, RoundTripsSnapshotChunksAndTheirAcknowledgements) {
  const auto sender = codec_for(1);
  const auto receiver = codec_for(2);
  raft::SnapshotChunk chunk;
  chunk.snapshot = SnapshotMetadata{{120, 7}, {{1, 2, 3}, {4}}, std::string(16, '\x7f'), 5000};
  chunk.offset = 4096;
  chunk.data = std::string("\0binary\xff", 9);
  chunk.chunk_checksum = 0xdeadbeefcafeULL;
  chunk.done = true;
  auto decoded = receiver.decode(sender.encode({1, 2, 7, chunk}));
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  const auto& got = std::get<raft::SnapshotChunk>(decoded->body);
  EXPECT_EQ(got.snapshot, chunk.snapshot);
  EXPECT_EQ(got.offset, chunk.offset);
  EXPECT_EQ(got.data, chunk.data);
  EXPECT_EQ(got.chunk_checksum, chunk.chunk_checksum);
  EXPECT_TRUE(got.done);

  auto ack = receiver.decode(
      sender.encode({1, 2, 7, raft::SnapshotChunkAck{{120, 7}, 8192, false, true}}));
  ASSERT_TRUE(ack.ok()) << ack.error().to_string();
  const auto& a = std::get<raft::SnapshotChunkAck>(ack->body);
  EXPECT_EQ(a.snapshot, (LogId{120, 7}));
  EXPECT_EQ(a.next_offset, 8192u);
  EXPECT_FALSE(a.done);
  EXPECT_TRUE(a.rejected);
}

TEST(PeerCodec, SnapshotRequestIsNeverSentOverTheWire) {
  // Built on the receiving node from a completed transfer: encoded, it is an empty
  // envelope that every receiver refuses.
  auto r = codec_for(2).decode(codec_for(1).encode({1, 2, 7, raft::SnapshotRequest{}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no message"), std::string::npos) << r.error().message;
}

void expect_refused(const Result<raft::Message>& r, const std::string& fragment) {
  ASSERT_FALSE(r.ok()) << "accepted a message that should be refused (" << fragment << ")";
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
}

TEST(PeerCodec, RefusesAnotherCluster) {
  PeerCodec other{"cluster-b", 1, {1, 2, 3}};
  expect_refused(codec_for(2).decode(other.encode(append_message())), "cluster-b");
}

TEST(PeerCodec, RefusesUnknownSenderAndWrongReceiver) {
  auto m = append_message();
  m.from = 7;
  expect_refused(codec_for(2).decode(codec_for(7).encode(m)), "unknown node 7");
  expect_refused(codec_for(3).decode(codec_for(1).encode(append_message())), "addressed to node 2");
}

TEST(PeerCodec, RefusesAnotherProtocolVersion) {
  pb::PeerMessage raw;
  raw.ParseFromString(codec_for(1).encode(append_message()));
  raw.mutable_header()->set_protocol_version(kProtocolVersion + 1);
  expect_refused(codec_for(2).decode(raw.SerializeAsString()), "protocol version");
}

TEST(PeerCodec, RefusesEmptyEnvelopeAndUnknownEntryType) {
  pb::PeerMessage raw;
  raw.ParseFromString(codec_for(1).encode(append_message()));
  raw.mutable_append()->mutable_entries(0)->set_type(static_cast<pb::EntryType>(99));
  expect_refused(codec_for(2).decode(raw.SerializeAsString()), "unknown type");
  raw.clear_append();
  expect_refused(codec_for(2).decode(raw.SerializeAsString()), "no message");
}

TEST(PeerCodec, RandomAndTruncatedBytesNeverCrashAndAreRefused) {
  const auto receiver = codec_for(2);
  const std::string good = codec_for(1).encode(append_message());
  for (std::size_t len = 0; len < good.size(); ++len) {
    auto r = receiver.decode(std::string_view(good).substr(0, len));
    if (r.ok()) {
      // A prefix can still parse as protobuf; it must then still pass every envelope check.
      EXPECT_EQ(r->from, 1u);
      EXPECT_EQ(r->to, 2u);
    }
  }
  std::mt19937_64 rng(7);
  int refused = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 200, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    refused += receiver.decode(junk).ok() ? 0 : 1;
  }
  EXPECT_EQ(refused, 2000) << "random bytes were accepted as a Raft message";
}

}  // namespace
}  // namespace raftor::network
