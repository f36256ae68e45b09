// Histories of a key-value store as clients saw them, read from JSON lines.
//
// Format: one JSON object per line (blank lines are skipped), one event each:
//
//   {"process": 3, "type": "invoke", "f": "put", "key": "k1", "value": "v", "time": 1200}
//   {"process": 3, "type": "ok",     "f": "put", "key": "k1", "time": 1900}
//
//   process    integer; a client that has at most one outstanding operation.
//   type       "invoke" starts an operation; its completion from the same process is one of
//              "ok"   took effect once, result known;
//              "fail" definitely did NOT take effect;
//              "info" unknown: may or may not have taken effect, at any time after the invoke.
//              An operation with no completion at all counts as "info".
//   f          "put" | "get" | "delete" | "cas"; a completion repeats its invoke's f and key.
//   key        string.
//   value      put invoke: the value written.  get ok: the value read, null when absent.
//              cas invoke: the new value.  Ignored elsewhere.
//   expected   cas invoke only: the value the cas expects, null = "expects the key absent".
//   succeeded  cas ok only: whether the compare matched (and the new value was written).
//   time       integer, monotonic nanoseconds; a completion is not earlier than its invoke.
//
// Semantics follow Jepsen and Porcupine: an operation is the interval [invoke, completion]
// and an unknown one's interval never closes (its return is +infinity).
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raftor::lincheck {

enum class OpKind { put, get, del, cas };  // del: JSON "delete"
enum class Outcome { ok, fail, unknown };   // unknown: "info" or no completion

// Return time of an operation whose completion is unknown.
inline constexpr std::int64_t kNeverReturned = std::numeric_limits<std::int64_t>::max();

// One invoke paired with its completion.
struct Operation {
  std::int64_t process = 0;
  OpKind kind = OpKind::get;
  std::string key;
  std::optional<std::string> value;     // put/cas: written; get ok: read (nullopt = absent)
  std::optional<std::string> expected;  // cas: nullopt = expects absent
  bool succeeded = false;               // cas with outcome ok: the compare matched
  Outcome outcome = Outcome::unknown;
  std::int64_t call_time = 0;
  std::int64_t return_time = kNeverReturned;  // kNeverReturned unless outcome is ok/fail
  std::size_t invoke_line = 0;                // 1-based line numbers in the input
  std::size_t completion_line = 0;            // 0: no completion line
};

// Operations in the order of their invoke lines.
struct History {
  std::vector<Operation> operations;
};

// Never throws: a malformed input yields `error` ("line 7: ...") and `error_line`.
struct ParseResult {
  History history;
  std::string error;           // empty on success
  std::size_t error_line = 0;  // 0: the error is not about one line (e.g. unreadable file)
  bool ok() const { return error.empty(); }
};

ParseResult parse_history(std::istream& in);
ParseResult parse_history_text(std::string_view text);
ParseResult parse_history_file(const std::string& path);

std::string_view to_string(OpKind kind);
// A short human description, e.g. `get -> "v1" (process 2, line 9, t=[300, 400])`.
std::string describe(const Operation& op);

}  // namespace raftor::lincheck
