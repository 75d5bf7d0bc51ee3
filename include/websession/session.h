// Session: one user's session, held in memory for the length of a request, with change tracking so
// that save() writes only what changed, and nothing when nothing did.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "websession/result.h"
#include "websession/session_store.h"
#include "websession/values.h"

namespace websession {

/// How sessions live and roll.
struct SessionOptions {
  /// A session's lifetime after its last write or touch.
  std::chrono::seconds max_age{1200};
  /// A request that changes nothing rewrites the expiry only when less than this much lifetime is
  /// left, so read-only traffic costs one read. Default (nullopt): three quarters of max_age.
  std::optional<std::chrono::seconds> touch_below;
  /// The clock; the store's clock should be the same. Default: the system clock.
  Clock clock;
};

/// How a caller that finds the lock held waits for it (see Session::refresh_with_lock).
struct LockWaitOptions {
  /// The first pause; each further one doubles, up to max_backoff, with full jitter.
  std::chrono::milliseconds initial_backoff{25};
  std::chrono::milliseconds max_backoff{500};
  /// The longest total wait. Default (nullopt): the store's max_lock_time plus one second, long enough
  /// for a dead holder's lock to go stale and be taken over.
  std::optional<std::chrono::milliseconds> max_wait;
};

/// What refresh_with_lock did.
struct RefreshOutcome {
  /// True when this call ran the refresh and saved its result.
  bool rotated = false;
  /// How many times this call found the lock held and waited.
  int lock_waits = 0;
  /// True when this call took over a stale lock.
  bool took_over = false;
};

/// One user's session. Not thread-safe: one request owns it. Copyable and movable; the store must
/// outlive it.
///
///   auto s = Session::load(store, id_from_cookie, opts);
///   if (!s) return unavailable();
///   s->set("user", "alice");
///   if (auto st = s->save(); !st) return error(st.error());
class Session {
 public:
  /// A new, empty session. It has no ID and no store item until something is saved.
  Session(SessionStore& store, SessionOptions options);

  /// Loads `id` from the store. A missing, expired or malformed ID gives a new, empty session (the
  /// ID is never adopted); store failures are errors.
  static Result<Session> load(SessionStore& store, std::string_view id, SessionOptions options);

  /// A session for a record already read from the store.
  static Session from_record(SessionStore& store, SessionRecord record, SessionOptions options);

  /// The session's ID; empty for a new session until save() or regenerate() assigns one.
  [[nodiscard]] const std::string& id() const noexcept { return id_; }
  /// True until the session exists in the store.
  [[nodiscard]] bool is_new() const noexcept { return is_new_; }
  /// True after destroy().
  [[nodiscard]] bool is_destroyed() const noexcept { return destroyed_; }
  /// When the stored session expires (for a new session: when it would if saved now).
  [[nodiscard]] TimePoint expires() const noexcept { return expires_; }
  /// All fields.
  [[nodiscard]] const Fields& data() const noexcept { return data_; }

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

  /// Atomically adds `delta` to an integer field in the store now (a new session is created with the
  /// pending changes and the field set to `delta`), and returns the new value. Pending changes to
  /// other fields stay pending.
  Result<std::int64_t> increment(std::string_view name, std::int64_t delta = 1);

  /// Writes the changes: a new session with data is created (conditionally: an existing ID is never
  /// overwritten); an existing one gets one atomic write of the changed fields plus the rolled expiry.
  /// With no changes it writes nothing, unless less than options.touch_below of lifetime is left,
  /// then it touches. A new session with no data writes nothing and keeps no ID. Errors: the store's;
  /// not_found if the session vanished meanwhile (destroyed or expired elsewhere): it is then new and
  /// empty and nothing was written, so a logged-out session is never brought back.
  Status save();

  /// Gives the session a new ID and deletes the old item (login: prevents session fixation). Keeps the
  /// data unless keep_data is false; the new item is written by the next save().
  Status regenerate(bool keep_data = true);

  /// Deletes the session from the store. The session is then new and empty, with no ID, so the
  /// middleware clears the cookie.
  Status destroy();

  /// Re-reads the session from the store, dropping unsaved changes. If it is gone the session
  /// becomes new and empty.
  Status reload();

  /// True when the cookie must be (re)sent: after save(), send `id()` with the new expiry if id() is
  /// not empty, or clear the cookie if it is (destroyed, or regenerated and left empty).
  [[nodiscard]] bool cookie_changed() const noexcept { return cookie_changed_; }

  /// The refresh pattern (RFC 6749 refresh tokens may be single-use, so exactly one of many
  /// concurrent requests may refresh):
  /// 1. if !needs_refresh(*this): nothing to do;
  /// 2. lock the row with the current value of the store's lock_verification_property();
  /// 3. with the lock, check needs_refresh again on the fresh data; if still needed call
  ///    refresh(*this), which changes fields through set(); the changes are written under the lock and
  ///    the lock released in one write;
  /// 4. if the lock is held, wait with exponential backoff and full jitter, reload, and stop as soon as
  ///    needs_refresh is false (another request refreshed); a dead holder's lock is taken over once
  ///    it is older than max_lock_time.
  /// The session must exist in the store (not_found otherwise). Pending changes are saved first.
  /// Errors: the store's; lock_held if the wait ran out; the error refresh() returned (the lock is
  /// then released and nothing is written).
  Result<RefreshOutcome> refresh_with_lock(const std::function<bool(const Session&)>& needs_refresh,
                                           const std::function<Status(Session&)>& refresh,
                                           const LockWaitOptions& wait = {});

 private:
  TimePoint now() const;
  TimePoint new_expiry() const;
  void become_new(bool keep_data);
  void mark_all_dirty();
  Status save_changes(const WriteOptions& write);

  SessionStore* store_;
  SessionOptions options_;
  std::string id_;
  Fields data_;
  TimePoint expires_{};
  std::set<std::string, std::less<>> dirty_;    // set or changed since load
  std::set<std::string, std::less<>> removed_;  // unset since load
  bool is_new_ = true;
  bool destroyed_ = false;
  bool cookie_changed_ = false;
};

}  // namespace websession
