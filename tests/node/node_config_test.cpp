// The raftor-node configuration: the documented file, flags and environment in their
// precedence order, the errors for unknown keys and wrong types, validation, conversion.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "raftor/node/config_file.hpp"
#include "raftor/node/config_keys.hpp"
#include "raftor/node/config_overrides.hpp"
#include "raftor/node/config_validation.hpp"
#include "raftor/node/node_config.hpp"

namespace raftor::node {
namespace {

namespace stdfs = std::filesystem;
using Env = std::map<std::string, std::string>;
using ::testing::HasSubstr;

PeerAddress peer(NodeId id, std::string host, std::uint16_t port) {
  return PeerAddress{id, HostPort{std::move(host), port}};
}

class NodeConfigTest : public ::testing::Test {
 protected:
  stdfs::path dir_ = stdfs::path(::testing::TempDir()) /
                     ("node-config-" + std::string(::testing::UnitTest::GetInstance()
                                                       ->current_test_info()
                                                       ->name()));

  void SetUp() override {
    stdfs::remove_all(dir_);
    stdfs::create_directories(dir_);
  }
  void TearDown() override { stdfs::remove_all(dir_); }

  // Node 1 of three, valid as it is.
  NodeConfig valid_config() const {
    NodeConfig config;
    config.cluster_id = "test";
    config.id = 1;
    config.listen = {"0.0.0.0", 7001};
    config.peers = {peer(1, "10.0.0.1", 7001), peer(2, "10.0.0.2", 7001),
                    peer(3, "10.0.0.3", 7001)};
    config.data_dir = dir_ / "data";
    return config;
  }

  stdfs::path write_file(const std::string& name, const std::string& text) const {
    const stdfs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    return path;
  }

  // load_node_config with argv[0] = "raftor-node"; --help is a test failure here.
  static Result<NodeConfig> load(std::vector<std::string> args, const Env& env = {}) {
    args.insert(args.begin(), "raftor-node");
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    auto loaded = load_node_config(static_cast<int>(argv.size()), argv.data(), env);
    if (!loaded) return loaded.error();
    if (auto* help = std::get_if<HelpRequested>(&*loaded)) {
      return make_error(ErrorCode::internal, "unexpected help:\n" + help->text);
    }
    return std::get<NodeConfig>(std::move(*loaded));
  }

  static std::string error_of(const Result<NodeConfig>& result) {
    return result.ok() ? "(ok)" : result.error().message;
  }
};

// --- the documented file ------------------------------------------------------------------

TEST_F(NodeConfigTest, ExampleFileLoadsAndValidates) {
  auto config = load({"--config", RAFTOR_EXAMPLE_CONFIG},
                     {{"RAFTOR_NODE_DATA_DIR", (dir_ / "data").string()}});
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->cluster_id, "orders");
  EXPECT_EQ(config->id, 1u);
  EXPECT_EQ(config->peers.size(), 3u);
  const Status valid = validate(*config);
  EXPECT_TRUE(valid.ok()) << valid.error().to_string();
}

TEST_F(NodeConfigTest, ExampleFileStatesTheTrueDefaults) {
  auto config = load({"--config", RAFTOR_EXAMPLE_CONFIG});
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  // Apart from the keys the example must set (or sets for node 1), it shows the defaults.
  NodeConfig expected;
  expected.cluster_id = config->cluster_id;
  expected.id = config->id;
  expected.listen = config->listen;
  expected.peers = config->peers;
  expected.data_dir = config->data_dir;
  EXPECT_EQ(*config, expected);
}

TEST_F(NodeConfigTest, ExampleFileDocumentsEveryKey) {
  std::ifstream in(RAFTOR_EXAMPLE_CONFIG);
  std::set<std::string> documented;
  std::string section;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with('[')) section = line.substr(1, line.find(']') - 1);
    const auto equals = line.find(" = ");
    if (!line.empty() && std::isalpha(static_cast<unsigned char>(line[0])) &&
        equals != std::string::npos) {
      documented.insert(section + "." + line.substr(0, equals));
    }
  }
  std::set<std::string> keys;
  for (const ConfigKey& key : config_keys()) keys.insert(key.path());
  EXPECT_EQ(documented, keys);
}

// --- precedence: defaults < file < flags < environment ----------------------------------

TEST_F(NodeConfigTest, WithoutFileFlagsOrEnvironmentTheDefaultsApply) {
  auto config = load({}, {{"PATH", "/usr/bin"}, {"HOME", "/root"}});  // not RAFTOR_*: ignored
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  const NodeConfig defaults;
  EXPECT_EQ(*config, defaults);
}

TEST_F(NodeConfigTest, FileOverridesDefaultsFlagsOverrideFileEnvironmentOverridesAll) {
  const stdfs::path file = write_file("node.toml", R"(
[cluster]
peers = ["1@a:7001", "2@b:7002"]
[node]
id = 2
[raft]
tick_ms = 20
election_timeout_ms = 800
[snapshot]
keep = 3
[log]
level = "debug"
)");
  auto config = load({"--config", file.string(), "--id", "3", "--raft-election-timeout-ms", "900",
                      "--log-level", "warn", "--peer", "3@c:7003"},
                     {{"RAFTOR_LOG_LEVEL", "error"}, {"RAFTOR_SNAPSHOT_KEEP", "5"}});
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->raft.heartbeat_interval_ms, 50u);   // default
  EXPECT_EQ(config->raft.tick_ms, 20u);                 // file
  EXPECT_EQ(config->raft.election_timeout_ms, 900u);    // flag over file
  EXPECT_EQ(config->id, 3u);                            // flag over file
  EXPECT_EQ(config->log.level, "error");                // environment over flag over file
  EXPECT_EQ(config->snapshot.keep, 5u);                 // environment over file
  EXPECT_EQ(config->peers, std::vector<PeerAddress>{peer(3, "c", 7003)});  // replaced
}

TEST_F(NodeConfigTest, PeersRepeatAndCommaSeparateOnFlagsAndEnvironment) {
  auto flags = load({"--peer", "1@a:1", "--peer", "2@b:2,3@[::1]:3"});
  ASSERT_TRUE(flags.ok()) << flags.error().to_string();
  EXPECT_EQ(flags->peers, (std::vector<PeerAddress>{peer(1, "a", 1), peer(2, "b", 2),
                                                    peer(3, "::1", 3)}));
  auto env = load({}, {{"RAFTOR_CLUSTER_PEERS", "4@d:4, 5@e:5"}});
  ASSERT_TRUE(env.ok()) << env.error().to_string();
  EXPECT_EQ(env->peers, (std::vector<PeerAddress>{peer(4, "d", 4), peer(5, "e", 5)}));
}

TEST_F(NodeConfigTest, BooleanFlagsAndVariables) {
  auto config = load({"--log-json", "--snapshot-enabled=false"});
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_TRUE(config->log.json);
  EXPECT_FALSE(config->snapshot.enabled);

  config = load({"--log-json"}, {{"RAFTOR_LOG_JSON", "off"}, {"RAFTOR_SNAPSHOT_ENABLED", "1"}});
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_FALSE(config->log.json);
  EXPECT_TRUE(config->snapshot.enabled);
}

TEST_F(NodeConfigTest, EveryKeyHasAFlagAndAVariableListedByHelp) {
  const char* argv[] = {"raftor-node", "--help"};
  auto loaded = load_node_config(2, argv, {});
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  const auto* help = std::get_if<HelpRequested>(&*loaded);
  ASSERT_NE(help, nullptr);
  EXPECT_THAT(help->text, HasSubstr("--config"));
  for (const ConfigKey& key : config_keys()) {
    EXPECT_THAT(help->text, HasSubstr(std::string(key.flag))) << key.path();
    EXPECT_THAT(help->text, HasSubstr(key.env_name())) << key.path();
  }
  const ConfigKey* election = find_config_key("raft", "election_timeout_ms");
  ASSERT_NE(election, nullptr);
  EXPECT_EQ(election->env_name(), "RAFTOR_RAFT_ELECTION_TIMEOUT_MS");
  EXPECT_EQ(find_config_key("node", "id")->env_name(), "RAFTOR_NODE_ID");
}

// --- errors while loading -----------------------------------------------------------------

TEST_F(NodeConfigTest, UnknownKeysInTheFileAreErrorsNamingKeyAndFile) {
  NodeConfig config;
  Status status = apply_config_text("[raft]\nelecton_timeout_ms = 500\n", "node1.toml", config);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(status.error().message, "unknown key 'raft.electon_timeout_ms' in node1.toml");

  status = apply_config_text("id = 1\n[rafts]\ntick_ms = 5\n", "node1.toml", config);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message,
            "unknown key 'id' in node1.toml\nunknown key 'rafts' in node1.toml");
  const NodeConfig defaults;
  EXPECT_EQ(config, defaults);  // all or nothing
}

TEST_F(NodeConfigTest, WrongTypesAreErrorsNamingKeyAndExpectedType) {
  NodeConfig config;
  const Status status = apply_config_text(R"(
[cluster]
peers = "1@a:7001"
[node]
id = -1
listen = "nohost"
[raft]
tick_ms = "10"
[log]
json = "yes"
)",
                                          "node1.toml", config);
  ASSERT_FALSE(status.ok());
  const std::string& message = status.error().message;
  EXPECT_THAT(message, HasSubstr("wrong type for 'cluster.peers' in node1.toml: expected an "
                                 "array of strings \"ID@HOST:PORT\", got a string"));
  EXPECT_THAT(message, HasSubstr("bad value for 'node.id' in node1.toml: expected a "
                                 "non-negative integer, got -1"));
  EXPECT_THAT(message, HasSubstr("bad value for 'node.listen' in node1.toml: expected "
                                 "HOST:PORT"));
  EXPECT_THAT(message, HasSubstr("wrong type for 'raft.tick_ms' in node1.toml: expected an "
                                 "integer in [0, 4294967295], got a string"));
  EXPECT_THAT(message, HasSubstr("wrong type for 'log.json' in node1.toml: expected a "
                                 "boolean, got a string"));
}

TEST_F(NodeConfigTest, FileSyntaxErrorsAndMissingFilesAreErrors) {
  NodeConfig config;
  const Status syntax = apply_config_text("[raft\n", "node1.toml", config);
  ASSERT_FALSE(syntax.ok());
  EXPECT_THAT(syntax.error().message, HasSubstr("cannot parse node1.toml"));

  auto missing = load({"--config", (dir_ / "absent.toml").string()});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::io_error);
  EXPECT_THAT(missing.error().message, HasSubstr("absent.toml"));
}

TEST_F(NodeConfigTest, UnknownFlagsAndBadFlagValuesAreErrors) {
  EXPECT_EQ(error_of(load({"--electon-timeout-ms", "5"})),
            "unknown flag '--electon-timeout-ms' (see --help)");
  EXPECT_EQ(error_of(load({"--raft-tick=5"})), "unknown flag '--raft-tick' (see --help)");
  EXPECT_EQ(error_of(load({"stray"})), "unexpected argument 'stray' (see --help)");
  EXPECT_EQ(error_of(load({"--id", "abc"})),
            "bad value for --id: expected a non-negative integer, got 'abc'");
  EXPECT_THAT(error_of(load({"--listen", "7001"})), HasSubstr("bad value for --listen"));
  EXPECT_THAT(error_of(load({"--id", "1", "--id", "2"})), HasSubstr("--id"));
}

TEST_F(NodeConfigTest, UnknownAndBadEnvironmentVariablesAreErrors) {
  EXPECT_THAT(error_of(load({}, {{"RAFTOR_RAFT_ELECTON_TIMEOUT_MS", "500"}})),
              HasSubstr("unknown environment variable RAFTOR_RAFT_ELECTON_TIMEOUT_MS"));
  // Variables outside the config's sections belong to other tools and are left alone.
  EXPECT_TRUE(load({}, {{"RAFTOR_ENDPOINTS", "1@h:1"}, {"RAFTOR_SANITIZE", "address"}}).ok());
  EXPECT_EQ(error_of(load({}, {{"RAFTOR_LOG_JSON", "maybe"}})),
            "bad value for RAFTOR_LOG_JSON: expected a boolean, got 'maybe'");
  EXPECT_EQ(error_of(load({}, {{"RAFTOR_RAFT_TICK_MS", "4294967296"}})),
            "bad value for RAFTOR_RAFT_TICK_MS: expected an integer in [0, 4294967295], got "
            "'4294967296'");
}

TEST_F(NodeConfigTest, AddressesParse) {
  EXPECT_EQ(*parse_host_port("example.com:80"), (HostPort{"example.com", 80}));
  EXPECT_EQ(*parse_host_port("[fe80::1]:7001"), (HostPort{"fe80::1", 7001}));
  EXPECT_EQ(*parse_peer_address("12@10.0.0.1:65535"), peer(12, "10.0.0.1", 65535));
  EXPECT_EQ(to_string(peer(4, "::1", 7004)), "4@[::1]:7004");
  for (const char* bad : {"host", ":80", "host:0", "host:65536", "host:8x", "::1:80", "[::1]80"}) {
    EXPECT_FALSE(parse_host_port(bad).ok()) << bad;
  }
  for (const char* bad : {"a:1", "0@a:1", "x@a:1", "1@a", "@a:1"}) {
    EXPECT_FALSE(parse_peer_address(bad).ok()) << bad;
  }
}

// --- validation ---------------------------------------------------------------------------

TEST_F(NodeConfigTest, AValidConfigPassesAndItsDataDirectoryIsCreated) {
  const NodeConfig config = valid_config();
  const Status status = validate(config);
  ASSERT_TRUE(status.ok()) << status.error().to_string();
  EXPECT_TRUE(stdfs::is_directory(config.data_dir));
  EXPECT_TRUE(stdfs::is_empty(config.data_dir));  // the probe file is gone
}

TEST_F(NodeConfigTest, EachRuleReportsItsProblem) {
  struct Case {
    std::function<void(NodeConfig&)> change;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](NodeConfig& c) { c.cluster_id.clear(); }, "cluster.id is missing"},
      {[](NodeConfig& c) { c.join = true, c.peers.resize(1); },
       "node.join is set but cluster.peers lists no member of the cluster to join"},
      {[](NodeConfig& c) { c.id = 0; }, "node.id is missing"},
      {[](NodeConfig& c) { c.id = 4; }, "node.id 4 is not in cluster.peers (1, 2, 3)"},
      {[](NodeConfig& c) { c.peers.clear(); }, "cluster.peers is empty"},
      {[](NodeConfig& c) { c.peers[2].id = 2; }, "cluster.peers lists node 2 more than once"},
      {[](NodeConfig& c) { c.peers[1].address = c.peers[0].address; },
       "cluster.peers: nodes 1 and 2 both use 10.0.0.1:7001"},
      {[](NodeConfig& c) { c.listen.port = 7009; },
       "node.listen port 7009 differs from this node's cluster.peers entry 1@10.0.0.1:7001"},
      {[](NodeConfig& c) { c.raft.heartbeat_interval_ms = 500; },
       "raft.heartbeat_interval_ms (500) must be below raft.election_timeout_ms (500)"},
      {[](NodeConfig& c) { c.raft.heartbeat_interval_ms = 5; },
       "raft.heartbeat_interval_ms (5) is shorter than one tick (raft.tick_ms = 10)"},
      {[](NodeConfig& c) { c.raft.heartbeat_interval_ms = 10, c.raft.election_timeout_ms = 19; },
       "raft.election_timeout_ms (19) must be at least 2 ticks (raft.tick_ms = 10)"},
      {[](NodeConfig& c) { c.raft.tick_ms = 0; }, "raft.tick_ms must be > 0"},
      {[](NodeConfig& c) { c.raft.lease_duration_ms = 490; },
       "raft.lease_duration_ms (490) is too long for raft.election_timeout_ms (500) at "
       "raft.tick_ms 10: raft config: lease_ticks (49) must be below election_ticks - "
       "lease_drift_ticks (50 - 1)"},
      {[](NodeConfig& c) { c.raft.lease_duration_ms = 5; },
       "raft.lease_duration_ms (5) is shorter than one tick"},
      {[](NodeConfig& c) { c.raft.max_append_bytes = 0; }, "raft.max_append_bytes must be > 0"},
      {[](NodeConfig& c) { c.raft.max_inflight_appends = 0; },
       "raft.max_inflight_appends must be > 0"},
      {[](NodeConfig& c) { c.snapshot.keep = 0; }, "snapshot.keep must be >= 1"},
      {[](NodeConfig& c) { c.snapshot.chunk_bytes = 0; },
       "snapshot.chunk_bytes (0) must be between 1 and 67108864 (64 MiB)"},
      {[](NodeConfig& c) { c.snapshot.chunk_bytes = (64 << 20) + 1; },
       "snapshot.chunk_bytes (67108865) must be between 1 and 67108864 (64 MiB)"},
      {[](NodeConfig& c) { c.max_frame_bytes = 1 << 20; },
       "node.max_frame_bytes (1048576) must be between 1114112 (the larger of"},
      {[](NodeConfig& c) { c.max_frame_bytes = (1u << 30) + 1; },
       "node.max_frame_bytes (1073741825) must be between"},
      {[](NodeConfig& c) { c.state_machine = "leveldb"; },
       "node.state_machine 'leveldb' is unknown (rocksdb, file)"},
      {[](NodeConfig& c) { c.log.level = "verbose"; },
       "log.level 'verbose' is unknown (trace, debug, info, warn, error, critical, off)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    NodeConfig config = valid_config();
    c.change(config);
    const std::vector<std::string> problems = config_problems(config);
    ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
    EXPECT_THAT(problems[0], HasSubstr(c.message));
  }
}

TEST_F(NodeConfigTest, TheLimitsThemselvesAreValid) {
  NodeConfig config = valid_config();
  config.raft.lease_duration_ms = 480;  // 48 + 1 drift tick < 50
  config.raft.heartbeat_interval_ms = 10;
  config.snapshot.chunk_bytes = 64 << 20;
  config.snapshot.keep = 1;
  config.state_machine = "file";
  config.log.level = "off";
  EXPECT_EQ(config_problems(config), std::vector<std::string>{});
}

TEST_F(NodeConfigTest, AllProblemsAreReportedAtOnceOnePerLine) {
  NodeConfig config = valid_config();
  config.cluster_id.clear();
  config.snapshot.keep = 0;
  config.log.level = "loud";
  const Status status = validate(config);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::invalid_argument);
  std::istringstream lines(status.error().message);
  std::vector<std::string> problems;
  for (std::string line; std::getline(lines, line);) problems.push_back(line);
  ASSERT_EQ(problems.size(), 4u) << status.error().message;
  EXPECT_EQ(problems[0], "invalid node configuration (3 problems):");
  EXPECT_THAT(problems[1], HasSubstr("cluster.id is missing"));
  EXPECT_THAT(problems[2], HasSubstr("snapshot.keep must be >= 1"));
  EXPECT_THAT(problems[3], HasSubstr("log.level 'loud' is unknown"));
}

TEST_F(NodeConfigTest, ADataDirectoryThatCannotBeCreatedIsRefused) {
  const stdfs::path file = write_file("plain-file", "not a directory");
  NodeConfig config = valid_config();
  config.data_dir = file / "data";
  const Status under_file = validate(config);
  ASSERT_FALSE(under_file.ok());
  EXPECT_THAT(under_file.error().message,
              HasSubstr("node.data_dir '" + config.data_dir.string() + "' cannot be created"));

  config.data_dir = file;
  const Status is_file = validate(config);
  ASSERT_FALSE(is_file.ok());
  EXPECT_THAT(is_file.error().message, HasSubstr("node.data_dir '" + file.string() + "'"));

  config.data_dir.clear();
  EXPECT_EQ(data_dir_problem(config.data_dir), "node.data_dir is empty");
}

// --- conversion ---------------------------------------------------------------------------

TEST_F(NodeConfigTest, ToRaftActorConfigConvertsMillisecondsToTicks) {
  NodeConfig config = valid_config();
  config.raft.tick_ms = 20;
  config.raft.heartbeat_interval_ms = 50;   // 2.5 ticks: rounds down
  config.raft.election_timeout_ms = 1000;
  config.raft.lease_duration_ms = 739;      // 36.95 ticks: rounds down, never longer
  config.raft.max_append_bytes = 4096;
  config.raft.max_inflight_appends = 8;
  config.snapshot.enabled = false;
  config.snapshot.entries_threshold = 7;
  config.snapshot.log_bytes_threshold = 8;
  config.snapshot.interval_ms = 9000;
  config.snapshot.keep = 4;
  config.snapshot.retention_entries = 11;

  const RaftActorConfig actor = to_raft_actor_config(config);
  EXPECT_EQ(actor.tick_interval, std::chrono::milliseconds(20));
  EXPECT_EQ(actor.raft.id, 1u);
  EXPECT_EQ(actor.raft.voters, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_TRUE(actor.raft.learners.empty());
  EXPECT_EQ(actor.raft.heartbeat_ticks, 2u);
  EXPECT_EQ(actor.raft.election_ticks, 50u);
  EXPECT_EQ(actor.raft.lease_ticks, 36u);
  EXPECT_EQ(actor.raft.max_append_bytes, 4096u);
  EXPECT_EQ(actor.raft.max_inflight_appends, 8u);
  EXPECT_TRUE(actor.raft.validate().ok());

  EXPECT_FALSE(actor.snapshot.enabled);
  EXPECT_EQ(actor.snapshot.dir, config.data_dir / "snapshots");
  EXPECT_EQ(actor.snapshot.policy.max_entries, 7u);
  EXPECT_EQ(actor.snapshot.policy.max_log_bytes, 8u);
  EXPECT_EQ(actor.snapshot.policy.max_interval, std::chrono::milliseconds(9000));
  EXPECT_EQ(actor.snapshot.keep, 4u);
  EXPECT_EQ(actor.snapshot.retention, 11u);
}

TEST_F(NodeConfigTest, AJoiningNodeIsALearnerOfItsBootstrapConfiguration) {
  NodeConfig config = valid_config();
  config.id = 3;
  config.listen.port = config.peers[2].address.port;
  config.join = true;
  config.raft.learner_promote_lag = 50;
  ASSERT_TRUE(validate(config).ok());
  const RaftActorConfig actor = to_raft_actor_config(config);
  EXPECT_EQ(actor.raft.voters, (std::vector<NodeId>{1, 2}));
  EXPECT_EQ(actor.raft.learners, (std::vector<NodeId>{3}));
  // The configured addresses go into the configuration entries, for members added later.
  EXPECT_EQ(actor.raft.addresses.at(1), node::to_string(config.peers[0].address));
  EXPECT_EQ(actor.raft.addresses.size(), 3u);
  EXPECT_EQ(actor.raft.promote_learner_lag, 50u);
  EXPECT_TRUE(actor.raft.validate().ok());
  // 0: learners are promoted only by command.
  config.raft.learner_promote_lag = 0;
  EXPECT_EQ(to_raft_actor_config(config).raft.promote_learner_lag, std::nullopt);
}

TEST_F(NodeConfigTest, ToRaftActorConfigOfTheDefaults) {
  NodeConfig config = valid_config();
  const RaftActorConfig actor = to_raft_actor_config(config);
  EXPECT_EQ(actor.raft.heartbeat_ticks, 5u);
  EXPECT_EQ(actor.raft.election_ticks, 50u);
  EXPECT_EQ(actor.raft.lease_ticks, 0u);  // lease reads off
  config.raft.tick_ms = 0;                // invalid, but no division by zero
  EXPECT_EQ(to_raft_actor_config(config).raft.election_ticks, 500u);
}

}  // namespace
}  // namespace raftor::node
