#include "raftor/tools/raftorctl/ctl_commands.hpp"

#include <algorithm>

namespace raftor::ctl {

namespace {
// A failed request: one line on stderr, and with --json the error object on stdout too.
int fail(const Invocation& inv, const Error& error, std::ostream& out, std::ostream& err) {
  if (inv.json) out << format_error_json(error);
  err << "raftorctl: " << error.to_string() << "\n";
  return kExitFailed;
}

int run_status_like(const Invocation& inv, client::Client& client, std::ostream& out,
                    std::ostream& err) {
  const auto reports = gather_status(client);
  const bool any = std::any_of(reports.begin(), reports.end(),
                               [](const NodeReport& r) { return r.status.has_value(); });
  if (inv.command == Command::leader) {
    const auto leader = find_leader(reports);
    if (!leader) {
      return fail(inv,
                  make_error(ErrorCode::not_leader,
                             any ? "no node knows a leader (an election may be under way)"
                                 : "no node answered"),
                  out, err);
    }
    out << format_leader(*leader, reports, inv.json);
    return kExitOk;
  }
  out << (inv.command == Command::status ? format_status(reports, inv.json)
                                         : format_member_list(reports, inv.json));
  if (!any) {
    err << "raftorctl: no node answered\n";
    return kExitFailed;
  }
  return kExitOk;
}

int run_snapshot(const Invocation& inv, client::Client& client, std::ostream& out,
                 std::ostream& err) {
  NodeId node = inv.node.value_or(0);
  if (node == 0) {
    const auto leader = find_leader(gather_status(client));
    if (!leader) {
      return fail(inv, make_error(ErrorCode::not_leader, "snapshot: no leader known; pass --node"),
                  out, err);
    }
    node = leader->id;
  }
  auto metadata = client.snapshot(node);
  if (!metadata) return fail(inv, metadata.error(), out, err);
  out << format_snapshot(node, *metadata, inv.json);
  return kExitOk;
}
}  // namespace

client::ClientOptions client_options(const Invocation& invocation) {
  client::ClientOptions options;
  options.deadline = invocation.timeout;
  options.request_timeout = std::min(options.request_timeout, invocation.timeout);
  return options;
}

std::vector<NodeReport> gather_status(client::Client& client) {
  std::vector<NodeReport> reports;
  for (const auto& endpoint : client.endpoints()) {
    NodeReport report{endpoint, std::nullopt, {}};
    if (auto status = client.status(endpoint.id)) {
      report.status = *status;
    } else {
      // The report names the node already: keep only what happened to it.
      const std::string prefix = "status of " + client::describe(endpoint) + ": ";
      report.error = status.error().message;
      if (report.error.starts_with(prefix)) report.error.erase(0, prefix.size());
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

int run(const Invocation& inv, client::Client& client, std::ostream& out, std::ostream& err) {
  switch (inv.command) {
    case Command::put:
    case Command::del: {
      auto index = inv.command == Command::put ? client.put(inv.key, inv.value) : client.del(inv.key);
      if (!index) return fail(inv, index.error(), out, err);
      out << format_write(*index, inv.json);
      return kExitOk;
    }
    case Command::get: {
      auto result = client.get(inv.key, inv.consistency);
      if (!result) return fail(inv, result.error(), out, err);
      out << format_get(inv.key, *result, inv.json);
      if (result->value) return kExitOk;
      err << "raftorctl: not found: " << inv.key << "\n";
      return kExitNo;
    }
    case Command::cas: {
      std::optional<std::string_view> expected;
      if (inv.expected) expected = *inv.expected;
      auto result = client.cas(inv.key, expected, inv.value);
      if (!result) return fail(inv, result.error(), out, err);
      out << format_cas(inv.key, *result, inv.json);
      if (result->swapped) return kExitOk;
      err << "raftorctl: not swapped: " << inv.key
          << (inv.expected ? " does not hold the expected value\n" : " exists\n");
      return kExitNo;
    }
    case Command::status:
    case Command::member_list:
    case Command::leader:
      return run_status_like(inv, client, out, err);
    case Command::member_add:
    case Command::member_promote:
    case Command::member_remove: {
      const NodeId node = inv.node.value_or(0);
      auto index = inv.command == Command::member_add       ? client.add_learner(node, inv.address)
                   : inv.command == Command::member_promote ? client.promote(node)
                                                            : client.remove_member(node);
      if (!index) return fail(inv, index.error(), out, err);
      out << format_member_change(inv.command, node, *index, inv.json);
      return kExitOk;
    }
    case Command::transfer_leader: {
      auto leader = client.transfer_leader(inv.node.value_or(0));
      if (!leader) return fail(inv, leader.error(), out, err);
      out << format_transfer(*leader, inv.json);
      return kExitOk;
    }
    case Command::snapshot:
      return run_snapshot(inv, client, out, err);
  }
  return kExitUsage;
}

}  // namespace raftor::ctl
