#include "bench_runner.hpp"

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "raftor/client/client.hpp"

namespace raftor::bench {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// One operation of the history (tests/integration/lincheck/README.md has the format).
struct Event {
  unsigned process;
  const char* type;  // invoke | ok | fail | info
  const char* f;     // put | get | cas
  std::string key;
  std::optional<std::string> value;
  bool has_value = false;  // get ok: value may be null
  std::optional<std::string> expected;
  bool has_expected = false;
  std::optional<bool> succeeded;
  std::int64_t time;
};

std::string to_json(const Event& e) {
  std::string out = "{\"process\":" + std::to_string(e.process) + ",\"type\":\"" + e.type +
                    "\",\"f\":\"" + e.f + "\",\"key\":" + json_string(e.key);
  if (e.has_value) out += ",\"value\":" + (e.value ? json_string(*e.value) : "null");
  if (e.has_expected) out += ",\"expected\":" + (e.expected ? json_string(*e.expected) : "null");
  if (e.succeeded) out += std::string(",\"succeeded\":") + (*e.succeeded ? "true" : "false");
  return out + ",\"time\":" + std::to_string(e.time) + "}";
}

struct Worker {
  std::vector<std::uint32_t> latencies_us;
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  std::vector<Event> history;
};

std::string make_key(std::uint64_t n, std::size_t size) {
  std::string digits = std::to_string(n);
  std::string key = "key-";
  if (digits.size() + key.size() < size) key.append(size - key.size() - digits.size(), '0');
  return key + digits;
}

std::string make_value(unsigned worker, std::uint64_t n, std::size_t size) {
  std::string v = "v" + std::to_string(worker) + "-" + std::to_string(n) + "-";
  if (v.size() < size) v.append(size - v.size(), 'x');
  return v;
}

double percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)] / 1000.0;
}

}  // namespace

BenchResult run_bench(const std::vector<caf::actor_system*>& systems, const BenchOptions& o) {
  std::vector<Worker> workers(o.clients);
  std::atomic<std::uint64_t> issued{0};
  std::atomic<std::uint64_t> done{0};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> next_key{0};  // --sequential-keys
  const bool record = !o.history_path.empty();
  const auto start = Clock::now();
  const auto until = start + o.duration;

  auto body = [&](unsigned w) {
    Worker& me = workers[w];
    client::ClientOptions copts;
    copts.request_timeout = o.request_timeout;
    copts.deadline = o.deadline;
    client::Client cl(*systems[w % systems.size()], o.endpoints, copts);
    std::mt19937_64 rng(0x9e3779b97f4a7c15ULL * (w + 1));
    std::uint64_t written = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      if (o.requests != 0) {
        if (issued.fetch_add(1) >= o.requests) break;
      } else if (Clock::now() >= until) {
        break;
      }
      const std::uint64_t key_number =
          o.sequential_keys ? next_key.fetch_add(1, std::memory_order_relaxed) : rng();
      const std::string key = make_key(key_number % o.key_space, o.key_size);
      Operation op = o.operation;
      if (op == Operation::mix) op = (rng() % 100 < o.read_percent) ? Operation::get : Operation::put;
      Event invoke{w, "invoke", "put", key, std::nullopt, false, std::nullopt, false, std::nullopt, 0};
      std::string value;
      const auto t0 = Clock::now();
      bool ok = false;
      bool definite_failure = false;
      Event done_event = invoke;
      if (op == Operation::put || op == Operation::cas) {
        value = make_value(w, ++written, o.value_size);
        invoke.value = value;
        invoke.has_value = true;
      }
      if (op == Operation::cas) {
        invoke.f = "cas";
        invoke.has_expected = true;  // expects the key absent: only the first cas per key wins
      } else if (op != Operation::put) {
        invoke.f = "get";
      }
      invoke.time = now_ns();
      if (record) me.history.push_back(invoke);
      done_event = invoke;
      std::string error;
      switch (op) {
        case Operation::put: {
          auto r = cl.put(key, value);
          ok = r.ok();
          if (!ok) error = r.error().to_string();
          break;
        }
        case Operation::cas: {
          auto r = cl.cas(key, std::nullopt, value);
          ok = r.ok();
          if (ok) done_event.succeeded = r->swapped; else error = r.error().to_string();
          break;
        }
        default: {
          const ReadConsistency c = op == Operation::lease_get      ? ReadConsistency::lease
                                    : op == Operation::eventual_get ? ReadConsistency::eventual
                                                                    : ReadConsistency::linearizable;
          auto r = cl.get(key, c);
          ok = r.ok();
          if (ok) {
            done_event.value = r->value;
            done_event.has_value = true;
          } else {
            error = r.error().to_string();
            definite_failure = true;  // a read changes nothing: drop it from the history
          }
        }
      }
      const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
      done_event.time = now_ns();
      if (ok) {
        done_event.type = "ok";
        ++me.ok;
        me.latencies_us.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(micros.count(), UINT32_MAX)));
      } else {
        // A write that failed may still have been applied: its outcome is unknown.
        done_event.type = definite_failure ? "fail" : "info";
        if (me.errors++ == 0) me.first_error = error;
      }
      if (record) me.history.push_back(std::move(done_event));
      done.fetch_add(1, std::memory_order_relaxed);
    }
  };

  std::vector<std::thread> threads;
  for (unsigned w = 0; w < o.clients; ++w) threads.emplace_back(body, w);
  std::thread progress;
  std::atomic<bool> finished{false};
  if (o.progress) {
    progress = std::thread([&] {
      while (!finished.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        const double fraction =
            o.requests != 0 ? static_cast<double>(done.load()) / static_cast<double>(o.requests)
                            : elapsed / std::chrono::duration<double>(o.duration).count();
        const int width = 30;
        const int filled = static_cast<int>(std::min(1.0, fraction) * width);
        std::fprintf(stderr, "\r[%.*s%*s] %3.0f%%  %" PRIu64 " ops  %.0f ops/s   ", filled,
                     "==============================", width - filled, "",
                     std::min(1.0, fraction) * 100, done.load(),
                     elapsed > 0 ? static_cast<double>(done.load()) / elapsed : 0.0);
      }
      std::fprintf(stderr, "\r%*s\r", 80, "");
    });
  }
  for (auto& t : threads) t.join();
  finished = true;
  if (progress.joinable()) progress.join();

  BenchResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<std::uint32_t> all;
  double sum = 0;
  for (Worker& w : workers) {
    result.ok += w.ok;
    result.errors += w.errors;
    if (result.first_error.empty()) result.first_error = w.first_error;
    all.insert(all.end(), w.latencies_us.begin(), w.latencies_us.end());
  }
  std::sort(all.begin(), all.end());
  for (auto v : all) sum += v;
  result.ops_per_second = result.seconds > 0 ? static_cast<double>(result.ok) / result.seconds : 0;
  result.latency = {percentile(all, 0.50), percentile(all, 0.90), percentile(all, 0.99),
                    percentile(all, 0.999), all.empty() ? 0 : all.back() / 1000.0,
                    all.empty() ? 0 : sum / static_cast<double>(all.size()) / 1000.0};
  if (record) {
    std::ofstream out(o.history_path, std::ios::trunc);
    for (const Worker& w : workers) {
      for (const Event& e : w.history) out << to_json(e) << '\n';
    }
  }
  return result;
}

std::string summary_text(const BenchOptions& o, const BenchResult& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s, %u clients on %u connection(s), %zu-byte values: %" PRIu64 " ok, %" PRIu64
                " errors in %.2f s = %.0f ops/s\n"
                "latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f\n",
                to_string(o.operation), o.clients, o.connections, o.value_size, r.ok, r.errors,
                r.seconds,
                r.ops_per_second, r.latency.p50_ms, r.latency.p90_ms, r.latency.p99_ms,
                r.latency.p999_ms, r.latency.max_ms, r.latency.mean_ms);
  std::string out = buf;
  if (!r.first_error.empty()) out += "first error: " + r.first_error + "\n";
  return out;
}

std::string summary_json(const BenchOptions& o, const BenchResult& r) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "{\"op\":\"%s\",\"clients\":%u,\"connections\":%u,\"key_space\":%" PRIu64
                ",\"key_size\":%zu,\"value_size\":%zu,\"sequential_keys\":%s,"
                "\"read_percent\":%u,\"ok\":%" PRIu64 ",\"errors\":%" PRIu64
                ",\"seconds\":%.3f,\"ops_per_second\":%.1f,"
                "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,"
                "\"max\":%.3f,\"mean\":%.3f}",
                to_string(o.operation), o.clients, o.connections, o.key_space, o.key_size,
                o.value_size, o.sequential_keys ? "true" : "false", o.read_percent, r.ok, r.errors, r.seconds,
                r.ops_per_second, r.latency.p50_ms, r.latency.p90_ms, r.latency.p99_ms,
                r.latency.p999_ms, r.latency.max_ms, r.latency.mean_ms);
  std::string out = buf;
  if (!r.first_error.empty()) out += ",\"first_error\":" + json_string(r.first_error);
  return out + "}";
}

}  // namespace raftor::bench
