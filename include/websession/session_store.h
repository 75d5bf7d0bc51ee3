// SessionStore: where sessions live. Every store (memory, DynamoDB) has exactly these semantics, and
// one conformance suite (tests/conformance) holds them to it, through the blocking and the
// asynchronous API alike.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "websession/async.h"
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
  /// The session's ID, as the caller gave it (stores keep only session_key(id)).
  std::string id;
  Fields data;
  /// When the session ends if idle (whole seconds); never later than absolute_expires.
  TimePoint expires;
  /// When the session ends however active (whole seconds): its absolute lifetime.
  TimePoint absolute_expires;
  /// When the session was created (for a signed-in session: the sign-in).
  TimePoint created;
  /// The last write or touch (it moves with the lazy touch, not on every read).
  TimePoint last_seen;
  /// The principal that signed in; empty for an anonymous session.
  std::string owner;
  /// The identity provider's session (OpenID Connect `sid`, qualified by its issuer); may be empty.
  std::string sid;
  /// The User-Agent the session was created with (at most 256 bytes).
  std::string user_agent;
};

/// What create() writes.
struct NewSession {
  Fields data;
  /// When the session ends if idle; clamped to absolute_expires.
  TimePoint expires;
  /// When it ends however active.
  TimePoint absolute_expires;
  /// When the sign-in that makes this session began. A revocation of the owner's sessions at or
  /// after this time refuses the session (create() answers aborted), so a sign-in racing a "log out
  /// everywhere" never leaves a live session behind.
  TimePoint created;
  /// The principal; empty for an anonymous session. A session with an owner is entered in the
  /// owner's index before it exists, so it is never missing from list/destroy_owner_sessions().
  std::string owner;
  /// The provider's session, for destroy_sid_sessions(); empty for none. Needs an owner.
  std::string sid;
  std::string user_agent;
  /// With an owner: at most this many live sessions per owner (0: no cap); creating one more ends
  /// the owner's oldest.
  std::size_t max_sessions_per_owner = 0;
};

/// A live session of an owner, as listed. Never carries the session ID.
struct OwnerSession {
  /// session_key() of the session's ID: compare with session_key(current_id) to find the current
  /// one.
  std::string key;
  TimePoint created;
  TimePoint last_seen;
  TimePoint expires;
  TimePoint absolute_expires;
  std::string user_agent;
  std::string sid;
};

/// What lock() returns: the session as it is now, and the token that proves the caller holds it.
struct LockGrant {
  SessionRecord record;
  /// Pass to unlock(), renew_lock() and WriteOptions::lock_token.
  std::string token;
  /// True when the lock was taken over from a holder that kept it longer than maxLockTime.
  bool took_over = false;
};

/// Options of a write (update, increment).
struct WriteOptions {
  /// Also move the session's idle expiry to this time (rolling expiry) in the same write; the store
  /// records the write as the session's last_seen.
  std::optional<TimePoint> expires;
  /// Write only if the caller still holds the lock with this token; aborted otherwise.
  std::optional<std::string> lock_token;
  /// With lock_token: release the lock in the same write.
  bool release_lock = false;
};

/// What a metric sample is, in Prometheus terms.
enum class MetricKind { counter, gauge, histogram };

/// A counter, gauge or histogram a store exports (websession/metrics/prometheus.h turns them into
/// prometheus-cpp families; they can as well be rendered by hand).
struct MetricSample {
  std::string name;  ///< e.g. "websession_dynamodb_calls_total"
  std::string help;  ///< one line of description
  std::vector<std::pair<std::string, std::string>> labels;  ///< e.g. {{"operation", "GetItem"}}
  /// A counter's or gauge's value; a histogram's sum of observations.
  double value = 0;
  MetricKind kind = MetricKind::counter;
  /// A histogram's buckets: upper bound ("le") and cumulative count, ascending, without +Inf.
  std::vector<std::pair<double, std::uint64_t>> buckets;
  /// A histogram's number of observations (its +Inf bucket).
  std::uint64_t count = 0;
};

/// The interface every session store implements. Thread-safe: one store serves all requests.
///
/// Every operation comes three ways (see async.h): a coroutine `co_x` (what a store implements),
/// an Asio initiating function `async_x(..., token)`, and a blocking `x` (by default run_blocking()
/// over co_x; a store that answers from memory overrides it).
///
/// Semantics shared by every store:
/// - Stores keep session_key(id), never the ID: whoever reads the backend cannot replay a cookie.
/// - A session whose `expires` or `absolute_expires` is at or before now is absent for every
///   operation, even if the backend still holds it; no write can bring it back.
/// - Session IDs must satisfy is_valid_session_id(); anything else is invalid_argument (get: none).
/// - Field names are checked with validate_field_name(); items over kMaxItemBytes are refused with
///   invalid_argument stating the size, before anything is sent.
class SessionStore {
 public:
  virtual ~SessionStore() = default;
  SessionStore() = default;
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  // ---- Coroutines: what a store implements. Arguments must outlive the co_await.

  /// Prepares the store (DynamoDB: creates or checks the table). Call once before use.
  virtual Task<Status> co_init() = 0;
  /// The session, or std::nullopt if it does not exist or has expired.
  virtual Task<Result<std::optional<SessionRecord>>> co_get(std::string_view id) = 0;
  /// Creates a session. Never overwrites a live session: already_exists if `id` is taken. aborted
  /// if the owner's sessions were revoked at or after `session.created`.
  virtual Task<Status> co_create(std::string_view id, const NewSession& session) = 0;
  /// Adds or replaces the fields in `set_fields` and removes those named in `remove_names` (absent
  /// ones are ignored), in one atomic write; other fields stay as they are, so concurrent writers of
  /// different fields both survive. not_found if the session is absent; aborted if
  /// options.lock_token no longer holds the lock.
  virtual Task<Status> co_update(std::string_view id, const Fields& set_fields,
                                 const std::vector<std::string>& remove_names, const WriteOptions& options) = 0;
  /// Atomically adds `delta` to an integer field (a missing field counts as 0) and returns the new
  /// value. not_found if the session is absent; invalid_argument if the field is not an integer.
  virtual Task<Result<std::int64_t>> co_increment(std::string_view id, std::string_view field,
                                                  std::int64_t delta, const WriteOptions& options) = 0;
  /// Moves the session's idle expiry to `expires` (clamped to its absolute one) and its last_seen
  /// to now. not_found if the session is absent.
  virtual Task<Status> co_touch(std::string_view id, TimePoint expires) = 0;
  /// Deletes the session (and its entries in its owner's index). Deleting an absent one succeeds.
  virtual Task<Status> co_destroy(std::string_view id) = 0;
  /// Locks the session row in one atomic step, returning its current data. Succeeds only if the
  /// session exists and is unexpired, its lock_verification_property() field equals
  /// `verification_value`, and it is unlocked or was locked (or last renewed) more than
  /// max_lock_time() ago (then the lock is taken over). Errors: lock_held, verification_mismatch,
  /// not_found.
  virtual Task<Result<LockGrant>> co_lock(std::string_view id, const Value& verification_value) = 0;
  /// Releases the lock if `token` still holds it. aborted if the lock is held by someone else or was
  /// taken over; success if the session is unlocked or gone (nothing to release).
  virtual Task<Status> co_unlock(std::string_view id, std::string_view token) = 0;
  /// Renews the holder's lease: the lock counts as taken now, so it goes stale only max_lock_time()
  /// from now. aborted if `token` no longer holds it; not_found if the session is gone.
  virtual Task<Status> co_renew_lock(std::string_view id, std::string_view token) = 0;
  /// The owner's live sessions, oldest first. Prunes index entries of sessions that ended.
  virtual Task<Result<std::vector<OwnerSession>>> co_list_owner_sessions(std::string_view owner) = 0;
  /// Ends every session of the owner, including those being created right now (see
  /// NewSession::created); returns how many live ones ended.
  virtual Task<Result<std::size_t>> co_destroy_owner_sessions(std::string_view owner) = 0;
  /// Ends every session created with this `sid`; returns how many live ones ended.
  virtual Task<Result<std::size_t>> co_destroy_sid_sessions(std::string_view sid) = 0;
  /// Checks that the backend answers (for health checks).
  virtual Task<Status> co_ping() = 0;

  // ---- Blocking: run_blocking() over the coroutine unless the store overrides it.

  virtual Status init() { return run_blocking([&] { return co_init(); }); }
  virtual Result<std::optional<SessionRecord>> get(std::string_view id) {
    return run_blocking([&] { return co_get(id); });
  }
  virtual Status create(std::string_view id, const NewSession& session) {
    return run_blocking([&] { return co_create(id, session); });
  }
  virtual Status update(std::string_view id, const Fields& set_fields, const std::vector<std::string>& remove_names,
                        const WriteOptions& options = {}) {
    return run_blocking([&] { return co_update(id, set_fields, remove_names, options); });
  }
  virtual Result<std::int64_t> increment(std::string_view id, std::string_view field, std::int64_t delta,
                                         const WriteOptions& options = {}) {
    return run_blocking([&] { return co_increment(id, field, delta, options); });
  }
  virtual Status touch(std::string_view id, TimePoint expires) {
    return run_blocking([&] { return co_touch(id, expires); });
  }
  virtual Status destroy(std::string_view id) { return run_blocking([&] { return co_destroy(id); }); }
  virtual Result<LockGrant> lock(std::string_view id, const Value& verification_value) {
    return run_blocking([&] { return co_lock(id, verification_value); });
  }
  virtual Status unlock(std::string_view id, std::string_view token) {
    return run_blocking([&] { return co_unlock(id, token); });
  }
  virtual Status renew_lock(std::string_view id, std::string_view token) {
    return run_blocking([&] { return co_renew_lock(id, token); });
  }
  virtual Result<std::vector<OwnerSession>> list_owner_sessions(std::string_view owner) {
    return run_blocking([&] { return co_list_owner_sessions(owner); });
  }
  virtual Result<std::size_t> destroy_owner_sessions(std::string_view owner) {
    return run_blocking([&] { return co_destroy_owner_sessions(owner); });
  }
  virtual Result<std::size_t> destroy_sid_sessions(std::string_view sid) {
    return run_blocking([&] { return co_destroy_sid_sessions(sid); });
  }
  virtual Status ping() { return run_blocking([&] { return co_ping(); }); }

  /// update() with fields to set only.
  Status set(std::string_view id, const Fields& fields, const WriteOptions& options = {}) {
    return update(id, fields, {}, options);
  }
  /// update() with fields to remove only.
  Status unset(std::string_view id, const std::vector<std::string>& names, const WriteOptions& options = {}) {
    return update(id, Fields{}, names, options);
  }

  // ---- Asio initiating functions; the arguments are copied into the operation.

  template <class CompletionToken>
  auto async_get(std::string_view id, CompletionToken&& token) {
    return async_run<Result<std::optional<SessionRecord>>>(
        executor(), std::forward<CompletionToken>(token), [this, id = std::string(id)] { return co_get(id); });
  }
  template <class CompletionToken>
  auto async_create(std::string_view id, NewSession session, CompletionToken&& token) {
    return async_run<Status>(executor(), std::forward<CompletionToken>(token),
                             [this, id = std::string(id), s = std::move(session)] { return co_create(id, s); });
  }
  template <class CompletionToken>
  auto async_update(std::string_view id, Fields set_fields, std::vector<std::string> remove_names,
                    WriteOptions options, CompletionToken&& token) {
    return async_run<Status>(executor(), std::forward<CompletionToken>(token),
                             [this, id = std::string(id), f = std::move(set_fields), r = std::move(remove_names),
                              o = std::move(options)] { return co_update(id, f, r, o); });
  }
  template <class CompletionToken>
  auto async_increment(std::string_view id, std::string_view field, std::int64_t delta, WriteOptions options,
                       CompletionToken&& token) {
    return async_run<Result<std::int64_t>>(
        executor(), std::forward<CompletionToken>(token),
        [this, id = std::string(id), f = std::string(field), delta, o = std::move(options)] {
          return co_increment(id, f, delta, o);
        });
  }
  template <class CompletionToken>
  auto async_touch(std::string_view id, TimePoint expires, CompletionToken&& token) {
    return async_run<Status>(executor(), std::forward<CompletionToken>(token),
                             [this, id = std::string(id), expires] { return co_touch(id, expires); });
  }
  template <class CompletionToken>
  auto async_destroy(std::string_view id, CompletionToken&& token) {
    return async_run<Status>(executor(), std::forward<CompletionToken>(token),
                             [this, id = std::string(id)] { return co_destroy(id); });
  }
  template <class CompletionToken>
  auto async_lock(std::string_view id, Value verification_value, CompletionToken&& token) {
    return async_run<Result<LockGrant>>(
        executor(), std::forward<CompletionToken>(token),
        [this, id = std::string(id), v = std::move(verification_value)] { return co_lock(id, v); });
  }
  template <class CompletionToken>
  auto async_unlock(std::string_view id, std::string_view lock_token, CompletionToken&& token) {
    return async_run<Status>(executor(), std::forward<CompletionToken>(token),
                             [this, id = std::string(id), t = std::string(lock_token)] { return co_unlock(id, t); });
  }
  template <class CompletionToken>
  auto async_renew_lock(std::string_view id, std::string_view lock_token, CompletionToken&& token) {
    return async_run<Status>(executor(), std::forward<CompletionToken>(token),
                             [this, id = std::string(id), t = std::string(lock_token)] { return co_renew_lock(id, t); });
  }
  template <class CompletionToken>
  auto async_list_owner_sessions(std::string_view owner, CompletionToken&& token) {
    return async_run<Result<std::vector<OwnerSession>>>(
        executor(), std::forward<CompletionToken>(token),
        [this, o = std::string(owner)] { return co_list_owner_sessions(o); });
  }
  template <class CompletionToken>
  auto async_destroy_owner_sessions(std::string_view owner, CompletionToken&& token) {
    return async_run<Result<std::size_t>>(executor(), std::forward<CompletionToken>(token),
                                          [this, o = std::string(owner)] { return co_destroy_owner_sessions(o); });
  }
  template <class CompletionToken>
  auto async_destroy_sid_sessions(std::string_view sid, CompletionToken&& token) {
    return async_run<Result<std::size_t>>(executor(), std::forward<CompletionToken>(token),
                                          [this, s = std::string(sid)] { return co_destroy_sid_sessions(s); });
  }
  template <class CompletionToken>
  auto async_ping(CompletionToken&& token) {
    return async_run<Status>(executor(), std::forward<CompletionToken>(token), [this] { return co_ping(); });
  }

  // ---- Properties.

  /// Releases resources; the store is unusable afterwards. Idempotent.
  virtual void close() = 0;
  /// The field whose value lock() verifies (default "refresh_token").
  [[nodiscard]] virtual const std::string& lock_verification_property() const = 0;
  /// How long a lock may be held without renewal before another caller may take it over.
  [[nodiscard]] virtual std::chrono::milliseconds max_lock_time() const = 0;
  /// The executor for asynchronous calls whose handler has no I/O executor of its own; empty (the
  /// default): websession's default_executor().
  [[nodiscard]] virtual Executor executor() const { return {}; }
  /// True when the blocking operations answer without waiting for I/O (a store in memory): code in
  /// a coroutine may then call them directly, without the coroutine machinery (the Beast adapter
  /// does). Default false.
  [[nodiscard]] virtual bool answers_inline() const { return false; }
  /// The store's counters, for /metrics.
  [[nodiscard]] virtual std::vector<MetricSample> metrics() const { return {}; }
};

/// Rounds a time point down to whole seconds, as stores keep expiry.
TimePoint floor_seconds(TimePoint t);
/// Epoch seconds of a time point.
std::int64_t to_epoch_seconds(TimePoint t);
/// Epoch milliseconds of a time point.
std::int64_t to_epoch_millis(TimePoint t);
/// The time point of epoch seconds, saturating instead of overflowing for values far outside the
/// clock's range (items written by other tools, for example in milliseconds).
TimePoint from_epoch_seconds(std::int64_t seconds);
/// The time point of epoch milliseconds, saturating likewise.
TimePoint from_epoch_millis(std::int64_t millis);

/// Checks what create() is given: owner and sid at most kMaxOwnerBytes and without control
/// characters, a sid only with an owner, expiries after `created`, the data's fields. The store
/// clamps expires to absolute_expires and cuts the user agent itself.
Status validate_new_session(const NewSession& session);

/// `user_agent` with everything but printable ASCII dropped, cut to kMaxUserAgentBytes.
std::string clean_user_agent(std::string_view user_agent);

/// The most a session lifetime option may be: ten years. Longer is a configuration error.
inline constexpr std::chrono::seconds kMaxLifetime{10LL * 366 * 24 * 3600};

}  // namespace websession
