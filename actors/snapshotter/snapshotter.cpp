#include "raftor/actors/snapshotter/snapshotter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace raftor {

namespace {
SnapshotReply error_reply(const Error& error) {
  SnapshotReply reply;
  reply.code = static_cast<std::uint8_t>(error.code);
  reply.message = error.to_string();
  return reply;
}
}  // namespace

Snapshotter::Snapshotter(caf::actor_config& cfg, std::shared_ptr<StateMachine> state_machine,
                         std::shared_ptr<snapshot::SnapshotStore> store, raft_actor raft,
                         state_machine_handler_actor handler, purger_actor purger,
                         SnapshotterConfig config)
    : snapshotter_actor::base(cfg),
      sm_(std::move(state_machine)),
      store_(std::move(store)),
      raft_(std::move(raft)),
      handler_(std::move(handler)),
      purger_(std::move(purger)),
      config_(std::move(config)) {
  if (auto latest = store_->latest_id()) snapshot_index_ = latest->index;
  // Until the first report, count from the newest snapshot, not from zero.
  latest_.applied = snapshot_index_;
}

Snapshotter::behavior_type Snapshotter::make_behavior() {
  schedule_tick();
  return {
      [this](progress_atom, const ApplyProgress& p) { progress(p); },
      [this](snapshot_atom) { return on_demand(); },
      [this](tick_atom) {
        check_policy();
        schedule_tick();
      },
  };
}

void Snapshotter::on_exit() {
  // Break the handle cycles with the Raft actor and the purger (see RaftActor::on_exit).
  raft_ = nullptr;
  handler_ = nullptr;
  purger_ = nullptr;
  store_.reset();
  sm_.reset();
}

void Snapshotter::schedule_tick() {
  // Only the time trigger needs a clock: the others move with progress reports.
  const auto interval = config_.policy.max_interval;
  if (interval.count() <= 0) return;
  delayed_send(this, std::min<std::chrono::milliseconds>(interval, std::chrono::seconds(1)),
               tick_atom::value);
}

void Snapshotter::progress(const ApplyProgress& p) {
  if (p.applied < latest_.applied) return;  // reports are in order; ignore a stale one
  latest_ = p;
  check_policy();
}

void Snapshotter::check_policy() {
  const auto now = clock::now();
  if (now < retry_at_) return;
  // A snapshot received from the leader lands in the store too: count from it.
  if (auto latest = store_->latest_id(); latest && latest->index > snapshot_index_) {
    snapshot_index_ = latest->index;
    bytes_at_snapshot_ = latest_.log_bytes;
    snapshot_time_ = now;
  }
  snapshot::SnapshotProgress since;
  since.entries = latest_.applied > snapshot_index_ ? latest_.applied - snapshot_index_ : 0;
  since.log_bytes = latest_.log_bytes - std::min(latest_.log_bytes, bytes_at_snapshot_);
  since.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - snapshot_time_);
  const auto trigger = snapshot::snapshot_trigger(config_.policy, since);
  if (trigger == snapshot::SnapshotTrigger::none) return;
  if (auto taken = take_snapshot(snapshot::to_string(trigger)); !taken) {
    retry_at_ = clock::now() + config_.retry_backoff;
  }
}

SnapshotReply Snapshotter::on_demand() {
  // Nothing applied since the newest snapshot: it already is the state as of now.
  if (auto latest = store_->latest();
      latest && latest->last_included.index >= sm_->last_applied().index) {
    SnapshotReply reply;
    reply.ok = true;
    reply.metadata = std::move(*latest);
    return reply;
  }
  auto taken = take_snapshot("request");
  if (!taken) return error_reply(taken.error());
  SnapshotReply reply;
  reply.ok = true;
  reply.metadata = std::move(taken).value();
  return reply;
}

Result<SnapshotMetadata> Snapshotter::take_snapshot(std::string_view why) {
  const auto started = clock::now();
  const std::uint64_t bytes_at_start = latest_.log_bytes;
  const auto temp = store_->temp_path();
  auto generated = sm_->generate_snapshot_data(temp);
  if (!generated) {
    store_->discard(temp);
    spdlog::error("node {}: snapshot ({}) failed: {}", config_.id, why,
                  generated.error().to_string());
    return generated.error();
  }
  if (generated->last_included.index == 0) {
    store_->discard(temp);
    return make_error(ErrorCode::invalid_argument, "nothing applied yet: no snapshot to take");
  }
  auto membership = membership_at(generated->last_included.index);
  if (!membership) {
    store_->discard(temp);
    spdlog::error("node {}: snapshot at {} not stored: {}", config_.id,
                  generated->last_included.index, membership.error().to_string());
    return membership.error();
  }
  const SnapshotMetadata described{generated->last_included, std::move(*membership),
                                   generated->checksum, generated->size,
                                   client_sessions_at(generated->last_included.index)};
  auto committed = store_->commit(temp, described);
  if (!committed) {
    store_->discard(temp);
    spdlog::error("node {}: storing snapshot at {} failed: {}", config_.id,
                  generated->last_included.index, committed.error().to_string());
    return committed.error();
  }
  // The state the snapshot covers must survive a crash before any entry below it is
  // purged: a restart then resumes from the state machine, not from the purged log.
  if (auto s = sm_->flush(); !s) {
    spdlog::error("node {}: flush after snapshot failed: {}", config_.id, s.error().to_string());
    return s.error();
  }
  if (auto s = sm_->persist_last_snapshot_metadata(*committed); !s) {
    spdlog::error("node {}: persisting snapshot metadata failed: {}", config_.id,
                  s.error().to_string());
    return s.error();
  }
  const SnapshotMetadata& metadata = *committed;
  const auto took = std::chrono::duration<double>(clock::now() - started).count();
  spdlog::info("node {}: snapshot ({}) at index {} term {}: {:.1f} MB in {:.2f} s ({:.0f} MB/s)",
               config_.id, why, metadata.last_included.index, metadata.last_included.term,
               static_cast<double>(metadata.size) / 1e6, took,
               took > 0 ? static_cast<double>(metadata.size) / 1e6 / took : 0.0);

  snapshot_index_ = std::max(snapshot_index_, metadata.last_included.index);
  bytes_at_snapshot_ = bytes_at_start;
  snapshot_time_ = clock::now();
  retry_at_ = {};
  if (raft_) send(raft_, snap_done_atom::value, metadata);
  if (purger_) send(purger_, snap_done_atom::value, metadata);
  return committed;
}

std::string Snapshotter::client_sessions_at(std::uint64_t index) {
  // Blocking as membership_at: the handler never waits for the snapshotter either.
  std::string out;
  if (!handler_) return out;
  caf::scoped_actor self{system()};
  self->request(handler_, config_.membership_timeout, sessions_atom::value, index)
      .receive([&](std::string& table) { out = std::move(table); },
               [&](caf::error& err) {
                 spdlog::warn("node {}: the snapshot at index {} carries no client table: the "
                              "handler did not give it ({})",
                              config_.id, index, system().render(err));
               });
  return out;
}

Result<Membership> Snapshotter::membership_at(std::uint64_t index) {
  // A blocking ask: this actor is detached (its thread already blocks while generating),
  // and the Raft actor never waits for the snapshotter, so this cannot deadlock. The
  // configuration cannot come with the progress reports: the state machine may have
  // applied (and the snapshot cover) entries past the last report.
  Result<Membership> out = make_error(ErrorCode::not_running, "the Raft actor is gone");
  caf::scoped_actor self{system()};
  self->request(raft_, config_.membership_timeout, membership_atom::value, index)
      .receive([&](Membership& m) { out = std::move(m); },
               [&](caf::error& err) {
                 out = make_error(ErrorCode::not_running,
                                  "the configuration at index " + std::to_string(index) +
                                      " is unknown: " + system().render(err));
               });
  return out;
}

}  // namespace raftor
