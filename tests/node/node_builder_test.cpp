// NodeBuilder end to end: three nodes, each in its own actor system, clustering over
// loopback sockets through the network transport; plus the errors start() gives.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "raftor/node/node_builder.hpp"
#include "raftor/storage/command.hpp"
#include "raftor/storage/memory_state_machine.hpp"
#include "raftor/tests/support/eventually.hpp"
#include "raftor/tests/support/test_sockets.hpp"

namespace raftor {
namespace {

using testing::eventually;

using namespace std::chrono_literals;
namespace stdfs = std::filesystem;

// A port the kernel just found free. A fixed range per process (as this was) reaches into
// the ephemeral range, where other tests' outgoing connections took ports at random.
std::uint16_t free_port() { return testing::unused_port(); }

class NodeBuilderTest : public ::testing::Test {
 protected:
  stdfs::path dir_ = stdfs::path(::testing::TempDir()) /
                     ("node-builder-" + std::string(::testing::UnitTest::GetInstance()
                                                        ->current_test_info()
                                                        ->name()));
  std::vector<node::PeerAddress> peers_;

  void SetUp() override {
    stdfs::remove_all(dir_);
    for (NodeId id = 1; id <= 3; ++id) peers_.push_back({id, {"127.0.0.1", free_port()}});
  }
  void TearDown() override { stdfs::remove_all(dir_); }

  node::NodeConfig config(NodeId id) {
    node::NodeConfig c;
    c.cluster_id = "builder-test";
    c.id = id;
    c.peers = peers_;
    c.listen = peers_[id - 1].address;
    c.data_dir = dir_ / ("n" + std::to_string(id));
    c.raft.tick_ms = 5;
    c.raft.heartbeat_interval_ms = 10;
    c.raft.election_timeout_ms = 100;
    return c;
  }

  std::unique_ptr<Node> start(NodeId id) {
    auto sm = make_builtin_state_machine(config(id));
    EXPECT_TRUE(sm.ok());
    auto node = NodeBuilder(config(id)).state_machine(std::move(sm).value()).start();
    EXPECT_TRUE(node.ok()) << node.error().to_string();
    return node.ok() ? std::move(node).value() : nullptr;
  }

  static NodeId leader_of(std::vector<std::unique_ptr<Node>>& nodes) {
    for (auto& n : nodes) {
      if (n && n->status().role == static_cast<std::uint8_t>(raft::Role::leader)) return n->id();
    }
    return 0;
  }

  static ClientReply propose(Node& node, const std::string& payload) {
    caf::scoped_actor self{node.system()};
    ClientReply out;
    self->request(node.actor(), 5s, propose_atom::value, payload)
        .receive([&](ClientReply& r) { out = std::move(r); },
                 [&](const caf::error& e) { out.message = caf::to_string(e); });
    return out;
  }

  static ClientReply read(Node& node, const std::string& key) {
    caf::scoped_actor self{node.system()};
    ClientReply out;
    self->request(node.actor(), 5s, read_atom::value, std::vector<std::string>{key},
                  ReadConsistency::eventual)
        .receive([&](ClientReply& r) { out = std::move(r); },
                 [&](const caf::error& e) { out.message = caf::to_string(e); });
    return out;
  }
};

TEST_F(NodeBuilderTest, ThreeNodesClusterOverTheNetworkAndSurviveALeaderLoss) {
  std::vector<std::unique_ptr<Node>> nodes;
  for (NodeId id = 1; id <= 3; ++id) nodes.push_back(start(id));
  ASSERT_TRUE(eventually([&] { return leader_of(nodes) != 0; }));
  NodeId leader = leader_of(nodes);
  ASSERT_TRUE(propose(*nodes[leader - 1], command::put("k", "v1")).ok);
  for (auto& n : nodes) {
    EXPECT_TRUE(eventually([&] {
      auto r = read(*n, "k");
      return r.ok && r.found.at(0) && r.values.at(0) == "v1";
    })) << "node " << n->id();
  }

  // The leader stops; the others elect a new one and keep writing; it comes back.
  nodes[leader - 1]->stop();
  nodes[leader - 1].reset();
  ASSERT_TRUE(eventually([&] { return leader_of(nodes) != 0; }));
  const NodeId second = leader_of(nodes);
  EXPECT_NE(second, leader);
  ASSERT_TRUE(propose(*nodes[second - 1], command::put("k", "v2")).ok);
  nodes[leader - 1] = start(leader);
  ASSERT_TRUE(nodes[leader - 1]);
  {
    // The node handle's client finds the leader from any node.
    auto c = nodes[leader - 1]->client();
    auto put = c->put("via-client", "yes");
    ASSERT_TRUE(put.ok()) << put.error().to_string();
    auto got = c->get("via-client", ReadConsistency::linearizable);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    EXPECT_EQ(got->value, std::optional<std::string>("yes"));
  }
  EXPECT_TRUE(eventually([&] {
    auto r = read(*nodes[leader - 1], "k");
    return r.ok && r.found.at(0) && r.values.at(0) == "v2";
  }));
}

TEST_F(NodeBuilderTest, GrowsFromOneNodeToThreeOverTheNetwork) {
  // Node 1 starts alone; nodes 2 and 3 join knowing only node 1 (and themselves). They
  // find each other through the addresses the configuration entries carry (thesis §4.1).
  auto solo = config(1);
  solo.peers = {peers_[0]};
  std::vector<std::unique_ptr<Node>> nodes(3);
  auto founder = NodeBuilder(solo).state_machine(*make_builtin_state_machine(solo)).start();
  ASSERT_TRUE(founder.ok()) << founder.error().to_string();
  nodes[0] = std::move(founder).value();
  ASSERT_TRUE(eventually([&] { return leader_of(nodes) == 1; }));
  std::vector<client::Endpoint> endpoints;
  for (const auto& p : peers_) endpoints.push_back({p.id, p.address.host, p.address.port});
  client::Client client(endpoints);
  ASSERT_TRUE(client.put("before", "1").ok());

  for (NodeId id : {NodeId{2}, NodeId{3}}) {
    auto joining = config(id);
    joining.join = true;
    joining.peers = {peers_[0], peers_[id - 1]};
    auto node = NodeBuilder(joining).state_machine(*make_builtin_state_machine(joining)).start();
    ASSERT_TRUE(node.ok()) << node.error().to_string();
    nodes[id - 1] = std::move(node).value();
    EXPECT_EQ(nodes[id - 1]->status().role, static_cast<std::uint8_t>(raft::Role::learner));
    auto added = client.add_learner(id, node::to_string(peers_[id - 1].address));
    ASSERT_TRUE(added.ok()) << added.error().to_string();
    // Within the promotion lag at once: a voter without a further command.
    ASSERT_TRUE(eventually([&] {
      const auto voters = nodes[0]->status().membership.voters;
      return std::count(voters.begin(), voters.end(), id) == 1;
    })) << "node " << id;
  }
  EXPECT_EQ(nodes[0]->status().membership.voters, (std::vector<NodeId>{1, 2, 3}));

  // A client that was given only the founder's endpoint follows leadership to a node that
  // joined later: the founder names the leader, and its configuration that node's address.
  auto moved = client.transfer_leader(3);
  ASSERT_TRUE(moved.ok()) << moved.error().to_string();
  client::Client founder_only({endpoints[0]});
  auto learned = founder_only.put("learned", "3");
  ASSERT_TRUE(learned.ok()) << learned.error().to_string();
  EXPECT_EQ(founder_only.cached_leader(), 3u);
  ASSERT_EQ(founder_only.endpoints().size(), 2u);
  EXPECT_EQ(founder_only.endpoints()[1], endpoints[2]);

  // The founder goes: the two that joined elect a leader between them and keep writing.
  nodes[0]->stop();
  nodes[0].reset();
  ASSERT_TRUE(eventually([&] { return leader_of(nodes) != 0; }));
  auto put = client.put("after", "2");
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  for (NodeId id : {NodeId{2}, NodeId{3}}) {
    EXPECT_TRUE(eventually([&] {
      auto r = read(*nodes[id - 1], "before");
      auto s = read(*nodes[id - 1], "after");
      return r.ok && r.found.at(0) && s.ok && s.found.at(0);
    })) << "node " << id;
  }
}

TEST_F(NodeBuilderTest, NodeRunsInsideAnActorSystemTheUserOwns) {
  caf::actor_system_config cfg;
  configure_actor_system(cfg);
  caf::actor_system system{cfg};
  auto c = config(1);
  c.peers = {peers_[0]};  // a single-node cluster elects itself
  auto node = NodeBuilder(c)
                  .state_machine(std::make_shared<MemoryStateMachine>())
                  .actor_system(system)
                  .start();
  ASSERT_TRUE(node.ok()) << node.error().to_string();
  EXPECT_EQ(&(*node)->system(), &system);
  ASSERT_TRUE(eventually([&] {
    return (*node)->status().role == static_cast<std::uint8_t>(raft::Role::leader);
  }));
  EXPECT_TRUE(propose(**node, command::put("own", "system")).ok);
  (*node)->stop();
  EXPECT_FALSE((*node)->running());
}

TEST_F(NodeBuilderTest, MissingStateMachineIsAClearError) {
  auto node = NodeBuilder(config(1)).start();
  ASSERT_FALSE(node.ok());
  EXPECT_NE(node.error().message.find("no state machine"), std::string::npos)
      << node.error().message;
}

TEST_F(NodeBuilderTest, InvalidConfigIsRefusedWithEveryProblem) {
  auto c = config(1);
  c.cluster_id.clear();
  c.raft.heartbeat_interval_ms = 500;
  c.raft.election_timeout_ms = 100;
  auto node = NodeBuilder(c).state_machine(std::make_shared<MemoryStateMachine>()).start();
  ASSERT_FALSE(node.ok());
  EXPECT_NE(node.error().message.find("cluster"), std::string::npos) << node.error().message;
  EXPECT_NE(node.error().message.find("heartbeat"), std::string::npos) << node.error().message;
}

TEST_F(NodeBuilderTest, PortTakenIsAClearError) {
  auto first = start(1);
  ASSERT_TRUE(first);
  auto c = config(2);
  c.listen = config(1).listen;  // node 1's port
  c.peers[1].address = c.listen;
  c.peers[0].address.port = free_port();
  auto second = NodeBuilder(c).state_machine(std::make_shared<MemoryStateMachine>()).start();
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find(std::to_string(c.listen.port)), std::string::npos)
      << second.error().message;
}

}  // namespace
}  // namespace raftor
