#include "bench_runner.hpp"

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "client_slot.hpp"
#include "event_loop.hpp"

namespace raftor::bench {

namespace {

double percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)] / 1000.0;
}

}  // namespace

BenchResult run_bench(const BenchOptions& o) {
  const auto start = Clock::now();
  RunState run{o, start + o.duration};
  // Declared before the slots, so destroyed after them: a slot joins its slow-path thread,
  // whose last act may be handing the slot back to its loop.
  std::vector<std::unique_ptr<EventLoop>> loops;
  std::vector<std::unique_ptr<ClientSlot>> slots;
  for (unsigned i = 0; i < o.clients; ++i) slots.push_back(std::make_unique<ClientSlot>(i, o));

  // Slot i runs on loop i % threads.
  for (unsigned t = 0; t < o.threads; ++t) {
    std::vector<ClientSlot*> mine;
    for (unsigned i = t; i < o.clients; i += o.threads) mine.push_back(slots[i].get());
    loops.push_back(std::make_unique<EventLoop>(run, std::move(mine)));
  }
  std::vector<Status> outcomes(loops.size());
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < loops.size(); ++t) {
    threads.emplace_back([&, t] { outcomes[t] = loops[t]->run(); });
  }
  std::thread progress;
  std::atomic<bool> finished{false};
  if (o.progress) {
    progress = std::thread([&] {
      while (!finished.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        const std::uint64_t done = run.done.load();
        const double fraction =
            o.requests != 0 ? static_cast<double>(done) / static_cast<double>(o.requests)
                            : elapsed / std::chrono::duration<double>(o.duration).count();
        const int width = 30;
        const int filled = static_cast<int>(std::min(1.0, fraction) * width);
        std::fprintf(stderr, "\r[%.*s%*s] %3.0f%%  %" PRIu64 " ops  %.0f ops/s   ", filled,
                     "==============================", width - filled, "",
                     std::min(1.0, fraction) * 100, done,
                     elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0);
      }
      std::fprintf(stderr, "\r%*s\r", 80, "");
    });
  }
  for (auto& t : threads) t.join();
  finished = true;
  if (progress.joinable()) progress.join();

  BenchResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const Status& s : outcomes) {
    if (!s && result.first_error.empty()) result.first_error = s.error().to_string();
    if (!s) ++result.errors;
  }
  std::vector<std::uint32_t> all;
  double sum = 0;
  for (const auto& slot : slots) {
    const SlotStats& w = slot->stats;
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
  if (!o.history_path.empty()) {
    std::ofstream out(o.history_path, std::ios::trunc);
    for (const auto& slot : slots) {
      for (const Event& e : slot->stats.history) out << to_json(e) << '\n';
    }
  }
  return result;
}

std::string summary_text(const BenchOptions& o, const BenchResult& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s, %u clients (a connection each) on %u thread(s), %zu-byte values: %" PRIu64 " ok, %" PRIu64
                " errors in %.2f s = %.0f ops/s\n"
                "latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f\n",
                to_string(o.operation), o.clients, o.threads, o.value_size, r.ok, r.errors,
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
                "{\"op\":\"%s\",\"clients\":%u,\"threads\":%u,\"key_space\":%" PRIu64
                ",\"key_size\":%zu,\"value_size\":%zu,\"sequential_keys\":%s,"
                "\"read_percent\":%u,\"ok\":%" PRIu64 ",\"errors\":%" PRIu64
                ",\"seconds\":%.3f,\"ops_per_second\":%.1f,"
                "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,"
                "\"max\":%.3f,\"mean\":%.3f}",
                to_string(o.operation), o.clients, o.threads, o.key_space, o.key_size,
                o.value_size, o.sequential_keys ? "true" : "false", o.read_percent, r.ok, r.errors, r.seconds,
                r.ops_per_second, r.latency.p50_ms, r.latency.p90_ms, r.latency.p99_ms,
                r.latency.p999_ms, r.latency.max_ms, r.latency.mean_ms);
  std::string out = buf;
  if (!r.first_error.empty()) out += ",\"first_error\":" + json_string(r.first_error);
  return out + "}";
}

}  // namespace raftor::bench
