// SessionStore: where sessions live. Every store (memory, DynamoDB) has exactly these semantics, and
// one conformance suite (tests/conformance) holds them to it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "websession/result.h"
#include "websession/values.h"

namespace websession {

using SystemClock = std::chrono::system_clock;
using TimePoint = SystemClock::time_point;
/// The wall clock a store reads; injectable so that tests control expiry and lock staleness.
using Clock = std::function<TimePoint()>;

/// The real wall clock.
TimePoint system_now();

/// One session as stored.
struct SessionRecord {
  std::string id;
  Fields data;
  /// When the session expires (whole seconds: DynamoDB stores epoch seconds).
  TimePoint expires;
};

/// What lock() returns: the session as it is now, and the token that proves the caller holds it.
struct LockGrant {
  SessionRecord record;
  /// Pass to unlock() and to WriteOptions::lock_owner.
  std::string owner;
  /// True when the lock was taken over from a holder that kept it longer than maxLockTime.
  bool took_over = false;
};

/// Options of a write (set, unset, increment).
struct WriteOptions {
  /// Also move the session's expiry to this time (rolling expiry) in the same write.
  std::optional<TimePoint> expires;
  /// Write only if the caller still holds the lock with this owner token; aborted otherwise.
  std::optional<std::string> lock_owner;
  /// With lock_owner: release the lock in the same write.
  bool release_lock = false;
};

/// A counter or gauge a store exports, in Prometheus terms.
struct MetricSample {
  std::string name;  ///< e.g. "websession_dynamodb_calls_total"
  std::string help;  ///< one line of description
  std::vector<std::pair<std::string, std::string>> labels;  ///< e.g. {{"operation", "GetItem"}}
  double value = 0;
  bool counter = true;  ///< false for a gauge
};

/// The interface every session store implements. Thread-safe: one store serves all requests.
///
/// Semantics shared by every store:
/// - A session whose `expires` is at or before now is treated as absent by every operation, even if
///   the backend still holds it.
/// - Session IDs must satisfy is_valid_session_id(); anything else is invalid_argument (get: none).
/// - Field names are checked with validate_field_name(); items over kMaxItemBytes are refused with
///   invalid_argument stating the size, before anything is sent.
class SessionStore {
 public:
  virtual ~SessionStore() = default;
  SessionStore() = default;
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  /// Prepares the store (DynamoDB: creates or checks the table). Call once before use.
  virtual Status init() = 0;

  /// The session, or std::nullopt if it does not exist or has expired.
  virtual Result<std::optional<SessionRecord>> get(std::string_view id) = 0;

  /// Creates a session. Never overwrites a live session: already_exists if `id` is taken (an expired
  /// leftover with the same ID may be replaced).
  virtual Status create(std::string_view id, const Fields& data, TimePoint expires) = 0;

  /// Adds or replaces the fields in `set_fields` and removes those named in `remove_names` (absent
  /// ones are ignored), in one atomic write; other fields stay as they are, so concurrent writers of
  /// different fields both survive. not_found if the session is absent; aborted if
  /// options.lock_owner no longer holds the lock.
  virtual Status update(std::string_view id, const Fields& set_fields,
                        const std::vector<std::string>& remove_names, const WriteOptions& options = {}) = 0;

  /// update() with fields to set only.
  Status set(std::string_view id, const Fields& fields, const WriteOptions& options = {}) {
    return update(id, fields, {}, options);
  }
  /// update() with fields to remove only.
  Status unset(std::string_view id, const std::vector<std::string>& names, const WriteOptions& options = {}) {
    return update(id, Fields{}, names, options);
  }

  /// Atomically adds `delta` to an integer field (a missing field counts as 0) and returns the new
  /// value. not_found if the session is absent; invalid_argument if the field is not an integer.
  virtual Result<std::int64_t> increment(std::string_view id, std::string_view field, std::int64_t delta,
                                         const WriteOptions& options = {}) = 0;

  /// Moves the session's expiry to `expires`. not_found if the session is absent.
  virtual Status touch(std::string_view id, TimePoint expires) = 0;

  /// Deletes the session. Deleting an absent session succeeds.
  virtual Status destroy(std::string_view id) = 0;

  /// Locks the session row in one atomic step, returning its current data. Succeeds only if the
  /// session exists and is unexpired, its lock_verification_property() field equals
  /// `verification_value`, and it is unlocked or was locked more than max_lock_time() ago (then the
  /// lock is taken over). Errors: lock_held, verification_mismatch, not_found.
  virtual Result<LockGrant> lock(std::string_view id, const Value& verification_value) = 0;

  /// Releases the lock if `owner` still holds it. aborted if the lock is held by someone else or was
  /// taken over; success if the session is unlocked or gone (nothing to release).
  virtual Status unlock(std::string_view id, std::string_view owner) = 0;

  /// Checks that the backend answers (for health checks).
  virtual Status ping() = 0;

  /// Releases resources; the store is unusable afterwards. Idempotent.
  virtual void close() = 0;

  /// The field whose value lock() verifies (default "refresh_token").
  [[nodiscard]] virtual const std::string& lock_verification_property() const = 0;
  /// How long a lock may be held before another caller may take it over.
  [[nodiscard]] virtual std::chrono::milliseconds max_lock_time() const = 0;

  /// The store's counters, for /metrics.
  [[nodiscard]] virtual std::vector<MetricSample> metrics() const { return {}; }
};

/// Rounds a time point down to whole seconds, as stores keep expiry.
TimePoint floor_seconds(TimePoint t);
/// Epoch seconds of a time point.
std::int64_t to_epoch_seconds(TimePoint t);
/// Epoch milliseconds of a time point.
std::int64_t to_epoch_millis(TimePoint t);

}  // namespace websession
