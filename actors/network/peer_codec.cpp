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
};
}  // namespace

std::string PeerCodec::encode(const raft::Message& message) const {
  pb::PeerMessage out;
  auto* header = out.mutable_header();
  header->set_cluster_id(cluster_id);
  header->set_protocol_version(kProtocolVersion);
  header->set_from(message.from);
  header->set_to(message.to);
  out.set_term(message.term);
  std::visit(BodyEncoder{out}, message.body);
  std::string bytes;
  out.SerializeToString(&bytes);
  return bytes;
}

Result<raft::Message> PeerCodec::decode(std::string_view bytes) const {
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
  if (!peers.count(h.from())) return refused("from unknown node " + std::to_string(h.from()));
  if (h.to() != self) {
    return refused("addressed to node " + std::to_string(h.to()) + ", this is node " +
                   std::to_string(self));
  }
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
    case pb::PeerMessage::kSnapshotChunk:
    case pb::PeerMessage::kSnapshotResponse:
      return refused("snapshot transfer messages go to the snapshot receiver, not to Raft");
    case pb::PeerMessage::BODY_NOT_SET:
      return refused("envelope carries no message");
  }
  return out;
}

}  // namespace raftor::network
