// What a call tried before it gave up, for an error that tells the user what happened:
// the latest outcome per node, in the order the nodes were first tried. An attempt the
// call's deadline cut short (it had less than a full request timeout) says only "timed
// out", so it does not replace what an earlier, full attempt on that node found out.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "raftor/storage/types.hpp"

namespace raftor::client {

class AttemptLog {
 public:
  void record(NodeId node, std::string who, std::string outcome, bool cut_short = false);

  std::size_t attempts() const { return attempts_; }
  // "node 1 at 127.0.0.1:7001: unreachable (...); node 2 at ...: not_leader: no leader known"
  std::string summary() const;

 private:
  struct Entry {
    NodeId node;
    std::string who;
    std::string outcome;
  };
  std::vector<Entry> latest_;
  std::size_t attempts_ = 0;
};

}  // namespace raftor::client
