// NetworkTransport and NodeEndpoint over real loopback sockets: several actor systems in one
// process, each with its own middleman (whose multiplexer runs the brokers) and port, stand
// in for the nodes of a cluster. A sink actor stands in for each node's Raft actor and
// records the peer messages it gets.
#include "raftor/actors/network/network_transport.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/io/all.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "raftor/actors/network/frame.hpp"
#include "raftor/actors/network/node_endpoint.hpp"
#include "raftor/actors/network/refusal_log.hpp"
#include "raftor/client/node_connection.hpp"
#include "raftor/tests/support/test_sockets.hpp"

namespace raftor::network {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = 10s;
const std::string kCluster = "cluster-a";

// Polls `condition` until it holds or the deadline passes; returns whether it held.
template <class Condition>
bool eventually(Condition condition, Clock::duration deadline = kDeadline) {
  const auto until = Clock::now() + deadline;
  while (!condition()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// What a sink actor received as (peer, raft::Message).
class Inbox {
 public:
  void push(raft::Message message) {
    std::lock_guard lock(mutex_);
    messages_.push_back(std::move(message));
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }
  std::vector<raft::Message> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  bool has_term(std::uint64_t term) const {
    std::lock_guard lock(mutex_);
    for (const auto& m : messages_) {
      if (m.term == term) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<raft::Message> messages_;
};

// Stands in for a node's Raft actor: records peer messages, answers client requests with
// recognizable values, ignores the rest.
raft_actor::behavior_type sink(raft_actor::pointer, std::shared_ptr<Inbox> inbox, NodeId id) {
  return {
      [](propose_atom, std::string& payload) {
        ClientReply reply;
        reply.ok = true;
        reply.message = "applied " + payload;
        return reply;
      },
      [](read_atom, std::vector<std::string>& keys, ReadConsistency) {
        ClientReply reply;
        reply.ok = true;
        reply.values = keys;
        return reply;
      },
      [id](status_atom) {
        NodeStatus status;
        status.id = id;
        return status;
      },
      [](member_atom, MembershipChange& change) {
        ClientReply reply;
        reply.ok = true;
        reply.index = change.node;
        reply.message = "member " + std::to_string(static_cast<int>(change.type)) + " " +
                        change.address;
        return reply;
      },
      [](transfer_atom, NodeId target) {
        ClientReply reply;
        reply.ok = true;
        reply.leader = target;
        return reply;
      },
      [](membership_atom, std::uint64_t) { return Membership{}; },
      [inbox](peer_atom, raft::Message& message) { inbox->push(std::move(message)); },
      [](applied_atom, AppliedEntries&) {},
      [](tick_atom) {},
      [](ready_atom) {},
      [](snapshot_atom) { return SnapshotReply{}; },
      [](snap_done_atom, SnapshotMetadata&) {},
      [](purge_atom, std::uint64_t) {},
      [](snap_sent_atom, NodeId, bool) {},
      [](snap_recv_atom, NodeId, std::uint64_t, SnapshotMetadata&) {},
  };
}

struct NodeOptions {
  NodeId id = 0;
  std::string cluster = kCluster;
  std::uint16_t port = 0;        // 0: a free one
  std::set<NodeId> accepts = {};  // senders the endpoint accepts
};

// One "process": an actor system with a middleman, an endpoint, a sink, and
// (once the peers' ports are known) a transport.
class Node {
 public:
  explicit Node(NodeOptions options) : options_(std::move(options)) {
    config_.load<caf::io::middleman>();
    register_message_types(config_);
    system_.emplace(config_);
    NodeEndpointConfig endpoint{options_.id, options_.cluster, options_.accepts, "127.0.0.1",
                                options_.port};
    auto started = NodeEndpoint::start(*system_, endpoint);
    if (!started.ok()) throw std::runtime_error(started.error().to_string());
    endpoint_.emplace(std::move(started).value());
    sink_ = system_->spawn(sink, inbox_, options_.id);
    endpoint_->attach(sink_);
  }

  ~Node() { shut_down(); }

  void connect_to(std::vector<PeerAddress> peers) {
    NetworkTransportConfig config{options_.id, options_.cluster, std::move(peers), {},
                                  "127.0.0.1:" + std::to_string(port()), endpoint_->broker()};
    transport_ = std::make_unique<NetworkTransport>(*system_, config);
  }

  // What a node does before its actor system goes: every long-running actor is told to exit.
  void shut_down() {
    if (!system_) return;
    if (transport_) transport_->stop();
    endpoint_->stop();
    caf::anon_send_exit(sink_, caf::exit_reason::user_shutdown);
    sink_ = nullptr;
    system_.reset();  // blocks until every actor has ended
  }

  PeerAddress address() const { return {options_.id, "127.0.0.1", endpoint_->port()}; }
  std::uint16_t port() const { return endpoint_->port(); }
  NetworkTransport& transport() { return *transport_; }
  const EndpointCounters& counters() const { return endpoint_->counters(); }
  const Inbox& inbox() const { return *inbox_; }
  caf::actor_system& system() { return *system_; }

 private:
  NodeOptions options_;
  caf::actor_system_config config_;
  std::optional<caf::actor_system> system_;
  std::optional<NodeEndpoint> endpoint_;
  std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();
  raft_actor sink_;
  std::unique_ptr<NetworkTransport> transport_;
};

raft::Message heartbeat(NodeId from, NodeId to, std::uint64_t term) {
  return {from, to, term, raft::AppendRequest{}};
}

// Sends until one arrives: the first messages may be dropped while connecting.
bool delivers(Node& from, Node& to, raft::Message message) {
  const std::uint64_t term = message.term;
  return eventually([&] {
    if (to.inbox().has_term(term)) return true;
    from.transport().send(message);
    return eventually([&] { return to.inbox().has_term(term); }, 20ms);
  });
}

using raftor::testing::BlackHole;
using raftor::testing::unused_port;

// A raw TCP client, for bytes CAF would never send.
class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawSocket() { ::close(fd_); }
  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  void write(const std::string& bytes) {
    (void)!::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  // Whether the other end closed the connection within `timeout` (reads and discards).
  bool closed_by_peer(std::chrono::milliseconds timeout = 5s) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  int fd_;
  bool connected_ = false;
};

// A frame header (frame.hpp) with any field as given, for headers a node must refuse.
std::string frame_header(std::uint32_t length, std::uint8_t kind = 1,
                         std::uint8_t version = kFrameVersion, std::string magic = "RFTR") {
  std::string bytes = magic;
  bytes.push_back(static_cast<char>(version));
  bytes.push_back(static_cast<char>(kind));
  bytes.append(2, '\0');
  for (int i = 3; i >= 0; --i) bytes.push_back(static_cast<char>(length >> (8 * i)));
  return bytes;
}

// Runs `shutdown` and ends the process (which would otherwise hang) if it does not return in
// time. It runs on the calling thread, not on a helper: CAF 0.17 keeps a thread-local
// reference to the logger of the system a thread last constructed or spawned into, and an
// actor system waits for its logger's destruction: destroyed from another thread, a system
// the calling thread still references would hang for that reason alone.
template <class Shutdown>
void finishes_in_time(Shutdown shutdown) {
  std::promise<void> done;
  std::thread watchdog([finished = done.get_future()] {
    if (finished.wait_for(30s) != std::future_status::ready) {
      std::fprintf(stderr, "shutdown hangs: aborting\n");
      std::_Exit(1);
    }
  });
  shutdown();
  done.set_value();
  watchdog.join();
}

// --- cases -------------------------------------------------------------------------------

TEST(NetworkTransport, DeliversEveryMessageKindIntact) {
  Node b({.id = 2, .accepts = {1}});
  Node a({.id = 1, .accepts = {2}});
  a.connect_to({b.address()});
  ASSERT_TRUE(eventually([&] { return a.transport().connected(2); }));

  raft::AppendRequest append;
  append.prev = {41, 3};
  append.entries = {{42, 3, EntryType::normal, "payload-42"}, {43, 4, EntryType::noop, ""},
                    {44, 4, EntryType::config, std::string("\0\1\2", 3)}};
  append.commit = 40;
  append.read_context = 9;
  const std::vector<raft::Message> sent = {
      {1, 2, 5, append},
      {1, 2, 6, raft::VoteRequest{{10, 4}, true, true}},
      {1, 2, 7, raft::VoteResponse{true, true}},
      {1, 2, 8, raft::AppendResponse{false, 3, 17, 2, 11}},
  };
  for (const auto& m : sent) a.transport().send(m);

  ASSERT_TRUE(eventually([&] { return b.inbox().size() == sent.size(); }));
  const auto received = b.inbox().messages();
  for (std::size_t i = 0; i < sent.size(); ++i) {  // one connection: in order
    EXPECT_EQ(raft::describe(received[i]), raft::describe(sent[i]));
    EXPECT_EQ(received[i].body.index(), sent[i].body.index());
  }
  EXPECT_EQ(std::get<raft::AppendRequest>(received[0].body).entries, append.entries);
  EXPECT_EQ(b.counters().delivered.load(), sent.size());
  EXPECT_EQ(a.transport().dropped(), 0u);
}

TEST(NetworkTransport, NodesTalkBothWays) {
  Node a({.id = 1, .accepts = {2, 3}});
  Node b({.id = 2, .accepts = {1, 3}});
  Node c({.id = 3, .accepts = {1, 2}});
  a.connect_to({a.address(), b.address(), c.address()});  // itself included: skipped
  b.connect_to({a.address(), b.address(), c.address()});
  c.connect_to({a.address(), b.address(), c.address()});
  EXPECT_TRUE(delivers(a, b, heartbeat(1, 2, 1)));
  EXPECT_TRUE(delivers(b, a, heartbeat(2, 1, 2)));
  EXPECT_TRUE(delivers(c, a, heartbeat(3, 1, 3)));
  EXPECT_TRUE(delivers(a, c, heartbeat(1, 3, 4)));
  EXPECT_TRUE(delivers(b, c, heartbeat(2, 3, 5)));
  EXPECT_TRUE(delivers(c, b, heartbeat(3, 2, 6)));
}

TEST(NetworkTransport, RefusesAnotherClusterAndKeepsServing) {
  Node b({.id = 2, .accepts = {1}});
  Node a({.id = 1, .accepts = {2}});
  Node stranger({.id = 1, .cluster = "cluster-b", .accepts = {2}});
  a.connect_to({b.address()});
  stranger.connect_to({b.address()});
  ASSERT_TRUE(eventually([&] { return stranger.transport().connected(2); }));

  for (int i = 0; i < 100; ++i) stranger.transport().send(heartbeat(1, 2, 1000));
  ASSERT_TRUE(eventually([&] { return b.counters().refused.load() == 100; }));
  EXPECT_TRUE(delivers(a, b, heartbeat(1, 2, 1)));
  EXPECT_FALSE(b.inbox().has_term(1000));
}

TEST(NetworkTransport, RefusesAnUnknownSender) {
  Node b({.id = 2, .accepts = {1}});
  Node a({.id = 1, .accepts = {2}});
  Node unknown({.id = 7, .accepts = {2}});
  a.connect_to({b.address()});
  unknown.connect_to({b.address()});
  ASSERT_TRUE(eventually([&] { return unknown.transport().connected(2); }));

  unknown.transport().send(heartbeat(7, 2, 1000));
  ASSERT_TRUE(eventually([&] { return b.counters().refused.load() == 1; }));
  EXPECT_TRUE(delivers(a, b, heartbeat(1, 2, 1)));
  EXPECT_FALSE(b.inbox().has_term(1000));
}

TEST(NetworkTransport, NewMemberIsDialledAtItsAddressAndAccepted) {
  Node a({.id = 1, .accepts = {2}});
  Node b({.id = 2, .accepts = {1}});
  Node joiner({.id = 4, .accepts = {1}});
  a.connect_to({b.address()});
  b.connect_to({a.address()});
  joiner.connect_to({a.address()});
  // Node 4 is in nobody's configured peers: b refuses it until the configuration names it.
  ASSERT_TRUE(eventually([&] { return joiner.transport().connected(1); }));
  joiner.transport().update_members({{1, 2}, {4}, {{2, "127.0.0.1:" + std::to_string(b.port())}}},
                                    false);
  ASSERT_TRUE(eventually([&] { return joiner.transport().connected(2); }));
  joiner.transport().send(heartbeat(4, 2, 1000));
  ASSERT_TRUE(eventually([&] { return b.counters().refused.load() == 1; }));

  // The configuration adds node 4 with its address (thesis §4.1): a dials it, b accepts it.
  const Membership with_4{{1, 2}, {4}, {{4, "127.0.0.1:" + std::to_string(joiner.port())}}};
  a.transport().update_members(with_4, false);
  b.transport().update_members(with_4, false);
  ASSERT_TRUE(eventually([&] { return a.transport().connected(4); }));
  EXPECT_TRUE(delivers(a, joiner, heartbeat(1, 4, 1)));
  EXPECT_TRUE(delivers(joiner, b, heartbeat(4, 2, 2)));
}

TEST(NetworkTransport, LearnerAcceptsAnySenderOfItsCluster) {
  // A node that is not a voter (a learner joining) cannot know every member yet: the
  // leader may be a node added after its configuration was written.
  Node learner({.id = 4, .accepts = {1}});
  Node leader({.id = 3, .accepts = {4}});
  Node stranger({.id = 3, .cluster = "cluster-b", .accepts = {4}});
  learner.connect_to({});
  learner.transport().update_members({{1, 2}, {4}, {}}, true);
  leader.connect_to({learner.address()});
  stranger.connect_to({learner.address()});
  EXPECT_TRUE(delivers(leader, learner, heartbeat(3, 4, 1)));
  // The leader's request named its address: the learner can answer it.
  ASSERT_TRUE(eventually([&] { return learner.transport().connected(3); }));
  EXPECT_TRUE(delivers(learner, leader, heartbeat(4, 3, 2)));
  // Another cluster is still refused.
  ASSERT_TRUE(eventually([&] { return stranger.transport().connected(4); }));
  stranger.transport().send(heartbeat(3, 4, 1000));
  ASSERT_TRUE(eventually([&] { return learner.counters().refused.load() == 1; }));
  EXPECT_FALSE(learner.inbox().has_term(1000));
}

TEST(NetworkTransport, RemovedMemberIsLetGoOnlyOnceTheChangeCommits) {
  Node a({.id = 1, .accepts = {2}});
  Node b({.id = 2, .accepts = {1}});
  a.connect_to({b.address()});
  ASSERT_TRUE(eventually([&] { return a.transport().connected(2); }));
  // Removal not committed yet: node 2 must still hear of it.
  a.transport().update_members({{1}, {}, {}}, false);
  EXPECT_TRUE(delivers(a, b, heartbeat(1, 2, 1)));
  a.transport().update_members({{1}, {}, {}}, true);
  ASSERT_TRUE(eventually([&] { return !a.transport().connected(2); }));
  const auto dropped = a.transport().dropped();
  a.transport().send(heartbeat(1, 2, 2));
  EXPECT_TRUE(eventually([&] { return a.transport().dropped() == dropped + 1; }));
  EXPECT_FALSE(eventually([&] { return b.inbox().has_term(2); }, 200ms));
}

TEST(NetworkTransport, RefusesMessagesForAnotherNode) {
  Node b({.id = 2, .accepts = {1}});
  Node a({.id = 1, .accepts = {2}});
  // A believes node 3 lives at B's address.
  a.connect_to({b.address(), {3, "127.0.0.1", b.port()}});
  ASSERT_TRUE(eventually([&] { return a.transport().connected(3); }));
  a.transport().send(heartbeat(1, 3, 1000));
  ASSERT_TRUE(eventually([&] { return b.counters().refused.load() == 1; }));
  EXPECT_TRUE(delivers(a, b, heartbeat(1, 2, 1)));
}

// Raftor's framing holds only the bytes received: a header that claims more than the
// maximum closes its connection at once, a claim within it costs only what really arrives.
TEST(NetworkTransport, GarbageOnThePortDoesNotStopServing) {
  Node b({.id = 2, .accepts = {1}});
  Node a({.id = 1, .accepts = {2}});
  a.connect_to({b.address()});
  ASSERT_TRUE(delivers(a, b, heartbeat(1, 2, 1)));

  std::mt19937 random(42);
  auto random_bytes = [&random](std::size_t n) {
    std::string bytes(n, '\0');
    for (auto& c : bytes) c = static_cast<char>(random());
    return bytes;
  };
  for (int i = 0; i < 100; ++i) {
    RawSocket noise(b.port());  // not a frame at all
    ASSERT_TRUE(noise.connected());
    noise.write(random_bytes(1 + random() % 4096));
    // A well-formed header of a peer frame with a random payload: refused by the codec, or
    // (rarely) a parseable message of no configured cluster.
    RawSocket fake(b.port());
    const std::uint32_t len = 1 + random() % 4096;
    fake.write(frame_header(len) + random_bytes(len));
  }
  RawSocket http(b.port());
  http.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_TRUE(http.closed_by_peer());
  RawSocket huge(b.port());
  huge.write(frame_header(0xffffffffu));
  EXPECT_TRUE(huge.closed_by_peer());
  RawSocket version(b.port());
  version.write(frame_header(4, 1, 99) + "abcd");
  EXPECT_TRUE(version.closed_by_peer());
  RawSocket kind(b.port());
  kind.write(frame_header(4, 77) + "abcd");
  EXPECT_TRUE(kind.closed_by_peer());
  RawSocket request(b.port());
  request.write(frame_header(4, 2) + "\xff\xff\xff\xff");  // a client request that does not parse
  EXPECT_TRUE(request.closed_by_peer());
  // A frame that announces 60 MiB (within the maximum) and stops short, held open while A
  // keeps talking.
  RawSocket stalled(b.port());
  ASSERT_TRUE(stalled.connected());
  stalled.write(frame_header(60u << 20) + "raftor");

  EXPECT_TRUE(delivers(a, b, heartbeat(1, 2, 2)));
  // New connections are still accepted, too.
  Node c({.id = 3, .accepts = {2}});
  c.connect_to({b.address()});
  EXPECT_TRUE(eventually([&] { return c.transport().connected(2); }));
  // 100 noises and 5 bad headers or requests closed; the 100 fake peer frames refused.
  EXPECT_TRUE(eventually([&] { return b.counters().bad_streams.load() >= 105u; }))
      << b.counters().bad_streams.load();
  EXPECT_TRUE(eventually([&] { return b.counters().refused.load() == 100u; }))
      << b.counters().refused.load();
}

TEST(NetworkTransport, ReconnectsWhenAPeerComesBackOnItsPort) {
  Node a({.id = 1, .accepts = {2}});
  auto b = std::make_unique<Node>(NodeOptions{.id = 2, .accepts = {1}});
  const std::uint16_t port = b->port();
  a.connect_to({b->address()});
  ASSERT_TRUE(delivers(a, *b, heartbeat(1, 2, 1)));

  finishes_in_time([&] { b.reset(); });
  ASSERT_TRUE(eventually([&] { return !a.transport().connected(2); }));
  const auto dropped = a.transport().dropped();
  a.transport().send(heartbeat(1, 2, 2));  // to nobody: dropped, not queued
  ASSERT_TRUE(eventually([&] { return a.transport().dropped() == dropped + 1; }));

  b = std::make_unique<Node>(NodeOptions{.id = 2, .port = port, .accepts = {1}});
  EXPECT_TRUE(eventually([&] { return a.transport().connected(2); }));
  EXPECT_TRUE(delivers(a, *b, heartbeat(1, 2, 3)));
  EXPECT_FALSE(b->inbox().has_term(2));
}

TEST(NetworkTransport, SendingToAnUnreachablePeerDropsWithoutBlocking) {
  Node a({.id = 1, .accepts = {2}});
  a.connect_to({{2, "127.0.0.1", unused_port()}});
  constexpr int kMessages = 10000;
  const auto start = Clock::now();
  for (int i = 0; i < kMessages; ++i) a.transport().send(heartbeat(1, 2, 1));
  a.transport().send(heartbeat(1, 9, 1));  // not a configured peer at all
  EXPECT_LT(Clock::now() - start, 2s);     // encoding only: nothing waits on the network
  EXPECT_TRUE(eventually([&] { return a.transport().dropped() == kMessages + 1; }));
  EXPECT_FALSE(a.transport().connected(2));
  EXPECT_EQ(a.transport().forwarded(), 0u);
}

TEST(NetworkTransport, AnUnresponsivePeerDoesNotDelayTheOthers) {
  BlackHole hole;
  Node b({.id = 3, .accepts = {1}});
  Node a({.id = 1, .accepts = {3}});
  a.connect_to({{2, "127.0.0.1", hole.port()}, b.address()});
  EXPECT_TRUE(eventually([&] { return a.transport().connected(3); }));
  EXPECT_TRUE(delivers(a, b, heartbeat(1, 3, 1)));
  EXPECT_FALSE(a.transport().connected(2));
}

TEST(NetworkTransport, SendAfterStopIsDropped) {
  Node a({.id = 1, .accepts = {2}});
  a.connect_to({{2, "127.0.0.1", unused_port()}});
  a.transport().stop();
  a.transport().send(heartbeat(1, 2, 1));
  EXPECT_EQ(a.transport().dropped(), 1u);
}

TEST(NodeEndpoint, ATakenPortIsAClearError) {
  Node a({.id = 1, .accepts = {2}});
  auto second = NodeEndpoint::start(a.system(), {1, kCluster, {2}, "127.0.0.1", a.port()});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("127.0.0.1:" + std::to_string(a.port())),
            std::string::npos)
      << second.error().message;
  EXPECT_NE(second.error().message.find("port"), std::string::npos) << second.error().message;
}

TEST(NodeEndpoint, ServesClientsThroughTheRaftActor) {
  Node b({.id = 2, .accepts = {1}});
  client::NodeConnection connection({2, "127.0.0.1", b.port()});
  pb::ClientRequest request;
  pb::ClientResponse response;

  request.mutable_status();
  ASSERT_TRUE(connection.call(request, response, kDeadline).ok());
  ASSERT_TRUE(response.has_status());
  EXPECT_EQ(response.status().id(), 2u);

  request.Clear();
  request.set_propose("x");
  ASSERT_TRUE(connection.call(request, response, kDeadline).ok());
  ASSERT_TRUE(response.has_reply());
  EXPECT_EQ(response.reply().message(), "applied x");

  request.Clear();
  request.mutable_read()->add_keys("k");
  request.mutable_read()->set_consistency(static_cast<std::uint32_t>(ReadConsistency::eventual));
  ASSERT_TRUE(connection.call(request, response, kDeadline).ok());
  ASSERT_TRUE(response.has_reply());
  ASSERT_EQ(response.reply().values_size(), 1);
  EXPECT_EQ(response.reply().values(0), "k");
  EXPECT_EQ(b.counters().requests.load(), 3u);
}

TEST(NodeEndpoint, AnswersNotRunningBeforeTheRaftActorIsAttached) {
  caf::actor_system_config config;
  config.load<caf::io::middleman>();
  register_message_types(config);
  caf::actor_system system(config);
  auto endpoint = NodeEndpoint::start(system, {2, kCluster, {1}, "127.0.0.1", 0});
  ASSERT_TRUE(endpoint.ok()) << endpoint.error().to_string();
  {
    client::NodeConnection connection({2, "127.0.0.1", endpoint->port()});
    pb::ClientRequest request;
    pb::ClientResponse response;
    request.set_propose("x");
    ASSERT_TRUE(connection.call(request, response, kDeadline).ok());
    ASSERT_TRUE(response.has_reply());
    EXPECT_FALSE(response.reply().ok());
    EXPECT_EQ(response.reply().code(), static_cast<std::uint32_t>(ErrorCode::not_running));
    request.Clear();
    request.mutable_status();
    ASSERT_TRUE(connection.call(request, response, kDeadline).ok());
    ASSERT_TRUE(response.has_failure());
    EXPECT_EQ(response.failure().code(), static_cast<std::uint32_t>(ErrorCode::not_running));
  }
  endpoint->stop();
}

TEST(NodeEndpoint, AFrameOverTheConfiguredMaximumClosesOnlyItsConnection) {
  caf::actor_system_config config;
  config.load<caf::io::middleman>();
  register_message_types(config);
  caf::actor_system system(config);
  NodeEndpointConfig small{2, kCluster, {1}, "127.0.0.1", 0};
  small.max_frame_bytes = 1024;
  auto endpoint = NodeEndpoint::start(system, small);
  ASSERT_TRUE(endpoint.ok()) << endpoint.error().to_string();
  {
    client::NodeConnection good({2, "127.0.0.1", endpoint->port()});
    pb::ClientRequest request;
    pb::ClientResponse response;
    request.mutable_status();
    ASSERT_TRUE(good.call(request, response, kDeadline).ok());

    RawSocket big(endpoint->port());
    big.write(frame_header(1025, 2));
    EXPECT_TRUE(big.closed_by_peer());
    RawSocket fits(endpoint->port());
    fits.write(frame_header(1024, 2) + std::string(1024, '\xff'));  // fits, does not parse
    EXPECT_TRUE(fits.closed_by_peer());

    request.Clear();
    request.mutable_status();
    ASSERT_TRUE(good.call(request, response, kDeadline).ok());  // the same connection
    EXPECT_TRUE(response.has_failure());  // not attached: but answered
    EXPECT_EQ(endpoint->counters().bad_streams.load(), 2u);
  }
  endpoint->stop();
}

TEST(NodeEndpoint, AClientThatNeverReadsItsRepliesIsClosed) {
  Node b({.id = 2, .accepts = {1}});  // the sink echoes read keys as values
  pb::ClientRequest request;
  request.mutable_read()->add_keys(std::string(900, 'k'));
  std::vector<char> frames;
  for (int i = 0; i < 1000; ++i) append_frame(frames, FrameKind::client_request, request);
  RawSocket greedy(b.port());
  ASSERT_TRUE(greedy.connected());
  timeval patience{10, 0};  // a send the node never drains fails instead of hanging the test
  ::setsockopt(greedy.fd(), SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof patience);
  // Up to 1 GB of requests, never reading a reply: the node must close long before.
  bool closed = false;
  for (int i = 0; i < 1000 && !closed; ++i) {
    closed = ::send(greedy.fd(), frames.data(), frames.size(), MSG_NOSIGNAL) < 0;
  }
  EXPECT_TRUE(closed);
  EXPECT_NE(errno, EAGAIN);  // refused (reset), not timed out
  EXPECT_EQ(b.counters().bad_streams.load(), 1u);
  client::NodeConnection other({2, "127.0.0.1", b.port()});  // others are still served
  pb::ClientResponse response;
  request.Clear();
  request.mutable_status();
  EXPECT_TRUE(other.call(request, response, kDeadline).ok());
}

TEST(NodeEndpoint, APortIsFreeOnceStopReturns) {
  caf::actor_system_config config;
  config.load<caf::io::middleman>();
  register_message_types(config);
  caf::actor_system system(config);
  auto first = NodeEndpoint::start(system, {2, kCluster, {1}, "127.0.0.1", 0});
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  const std::uint16_t port = first->port();
  RawSocket open_connection(port);
  ASSERT_TRUE(open_connection.connected());
  for (int i = 0; i < 20; ++i) {
    first->stop();
    first = NodeEndpoint::start(system, {2, kCluster, {1}, "127.0.0.1", port});
    ASSERT_TRUE(first.ok()) << "round " << i << ": " << first.error().to_string();
  }
  first->stop();
}

TEST(NetworkTransport, ShutdownOfConnectedSystemsDoesNotHang) {
  auto a = std::make_unique<Node>(NodeOptions{.id = 1, .accepts = {2, 3}});
  auto b = std::make_unique<Node>(NodeOptions{.id = 2, .accepts = {1, 3}});
  auto c = std::make_unique<Node>(NodeOptions{.id = 3, .accepts = {1, 2}});
  const std::vector<PeerAddress> all = {a->address(), b->address(), c->address()};
  a->connect_to(all);
  b->connect_to(all);
  c->connect_to(all);
  ASSERT_TRUE(eventually([&] {
    return a->transport().connected(2) && a->transport().connected(3) &&
           b->transport().connected(1) && c->transport().connected(1);
  }));
  // Traffic in flight while the systems go down.
  for (int i = 0; i < 1000; ++i) {
    a->transport().send(heartbeat(1, 2, 1));
    b->transport().send(heartbeat(2, 3, 1));
  }
  finishes_in_time([&] {
    a.reset();
    b.reset();
    c.reset();
  });
}

TEST(RefusalLog, OneLinePerSenderAndReasonPerInterval) {
  RefusalLog log(std::chrono::seconds(1));
  const auto t0 = RefusalLog::Clock::now();
  EXPECT_EQ(log.record("n1", "from unknown node 7", t0), 1u);
  EXPECT_EQ(log.record("n1", "from unknown node 8", t0 + 100ms), std::nullopt);  // same reason
  EXPECT_EQ(log.record("n1", "malformed (3 bytes)", t0 + 100ms), 1u);            // another one
  EXPECT_EQ(log.record("n2", "from unknown node 7", t0 + 200ms), 1u);            // another sender
  EXPECT_EQ(log.record("n1", "from unknown node 7", t0 + 500ms), std::nullopt);
  EXPECT_EQ(log.record("n1", "from unknown node 7", t0 + 1100ms), 3u);  // 2 suppressed + this
  EXPECT_EQ(log.record("n1", "from unknown node 7", t0 + 1200ms), std::nullopt);
}

}  // namespace
}  // namespace raftor::network
