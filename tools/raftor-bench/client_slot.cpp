#include "client_slot.hpp"

#include <algorithm>

namespace raftor::bench {

ReadConsistency Call::consistency() const {
  switch (op) {
    case Operation::lease_get: return ReadConsistency::lease;
    case Operation::eventual_get: return ReadConsistency::eventual;
    default: return ReadConsistency::linearizable;
  }
}

namespace {
client::ClientOptions client_options(const BenchOptions& o) {
  client::ClientOptions c;
  c.request_timeout = o.request_timeout;
  c.deadline = o.deadline;
  return c;
}
}  // namespace

ClientSlot::ClientSlot(unsigned index, const BenchOptions& options)
    : index(index),
      client(options.endpoints, client_options(options)),
      rng(0x9e3779b97f4a7c15ULL * (index + 1)) {}

ClientSlot::~ClientSlot() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void ClientSlot::start_slow(std::function<void(ClientSlot&)> done) {
  slow = true;
  {
    std::lock_guard lock(mutex_);
    done_ = std::move(done);
    job_ = true;
  }
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { slow_main(); });
  } else {
    wake_.notify_one();
  }
}

void ClientSlot::slow_main() {
  for (;;) {
    std::function<void(ClientSlot&)> done;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return job_ || quit_; });
      if (!job_) return;
      job_ = false;
      done = std::move(done_);
    }
    run_slow_call();
    reconnect_fast();
    done(*this);
  }
}

void ClientSlot::run_slow_call() {
  if (call.is_write()) {
    auto reply = client.propose(call.payload);
    call.ok = reply.ok();
    if (call.ok) {
      call.reply = std::move(reply).value();
    } else {
      call.error = reply.error().to_string();
    }
    return;
  }
  auto got = client.get(call.key, call.consistency());
  call.ok = got.ok();
  if (!call.ok) {
    call.error = got.error().to_string();
    call.definite_failure = true;
    return;
  }
  call.reply.index = got->index;
  call.reply.found = {got->value.has_value()};
  call.reply.values = {got->value.value_or("")};
}

// Points the fast path at the leader the Client knows now (else keeps a connection that
// still works, else tries the first node): a follower answers not_leader, which brings the
// next call back here.
void ClientSlot::reconnect_fast() {
  NodeId want = client.cached_leader();
  if (want == 0) want = fd ? fd_node : client.endpoints().front().id;
  if (fd && fd_node == want) return;
  fd.reset();
  fd_node = 0;
  reader = network::FrameReader();  // a half-read frame of the old connection is void
  const auto& all = client.endpoints();
  auto it = std::find_if(all.begin(), all.end(), [want](const client::Endpoint& e) { return e.id == want; });
  if (it == all.end()) return;
  // connect_tcp's sockets are non-blocking, as the event loop needs.
  auto socket = network::connect_tcp(it->host, it->port, client.options().request_timeout);
  if (!socket) return;  // the next call takes the slow path again
  fd = std::move(socket).value();
  fd_node = want;
}

}  // namespace raftor::bench
