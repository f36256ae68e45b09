// One raftor-bench thread: drives the fast path of its client slots (client_slot.hpp) with
// epoll -- each slot one request in flight on its own connection, as wrk drives etcd --
// and takes them back from the slow path when a slow call is over. Blocking happens only
// on the slots' own threads, never here.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "bench_options.hpp"
#include "client_slot.hpp"
#include "raftor/messages/client.pb.h"
#include "raftor/storage/status.hpp"

namespace raftor::bench {

// What every loop of one run shares.
struct RunState {
  const BenchOptions& options;
  Clock::time_point until;  // with options.requests == 0
  std::atomic<std::uint64_t> issued{0};
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> next_key{0};  // --sequential-keys
};

class EventLoop {
 public:
  EventLoop(RunState& run, std::vector<ClientSlot*> slots);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Until every slot finished its last call.
  Status run();

 private:
  bool make_call(ClientSlot& slot);  // false: the run is over for this slot
  void begin_next(ClientSlot& slot);
  void send_request(ClientSlot& slot);
  void flush(ClientSlot& slot);
  void on_readable(ClientSlot& slot);
  void answered(ClientSlot& slot, pb::ClientResponse& response);
  void go_slow(ClientSlot& slot);
  void back_from_slow(ClientSlot& slot);
  void finish_call(ClientSlot& slot);
  void expire_requests(Clock::time_point now);
  void watch(ClientSlot& slot, bool writable);
  void unwatch(ClientSlot& slot);
  void drop_connection(ClientSlot& slot);

  RunState& run_;
  std::vector<ClientSlot*> slots_;
  std::size_t active_ = 0;   // slots not finished
  int epoll_ = -1;
  int wakeup_ = -1;          // eventfd: a slot came back from the slow path
  std::mutex returned_mutex_;
  std::vector<ClientSlot*> returned_;
  pb::ClientRequest request_;    // reused
  pb::ClientResponse response_;  // reused
  std::vector<char> in_;
};

}  // namespace raftor::bench
