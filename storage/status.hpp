// Typed results: every fallible storage call returns Status or Result<T>. No exception
// crosses an actor boundary; errors carry a code to branch on and a message for people.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace raftor {

enum class ErrorCode : std::uint8_t {
  io_error,           // the operating system or RocksDB failed a read/write/fsync
  corruption,         // on-disk data is damaged (bad record checksum, torn file, bad format)
  checksum_mismatch,  // a snapshot file does not match the checksum it should have
  malformed_entry,    // a log entry's payload cannot be decoded
  invalid_argument,   // the caller broke a precondition (non-contiguous append, ...)
  not_running,        // the component was not started, or was stopped
  out_of_range,       // an index outside what the log holds (compacted or not yet written)
  not_leader,         // this node cannot serve the request; the message names the leader
  timeout,            // no answer in time (the outcome of a write may be unknown)
  internal,           // a bug: a broken invariant
  busy,               // refused for now, retry soon (a leadership transfer or membership change is in progress)
};

std::string_view to_string(ErrorCode code) noexcept;

struct Error {
  ErrorCode code;
  std::string message;

  std::string to_string() const;  // "checksum_mismatch: snapshot ... expected ..., got ..."
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Error error) : value_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const noexcept { return value_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(value_); }
  const T& value() const& { return std::get<0>(value_); }
  T&& value() && { return std::get<0>(std::move(value_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(value_); }

 private:
  std::variant<T, Error> value_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit

  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

}  // namespace raftor
