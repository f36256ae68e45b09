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

// `id`: set it to let a retry of the same request be applied once (thesis §6.3).
std::string put(std::string_view key, std::string_view value, RequestId id = {});
std::string del(std::string_view key, RequestId id = {});
// expected == std::nullopt: succeed only if the key is absent.
std::string cas(std::string_view key, std::optional<std::string_view> expected,
                std::string_view value, RequestId id = {});
std::string noop(RequestId id = {});

// The client library's name for a request id (client id, per-client sequence).
using ClientSequence = RequestId;

// Parses a payload into `out`. Fails with malformed_entry when it is not a Command or
// names no operation.
Status decode(std::string_view payload, pb::Command& out);
// The same for a normal entry's payload; the error names the entry's index.
Status decode(const Entry& entry, pb::Command& out);

// Only the request id of a payload: reads the top-level fields and skips the operation
// without copying it, so the deduplication can run before every apply at little cost.
// std::nullopt when the payload is not well-formed protobuf at its top level; {0, 0} when
// it carries no id.
std::optional<RequestId> request_id(std::string_view payload);

}  // namespace raftor::command
