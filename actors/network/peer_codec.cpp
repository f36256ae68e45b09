#include "raftor/actors/network/peer_codec.hpp"

#include "raftor/messages/rpc.pb.h"
#include "raftor/storage/proto_convert.hpp"

namespace raftor::network {

namespace {
Error refused(std::string why) {
  return make_error(ErrorCode::invalid_argument, "peer message refused: " + std::move(why));
}

struct BodyEncoder {
  pb::PeerMessage& out;
  void operator()(const raft::VoteRequest& m) const {
    auto* v = out.mutable_vote();
    *v->mutable_last_log() = to_proto(m.last_log);
    v->set_pre_vote(m.pre_vote);
    v->set_leadership_transfer(m.leadership_transfer);
  }
  void operator()(const raft::VoteResponse& m) const {
    auto* v = out.mutable_vote_response();
    v->set_granted(m.granted);
    v->set_pre_vote(m.pre_vote);
  }
  void operator()(const raft::AppendRequest& m) const {
    auto* a = out.mutable_append();
    *a->mutable_prev_log() = to_proto(m.prev);
    a->mutable_entries()->Reserve(static_cast<int>(m.entries.size()));
    for (const Entry& e : m.entries) *a->add_entries() = to_proto(e);
    a->set_leader_commit(m.commit);
    a->set_read_context(m.read_context);
  }
  void operator()(const raft::AppendResponse& m) const {
    auto* a = out.mutable_append_response();
    a->set_success(m.success);
    a->set_match_index(m.match_index);
    a->set_conflict_index(m.conflict_index);
    a->set_conflict_term(m.conflict_term);
    a->set_read_context(m.read_context);
  }
  void operator()(const raft::SnapshotChunk& m) const {
    auto* c = out.mutable_snapshot_chunk();
    *c->mutable_metadata() = to_proto(m.snapshot);
    c->set_offset(m.offset);
    c->set_data(m.data);
    c->set_chunk_checksum(m.chunk_checksum);
    c->set_done(m.done);
  }
  void operator()(const raft::SnapshotChunkAck& m) const {
    auto* r = out.mutable_snapshot_response();
    *r->mutable_snapshot() = to_proto(m.snapshot);
    r->set_next_offset(m.next_offset);
    r->set_done(m.done);
    r->set_rejected(m.rejected);
  }
  void operator()(const raft::TimeoutNow&) const { out.mutable_timeout_now(); }
  // Built on the receiving node from a completed transfer; never sent: the envelope
  // stays empty and a receiver would refuse it.
  void operator()(const raft::SnapshotRequest&) const {}
};
}  // namespace

std::string PeerCodec::encode(const raft::Message& message) const {
  pb::PeerMessage out;
  auto* header = out.mutable_header();
  header->set_cluster_id(cluster_id);
  header->set_protocol_version(kProtocolVersion);
  header->set_from(message.from);
  header->set_to(message.to);
  // A request's receiver may not know how to reach us yet; a response goes back to a
  // sender that did reach its receiver.
  const bool request = std::holds_alternative<raft::AppendRequest>(message.body) ||
                       std::holds_alternative<raft::VoteRequest>(message.body) ||
                       std::holds_alternative<raft::SnapshotChunk>(message.body) ||
                       std::holds_alternative<raft::TimeoutNow>(message.body);
  if (request && !self_address.empty()) header->set_from_address(self_address);
  out.set_term(message.term);
  std::visit(BodyEncoder{out}, message.body);
  std::string bytes;
  out.SerializeToString(&bytes);
  return bytes;
}

Result<raft::Message> PeerCodec::decode(std::string_view bytes, std::string* from_address) const {
  pb::PeerMessage in;
  if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return refused("malformed (" + std::to_string(bytes.size()) + " bytes do not parse)");
  }
  const auto& h = in.header();
  if (h.cluster_id() != cluster_id) {
    return refused("from cluster '" + h.cluster_id() + "', this node belongs to '" + cluster_id + "'");
  }
  if (h.protocol_version() != kProtocolVersion) {
    return refused("protocol version " + std::to_string(h.protocol_version()) +
                   ", this node speaks " + std::to_string(kProtocolVersion));
  }
  if (!any_sender && !peers.count(h.from())) {
    return refused("from unknown node " + std::to_string(h.from()));
  }
  if (h.to() != self) {
    return refused("addressed to node " + std::to_string(h.to()) + ", this is node " +
                   std::to_string(self));
  }
  if (from_address) *from_address = h.from_address();
  raft::Message out;
  out.from = h.from();
  out.to = h.to();
  out.term = in.term();
  switch (in.body_case()) {
    case pb::PeerMessage::kVote:
      out.body = raft::VoteRequest{from_proto(in.vote().last_log()), in.vote().pre_vote(),
                                   in.vote().leadership_transfer()};
      break;
    case pb::PeerMessage::kVoteResponse:
      out.body = raft::VoteResponse{in.vote_response().granted(), in.vote_response().pre_vote()};
      break;
    case pb::PeerMessage::kAppend: {
      auto* a = in.mutable_append();
      raft::AppendRequest req;
      req.prev = from_proto(a->prev_log());
      req.entries.reserve(static_cast<std::size_t>(a->entries_size()));
      for (auto& e : *a->mutable_entries()) {
        if (e.type() < pb::EntryType_MIN || e.type() > pb::EntryType_MAX) {
          return refused("entry " + std::to_string(e.index()) + " has unknown type " +
                         std::to_string(e.type()));
        }
        req.entries.push_back(from_proto(std::move(e)));
      }
      req.commit = a->leader_commit();
      req.read_context = a->read_context();
      out.body = std::move(req);
      break;
    }
    case pb::PeerMessage::kAppendResponse: {
      const auto& a = in.append_response();
      out.body = raft::AppendResponse{a.success(), a.match_index(), a.conflict_index(),
                                      a.conflict_term(), a.read_context()};
      break;
    }
    case pb::PeerMessage::kSnapshotChunk: {
      auto* c = in.mutable_snapshot_chunk();
      raft::SnapshotChunk chunk;
      chunk.snapshot = from_proto(c->metadata());
      chunk.offset = c->offset();
      chunk.data = std::move(*c->mutable_data());
      chunk.chunk_checksum = c->chunk_checksum();
      chunk.done = c->done();
      out.body = std::move(chunk);
      break;
    }
    case pb::PeerMessage::kSnapshotResponse: {
      const auto& r = in.snapshot_response();
      out.body = raft::SnapshotChunkAck{from_proto(r.snapshot()), r.next_offset(), r.done(),
                                        r.rejected()};
      break;
    }
    case pb::PeerMessage::kTimeoutNow:
      out.body = raft::TimeoutNow{};
      break;
    case pb::PeerMessage::BODY_NOT_SET:
      return refused("envelope carries no message");
  }
  return out;
}

}  // namespace raftor::network
