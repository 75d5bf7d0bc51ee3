// Session: one user's session, held in memory for the length of a request, with change tracking so
// that save() writes only what changed, and nothing when nothing did.
//
// Every operation that talks to the store comes blocking (`save()`), as a coroutine for code already
// in a Task (`co_save()`), and as an Asio initiating function (`async_save(token)`); see async.h.
// The decisions (what to write, how to wait for a lock) are pure functions shared by both drivers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "websession/async.h"
#include "websession/result.h"
#include "websession/session_store.h"
#include "websession/values.h"

namespace websession {

namespace detail {
class RefreshMachine;
class LocalRefreshLead;
struct LocalRefresh;
}

/// How sessions live and roll.
struct SessionOptions {
  /// A session's idle lifetime: it ends this long after its last write or touch. 1 s to kMaxLifetime.
  std::chrono::seconds max_age{1200};
  /// A request that changes nothing rewrites the expiry only when less than this much lifetime is
  /// left, so read-only traffic costs one read. Default (nullopt): three quarters of max_age.
  std::optional<std::chrono::seconds> touch_below;
  /// A session's absolute lifetime, from its creation (sign-in rotates the session, so from
  /// sign-in): it ends then however active, so a stolen cookie cannot be kept alive for ever.
  /// At least max_age, at most kMaxLifetime.
  std::chrono::seconds absolute_max_age{12 * 3600};
  /// At most this many sessions per owner (0: no cap); a new sign-in ends the owner's oldest.
  std::size_t max_sessions_per_owner = 0;
  /// The clock; the store's clock should be the same. Default: the system clock.
  Clock clock;
};

/// Who signs in: see Session::sign_in().
struct SignIn {
  /// The principal (a local user name; for OpenID Connect the issuer and `sub`). Not empty.
  std::string owner;
  /// The identity provider's session (`sid`, qualified by the issuer), if any.
  std::string sid;
  /// The request's User-Agent, shown when the owner lists their sessions.
  std::string user_agent;
  /// Keep the session's fields across the sign-in (they move to the new session ID).
  bool keep_data = true;
};

/// How a caller that finds the lock held waits for it (see Session::refresh_with_lock).
struct LockWaitOptions {
  /// The first pause; each further one doubles, up to max_backoff, with jitter.
  std::chrono::milliseconds initial_backoff{25};
  std::chrono::milliseconds max_backoff{500};
  /// The longest total wait. Default (nullopt): the store's max_lock_time plus one second, long enough
  /// for a dead holder's lock to go stale and be taken over.
  std::optional<std::chrono::milliseconds> max_wait;
  /// How often the holder renews its lock while refresh() runs. Default (nullopt): a third of the
  /// store's max_lock_time, so a live holder is never taken over however slow refresh() is.
  std::optional<std::chrono::milliseconds> renew_every;
  /// How many more times a refreshed state is written under the lock when writing it fails with
  /// unavailable (the store flickered); the lock is kept (and renewed) meanwhile.
  int save_attempts = 3;
};

/// What refresh_with_lock did.
struct RefreshOutcome {
  /// True when this call ran the refresh and saved its result.
  bool rotated = false;
  /// How many times this call found the lock held and waited.
  int lock_waits = 0;
  /// True when this call took over a stale lock.
  bool took_over = false;
  /// How many times the lock was renewed while refresh() ran.
  int renewals = 0;
};

/// One user's session. Not thread-safe: one request owns it. Copyable and movable; the store must
/// outlive it, and an asynchronous operation's Session must outlive the operation.
///
///   auto s = Session::load(store, id_from_cookie, opts);
///   if (!s) return unavailable();
///   s->set("user", "alice");
///   if (auto st = s->save(); !st) return error(st.error());
class Session {
 public:
  /// A refresh step for the blocking refresh_with_lock: changes fields through set().
  using Refresh = std::function<Status(Session&)>;
  /// A refresh step for the asynchronous one.
  using AsyncRefresh = std::function<Task<Status>(Session&)>;
  /// Whether the session needs a refresh (for example: its access token has expired).
  using NeedsRefresh = std::function<bool(const Session&)>;

  /// A new, empty session. It has no ID and no store item until something is saved. Throws
  /// std::invalid_argument naming the option when an option is invalid.
  Session(SessionStore& store, SessionOptions options);

  /// Loads `id` from the store. A missing, expired or malformed ID gives a new, empty session (the
  /// ID is never adopted); store failures are errors.
  static Result<Session> load(SessionStore& store, std::string_view id, SessionOptions options);
  static Task<Result<Session>> co_load(SessionStore& store, std::string_view id, SessionOptions options);
  template <class CompletionToken>
  static auto async_load(SessionStore& store, std::string_view id, SessionOptions options, CompletionToken&& token) {
    return async_run<Result<Session>>(store.executor(), std::forward<CompletionToken>(token),
                                      [&store, id = std::string(id), o = std::move(options)] {
                                        return co_load(store, id, o);
                                      });
  }

  /// A session for a record already read from the store.
  static Session from_record(SessionStore& store, SessionRecord record, SessionOptions options);

  /// The session's ID; empty for a new session until save() or regenerate() assigns one.
  [[nodiscard]] const std::string& id() const noexcept { return id_; }
  /// True until the session exists in the store.
  [[nodiscard]] bool is_new() const noexcept { return is_new_; }
  /// True after destroy().
  [[nodiscard]] bool is_destroyed() const noexcept { return destroyed_; }
  /// When the session ends if idle (for a new session: when it would if saved now).
  [[nodiscard]] TimePoint expires() const noexcept { return expires_; }
  /// When it ends however active.
  [[nodiscard]] TimePoint absolute_expires() const noexcept { return absolute_expires_; }
  /// When it was created (signed in).
  [[nodiscard]] TimePoint created() const noexcept { return created_; }
  /// The principal that signed in; empty when anonymous.
  [[nodiscard]] const std::string& owner() const noexcept { return owner_; }
  /// The identity provider's session, if any.
  [[nodiscard]] const std::string& sid() const noexcept { return sid_; }
  /// All fields.
  [[nodiscard]] const Fields& data() const noexcept { return data_; }
  [[nodiscard]] SessionStore& store() const noexcept { return *store_; }
  [[nodiscard]] const SessionOptions& options() const noexcept { return options_; }

  /// A field's value, or nullptr if absent.
  [[nodiscard]] const Value* get(std::string_view name) const;
  /// A string field, or std::nullopt if absent or not a string.
  [[nodiscard]] std::optional<std::string> get_string(std::string_view name) const;
  /// An integer field, or std::nullopt if absent or not an integer.
  [[nodiscard]] std::optional<std::int64_t> get_int(std::string_view name) const;

  /// Sets a field in memory; save() writes it. Throws std::invalid_argument for an invalid name
  /// (see validate_field_name). After destroy() the session is new and empty, and set() starts a new
  /// one.
  void set(std::string_view name, Value value);
  /// Sets several fields in memory.
  void set(const Fields& fields);
  /// Removes a field in memory; save() removes it from the store.
  void unset(std::string_view name);
  /// Removes every field in memory.
  void clear();
  /// True when there are changes save() would write.
  [[nodiscard]] bool modified() const noexcept;

  /// Signs `who.owner` in: the session gets a new ID (no fixation), an owner, a new creation time
  /// and absolute lifetime; the next save() enters it in the owner's index, creates it, then
  /// deletes the old one. Throws std::invalid_argument for an empty or invalid owner.
  void sign_in(SignIn who);

  /// Gives the session a new ID; the next save() writes it and only then deletes the old item, so a
  /// failure never logs the user out. Keeps the data (and owner) unless keep_data is false.
  void regenerate(bool keep_data = true);

  /// Atomically adds `delta` to an integer field in the store now (a new session is created with the
  /// pending changes and the field set to `delta`), and returns the new value. Pending changes to
  /// other fields stay pending; a pending change to this field is written first.
  Result<std::int64_t> increment(std::string_view name, std::int64_t delta = 1);
  Task<Result<std::int64_t>> co_increment(std::string_view name, std::int64_t delta = 1);
  template <class CompletionToken>
  auto async_increment(std::string_view name, std::int64_t delta, CompletionToken&& token) {
    return async_run<Result<std::int64_t>>(store_->executor(), std::forward<CompletionToken>(token),
                                           [this, n = std::string(name), delta] { return co_increment(n, delta); });
  }

  /// Writes the changes: a new session with data is created (conditionally: an existing ID is never
  /// overwritten); an existing one gets one atomic write of the changed fields plus the rolled expiry.
  /// With no changes it writes nothing, unless less than options.touch_below of lifetime is left,
  /// then it touches. A new session with no data writes nothing and keeps no ID. Errors: the store's;
  /// not_found if the session vanished meanwhile (destroyed or expired elsewhere): it is then new and
  /// empty and nothing was written, so a logged-out session is never brought back.
  Status save();
  Task<Status> co_save();
  template <class CompletionToken>
  auto async_save(CompletionToken&& token) {
    return async_run<Status>(store_->executor(), std::forward<CompletionToken>(token), [this] { return co_save(); });
  }

  /// Deletes the session from the store. The session is then new and empty, with no ID, so the
  /// middleware clears the cookie.
  Status destroy();
  Task<Status> co_destroy();
  template <class CompletionToken>
  auto async_destroy(CompletionToken&& token) {
    return async_run<Status>(store_->executor(), std::forward<CompletionToken>(token), [this] { return co_destroy(); });
  }

  /// Re-reads the session from the store, dropping unsaved changes. If it is gone the session
  /// becomes new and empty.
  Status reload();
  Task<Status> co_reload();

  /// True when the cookie must be (re)sent: after save(), send `id()` with the new expiry if id() is
  /// not empty, or clear the cookie if it is (destroyed, or regenerated and left empty).
  [[nodiscard]] bool cookie_changed() const noexcept { return cookie_changed_; }

  /// The refresh pattern (RFC 6749 refresh tokens may be single-use, so exactly one of many
  /// concurrent requests may refresh):
  /// 1. if !needs_refresh(*this): nothing to do;
  /// 2. lock the row with the current value of the store's lock_verification_property() (a session
  ///    without that field fails at once with invalid_argument);
  /// 3. with the lock, check needs_refresh again on the fresh data; if still needed call
  ///    refresh(*this), which changes fields through set(), while the lock is renewed every
  ///    wait.renew_every so that a live holder is never taken over; the changes are written under
  ///    the lock and the lock released in one write (retried while the store is unavailable);
  /// 4. if the lock is held, wait with exponential backoff and jitter, reload, and stop as soon as
  ///    needs_refresh is false (another request refreshed); a dead holder's lock is taken over once
  ///    it is older than max_lock_time.
  /// The session must exist in the store (not_found otherwise). Pending changes are saved first.
  /// Errors: the store's; lock_held if the wait ran out; the error refresh() returned (the lock is
  /// then released and nothing is written).
  Result<RefreshOutcome> refresh_with_lock(const NeedsRefresh& needs_refresh, const Refresh& refresh,
                                           const LockWaitOptions& wait = {});
  /// The same with an asynchronous refresh step; lock waits and renewals are timers.
  Task<Result<RefreshOutcome>> co_refresh_with_lock(NeedsRefresh needs_refresh, AsyncRefresh refresh,
                                                    LockWaitOptions wait = {});
  template <class CompletionToken>
  auto async_refresh_with_lock(NeedsRefresh needs_refresh, AsyncRefresh refresh, LockWaitOptions wait,
                               CompletionToken&& token) {
    return async_run<Result<RefreshOutcome>>(
        store_->executor(), std::forward<CompletionToken>(token),
        [this, n = std::move(needs_refresh), r = std::move(refresh), w = std::move(wait)] {
          return co_refresh_with_lock(n, r, w);
        });
  }

 private:
  friend class detail::RefreshMachine;
  struct SavePlan;

  TimePoint now() const;
  TimePoint new_expiry() const;
  void become_new(bool keep_data);
  void start_lifetime();
  void mark_all_dirty();
  void adopt(SessionRecord record);
  void vanished();
  void drop_changes();
  SavePlan plan_locked_save(const std::string& token);
  Status run_refresh_renewing(detail::RefreshMachine& machine, const Refresh& refresh, const std::string& token);
  Task<Status> co_run_refresh_renewing(detail::RefreshMachine& machine, const AsyncRefresh& refresh,
                                       const std::string& token);
  Task<void> co_renew_loop(detail::RefreshMachine& machine, std::string token);
  // A lock wait: until the refresh another request of this process leads is done, else `delay`.
  // False when cancelled.
  Task<bool> co_wait_for_lock(const detail::RefreshMachine& machine, const detail::LocalRefreshLead& lead,
                              const std::string& local_key, std::chrono::milliseconds delay);
  std::shared_ptr<detail::LocalRefresh> waitable_local_refresh(const std::string& local_key,
                                                               const detail::LocalRefreshLead& lead,
                                                               const detail::RefreshMachine& machine) const;
  std::chrono::steady_clock::time_point local_wait_until(const detail::LocalRefresh& local,
                                                         const detail::RefreshMachine& machine) const;
  SavePlan plan_save();
  Status finish_save(const SavePlan& plan, Status result);
  NewSession new_session_args() const;
  Status finish_destroy(Status result);
  Status finish_reload(Result<std::optional<SessionRecord>> record);
  Result<std::int64_t> finish_increment(std::string_view name, Result<std::int64_t> result, TimePoint expires);
  Result<std::int64_t> increment_locally(std::string_view name, std::int64_t delta);
  bool increment_needs_save(std::string_view name) const;

  SessionStore* store_;
  SessionOptions options_;
  std::string id_;
  Fields data_;
  TimePoint expires_{};
  TimePoint absolute_expires_{};
  TimePoint created_{};
  std::string owner_;
  std::string sid_;
  std::string user_agent_;
  // An ID given up by regenerate() or sign_in(): deleted once the new one is saved.
  std::string retired_id_;
  std::set<std::string, std::less<>> dirty_;    // set or changed since load
  std::set<std::string, std::less<>> removed_;  // unset since load
  bool is_new_ = true;
  bool destroyed_ = false;
  bool cookie_changed_ = false;
};

}  // namespace websession
