#include "raftor/actors/raft/core/raft_messages.hpp"

#include <string>
#include <type_traits>

namespace raftor::raft {

namespace {
std::string log_id(const LogId& id) {
  return "(" + std::to_string(id.index) + "," + std::to_string(id.term) + ")";
}
}  // namespace

std::string describe(const Message& message) {
  std::string out = std::visit(
      [](const auto& body) -> std::string {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, VoteRequest>) return "VoteRequest";
        else if constexpr (std::is_same_v<T, VoteResponse>) return "VoteResponse";
        else if constexpr (std::is_same_v<T, AppendRequest>) return "AppendRequest";
        else if constexpr (std::is_same_v<T, AppendResponse>) return "AppendResponse";
        else if constexpr (std::is_same_v<T, SnapshotRequest>) return "SnapshotRequest";
        else if constexpr (std::is_same_v<T, SnapshotChunk>) return "SnapshotChunk";
        else if constexpr (std::is_same_v<T, SnapshotChunkAck>) return "SnapshotChunkAck";
        else return "TimeoutNow";
      },
      message.body);
  out += " " + std::to_string(message.from) + "->" + std::to_string(message.to) +
         " term=" + std::to_string(message.term);
  std::visit(
      [&out](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, VoteRequest>) {
          out += " last=" + log_id(body.last_log);
          if (body.pre_vote) out += " pre_vote";
          if (body.leadership_transfer) out += " transfer";
        } else if constexpr (std::is_same_v<T, VoteResponse>) {
          out += body.granted ? " granted" : " rejected";
          if (body.pre_vote) out += " pre_vote";
        } else if constexpr (std::is_same_v<T, AppendRequest>) {
          out += " prev=" + log_id(body.prev);
          if (body.entries.empty()) {
            out += " entries=[]";
          } else {
            out += " entries=[" + std::to_string(body.entries.front().index) + ".." +
                   std::to_string(body.entries.back().index) + "]";
          }
          out += " commit=" + std::to_string(body.commit) +
                 " ctx=" + std::to_string(body.read_context);
        } else if constexpr (std::is_same_v<T, SnapshotRequest>) {
          out += " snapshot=" + log_id(body.snapshot.last_included) +
                 " size=" + std::to_string(body.snapshot.size);
        } else if constexpr (std::is_same_v<T, SnapshotChunk>) {
          out += " snapshot=" + log_id(body.snapshot.last_included) +
                 " offset=" + std::to_string(body.offset) +
                 " bytes=" + std::to_string(body.data.size()) + (body.done ? " done" : "");
        } else if constexpr (std::is_same_v<T, SnapshotChunkAck>) {
          out += " snapshot=" + log_id(body.snapshot) +
                 " next=" + std::to_string(body.next_offset) + (body.done ? " done" : "") +
                 (body.rejected ? " rejected" : "");
        } else if constexpr (std::is_same_v<T, TimeoutNow>) {
          // no fields: the term in the envelope is the leader's
        } else {
          if (body.success) {
            out += " success match=" + std::to_string(body.match_index);
          } else {
            out += " reject conflict=(" + std::to_string(body.conflict_index) + "," +
                   std::to_string(body.conflict_term) + ")";
          }
          out += " ctx=" + std::to_string(body.read_context);
        }
      },
      message.body);
  return out;
}

}  // namespace raftor::raft
