// One of raftor-bench's clients: one operation at a time, each on one of two paths.
//
//   fast path: a non-blocking connection of its own to the node it takes for the leader,
//              driven by an EventLoop (event_loop.hpp) together with other slots' -- one
//              thread serves many clients, as wrk does for etcd;
//   slow path: anything but an ok answer on that connection (not_leader, a timeout, a
//              closed connection, an error) hands the operation to a blocking
//              client::Client on a thread of this slot, which finds the leader, retries and
//              backs off as every raftor client does, then points the fast path at the
//              leader it found.
//
// A write is encoded once, with the id its Client hands out (client.hpp next_write_id), and
// every attempt on either path sends those bytes: the cluster applies it once (thesis §6.3).
// The slow path has the Client's whole deadline (--deadline-ms) from when it takes over, so
// an operation may last up to one --timeout-ms more than the deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_options.hpp"
#include "history.hpp"
#include "raftor/actors/actor_messages.hpp"
#include "raftor/actors/network/frame.hpp"
#include "raftor/actors/network/tcp_connect.hpp"
#include "raftor/client/client.hpp"

namespace raftor::bench {

// What one slot measured (no locking: each slot is touched by one thread at a time).
struct SlotStats {
  std::vector<std::uint32_t> latencies_us;
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  std::vector<Event> history;
};

// The operation under way and, once over, its outcome.
struct Call {
  Operation op = Operation::put;  // never mix: resolved when the call is made
  std::string key;
  std::string payload;  // put, cas: the encoded command, the same bytes on every attempt
  Clock::time_point started;
  Event invoke;
  bool ok = false;
  bool definite_failure = false;  // failed reads change nothing: "fail", not "info"
  std::string error;
  ClientReply reply;

  bool is_write() const { return op == Operation::put || op == Operation::cas; }
  ReadConsistency consistency() const;
};

class ClientSlot {
 public:
  ClientSlot(unsigned index, const BenchOptions& options);
  ~ClientSlot();  // stops and joins the slow-path thread
  ClientSlot(const ClientSlot&) = delete;
  ClientSlot& operator=(const ClientSlot&) = delete;

  // Runs `call` on the slow path; `done(*this)` is called on the slow-path thread after it
  // (and after the fast connection was pointed at the leader). The fast-path fields belong
  // to that thread until then.
  void start_slow(std::function<void(ClientSlot&)> done);

  const unsigned index;
  client::Client client;  // the slow path; its id also names the fast path's writes
  std::mt19937_64 rng;
  std::uint64_t written = 0;  // values made so far (they are unique per slot)
  SlotStats stats;
  Call call;
  bool slow = false;  // the call is on the slow path

  // Fast path, owned by the event loop while !slow.
  network::UniqueFd fd;  // non-blocking; empty: the next call goes the slow way
  NodeId fd_node = 0;
  network::FrameReader reader;
  std::string out;             // the request frame being sent
  std::size_t out_sent = 0;
  std::uint64_t request_id = 0;
  bool in_flight = false;      // a fast request awaits its answer
  bool watched = false;        // registered with the loop's epoll
  bool wants_write = false;    // registered for EPOLLOUT (the frame did not fit at once)
  Clock::time_point sent_at;

 private:
  void slow_main();
  void run_slow_call();
  void reconnect_fast();

  std::thread thread_;  // started on the first slow call
  std::mutex mutex_;
  std::condition_variable wake_;
  std::function<void(ClientSlot&)> done_;
  bool job_ = false;
  bool quit_ = false;
};

}  // namespace raftor::bench
