// What raftorctl prints: human-readable text, or one JSON object per invocation. Every
// function returns the complete text, newline included.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raftor/actors/actor_messages.hpp"
#include "raftor/client/client.hpp"
#include "raftor/client/endpoint.hpp"
#include "raftor/storage/status.hpp"
#include "raftor/tools/raftorctl/ctl_args.hpp"

namespace raftor::ctl {

// One configured node and what its status request returned.
struct NodeReport {
  client::Endpoint endpoint;
  std::optional<NodeStatus> status;  // nullopt: it did not answer
  std::string error;                 // why not
};

struct LeaderView {
  NodeId id = 0;
  std::uint64_t term = 0;
};

// The leader of the newest term any node reports: the node that says it leads it, else
// the leader a node of that term names.
std::optional<LeaderView> find_leader(const std::vector<NodeReport>& reports);

std::string_view role_name(std::uint8_t role);
std::string address(const client::Endpoint& endpoint);  // "127.0.0.1:7001", "[::1]:7001"

std::string format_write(std::uint64_t index, bool json);
std::string format_get(std::string_view key, const client::GetResult& result, bool json);
std::string format_cas(std::string_view key, const client::CasResult& result, bool json);
std::string format_status(const std::vector<NodeReport>& reports, bool json);
// The configuration the leader reports (else the newest any node reports): each member's
// suffrage, address (the membership's, else the endpoint's) and, if it answered, its role.
std::string format_member_list(const std::vector<NodeReport>& reports, bool json);
std::string format_member_change(Command command, NodeId node, std::uint64_t index, bool json);
std::string format_transfer(NodeId leader, bool json);

struct MemberView {
  NodeId id = 0;
  bool voter = false;
  std::string address;                 // "" when neither the membership nor an endpoint has one
  const NodeStatus* status = nullptr;  // points into the reports; null: it did not answer
};
std::vector<MemberView> member_views(const Membership& membership,
                                     const std::vector<NodeReport>& reports);
std::string format_leader(const LeaderView& leader, const std::vector<NodeReport>& reports,
                          bool json);
std::string format_snapshot(NodeId node, const SnapshotMetadata& metadata, bool json);
// JSON only: {"error": ..., "code": ...}; the one-line text goes to stderr separately.
std::string format_error_json(const Error& error);

// Left-aligned columns two spaces apart; a row's last cell is not padded.
std::string render_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace raftor::ctl
