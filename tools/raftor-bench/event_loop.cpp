#include "event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "raftor/actors/network/client_codec.hpp"
#include "raftor/storage/command.hpp"

namespace raftor::bench {

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// How often requests are checked against --timeout-ms: their timeouts are this much late
// at worst, which is noise next to the default 2 s.
constexpr int kTickMillis = 20;

std::string make_key(std::uint64_t n, std::size_t size) {
  std::string digits = std::to_string(n);
  std::string key = "key-";
  if (digits.size() + key.size() < size) key.append(size - key.size() - digits.size(), '0');
  return key + digits;
}

std::string make_value(unsigned slot, std::uint64_t n, std::size_t size) {
  std::string v = "v" + std::to_string(slot) + "-" + std::to_string(n) + "-";
  if (v.size() < size) v.append(size - v.size(), 'x');
  return v;
}

}  // namespace

EventLoop::EventLoop(RunState& run, std::vector<ClientSlot*> slots)
    : run_(run), slots_(std::move(slots)), in_(kReadChunk) {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  wakeup_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_ >= 0 && wakeup_ >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the wake-up, not a slot
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wakeup_, &ev);
  }
}

EventLoop::~EventLoop() {
  if (wakeup_ >= 0) ::close(wakeup_);
  if (epoll_ >= 0) ::close(epoll_);
}

Status EventLoop::run() {
  if (epoll_ < 0 || wakeup_ < 0) {
    return make_error(ErrorCode::io_error, std::string("epoll/eventfd: ") + std::strerror(errno));
  }
  active_ = slots_.size();
  for (ClientSlot* slot : slots_) begin_next(*slot);
  std::vector<epoll_event> events(64);
  auto next_expiry = Clock::now() + std::chrono::milliseconds(kTickMillis);
  while (active_ > 0) {
    const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), kTickMillis);
    if (n < 0 && errno != EINTR) {
      return make_error(ErrorCode::io_error, std::string("epoll_wait: ") + std::strerror(errno));
    }
    for (int i = 0; i < n; ++i) {
      auto* slot = static_cast<ClientSlot*>(events[i].data.ptr);
      if (slot == nullptr) {
        std::uint64_t count;
        while (::read(wakeup_, &count, sizeof count) > 0) {
        }
        std::vector<ClientSlot*> back;
        {
          std::lock_guard lock(returned_mutex_);
          back.swap(returned_);
        }
        for (ClientSlot* s : back) back_from_slow(*s);
        continue;
      }
      // An earlier event of this round may have sent the slot the slow way.
      if (slot->slow || !slot->fd) continue;
      if (events[i].events & EPOLLOUT) flush(*slot);
      if (!slot->slow && slot->fd && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
        on_readable(*slot);
      }
    }
    if (const auto now = Clock::now(); now >= next_expiry) {
      expire_requests(now);
      next_expiry = now + std::chrono::milliseconds(kTickMillis);
    }
  }
  return {};
}

bool EventLoop::make_call(ClientSlot& slot) {
  const BenchOptions& o = run_.options;
  if (o.requests != 0) {
    if (run_.issued.fetch_add(1, std::memory_order_relaxed) >= o.requests) return false;
  } else if (Clock::now() >= run_.until) {
    return false;
  }
  const std::uint64_t key_number =
      o.sequential_keys ? run_.next_key.fetch_add(1, std::memory_order_relaxed) : slot.rng();
  Call& call = slot.call;
  call = Call{};
  call.key = make_key(key_number % o.key_space, o.key_size);
  call.op = o.operation;
  if (call.op == Operation::mix) {
    call.op = (slot.rng() % 100 < o.read_percent) ? Operation::get : Operation::put;
  }
  Event& invoke = call.invoke;
  invoke.process = slot.index;
  invoke.key = call.key;
  if (call.is_write()) {
    std::string value = make_value(slot.index, ++slot.written, o.value_size);
    if (call.op == Operation::put) {
      call.payload = command::put(call.key, value, slot.client.next_write_id());
    } else {
      // Expects the key absent: only the first cas per key wins.
      call.payload = command::cas(call.key, std::nullopt, value, slot.client.next_write_id());
      invoke.f = "cas";
      invoke.has_expected = true;
    }
    invoke.value = std::move(value);
    invoke.has_value = true;
  } else {
    invoke.f = "get";
  }
  invoke.time = now_ns();
  if (!o.history_path.empty()) slot.stats.history.push_back(invoke);
  call.started = Clock::now();
  return true;
}

void EventLoop::begin_next(ClientSlot& slot) {
  if (!make_call(slot)) {
    --active_;
    drop_connection(slot);
    return;
  }
  if (slot.fd) {
    send_request(slot);
  } else {
    go_slow(slot);
  }
}

void EventLoop::send_request(ClientSlot& slot) {
  const Call& call = slot.call;
  request_.Clear();
  request_.set_id(++slot.request_id);
  if (call.is_write()) {
    request_.set_propose(call.payload);
  } else {
    auto* read = request_.mutable_read();
    read->add_keys(call.key);
    read->set_consistency(static_cast<std::uint32_t>(call.consistency()));
  }
  slot.out.clear();
  network::append_frame(slot.out, network::FrameKind::client_request, request_);
  slot.out_sent = 0;
  slot.in_flight = true;
  slot.sent_at = Clock::now();
  if (!slot.watched) watch(slot, false);
  flush(slot);
}

void EventLoop::flush(ClientSlot& slot) {
  while (slot.out_sent < slot.out.size()) {
    const ssize_t n = ::send(slot.fd.get(), slot.out.data() + slot.out_sent,
                             slot.out.size() - slot.out_sent, MSG_NOSIGNAL);
    if (n > 0) {
      slot.out_sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!slot.wants_write) watch(slot, true);
      return;
    }
    drop_connection(slot);
    go_slow(slot);
    return;
  }
  if (slot.wants_write) watch(slot, false);
}

void EventLoop::on_readable(ClientSlot& slot) {
  bool broken = false;
  for (;;) {
    const ssize_t n = ::recv(slot.fd.get(), in_.data(), in_.size(), 0);
    if (n > 0) {
      slot.reader.append(in_.data(), static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < in_.size()) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    broken = true;  // closed by the node, or an error
    break;
  }
  network::Frame frame;
  while (!slot.slow && slot.fd && slot.reader.next(frame)) {
    if (frame.kind != network::FrameKind::client_response ||
        !response_.ParseFromArray(frame.payload.data(), static_cast<int>(frame.payload.size()))) {
      broken = true;
      break;
    }
    // A late answer to a request that timed out before is not this call's.
    if (slot.in_flight && response_.id() == slot.request_id) answered(slot, response_);
  }
  if (slot.reader.failed()) broken = true;
  if (broken && !slot.slow && slot.fd) {
    const bool was_waiting = slot.in_flight;
    drop_connection(slot);
    if (was_waiting) go_slow(slot);
  }
}

void EventLoop::answered(ClientSlot& slot, pb::ClientResponse& response) {
  slot.in_flight = false;
  if (response.body_case() != pb::ClientResponse::kReply || !response.reply().ok()) {
    go_slow(slot);  // not_leader, busy, a timeout, ...: the Client knows what to do
    return;
  }
  slot.call.reply = network::from_proto(std::move(*response.mutable_reply()));
  slot.call.ok = true;
  finish_call(slot);
  begin_next(slot);
}

void EventLoop::go_slow(ClientSlot& slot) {
  slot.in_flight = false;
  unwatch(slot);  // the slow path may replace the connection
  slot.start_slow([this](ClientSlot& s) {
    {
      std::lock_guard lock(returned_mutex_);
      returned_.push_back(&s);
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t w = ::write(wakeup_, &one, sizeof one);
  });
}

void EventLoop::back_from_slow(ClientSlot& slot) {
  slot.slow = false;
  finish_call(slot);
  begin_next(slot);
}

void EventLoop::finish_call(ClientSlot& slot) {
  Call& call = slot.call;
  SlotStats& stats = slot.stats;
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - call.started).count();
  if (call.ok) {
    ++stats.ok;
    stats.latencies_us.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(micros, UINT32_MAX)));
  } else if (stats.errors++ == 0) {
    stats.first_error = call.error;
  }
  if (!run_.options.history_path.empty()) {
    Event done = call.invoke;
    done.time = now_ns();
    if (call.ok) {
      done.type = "ok";
      if (call.op == Operation::cas) {
        done.succeeded = call.reply.succeeded;
      } else if (!call.is_write()) {
        const bool found = !call.reply.found.empty() && call.reply.found.front() &&
                           !call.reply.values.empty();
        done.value = found ? std::optional<std::string>(call.reply.values.front()) : std::nullopt;
        done.has_value = true;
      }
    } else {
      // A write that failed may still have been applied: its outcome is unknown.
      done.type = call.definite_failure ? "fail" : "info";
    }
    stats.history.push_back(std::move(done));
  }
  run_.done.fetch_add(1, std::memory_order_relaxed);
}

void EventLoop::expire_requests(Clock::time_point now) {
  for (ClientSlot* slot : slots_) {
    if (slot->in_flight && !slot->slow && now - slot->sent_at > run_.options.request_timeout) {
      // The answer may still come (and the write apply): the slow path retries with the
      // same bytes on a fresh connection.
      drop_connection(*slot);
      go_slow(*slot);
    }
  }
}

void EventLoop::watch(ClientSlot& slot, bool writable) {
  epoll_event ev{};
  ev.events = EPOLLIN | (writable ? EPOLLOUT : 0u);
  ev.data.ptr = &slot;
  ::epoll_ctl(epoll_, slot.watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, slot.fd.get(), &ev);
  slot.watched = true;
  slot.wants_write = writable;
}

void EventLoop::unwatch(ClientSlot& slot) {
  if (slot.watched && slot.fd) ::epoll_ctl(epoll_, EPOLL_CTL_DEL, slot.fd.get(), nullptr);
  slot.watched = false;
  slot.wants_write = false;
}

void EventLoop::drop_connection(ClientSlot& slot) {
  unwatch(slot);
  slot.fd.reset();
  slot.fd_node = 0;
  slot.reader = network::FrameReader();
}

}  // namespace raftor::bench
