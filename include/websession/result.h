// Result<T>: the outcome of an I/O operation, a value or an Error.
//
// websession reports I/O outcomes as values and throws only for programmer errors (invalid options).
// Error codes are named for what the caller does next, in the manner of absl::StatusCode.
#pragma once

#include <cassert>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace websession {

/// What went wrong, named for what the caller does next.
enum class ErrorCode {
  /// The session (or table) does not exist, or has expired. Start a new one.
  not_found,
  /// Creating an item whose ID already exists. Pick another ID.
  already_exists,
  /// Another caller holds the session's lock. Wait, reload, try again.
  lock_held,
  /// The lock verification value no longer matches: someone changed it (for example, rotated the
  /// refresh token). Reload and use the new state.
  verification_mismatch,
  /// A write conditioned on holding the lock found the lock gone or taken over. Restart the
  /// read-modify-write.
  aborted,
  /// The backend could not be reached or kept failing after retries. Try again later.
  unavailable,
  /// The request was rejected for what it contains. Fix the input.
  invalid_argument,
  /// Credentials are missing, invalid or lack permission. Fix the configuration.
  permission_denied,
  /// A bug or an unexpected answer (for example, a corrupted item). Report it.
  internal,
  /// The caller cancelled the operation (an Asio cancellation slot, or a server shutting down).
  cancelled,
};

/// A short, stable name for `code` ("not_found", "lock_held", ...).
std::string_view to_string(ErrorCode code) noexcept;

/// An error: a code for the program, a message for people, and the backend's own error type when
/// there is one (for example "ConditionalCheckFailedException"). Messages never contain secrets,
/// credentials or session IDs.
struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;
  /// The backend's raw error type, if any (DynamoDB's `__type` without its namespace prefix).
  std::string service_type;

  Error() = default;
  Error(ErrorCode c, std::string msg, std::string type = {})
      : code(c), message(std::move(msg)), service_type(std::move(type)) {}

  /// "code: message" (and " [service_type]" when set), for logs.
  [[nodiscard]] std::string describe() const;
};

/// Thrown when a Result is accessed for a value it does not hold: a programmer error.
class BadResultAccess : public std::logic_error {
 public:
  explicit BadResultAccess(const Error& e);
};

/// A value of type T or an Error.
///
///   Result<Record> r = store.get(id);
///   if (!r) return r.error();
///   use(*r);
template <class T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  [[nodiscard]] T& value() & {
    check();
    return std::get<0>(v_);
  }
  [[nodiscard]] const T& value() const& {
    check();
    return std::get<0>(v_);
  }
  [[nodiscard]] T&& value() && {
    check();
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; only valid when !ok().
  [[nodiscard]] const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  [[nodiscard]] Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }
  /// The error's code; only valid when !ok().
  [[nodiscard]] ErrorCode code() const { return error().code; }

 private:
  void check() const {
    if (!ok()) throw BadResultAccess(std::get<1>(v_));
  }
  std::variant<T, Error> v_;
};

/// The outcome of an operation with no value.
template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(implicit)

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  /// Throws BadResultAccess when !ok(); a no-op otherwise.
  void value() const {
    if (!ok_) throw BadResultAccess(error_);
  }
  [[nodiscard]] const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  [[nodiscard]] Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }
  [[nodiscard]] ErrorCode code() const { return error().code; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace websession
