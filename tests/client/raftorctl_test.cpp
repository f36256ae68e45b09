// raftorctl's parts: the command line, the output formats, and commands run against an
// in-process cluster with published endpoints.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "published_cluster.hpp"
#include "raftor/tools/raftorctl/ctl_args.hpp"
#include "raftor/tools/raftorctl/ctl_commands.hpp"
#include "raftor/tools/raftorctl/ctl_output.hpp"

namespace raftor::ctl {
namespace {

using nlohmann::json;
const std::string kEndpoints = "1@127.0.0.1:7001,2@127.0.0.1:7002,3@127.0.0.1:7003";

ParsedCommandLine parse(std::vector<std::string> args,
                        std::optional<std::string> env = std::nullopt) {
  args.insert(args.begin(), "raftorctl");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data(), std::move(env));
}

Invocation parsed(std::vector<std::string> args) {
  args.insert(args.begin(), {"--endpoints", kEndpoints});
  auto result = parse(std::move(args));
  EXPECT_TRUE(result.invocation.has_value()) << result.output;
  return result.invocation.value_or(Invocation{});
}

// --- command line ------------------------------------------------------------------------

TEST(RaftorctlArgs, ParsesEndpoints) {
  auto endpoints = parse_endpoints("1@127.0.0.1:7001,2@node-b:7002,3@[::1]:7003,");
  ASSERT_TRUE(endpoints.ok()) << endpoints.error().to_string();
  ASSERT_EQ(endpoints->size(), 3u);
  EXPECT_EQ((*endpoints)[0], (client::Endpoint{1, "127.0.0.1", 7001}));
  EXPECT_EQ((*endpoints)[1], (client::Endpoint{2, "node-b", 7002}));
  EXPECT_EQ((*endpoints)[2], (client::Endpoint{3, "::1", 7003}));
  EXPECT_EQ(address((*endpoints)[2]), "[::1]:7003");

  EXPECT_FALSE(parse_endpoints("").ok());
  EXPECT_FALSE(parse_endpoints("127.0.0.1:7001").ok());
  EXPECT_FALSE(parse_endpoints("0@127.0.0.1:7001").ok());
  EXPECT_FALSE(parse_endpoints("1@127.0.0.1:70000").ok());
  auto twice = parse_endpoints("1@a:1,1@b:2");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("twice"), std::string::npos);
}

TEST(RaftorctlArgs, ParsesEveryCommand) {
  auto put = parsed({"put", "k", "v"});
  EXPECT_EQ(put.command, Command::put);
  EXPECT_EQ(put.key, "k");
  EXPECT_EQ(put.value, "v");
  EXPECT_EQ(put.endpoints.size(), 3u);
  EXPECT_FALSE(put.json);
  EXPECT_EQ(put.timeout, std::chrono::milliseconds(5000));

  auto get = parsed({"--json", "--timeout-ms", "250", "get", "k", "--consistency", "lease"});
  EXPECT_EQ(get.command, Command::get);
  EXPECT_EQ(get.consistency, ReadConsistency::lease);
  EXPECT_TRUE(get.json);
  EXPECT_EQ(get.timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(parsed({"get", "k"}).consistency, ReadConsistency::linearizable);

  EXPECT_EQ(parsed({"del", "k"}).command, Command::del);

  auto cas = parsed({"cas", "k", "old", "new"});
  EXPECT_EQ(cas.command, Command::cas);
  EXPECT_EQ(cas.key, "k");
  EXPECT_EQ(cas.expected, "old");
  EXPECT_EQ(cas.value, "new");
  auto absent = parsed({"cas", "--expect-absent", "k", "new"});
  EXPECT_EQ(absent.expected, std::nullopt);
  EXPECT_EQ(absent.value, "new");

  EXPECT_EQ(parsed({"status"}).command, Command::status);
  EXPECT_EQ(parsed({"members"}).command, Command::member_list);
  EXPECT_EQ(parsed({"member", "list"}).command, Command::member_list);
  auto add = parsed({"member", "add", "4", "10.0.0.4:7004"});
  EXPECT_EQ(add.command, Command::member_add);
  EXPECT_EQ(add.node, 4u);
  EXPECT_EQ(add.address, "10.0.0.4:7004");
  auto promote = parsed({"member", "promote", "4"});
  EXPECT_EQ(promote.command, Command::member_promote);
  EXPECT_EQ(promote.node, 4u);
  auto remove = parsed({"member", "remove", "2"});
  EXPECT_EQ(remove.command, Command::member_remove);
  EXPECT_EQ(remove.node, 2u);
  auto transfer = parsed({"transfer-leader", "3"});
  EXPECT_EQ(transfer.command, Command::transfer_leader);
  EXPECT_EQ(transfer.node, 3u);
  EXPECT_EQ(parsed({"transfer-leader"}).node, std::nullopt);
  EXPECT_EQ(parsed({"leader"}).command, Command::leader);
  auto snapshot = parsed({"snapshot", "--node", "2"});
  EXPECT_EQ(snapshot.command, Command::snapshot);
  EXPECT_EQ(snapshot.node, 2u);
  EXPECT_EQ(parsed({"snapshot"}).node, std::nullopt);

  // Global options may follow the command.
  EXPECT_TRUE(parsed({"status", "--json"}).json);
}

TEST(RaftorctlArgs, EndpointsFromTheEnvironment) {
  auto from_env = parse({"leader"}, kEndpoints);
  ASSERT_TRUE(from_env.invocation) << from_env.output;
  EXPECT_EQ(from_env.invocation->endpoints.size(), 3u);
  // The flag wins over the environment.
  auto flag = parse({"--endpoints", "9@h:1", "leader"}, kEndpoints);
  ASSERT_TRUE(flag.invocation) << flag.output;
  EXPECT_EQ(flag.invocation->endpoints.front().id, 9u);
}

TEST(RaftorctlArgs, UsageErrorsAreOneLineWithExitCode2) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"status"},                                            // no endpoints at all
           {"--endpoints", "x", "status"},                        // bad endpoints
           {"--endpoints", kEndpoints},                           // no command
           {"--endpoints", kEndpoints, "frobnicate"},             // unknown command
           {"--endpoints", kEndpoints, "put", "k"},               // missing VALUE
           {"--endpoints", kEndpoints, "get", "k", "--consistency", "strong"},
           {"--endpoints", kEndpoints, "cas", "k", "new"},        // EXPECTED missing
           {"--endpoints", kEndpoints, "cas", "--expect-absent", "k", "old", "new"},
           {"--endpoints", kEndpoints, "--timeout-ms", "0", "status"},
           {"--endpoints", kEndpoints, "snapshot", "--node", "0"},
           {"--endpoints", kEndpoints, "member"},                 // no member command
           {"--endpoints", kEndpoints, "member", "add", "4"},     // no address
           {"--endpoints", kEndpoints, "member", "add", "4", "nohostport"},
           {"--endpoints", kEndpoints, "member", "add", "0", "h:1"},
           {"--endpoints", kEndpoints, "member", "promote"},      // no id
           {"--endpoints", kEndpoints, "transfer-leader", "0"},
       }) {
    auto result = parse(args);
    EXPECT_FALSE(result.invocation.has_value()) << args.back();
    EXPECT_EQ(result.exit_code, kExitUsage) << args.back();
    EXPECT_EQ(result.output.find('\n'), std::string::npos) << result.output;
    EXPECT_EQ(result.output.rfind("raftorctl: ", 0), 0u) << result.output;
  }
  EXPECT_NE(parse({"status"}).output.find("RAFTOR_ENDPOINTS"), std::string::npos);
}

TEST(RaftorctlArgs, HelpListsTheExitCodes) {
  auto help = parse({"--help"});
  EXPECT_FALSE(help.invocation.has_value());
  EXPECT_EQ(help.exit_code, kExitOk);
  EXPECT_NE(help.output.find("Exit codes"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("snapshot"), std::string::npos) << help.output;
  auto cas_help = parse({"cas", "--help"});
  EXPECT_EQ(cas_help.exit_code, kExitOk);
  EXPECT_NE(cas_help.output.find("--expect-absent"), std::string::npos) << cas_help.output;
}

// --- output ------------------------------------------------------------------------------

NodeReport reachable(NodeId id, raft::Role role, std::uint64_t term, NodeId leader) {
  NodeStatus s;
  s.id = id;
  s.role = static_cast<std::uint8_t>(role);
  s.term = term;
  s.leader = leader;
  s.commit = 10;
  s.applied = 9;
  s.first_index = 1;
  s.last_index = 11;
  return {{id, "127.0.0.1", static_cast<std::uint16_t>(7000 + id)}, s, {}};
}

NodeReport unreachable(NodeId id) {
  return {{id, "127.0.0.1", static_cast<std::uint16_t>(7000 + id)}, std::nullopt,
          "unreachable (connection refused)"};
}

TEST(RaftorctlOutput, TablesAlignTheirColumns) {
  EXPECT_EQ(render_table({{"A", "BB", "C"}, {"aaa", "b", "c"}, {"x", "a long last cell"}}),
            "A    BB  C\n"
            "aaa  b   c\n"
            "x    a long last cell\n");
}

TEST(RaftorctlOutput, StatusShowsEveryNodeAndWhichAreUnreachable) {
  const std::vector<NodeReport> reports = {reachable(1, raft::Role::leader, 3, 1),
                                           unreachable(2),
                                           reachable(3, raft::Role::follower, 3, 1)};
  const std::string table = format_status(reports, false);
  EXPECT_EQ(table,
            "NODE  ADDRESS         ROLE      TERM  LEADER  COMMIT  APPLIED  LOG FIRST  LOG LAST  SNAPSHOT\n"
            "1     127.0.0.1:7001  leader    3     1       10      9        1          11        0\n"
            "2     127.0.0.1:7002  unreachable (connection refused)\n"
            "3     127.0.0.1:7003  follower  3     1       10      9        1          11        0\n");

  const auto doc = json::parse(format_status(reports, true));
  EXPECT_EQ(doc["leader"], 1);
  ASSERT_EQ(doc["nodes"].size(), 3u);
  EXPECT_EQ(doc["nodes"][0]["role"], "leader");
  EXPECT_EQ(doc["nodes"][0]["applied"], 9);
  EXPECT_EQ(doc["nodes"][1]["reachable"], false);
  EXPECT_EQ(doc["nodes"][1]["error"], "unreachable (connection refused)");

}

TEST(RaftorctlOutput, MemberListShowsTheLeadersConfiguration) {
  // The leader (node 1) has added node 4 at run time, with its address; node 3 still
  // reports the older configuration.
  auto leader = reachable(1, raft::Role::leader, 3, 1);
  leader.status->membership = {{1, 2, 3}, {4}, {{4, "10.0.0.4:7004"}}};
  leader.status->config_index = 12;
  leader.status->config_pending = true;
  auto old = reachable(3, raft::Role::follower, 3, 1);
  old.status->membership = {{1, 2, 3}, {}, {}};
  const std::vector<NodeReport> reports = {leader, unreachable(2), old};
  EXPECT_EQ(format_member_list(reports, false),
            "configuration at index 12, not committed yet, as node 1 reports it\n"
            "NODE  SUFFRAGE  ADDRESS         ROLE         APPLIED\n"
            "1     voter     127.0.0.1:7001  leader       9\n"
            "2     voter     127.0.0.1:7002  unreachable  -\n"
            "3     voter     127.0.0.1:7003  follower     9\n"
            "4     learner   10.0.0.4:7004   unreachable  -\n");
  const auto doc = json::parse(format_member_list(reports, true));
  EXPECT_EQ(doc["config_index"], 12);
  EXPECT_EQ(doc["committed"], false);
  EXPECT_EQ(doc["leader"], 1);
  ASSERT_EQ(doc["members"].size(), 4u);
  EXPECT_EQ(doc["members"][3]["suffrage"], "learner");
  EXPECT_EQ(doc["members"][3]["address"], "10.0.0.4:7004");
  EXPECT_EQ(doc["members"][1]["reachable"], false);

  // No leader known: the newest configuration any node reports.
  auto follower = reachable(3, raft::Role::follower, 3, 0);
  follower.status->membership = {{1, 3}, {}, {}};
  follower.status->config_index = 20;
  auto stale = reachable(1, raft::Role::follower, 3, 0);
  stale.status->membership = {{1, 2, 3}, {}, {}};
  stale.status->config_index = 0;
  EXPECT_EQ(json::parse(format_member_list({stale, follower}, true))["reported_by"], 3);
  EXPECT_EQ(format_member_list({unreachable(1)}, false), "no node answered\n");
}

TEST(RaftorctlOutput, FindsTheLeaderOfTheNewestTerm) {
  // A stale leader of term 2 and a new one of term 3.
  auto leader = find_leader({reachable(1, raft::Role::leader, 2, 1),
                             reachable(2, raft::Role::leader, 3, 2), unreachable(3)});
  ASSERT_TRUE(leader);
  EXPECT_EQ(leader->id, 2u);
  EXPECT_EQ(leader->term, 3u);
  // The leader itself unreachable: a follower names it.
  leader = find_leader({unreachable(1), reachable(2, raft::Role::follower, 4, 1)});
  ASSERT_TRUE(leader);
  EXPECT_EQ(leader->id, 1u);
  EXPECT_FALSE(find_leader({reachable(1, raft::Role::candidate, 5, 0), unreachable(2)}));
  EXPECT_EQ(format_leader({2, 3}, {reachable(2, raft::Role::leader, 3, 2)}, false),
            "2 127.0.0.1:7002 (term 3)\n");
}

TEST(RaftorctlOutput, ResultsInBothFormats) {
  EXPECT_EQ(format_write(12, false), "OK (index 12)\n");
  EXPECT_EQ(json::parse(format_write(12, true))["index"], 12);
  EXPECT_EQ(format_get("k", {std::string("v"), 7}, false), "v\n");
  EXPECT_EQ(format_get("k", {std::nullopt, 7}, false), "");
  auto got = json::parse(format_get("k", {std::string("v"), 7}, true));
  EXPECT_EQ(got["value"], "v");
  EXPECT_EQ(got["found"], true);
  EXPECT_FALSE(json::parse(format_get("k", {std::nullopt, 7}, true)).contains("value"));
  // Bytes that are not UTF-8 do not break the JSON.
  EXPECT_TRUE(json::accept(format_get("k", {std::string("\xff\xfe"), 1}, true)));
  EXPECT_EQ(format_cas("k", {true, 5}, false), "OK swapped (index 5)\n");
  EXPECT_EQ(json::parse(format_cas("k", {false, 5}, true))["swapped"], false);
  const auto error = json::parse(format_error_json(make_error(ErrorCode::timeout, "put: gave up")));
  EXPECT_EQ(error["code"], "timeout");
  EXPECT_EQ(error["error"], "put: gave up");
}

// --- commands against a cluster ----------------------------------------------------------

struct Outcome {
  int exit_code;
  std::string out;
  std::string err;
};

class RaftorctlCommands : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(cluster_.leader(), 0u); }

  Outcome invoke(std::vector<std::string> args) {
    std::string endpoints;
    for (const auto& e : cluster_.endpoints()) {
      endpoints += (endpoints.empty() ? "" : ",") + std::to_string(e.id) + "@127.0.0.1:" +
                   std::to_string(e.port);
    }
    args.insert(args.begin(), {"--endpoints", endpoints, "--timeout-ms", "5000"});
    auto parsed = parse(args);
    if (!parsed.invocation) return {parsed.exit_code, {}, parsed.output};
    if (!client_) {
      client_.emplace(parsed.invocation->endpoints, client_options(*parsed.invocation));
    }
    std::ostringstream out, err;
    const int code = ctl::run(*parsed.invocation, *client_, out, err);
    return {code, out.str(), err.str()};
  }

  testing::PublishedCluster cluster_;
  std::optional<client::Client> client_;  // destroyed before the cluster
};

TEST_F(RaftorctlCommands, WritesAndReads) {
  auto put = invoke({"put", "k", "v1"});
  EXPECT_EQ(put.exit_code, kExitOk) << put.err;
  EXPECT_EQ(put.out.rfind("OK (index ", 0), 0u) << put.out;
  EXPECT_EQ(put.err, "");

  for (const char* consistency : {"linearizable", "lease", "eventual"}) {
    auto get = invoke({"get", "k", "--consistency", consistency});
    EXPECT_EQ(get.exit_code, kExitOk) << get.err;
    EXPECT_EQ(get.out, "v1\n");
  }
  auto get_json = invoke({"--json", "get", "k"});
  EXPECT_EQ(json::parse(get_json.out)["value"], "v1");

  auto missing = invoke({"get", "nope"});
  EXPECT_EQ(missing.exit_code, kExitNo);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err, "raftorctl: not found: nope\n");

  auto not_swapped = invoke({"cas", "k", "wrong", "v2"});
  EXPECT_EQ(not_swapped.exit_code, kExitNo);
  EXPECT_NE(not_swapped.err.find("not swapped"), std::string::npos);
  auto swapped = invoke({"cas", "k", "v1", "v2"});
  EXPECT_EQ(swapped.exit_code, kExitOk) << swapped.err;
  EXPECT_EQ(invoke({"cas", "--expect-absent", "k", "v3"}).exit_code, kExitNo);
  EXPECT_EQ(invoke({"cas", "--expect-absent", "fresh", "v3"}).exit_code, kExitOk);

  EXPECT_EQ(invoke({"del", "k"}).exit_code, kExitOk);
  EXPECT_EQ(invoke({"get", "k"}).exit_code, kExitNo);
}

TEST_F(RaftorctlCommands, StatusMembersAndLeader) {
  const NodeId leader = cluster_.leader();
  auto leader_run = invoke({"leader"});
  EXPECT_EQ(leader_run.exit_code, kExitOk) << leader_run.err;
  EXPECT_EQ(leader_run.out.rfind(std::to_string(leader) + " 127.0.0.1:", 0), 0u) << leader_run.out;

  auto status = invoke({"--json", "status"});
  EXPECT_EQ(status.exit_code, kExitOk) << status.err;
  const auto doc = json::parse(status.out);
  EXPECT_EQ(doc["leader"], leader);
  EXPECT_EQ(doc["nodes"].size(), 3u);

  const NodeId follower = cluster_.follower();
  cluster_.stop_node(follower);
  auto table = invoke({"status"});
  EXPECT_EQ(table.exit_code, kExitOk) << table.err;
  EXPECT_NE(table.out.find("leader"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(std::to_string(follower) + "     127.0.0.1:"), std::string::npos);
  // In this one process its endpoint's proxy lingers: the request times out ("no answer")
  // rather than finding the port closed ("unreachable"), as it would once a process died.
  EXPECT_TRUE(table.out.find("unreachable") != std::string::npos ||
              table.out.find("no answer") != std::string::npos)
      << table.out;

  auto members = invoke({"members"});
  EXPECT_EQ(members.exit_code, kExitOk);
  // The configuration line, the header and the three voters.
  EXPECT_EQ(std::count(members.out.begin(), members.out.end(), '\n'), 5) << members.out;
  EXPECT_NE(members.out.find("configuration at index 0 (the bootstrap one), committed"),
            std::string::npos)
      << members.out;
}

TEST_F(RaftorctlCommands, MemberChangesAndLeadershipTransfer) {
  // A learner commits without its own participation: node 9 need not run for this.
  auto added = invoke({"member", "add", "9", "127.0.0.1:1"});
  ASSERT_EQ(added.exit_code, kExitOk) << added.err;
  EXPECT_NE(added.out.find("node 9 added as a learner"), std::string::npos) << added.out;
  auto list = invoke({"--json", "member", "list"});
  ASSERT_EQ(list.exit_code, kExitOk) << list.err;
  auto doc = json::parse(list.out);
  EXPECT_EQ(doc["committed"], true);
  EXPECT_GT(doc["config_index"], 0);
  ASSERT_EQ(doc["members"].size(), 4u);
  EXPECT_EQ(doc["members"][3]["id"], 9);
  EXPECT_EQ(doc["members"][3]["suffrage"], "learner");
  EXPECT_EQ(doc["members"][3]["address"], "127.0.0.1:1");
  EXPECT_EQ(doc["members"][3]["reachable"], false);

  // Adding it again is done already; promoting a non-member does not fit.
  EXPECT_EQ(invoke({"member", "add", "9", "127.0.0.1:1"}).exit_code, kExitOk);
  auto misfit = invoke({"member", "promote", "8"});
  EXPECT_EQ(misfit.exit_code, kExitFailed);
  EXPECT_NE(misfit.err.find("not a member"), std::string::npos) << misfit.err;
  EXPECT_EQ(invoke({"member", "remove", "9"}).exit_code, kExitOk);
  EXPECT_EQ(json::parse(invoke({"--json", "member", "list"}).out)["members"].size(), 3u);

  const NodeId target = cluster_.follower();
  auto moved = invoke({"--json", "transfer-leader", std::to_string(target)});
  ASSERT_EQ(moved.exit_code, kExitOk) << moved.err;
  EXPECT_EQ(json::parse(moved.out)["leader"], target);
  auto leader = invoke({"--json", "leader"});
  EXPECT_EQ(json::parse(leader.out)["leader"], target);
  // Writes go on at the new leader.
  EXPECT_EQ(invoke({"put", "after-transfer", "1"}).exit_code, kExitOk);
}

TEST_F(RaftorctlCommands, FailuresAreOneLineOnStderr) {
  // Snapshots are off in this cluster: the node refuses.
  auto snapshot = invoke({"snapshot"});
  EXPECT_EQ(snapshot.exit_code, kExitFailed);
  EXPECT_EQ(std::count(snapshot.err.begin(), snapshot.err.end(), '\n'), 1) << snapshot.err;
  EXPECT_NE(snapshot.err.find("snapshots are off"), std::string::npos) << snapshot.err;
  auto json_snapshot = invoke({"--json", "snapshot", "--node", "1"});
  EXPECT_EQ(json::parse(json_snapshot.out)["code"], "not_running");
}

}  // namespace
}  // namespace raftor::ctl
