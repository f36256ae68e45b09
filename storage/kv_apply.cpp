#include "raftor/storage/kv_apply.hpp"

#include "raftor/storage/command.hpp"

namespace raftor {

namespace {
Status validate(const std::vector<Entry>& chunk, LogId last_applied, pb::Command& scratch) {
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    const Entry& e = chunk[i];
    if (i > 0 && e.index != chunk[i - 1].index + 1) {
      return make_error(ErrorCode::invalid_argument,
                        "chunk is not contiguous: entry " + std::to_string(e.index) +
                            " follows " + std::to_string(chunk[i - 1].index));
    }
    if (e.index <= last_applied.index || e.type != EntryType::normal) continue;
    if (auto s = command::decode(e, scratch); !s) return s;
  }
  if (!chunk.empty() && chunk.front().index > last_applied.index + 1) {
    return make_error(ErrorCode::invalid_argument,
                      "chunk starts at " + std::to_string(chunk.front().index) +
                          " but last applied is " + std::to_string(last_applied.index) +
                          ": entries would be skipped");
  }
  return {};
}

Result<ApplyOutcome> apply_command(const pb::Command& cmd, KvTarget& target) {
  switch (cmd.op_case()) {
    case pb::Command::kPut:
      if (auto s = target.put(cmd.put().key(), cmd.put().value()); !s) return s.error();
      return ApplyOutcome::applied;
    case pb::Command::kDel:
      if (auto s = target.del(cmd.del().key()); !s) return s.error();
      return ApplyOutcome::applied;
    case pb::Command::kCas: {
      const auto& cas = cmd.cas();
      auto holds = target.holds(cas.key(), cas.has_expected() ? &cas.expected() : nullptr);
      if (!holds) return holds.error();
      if (!*holds) return ApplyOutcome::cas_mismatch;
      if (auto s = target.put(cas.key(), cas.value()); !s) return s.error();
      return ApplyOutcome::applied;
    }
    case pb::Command::kNoop:
    case pb::Command::OP_NOT_SET:
      return ApplyOutcome::applied;
  }
  return ApplyOutcome::applied;
}
}  // namespace

Result<KvChunkOutcome> apply_kv_chunk(const std::vector<Entry>& chunk, LogId last_applied,
                                      KvTarget& target, pb::Command& scratch) {
  if (auto s = validate(chunk, last_applied, scratch); !s) return s.error();
  KvChunkOutcome out;
  out.results.reserve(chunk.size());
  for (const Entry& e : chunk) {
    if (e.index <= last_applied.index) {
      out.results.push_back({e.index, ApplyOutcome::already_applied});
      continue;
    }
    ApplyOutcome outcome = ApplyOutcome::applied;
    if (e.type == EntryType::normal) {
      // Decoded successfully in validate(); decoding again avoids keeping every command.
      if (auto s = command::decode(e, scratch); !s) return s.error();
      auto r = apply_command(scratch, target);
      if (!r) return r.error();
      outcome = *r;
    }
    out.results.push_back({e.index, outcome});
    out.last_applied = e.id();
  }
  return out;
}

}  // namespace raftor
