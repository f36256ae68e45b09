// How a Client waits, retries and identifies itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "raftor/storage/types.hpp"

namespace raftor::client {

struct ClientOptions {
  // One request to one node (connecting included) gets at most this long.
  std::chrono::milliseconds request_timeout{2000};
  // A whole call, with leader discovery and retries, gives up after this long.
  std::chrono::milliseconds deadline{10000};
  // The wait after every node failed once in a row; doubles up to backoff_max.
  std::chrono::milliseconds backoff{50};
  std::chrono::milliseconds backoff_max{1000};
  // Names this client in every write, for the cluster's deduplication of retries.
  // 0: a random id. Two live clients must never share an id.
  std::uint64_t client_id = 0;
  // Sees every proposal as it is sent, retries included (tests, tracing).
  std::function<void(NodeId node, const std::string& payload)> on_propose;
};

}  // namespace raftor::client
