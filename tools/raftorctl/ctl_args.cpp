#include "raftor/tools/raftorctl/ctl_args.hpp"

#include <CLI/CLI.hpp>

#include <sstream>

#include "raftor/node/node_config.hpp"

namespace raftor::ctl {

namespace {
constexpr const char* kFooter =
    "Endpoints: --endpoints ID@HOST:PORT,... or the environment variable RAFTOR_ENDPOINTS.\n"
    "Exit codes: 0 success; 1 get: key not found, cas: not swapped; 2 usage error;\n"
    "            3 the request failed (nodes unreachable, no leader by the deadline, refused).";

ParsedCommandLine usage_error(const std::string& message) {
  return {std::nullopt, kExitUsage, "raftorctl: " + message + " (see raftorctl --help)"};
}
}  // namespace

Result<std::vector<client::Endpoint>> parse_endpoints(std::string_view text) {
  std::vector<client::Endpoint> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const auto item = text.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) continue;
    auto peer = node::parse_peer_address(item);
    if (!peer) return peer.error();
    out.push_back({peer->id, peer->address.host, peer->address.port});
  }
  if (auto valid = client::validate_endpoints(out); !valid) return valid.error();
  return out;
}

std::optional<ReadConsistency> parse_consistency(std::string_view text) {
  if (text == "linearizable") return ReadConsistency::linearizable;
  if (text == "lease") return ReadConsistency::lease;
  if (text == "eventual") return ReadConsistency::eventual;
  return std::nullopt;
}

std::string_view to_string(ReadConsistency consistency) {
  switch (consistency) {
    case ReadConsistency::linearizable: return "linearizable";
    case ReadConsistency::lease: return "lease";
    case ReadConsistency::eventual: return "eventual";
  }
  return "unknown";
}

ParsedCommandLine parse_command_line(int argc, const char* const* argv,
                                     std::optional<std::string> env_endpoints) {
  Invocation inv;
  CLI::App app{"raftorctl: reads, writes and inspects a raftor cluster", "raftorctl"};
  app.footer(kFooter);
  app.fallthrough();  // global options may also follow the command
  app.require_subcommand(1, 1);

  std::string endpoints;
  std::int64_t timeout_ms = inv.timeout.count();
  app.add_option("--endpoints", endpoints, "the cluster's nodes: ID@HOST:PORT,...");
  app.add_flag("--json", inv.json, "print one JSON object");
  app.add_option("--timeout-ms", timeout_ms, "give up after this long (default 5000)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3'600'000}));

  auto* put = app.add_subcommand("put", "set KEY to VALUE");
  put->add_option("KEY", inv.key)->required();
  put->add_option("VALUE", inv.value)->required();

  auto* get = app.add_subcommand("get", "print KEY's value");
  std::string consistency = "linearizable";
  get->add_option("KEY", inv.key)->required();
  get->add_option("--consistency", consistency, "linearizable (default), lease or eventual")
      ->check(CLI::IsMember({"linearizable", "lease", "eventual"}));

  auto* del = app.add_subcommand("del", "delete KEY");
  del->add_option("KEY", inv.key)->required();

  auto* cas = app.add_subcommand("cas", "set KEY to NEW if its value is EXPECTED");
  std::vector<std::string> cas_args;
  bool expect_absent = false;
  cas->add_option("KEY EXPECTED NEW", cas_args, "or KEY NEW with --expect-absent")
      ->required()
      ->expected(2, 3);
  cas->add_flag("--expect-absent", expect_absent, "swap only if KEY does not exist");

  auto* status = app.add_subcommand("status", "every node's role, term, indexes");
  auto* members = app.add_subcommand("members", "the same as member list");
  auto* leader = app.add_subcommand("leader", "the current leader");

  auto* member = app.add_subcommand("member", "the cluster's membership: list, add, promote, remove");
  member->require_subcommand(1, 1);
  NodeId member_node = 0;
  auto node_id_check = CLI::Range(NodeId{1}, std::numeric_limits<NodeId>::max());
  auto* member_list = member->add_subcommand("list", "voters and learners, as the leader sees them");
  auto* member_add = member->add_subcommand(
      "add", "add node ID, reachable at HOST:PORT, as a learner (start it with join = true)");
  member_add->add_option("ID", member_node)->required()->check(node_id_check);
  member_add->add_option("HOST:PORT", inv.address, "where the members reach it")->required();
  auto* member_promote = member->add_subcommand("promote", "make learner ID a voter");
  member_promote->add_option("ID", member_node)->required()->check(node_id_check);
  auto* member_remove = member->add_subcommand("remove", "remove voter or learner ID");
  member_remove->add_option("ID", member_node)->required()->check(node_id_check);

  auto* transfer = app.add_subcommand(
      "transfer-leader", "hand leadership to voter ID (default: the most up-to-date one)");
  NodeId transfer_target = 0;
  auto* transfer_option = transfer->add_option("ID", transfer_target)->check(node_id_check);
  auto* snapshot = app.add_subcommand("snapshot", "take a snapshot now (default: on the leader)");
  NodeId node = 0;
  auto* node_option = snapshot->add_option("--node", node, "the node to snapshot")
                          ->check(CLI::Range(NodeId{1}, std::numeric_limits<NodeId>::max()));

  // CLI11 reports through exceptions: they end here, never past this function.
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    std::ostringstream out, err;
    app.exit(e, out, err);
    return {std::nullopt, kExitOk, out.str()};
  } catch (const CLI::CallForAllHelp& e) {
    std::ostringstream out, err;
    app.exit(e, out, err);
    return {std::nullopt, kExitOk, out.str()};
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }

  if (app.got_subcommand(put)) inv.command = Command::put;
  if (app.got_subcommand(get)) inv.command = Command::get;
  if (app.got_subcommand(del)) inv.command = Command::del;
  if (app.got_subcommand(cas)) inv.command = Command::cas;
  if (app.got_subcommand(status)) inv.command = Command::status;
  if (app.got_subcommand(members)) inv.command = Command::member_list;
  if (app.got_subcommand(leader)) inv.command = Command::leader;
  if (app.got_subcommand(snapshot)) inv.command = Command::snapshot;
  if (member->got_subcommand(member_list)) inv.command = Command::member_list;
  if (member->got_subcommand(member_add)) inv.command = Command::member_add;
  if (member->got_subcommand(member_promote)) inv.command = Command::member_promote;
  if (member->got_subcommand(member_remove)) inv.command = Command::member_remove;
  if (app.got_subcommand(transfer)) inv.command = Command::transfer_leader;

  if (inv.command == Command::get) inv.consistency = *parse_consistency(consistency);
  if (inv.command == Command::cas) {
    const std::size_t want = expect_absent ? 2 : 3;
    if (cas_args.size() != want) {
      return usage_error(expect_absent ? "cas --expect-absent takes KEY NEW"
                                       : "cas takes KEY EXPECTED NEW (or KEY NEW with --expect-absent)");
    }
    inv.key = cas_args.front();
    inv.value = cas_args.back();
    if (!expect_absent) inv.expected = cas_args[1];
  }
  if (node_option->count() > 0) inv.node = node;
  if (member_node != 0) inv.node = member_node;
  if (transfer_option->count() > 0) inv.node = transfer_target;
  if (inv.command == Command::member_add) {
    if (auto address = node::parse_host_port(inv.address); !address) {
      return usage_error("member add: " + address.error().message);
    }
  }
  inv.timeout = std::chrono::milliseconds(timeout_ms);

  if (endpoints.empty() && env_endpoints) endpoints = *env_endpoints;
  if (endpoints.empty()) return usage_error("no endpoints: pass --endpoints or set RAFTOR_ENDPOINTS");
  auto parsed = parse_endpoints(endpoints);
  if (!parsed) return usage_error("--endpoints: " + parsed.error().message);
  inv.endpoints = std::move(parsed).value();
  return {std::move(inv), kExitOk, {}};
}

}  // namespace raftor::ctl
