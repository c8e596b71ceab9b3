// Status and Result<T>: errors as values, used across every Vigil component.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace vigil {

// What went wrong, coarse enough for callers to map onto HTTP codes and
// Prometheus error types (bad_data, execution, timeout, canceled, ...).
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // caller's input is wrong (bad_data)
  kNotFound,           // the thing asked for does not exist
  kCorruption,         // on-disk data fails a checksum or is malformed
  kIOError,            // the operating system refused a read or write
  kOutOfOrder,         // sample older than the newest sample of its series
  kDuplicateSample,    // same timestamp, different value
  kOutOfBounds,        // sample outside the appendable time window
  kExecution,          // query evaluation failed (execution)
  kTimeout,            // a deadline passed (timeout)
  kCancelled,          // the caller gave up (canceled)
  kResourceExhausted,  // a limit was hit (samples, size, concurrency)
  kUnavailable,        // not ready yet or shutting down
  kInternal,           // a bug: an invariant did not hold
};

// Returns a short lower-case name for a code, e.g. "invalid argument".
const char* StatusCodeName(StatusCode code);

// Status is either OK or an error code with a message a user can act on.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Execution(std::string m) { return {StatusCode::kExecution, std::move(m)}; }
  static Status Timeout(std::string m) { return {StatusCode::kTimeout, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "code: message", or "OK".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Result<T> holds a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace vigil

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define VIGIL_RETURN_IF_ERROR(expr)         \
  do {                                      \
    ::vigil::Status vigil_status_ = (expr); \
    if (!vigil_status_.ok()) return vigil_status_; \
  } while (0)
