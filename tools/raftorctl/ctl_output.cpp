#include "raftor/tools/raftorctl/ctl_output.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

#include "raftor/actors/raft/core/raft_core.hpp"
#include "raftor/snapshot/checksum.hpp"

namespace raftor::ctl {

namespace {
using nlohmann::json;

// Keys and values are bytes: invalid UTF-8 is replaced rather than thrown about.
std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

json status_json(const NodeStatus& s) {
  return {{"role", role_name(s.role)},     {"term", s.term},
          {"leader", s.leader},            {"commit", s.commit},
          {"applied", s.applied},          {"first_index", s.first_index},
          {"last_index", s.last_index},    {"last_term", s.last_term},
          {"snapshot_index", s.snapshot_index}};
}

json node_json(const NodeReport& report) {
  json out = {{"id", report.endpoint.id}, {"address", address(report.endpoint)},
              {"reachable", report.status.has_value()}};
  if (report.status) {
    out.update(status_json(*report.status));
  } else {
    out["error"] = report.error;
  }
  return out;
}

json leader_json(const std::optional<LeaderView>& leader) {
  return leader ? json(leader->id) : json(nullptr);
}
}  // namespace

std::optional<LeaderView> find_leader(const std::vector<NodeReport>& reports) {
  std::optional<LeaderView> best;
  for (const auto& r : reports) {
    if (!r.status) continue;
    const NodeStatus& s = *r.status;
    const bool leads = s.role == static_cast<std::uint8_t>(raft::Role::leader);
    const NodeId named = leads ? s.id : s.leader;
    if (named == 0) continue;
    // A newer term wins; within a term, the node's own word beats another's.
    if (!best || s.term > best->term || (s.term == best->term && leads)) best = LeaderView{named, s.term};
  }
  return best;
}

std::string_view role_name(std::uint8_t role) {
  return raft::to_string(static_cast<raft::Role>(role));
}

std::string address(const client::Endpoint& endpoint) {
  const bool ipv6 = endpoint.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

std::string format_write(std::uint64_t index, bool json) {
  if (json) return dump({{"ok", true}, {"index", index}});
  return "OK (index " + std::to_string(index) + ")\n";
}

std::string format_get(std::string_view key, const client::GetResult& result, bool json) {
  if (json) {
    nlohmann::json out = {{"key", key}, {"found", result.value.has_value()}, {"index", result.index}};
    if (result.value) out["value"] = *result.value;
    return dump(out);
  }
  return result.value ? *result.value + "\n" : std::string();
}

std::string format_cas(std::string_view key, const client::CasResult& result, bool json) {
  if (json) return dump({{"key", key}, {"swapped", result.swapped}, {"index", result.index}});
  return result.swapped ? "OK swapped (index " + std::to_string(result.index) + ")\n"
                        : std::string();
}

std::string format_status(const std::vector<NodeReport>& reports, bool json) {
  if (json) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& r : reports) nodes.push_back(node_json(r));
    return dump({{"nodes", nodes}, {"leader", leader_json(find_leader(reports))}});
  }
  std::vector<std::vector<std::string>> rows = {{"NODE", "ADDRESS", "ROLE", "TERM", "LEADER",
                                                 "COMMIT", "APPLIED", "LOG FIRST", "LOG LAST",
                                                 "SNAPSHOT"}};
  for (const auto& r : reports) {
    std::vector<std::string> row = {std::to_string(r.endpoint.id), address(r.endpoint)};
    if (!r.status) {
      row.push_back(r.error.starts_with("unreachable") ? r.error : "no answer: " + r.error);
    } else {
      const NodeStatus& s = *r.status;
      for (std::string cell : {std::string(role_name(s.role)), std::to_string(s.term),
                               s.leader == 0 ? std::string("-") : std::to_string(s.leader),
                               std::to_string(s.commit), std::to_string(s.applied),
                               std::to_string(s.first_index), std::to_string(s.last_index),
                               std::to_string(s.snapshot_index)}) {
        row.push_back(std::move(cell));
      }
    }
    rows.push_back(std::move(row));
  }
  return render_table(rows);
}

std::string format_member_list(const std::vector<NodeReport>& reports, bool json) {
  // The configuration as the leader sees it (thesis §4.1: the latest in its log); without
  // a leader, the newest configuration any node reports.
  const NodeReport* source = nullptr;
  const auto leader = find_leader(reports);
  for (const auto& r : reports) {
    if (!r.status) continue;
    if (leader && r.endpoint.id == leader->id) {
      source = &r;
      break;
    }
    if (!source || r.status->config_index > source->status->config_index) source = &r;
  }
  std::vector<MemberView> members;
  if (source) members = member_views(source->status->membership, reports);
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const MemberView& m : members) {
      nlohmann::json entry = {{"id", m.id},
                              {"suffrage", m.voter ? "voter" : "learner"},
                              {"address", m.address},
                              {"reachable", m.status != nullptr}};
      if (m.status) {
        entry["role"] = role_name(m.status->role);
        entry["applied"] = m.status->applied;
      }
      list.push_back(std::move(entry));
    }
    nlohmann::json out = {{"members", list}, {"leader", leader_json(leader)}};
    if (source) {
      out["config_index"] = source->status->config_index;
      out["committed"] = !source->status->config_pending;
      out["reported_by"] = source->endpoint.id;
    }
    return dump(out);
  }
  if (!source) return "no node answered\n";
  const NodeStatus& s = *source->status;
  std::string out = "configuration at index " + std::to_string(s.config_index) +
                    (s.config_index == 0 ? " (the bootstrap one)" : "") +
                    (s.config_pending ? ", not committed yet" : ", committed") +
                    ", as node " + std::to_string(source->endpoint.id) + " reports it\n";
  std::vector<std::vector<std::string>> rows = {{"NODE", "SUFFRAGE", "ADDRESS", "ROLE", "APPLIED"}};
  for (const MemberView& m : members) {
    rows.push_back({std::to_string(m.id), m.voter ? "voter" : "learner",
                    m.address.empty() ? "-" : m.address,
                    m.status ? std::string(role_name(m.status->role)) : "unreachable",
                    m.status ? std::to_string(m.status->applied) : "-"});
  }
  return out + render_table(rows);
}

std::vector<MemberView> member_views(const Membership& membership,
                                     const std::vector<NodeReport>& reports) {
  std::vector<MemberView> out;
  auto add = [&](NodeId id, bool voter) {
    MemberView view{id, voter, {}, nullptr};
    if (auto it = membership.addresses.find(id); it != membership.addresses.end()) {
      view.address = it->second;
    }
    for (const auto& r : reports) {
      if (r.endpoint.id != id) continue;
      if (view.address.empty()) view.address = address(r.endpoint);
      if (r.status) view.status = &*r.status;
    }
    out.push_back(std::move(view));
  };
  for (NodeId id : membership.voters) add(id, true);
  for (NodeId id : membership.learners) add(id, false);
  return out;
}

std::string format_member_change(Command command, NodeId node, std::uint64_t index, bool json) {
  const char* done = command == Command::member_add       ? "added as a learner"
                     : command == Command::member_promote ? "promoted to voter"
                                                          : "removed";
  if (json) return dump({{"ok", true}, {"node", node}, {"index", index}});
  return "OK: node " + std::to_string(node) + " " + done + " (configuration entry " +
         std::to_string(index) + ")\n";
}

std::string format_transfer(NodeId leader, bool json) {
  if (json) return dump({{"ok", true}, {"leader", leader == 0 ? nlohmann::json(nullptr) : nlohmann::json(leader)}});
  return leader == 0 ? std::string("OK: leadership handed over (the new leader is not known yet)\n")
                     : "OK: node " + std::to_string(leader) + " leads\n";
}

std::string format_leader(const LeaderView& leader, const std::vector<NodeReport>& reports,
                          bool json) {
  std::string where;
  for (const auto& r : reports) {
    if (r.endpoint.id == leader.id) where = address(r.endpoint);
  }
  if (json) return dump({{"leader", leader.id}, {"address", where}, {"term", leader.term}});
  return std::to_string(leader.id) + (where.empty() ? "" : " " + where) + " (term " +
         std::to_string(leader.term) + ")\n";
}

std::string format_snapshot(NodeId node, const SnapshotMetadata& m, bool json) {
  const std::string checksum = snapshot::to_hex(m.checksum);
  if (json) {
    return dump({{"node", node}, {"index", m.last_included.index}, {"term", m.last_included.term},
                 {"size", m.size}, {"checksum", checksum}});
  }
  return "node " + std::to_string(node) + ": snapshot at index " +
         std::to_string(m.last_included.index) + " (term " + std::to_string(m.last_included.term) +
         "), " + std::to_string(m.size) + " bytes, checksum " + checksum + "\n";
}

std::string format_error_json(const Error& error) {
  return dump({{"error", error.message}, {"code", to_string(error.code)}});
}

std::string render_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i + 1 < row.size(); ++i) {  // a last cell does not widen a column
      if (widths.size() <= i) widths.resize(i + 1, 0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += "\n";
  }
  return out;
}

}  // namespace raftor::ctl
