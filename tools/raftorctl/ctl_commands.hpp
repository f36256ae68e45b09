// Runs one parsed raftorctl command against a cluster through a Client.
#pragma once

#include <ostream>
#include <vector>

#include "raftor/client/client.hpp"
#include "raftor/tools/raftorctl/ctl_args.hpp"
#include "raftor/tools/raftorctl/ctl_output.hpp"

namespace raftor::ctl {

// The client options raftorctl uses for an invocation (its deadline, its request timeout).
client::ClientOptions client_options(const Invocation& invocation);

// Asks every configured node for its status, in the configured order.
std::vector<NodeReport> gather_status(client::Client& client);

// Prints the result to `out` and a one-line error (for exit codes other than 0) to `err`;
// returns the exit code.
int run(const Invocation& invocation, client::Client& client, std::ostream& out, std::ostream& err);

}  // namespace raftor::ctl
