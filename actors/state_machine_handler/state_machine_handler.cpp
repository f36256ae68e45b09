#include "raftor/actors/state_machine_handler/state_machine_handler.hpp"

#include <spdlog/spdlog.h>

namespace raftor {

StateMachineHandler::StateMachineHandler(caf::actor_config& cfg,
                                         std::shared_ptr<StateMachine> state_machine,
                                         raft_actor raft, StateMachineHandlerConfig config)
    : state_machine_handler_actor::base(cfg),
      sm_(std::move(state_machine)),
      raft_(std::move(raft)),
      config_(config),
      sessions_(config.max_clients) {
  sessions_.keep_history(config.snapshots);
}

StateMachineHandler::behavior_type StateMachineHandler::make_behavior() {
  return {
      [this](apply_atom, CommittedEntries& committed) { enqueue(std::move(committed.entries)); },
      [this](replay_atom, const AppliedRequests& history) { replay(history); },
      [this](read_atom, const std::vector<std::string>& keys) { return read(keys); },
      [this](sessions_atom, std::uint64_t index) -> std::string {
        auto table = sessions_.encode(index);
        if (table) return std::move(table).value();
        spdlog::warn("the snapshot at index {} carries no client table ({}): a node that "
                     "installs it forgets its clients, and a retry of a request it covers "
                     "would be applied again there", index, table.error().to_string());
        return {};
      },
      [this](chunk_done_atom, AppliedEntries& applied) { chunk_done(std::move(applied)); },
      [this](install_atom, SnapshotMetadata& metadata,
             std::string& path) -> caf::result<SnapshotReply> {
        auto promise = make_response_promise<SnapshotReply>();
        installs_.push_back(PendingInstall{std::move(metadata), std::move(path), promise});
        install_when_idle();
        return promise;
      },
  };
}

void StateMachineHandler::on_exit() {
  // Break the handle cycle with the Raft actor (see RaftActor::on_exit), then make what
  // was applied durable before the node goes away.
  raft_ = nullptr;
  if (sm_ && sm_->is_running()) {
    if (auto s = sm_->flush(); !s.ok()) spdlog::error("flush at shutdown failed: {}", s.error().to_string());
  }
  sm_.reset();
}

void StateMachineHandler::enqueue(std::vector<Entry> entries) {
  for (auto& e : entries) queue_.push_back(std::move(e));
  if (!applying_) apply_next();
}

void StateMachineHandler::apply_next() {
  if (queue_.empty()) return;
  const std::size_t n = std::min(queue_.size(), config_.chunk_entries);
  std::vector<Entry> chunk;
  chunk.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    chunk.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  const LogId last = chunk.back().id();
  std::vector<std::uint64_t> terms;
  terms.reserve(chunk.size());
  for (const Entry& e : chunk) terms.push_back(e.term);
  in_flight_.emplace(chunk, sessions_);  // duplicates become noops (thesis §6.3)
  applying_ = true;
  // apply_chunk may complete on another thread: come back through the mailbox.
  caf::actor self = caf::actor_cast<caf::actor>(this);
  sm_->apply_chunk(std::move(chunk), [self, last, terms = std::move(terms)](
                                         Result<std::vector<ApplyResult>> r) mutable {
    AppliedEntries applied;
    applied.last_applied = last;
    if (r.ok() && r.value().size() != terms.size()) {
      applied.failed = true;
      applied.error = "state machine returned " + std::to_string(r.value().size()) +
                      " results for " + std::to_string(terms.size()) +
                      " entries (the contract: one per entry)";
    } else if (r.ok()) {
      applied.results = std::move(r).value();
      applied.terms = std::move(terms);
    } else {
      applied.failed = true;
      applied.error = r.error().to_string();
    }
    caf::anon_send(self, chunk_done_atom::value, std::move(applied));
  });
}

void StateMachineHandler::chunk_done(AppliedEntries applied) {
  applying_ = false;
  if (applied.failed) {
    in_flight_->abandon();  // a chunk that did not apply records nothing
    in_flight_.reset();
    // Committed entries that cannot be applied leave this replica unable to follow the
    // others; continuing would diverge. Stop the node with the reason.
    spdlog::critical("state machine failed to apply entries up to {}: {}",
                     applied.last_applied.index, applied.error);
    send(raft_, applied_atom::value, std::move(applied));
    quit(caf::make_error(caf::sec::runtime_error, "state machine apply failed"));
    return;
  }
  in_flight_->complete(applied.results);
  if (in_flight_->duplicates() > 0) {
    spdlog::debug("{} retried requests up to index {} were not applied again",
                  in_flight_->duplicates(), applied.last_applied.index);
  }
  in_flight_.reset();
  send(raft_, applied_atom::value, std::move(applied));
  apply_next();
  install_when_idle();
}

void StateMachineHandler::replay(const AppliedRequests& history) {
  // Sent by the Raft actor before any entry (messages between two actors keep their
  // order), so no chunk is in flight. First the table of the snapshot the state grew from,
  // then the requests of the log after it. The outcomes of those requests are not known
  // any more: a repeat of one reports already_applied.
  if (history.sessions_index != 0) load_sessions(history.sessions, history.sessions_index);
  for (const AppliedRequest& r : history.requests) {
    const Observation seen = sessions_.observe({r.client_id, r.sequence}, r.index);
    if (seen.verdict == RequestVerdict::fresh) {
      sessions_.set_outcome(r.client_id, r.index, ApplyOutcome::already_applied);
    }
  }
  sessions_.commit();
}

void StateMachineHandler::load_sessions(const std::string& table, std::uint64_t index) {
  if (auto s = sessions_.load(table, index); !s) {
    spdlog::error("the client table of the snapshot at index {} is unusable ({}): retries of "
                  "requests it covers would be applied again on this node",
                  index, s.error().to_string());
  }
}

void StateMachineHandler::install_when_idle() {
  if (applying_ || !queue_.empty() || installs_.empty()) return;
  for (PendingInstall& install : installs_) {
    SnapshotReply reply;
    reply.metadata = install.metadata;
    const std::uint64_t index = install.metadata.last_included.index;
    if (index <= sm_->last_applied().index) {
      reply.ok = true;  // already there (the entries covered it meanwhile)
    } else if (auto s = sm_->apply_snapshot_from_file(install.metadata, install.path); !s) {
      reply.code = static_cast<std::uint8_t>(s.error().code);
      reply.message = s.error().to_string();
    } else {
      reply.ok = true;
      // The table described the replaced state: the snapshot's own replaces it.
      load_sessions(install.metadata.client_sessions, index);
      spdlog::info("state machine replaced by the snapshot at index {}", index);
    }
    install.promise.deliver(std::move(reply));
  }
  installs_.clear();
}

ClientReply StateMachineHandler::read(const std::vector<std::string>& keys) const {
  ClientReply reply;
  auto values = sm_->get_multi(keys);
  if (!values.ok()) {
    reply.code = static_cast<std::uint8_t>(values.error().code);
    reply.message = values.error().to_string();
    return reply;
  }
  reply.ok = true;
  reply.index = sm_->last_applied().index;
  reply.values.reserve(values->size());
  for (auto& v : *values) {
    reply.found.push_back(v.has_value());
    reply.values.push_back(v ? std::move(*v) : std::string());
  }
  return reply;
}

}  // namespace raftor
