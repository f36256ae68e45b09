// The Client against an in-process cluster whose nodes publish endpoints on loopback: every
// request crosses a real socket, as it would to separate processes.
#include "raftor/client/client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "published_cluster.hpp"
#include "raftor/storage/command.hpp"
#include "raftor/tests/support/test_sockets.hpp"

namespace raftor::client {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::LocalClusterOptions;
using testing::PublishedCluster;

// Every proposal the client sent: to which node, with which (client id, sequence).
struct SentProposal {
  NodeId node;
  std::uint64_t client_id;
  std::uint64_t sequence;
};

class ProposalLog {
 public:
  void attach(ClientOptions& options) {
    options.on_propose = [this](NodeId node, const std::string& payload) {
      pb::Command cmd;
      ASSERT_TRUE(command::decode(payload, cmd).ok());
      std::lock_guard lock(mutex_);
      sent_.push_back({node, cmd.client_id(), cmd.sequence()});
    };
  }
  std::vector<SentProposal> sent() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    sent_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<SentProposal> sent_;
};

ClientOptions quick_options() {
  ClientOptions options;
  options.request_timeout = 1s;
  options.deadline = 10s;
  options.backoff = 20ms;
  options.backoff_max = 200ms;
  return options;
}

using raftor::testing::BlackHole;
using raftor::testing::unused_port;

// --- cases -------------------------------------------------------------------------------

TEST(Client, RoundTripsWithEveryReadConsistency) {
  LocalClusterOptions options;
  options.lease_ticks = 10;  // lease reads are served from the lease, not via ReadIndex
  PublishedCluster cluster(options);
  ASSERT_NE(cluster.leader(), 0u);
  Client client(cluster.endpoints(), quick_options());

  auto put = client.put("k", "v1");
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  EXPECT_GT(*put, 0u);
  for (auto consistency :
       {ReadConsistency::linearizable, ReadConsistency::lease, ReadConsistency::eventual}) {
    auto got = client.get("k", consistency);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    EXPECT_EQ(got->value, "v1") << static_cast<int>(consistency);
    EXPECT_GE(got->index, *put);
  }

  auto deleted = client.del("k");
  ASSERT_TRUE(deleted.ok()) << deleted.error().to_string();
  EXPECT_GT(*deleted, *put);
  auto gone = client.get("k", ReadConsistency::linearizable);
  ASSERT_TRUE(gone.ok()) << gone.error().to_string();
  EXPECT_EQ(gone->value, std::nullopt);

  auto created = client.cas("lock", std::nullopt, "held-by-1");
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  EXPECT_TRUE(created->swapped);
  auto taken = client.cas("lock", std::nullopt, "held-by-2");
  ASSERT_TRUE(taken.ok()) << taken.error().to_string();
  EXPECT_FALSE(taken->swapped);
  auto mismatch = client.cas("lock", std::string_view("free"), "held-by-2");
  ASSERT_TRUE(mismatch.ok()) << mismatch.error().to_string();
  EXPECT_FALSE(mismatch->swapped);
  auto swapped = client.cas("lock", std::string_view("held-by-1"), "free");
  ASSERT_TRUE(swapped.ok()) << swapped.error().to_string();
  EXPECT_TRUE(swapped->swapped);
  EXPECT_EQ(client.get("lock", ReadConsistency::lease)->value, "free");
}

TEST(Client, FindsTheLeaderWhenItStartsAtAFollower) {
  PublishedCluster cluster;
  const NodeId leader = cluster.leader();
  const NodeId follower = cluster.follower();
  ASSERT_NE(leader, 0u);
  ASSERT_NE(follower, 0u);
  ProposalLog log;
  auto options = quick_options();
  log.attach(options);
  // The follower first: the client starts there.
  Client client({cluster.endpoint(follower), cluster.endpoint(leader)}, options);

  auto put = client.put("a", "1");
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  EXPECT_EQ(client.cached_leader(), leader);
  auto sent = log.sent();
  ASSERT_EQ(sent.size(), 2u);  // refused by the follower (not_leader), then the leader
  EXPECT_EQ(sent[0].node, follower);
  EXPECT_EQ(sent[1].node, leader);
  // The retry is the same request: same client id, same sequence number.
  EXPECT_EQ(sent[0].client_id, client.client_id());
  EXPECT_EQ(sent[1].client_id, client.client_id());
  EXPECT_EQ(sent[0].sequence, 1u);
  EXPECT_EQ(sent[1].sequence, 1u);
  EXPECT_EQ(client.last_sent().sequence, 1u);

  // The next write goes straight to the cached leader, with the next number.
  log.clear();
  ASSERT_TRUE(client.put("b", "2").ok());
  sent = log.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].node, leader);
  EXPECT_EQ(sent[0].sequence, 2u);
  EXPECT_EQ(client.last_sent().sequence, 2u);
  EXPECT_EQ(client.get("a", ReadConsistency::linearizable)->value, "1");
}

TEST(Client, ACallerEncodedWriteSentTwiceAppliesOnce) {
  PublishedCluster cluster;
  ASSERT_NE(cluster.leader(), 0u);
  Client client(cluster.endpoints(), quick_options());

  // As raftor-bench does: the write is encoded once, sent on a connection of the caller's,
  // and handed to the client when that attempt's answer is lost.
  const command::ClientSequence id = client.next_write_id();
  EXPECT_EQ(id.client_id, client.client_id());
  EXPECT_EQ(id.sequence, 1u);
  EXPECT_EQ(client.last_sent().sequence, 1u);
  const std::string payload = command::cas("lock", std::nullopt, "held", id);
  auto first = client.propose(payload);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  ASSERT_TRUE(first->ok) << first->message;
  EXPECT_TRUE(first->succeeded);

  // Applied a second time, the compare-and-swap would fail (the key exists now); the
  // retry gets the first outcome instead.
  auto again = client.propose(payload);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  ASSERT_TRUE(again->ok) << again->message;
  EXPECT_TRUE(again->succeeded);

  auto next = client.cas("lock", std::nullopt, "taken");  // the client's own next write
  ASSERT_TRUE(next.ok()) << next.error().to_string();
  EXPECT_FALSE(next->swapped);
  EXPECT_EQ(client.last_sent().sequence, 2u);
  EXPECT_EQ(client.get("lock", ReadConsistency::linearizable)->value, "held");
}

TEST(Client, FollowsANewLeaderAfterTheLeaderStops) {
  PublishedCluster cluster;
  const NodeId old_leader = cluster.leader();
  ASSERT_NE(old_leader, 0u);
  ProposalLog log;
  auto options = quick_options();
  log.attach(options);
  Client client(cluster.endpoints(), options);
  ASSERT_TRUE(client.put("before", "1").ok());
  ASSERT_EQ(client.cached_leader(), old_leader);

  cluster.stop_node(old_leader);
  log.clear();
  const auto start = Clock::now();
  auto put = client.put("after", "2");
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  EXPECT_LT(Clock::now() - start, options.deadline);
  EXPECT_NE(client.cached_leader(), old_leader);
  EXPECT_NE(client.cached_leader(), 0u);

  const auto sent = log.sent();
  ASSERT_GE(sent.size(), 1u);
  for (const auto& s : sent) EXPECT_EQ(s.sequence, sent.front().sequence);  // one write
  auto before = client.get("before", ReadConsistency::linearizable);
  ASSERT_TRUE(before.ok()) << before.error().to_string();
  EXPECT_EQ(before->value, "1");
  EXPECT_EQ(client.get("after", ReadConsistency::linearizable)->value, "2");

  // The stopped node's status is an error naming it; the others answer.
  auto status = client.status(old_leader);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("node " + std::to_string(old_leader)), std::string::npos)
      << status.error().message;
  auto new_status = client.status(client.cached_leader());
  ASSERT_TRUE(new_status.ok()) << new_status.error().to_string();
  EXPECT_EQ(new_status->role, static_cast<std::uint8_t>(raft::Role::leader));
}

TEST(Client, GivesUpAtTheDeadlineWhenNoNodeAnswers) {
  BlackHole silent;
  auto options = quick_options();
  options.request_timeout = 300ms;
  options.deadline = 1500ms;
  Client client({{1, "127.0.0.1", unused_port()}, {2, "127.0.0.1", silent.port()}}, options);

  for (int op = 0; op < 2; ++op) {
    const auto start = Clock::now();
    const Error error = op == 0 ? client.put("k", "v").error()
                                : client.get("k", ReadConsistency::eventual).error();
    const auto took = Clock::now() - start;
    EXPECT_GE(took, options.deadline - 50ms);
    EXPECT_LT(took, options.deadline + 1s);  // not a hang
    EXPECT_EQ(error.code, ErrorCode::timeout);
    // Names the operation and every node tried, with what happened.
    EXPECT_NE(error.message.find(op == 0 ? "put: gave up" : "get: gave up"), std::string::npos)
        << error.message;
    EXPECT_NE(error.message.find("node 1 at 127.0.0.1:"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("node 2 at 127.0.0.1:"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("refused"), std::string::npos) << error.message;
  }

  const auto start = Clock::now();
  auto status = client.status(2);
  EXPECT_FALSE(status.ok());
  EXPECT_LT(Clock::now() - start, options.request_timeout + 500ms);
}

TEST(Client, AnsweringNodesThatCannotServeAreRetriedWithTheSameSequence) {
  // Endpoints with no Raft actor attached answer not_running: the client moves on.
  caf::actor_system_config config;
  raftor::testing::configure_endpoint_system(config);
  caf::actor_system system(config);
  auto starting = network::NodeEndpoint::start(system, {1, "c", {}, "127.0.0.1", 0});
  ASSERT_TRUE(starting.ok()) << starting.error().to_string();
  ProposalLog log;
  auto options = quick_options();
  options.deadline = 500ms;
  log.attach(options);
  {
    Client client({{1, "127.0.0.1", starting->port()}}, options);
    auto put = client.put("k", "v");
    ASSERT_FALSE(put.ok());
    EXPECT_NE(put.error().message.find("not_running"), std::string::npos) << put.error().message;
    const auto sent = log.sent();
    ASSERT_GE(sent.size(), 2u);
    for (const auto& s : sent) {
      EXPECT_EQ(s.client_id, client.client_id());
      EXPECT_EQ(s.sequence, 1u);
    }
    log.clear();
    (void)client.del("k");
    for (const auto& s : log.sent()) EXPECT_EQ(s.sequence, 2u);  // the next write's number
  }
  starting->stop();
}

TEST(Client, BadEndpointsAreAnErrorOnEveryCall) {
  Client none({}, quick_options());
  auto put = none.put("k", "v");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::invalid_argument);
  Client twice({{1, "127.0.0.1", 1}, {1, "127.0.0.1", 2}}, quick_options());
  auto status = twice.status(1);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("listed twice"), std::string::npos);
}

TEST(Client, IdsAreRandomAndNeverZeroUnlessGiven) {
  Client a({{1, "127.0.0.1", 1}});
  Client b({{1, "127.0.0.1", 1}});
  EXPECT_NE(a.client_id(), 0u);
  EXPECT_NE(a.client_id(), b.client_id());
  ClientOptions options;
  options.client_id = 42;
  Client c({{1, "127.0.0.1", 1}}, options);
  EXPECT_EQ(c.client_id(), 42u);
  EXPECT_EQ(c.last_sent().sequence, 0u);
}

TEST(Client, SnapshotsANode) {
  LocalClusterOptions options;
  options.snapshot.enabled = true;
  PublishedCluster cluster(options);
  const NodeId leader = cluster.leader();
  ASSERT_NE(leader, 0u);
  Client client(cluster.endpoints(), quick_options());
  auto put = client.put("k", "v");
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  auto snapshot = client.snapshot(leader);
  ASSERT_TRUE(snapshot.ok()) << snapshot.error().to_string();
  EXPECT_GE(snapshot->last_included.index, *put);
  // The Raft actor learns of the snapshot right after the snapshotter answers.
  const auto until = Clock::now() + 5s;
  std::uint64_t reported = 0;
  while (reported < snapshot->last_included.index && Clock::now() < until) {
    if (auto status = client.status(leader)) reported = status->snapshot_index;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(reported, snapshot->last_included.index);
}

}  // namespace
}  // namespace raftor::client
