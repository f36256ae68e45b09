#include "raftor/client/attempt_log.hpp"

namespace raftor::client {

void AttemptLog::record(NodeId node, std::string who, std::string outcome, bool cut_short) {
  ++attempts_;
  for (auto& e : latest_) {
    if (e.node == node) {
      if (!cut_short) e.outcome = std::move(outcome);
      return;
    }
  }
  latest_.push_back({node, std::move(who), std::move(outcome)});
}

std::string AttemptLog::summary() const {
  if (latest_.empty()) return "no node was tried";
  std::string out;
  for (const auto& e : latest_) {
    if (!out.empty()) out += "; ";
    out += e.who + ": " + e.outcome;
  }
  return out;
}

}  // namespace raftor::client
