// Encoding and decoding of client commands (messages/command.proto), the payload of
// normal log entries. Decoding reuses a caller-owned pb::Command so that applying a chunk
// does not allocate a fresh message per entry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "raftor/messages/command.pb.h"
#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace raftor::command {

std::string put(std::string_view key, std::string_view value);
std::string del(std::string_view key);
// expected == std::nullopt: succeed only if the key is absent.
std::string cas(std::string_view key, std::optional<std::string_view> expected,
                std::string_view value);
std::string noop();

// Who sent a write, so that the state-machine handler applies a retried request once
// (Raft thesis §6.3): a retry carries the same pair. {0, 0} = not deduplicated.
struct ClientSequence {
  std::uint64_t client_id = 0;
  std::uint64_t sequence = 0;
};

// The same commands, tagged with the client's id and sequence number.
std::string put(std::string_view key, std::string_view value, ClientSequence tag);
std::string del(std::string_view key, ClientSequence tag);
std::string cas(std::string_view key, std::optional<std::string_view> expected,
                std::string_view value, ClientSequence tag);

// Parses a payload into `out`. Fails with malformed_entry when it is not a Command or
// names no operation.
Status decode(std::string_view payload, pb::Command& out);
// The same for a normal entry's payload; the error names the entry's index.
Status decode(const Entry& entry, pb::Command& out);

}  // namespace raftor::command
