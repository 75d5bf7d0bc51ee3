#include "websession/session.h"

#include <algorithm>
#include <random>
#include <stdexcept>
#include <thread>

#include "websession/session_id.h"

namespace websession {
namespace {

// Lock polling must not march in step across requests: a per-thread generator seeded from the OS.
std::chrono::milliseconds jittered(std::chrono::milliseconds cap) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  if (cap.count() <= 1) return cap;
  // "Equal jitter": half the cap plus a random part, so that a waiter never spins with zero pauses.
  std::uniform_int_distribution<std::chrono::milliseconds::rep> dist(cap.count() / 2, cap.count());
  return std::chrono::milliseconds(dist(rng));
}

}  // namespace

Session::Session(SessionStore& store, SessionOptions options) : store_(&store), options_(std::move(options)) {
  if (options_.max_age <= std::chrono::seconds::zero()) {
    throw std::invalid_argument("SessionOptions.max_age must be greater than 0");
  }
  if (options_.touch_below && (*options_.touch_below < std::chrono::seconds::zero() ||
                               *options_.touch_below > options_.max_age)) {
    throw std::invalid_argument("SessionOptions.touch_below must be between 0 and max_age");
  }
  if (!options_.clock) options_.clock = system_now;
  expires_ = new_expiry();
}

Result<Session> Session::load(SessionStore& store, std::string_view id, SessionOptions options) {
  if (!is_valid_session_id(id)) return Session(store, std::move(options));
  auto record = store.get(id);
  if (!record) return std::move(record).error();
  if (!record->has_value()) return Session(store, std::move(options));
  return from_record(store, std::move(**record), std::move(options));
}

Session Session::from_record(SessionStore& store, SessionRecord record, SessionOptions options) {
  Session session(store, std::move(options));
  session.id_ = std::move(record.id);
  session.data_ = std::move(record.data);
  session.expires_ = record.expires;
  session.is_new_ = false;
  return session;
}

TimePoint Session::now() const { return options_.clock(); }

TimePoint Session::new_expiry() const { return floor_seconds(now() + options_.max_age); }

const Value* Session::get(std::string_view name) const { return data_.if_contains(name); }

std::optional<std::string> Session::get_string(std::string_view name) const {
  const Value* v = get(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

std::optional<std::int64_t> Session::get_int(std::string_view name) const {
  const Value* v = get(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

void Session::set(std::string_view name, Value value) {
  if (auto st = validate_field_name(name); !st) throw std::invalid_argument(st.error().message);
  destroyed_ = false;  // a destroyed session that gets data again is a new one
  data_[name] = std::move(value);
  dirty_.emplace(name);
  if (auto it = removed_.find(name); it != removed_.end()) removed_.erase(it);
}

void Session::set(const Fields& fields) {
  for (const auto& kv : fields) set(kv.key(), kv.value());
}

void Session::unset(std::string_view name) {
  data_.erase(name);
  if (auto it = dirty_.find(name); it != dirty_.end()) dirty_.erase(it);
  if (!is_new_) removed_.emplace(name);
}

void Session::clear() {
  std::vector<std::string> names;
  names.reserve(data_.size());
  for (const auto& kv : data_) names.emplace_back(kv.key());
  for (const std::string& name : names) unset(name);
}

bool Session::modified() const noexcept { return !dirty_.empty() || !removed_.empty(); }

void Session::become_new(bool keep_data) {
  is_new_ = true;
  id_.clear();
  dirty_.clear();
  removed_.clear();
  if (keep_data) {
    mark_all_dirty();
  } else {
    data_.clear();
  }
  expires_ = new_expiry();
}

void Session::mark_all_dirty() {
  for (const auto& kv : data_) dirty_.emplace(kv.key());
}

Status Session::save_changes(const WriteOptions& write) {
  Fields changed;
  for (const std::string& name : dirty_) {
    if (const Value* v = data_.if_contains(name)) changed[name] = *v;
  }
  std::vector<std::string> removed(removed_.begin(), removed_.end());
  auto st = store_->update(id_, changed, removed, write);
  if (!st) {
    if (st.code() == ErrorCode::not_found) {
      become_new(false);
      cookie_changed_ = true;
    }
    return st;
  }
  dirty_.clear();
  removed_.clear();
  if (write.expires) {
    expires_ = *write.expires;
    cookie_changed_ = true;
  }
  return {};
}

Status Session::save() {
  if (is_new_) {
    if (data_.empty()) {
      // Nothing to keep: no item, no ID. If an ID had been handed out (regenerate), drop it.
      if (!id_.empty()) cookie_changed_ = true;
      id_.clear();
      dirty_.clear();
      return {};
    }
    if (id_.empty()) id_ = generate_session_id();
    const TimePoint expires = new_expiry();
    auto st = store_->create(id_, data_, expires);
    if (!st && st.code() == ErrorCode::already_exists) {
      // 192 random bits do not collide; an ID can only exist already if it was handed out twice.
      id_ = generate_session_id();
      st = store_->create(id_, data_, expires);
    }
    if (!st) return st;
    is_new_ = false;
    dirty_.clear();
    removed_.clear();
    expires_ = expires;
    cookie_changed_ = true;
    return {};
  }
  if (modified()) return save_changes(WriteOptions{new_expiry(), std::nullopt, false});
  // Lazy touch: only when enough of the lifetime has passed.
  const auto touch_below = options_.touch_below.value_or(options_.max_age * 3 / 4);
  if (expires_ - now() >= touch_below) return {};
  const TimePoint expires = new_expiry();
  auto st = store_->touch(id_, expires);
  if (!st) {
    if (st.code() == ErrorCode::not_found) {
      become_new(false);
      cookie_changed_ = true;
    }
    return st;
  }
  expires_ = expires;
  cookie_changed_ = true;
  return {};
}

Result<std::int64_t> Session::increment(std::string_view name, std::int64_t delta) {
  if (auto st = validate_field_name(name); !st) return std::move(st).error();
  if (!is_new_ && dirty_.find(name) != dirty_.end()) {
    // A pending local value must land before the atomic add applies to it.
    if (auto st = save(); !st) return std::move(st).error();
  }
  if (!is_new_) {
    const TimePoint expires = new_expiry();
    auto r = store_->increment(id_, name, delta, WriteOptions{expires, std::nullopt, false});
    if (r) {
      data_[name] = *r;
      expires_ = expires;
      cookie_changed_ = true;
      return r;
    }
    if (r.code() != ErrorCode::not_found) return r;
    // The session vanished meanwhile: start a new one rather than revive the old data.
    become_new(false);
    cookie_changed_ = true;
  }
  std::int64_t value = delta;
  if (auto current = get_int(name)) {
    if (__builtin_add_overflow(*current, delta, &value)) {
      return Error(ErrorCode::invalid_argument, "incrementing field '" + std::string(name) + "' overflows");
    }
  } else if (get(name) != nullptr) {
    return Error(ErrorCode::invalid_argument, "field '" + std::string(name) + "' is not an integer");
  }
  set(name, value);
  if (auto st = save(); !st) return std::move(st).error();
  return value;
}

Status Session::regenerate(bool keep_data) {
  if (!is_new_) {
    if (auto st = store_->destroy(id_); !st) return st;
  }
  become_new(keep_data);
  id_ = generate_session_id();
  cookie_changed_ = true;
  return {};
}

Status Session::destroy() {
  if (!is_new_) {
    if (auto st = store_->destroy(id_); !st) return st;
  }
  const bool had_id = !id_.empty() || !is_new_;
  become_new(false);
  destroyed_ = true;
  if (had_id) cookie_changed_ = true;
  return {};
}

Status Session::reload() {
  if (is_new_) return {};
  auto record = store_->get(id_);
  if (!record) return std::move(record).error();
  if (!record->has_value()) {
    become_new(false);
    cookie_changed_ = true;
    return {};
  }
  data_ = std::move((*record)->data);
  expires_ = (*record)->expires;
  dirty_.clear();
  removed_.clear();
  return {};
}

Result<RefreshOutcome> Session::refresh_with_lock(const std::function<bool(const Session&)>& needs_refresh,
                                                  const std::function<Status(Session&)>& refresh,
                                                  const LockWaitOptions& wait) {
  RefreshOutcome outcome;
  if (!needs_refresh(*this)) return outcome;
  if (modified()) {
    if (auto st = save(); !st) return std::move(st).error();
  }
  if (is_new_) return Error(ErrorCode::not_found, "the session does not exist in the store");

  const auto max_wait = wait.max_wait.value_or(store_->max_lock_time() + std::chrono::seconds(1));
  const auto deadline = std::chrono::steady_clock::now() + max_wait;
  auto backoff = std::max(wait.initial_backoff, std::chrono::milliseconds(1));
  const std::string& property = store_->lock_verification_property();

  for (;;) {
    const Value* current = get(property);
    auto grant = store_->lock(id_, current != nullptr ? *current : Value(nullptr));
    if (grant) {
      data_ = std::move(grant->record.data);
      expires_ = grant->record.expires;
      dirty_.clear();
      removed_.clear();
      outcome.took_over = grant->took_over;
      const std::string owner = std::move(grant->owner);
      // Another request may have refreshed between our read and the lock.
      if (!needs_refresh(*this)) {
        if (auto st = store_->unlock(id_, owner); !st) return std::move(st).error();
        return outcome;
      }
      if (auto st = refresh(*this); !st) {
        dirty_.clear();
        removed_.clear();
        (void)store_->unlock(id_, owner);  // best effort: the lock goes stale anyway
        (void)reload();
        return std::move(st).error();
      }
      // The new state and the release in one write, conditioned on still holding the lock.
      if (auto st = save_changes(WriteOptions{new_expiry(), owner, true}); !st) {
        // The refreshed state must never be written without the lock: a request that took the lock
        // over may have rotated the tokens already. Drop it and show what the store holds.
        dirty_.clear();
        removed_.clear();
        if (st.code() != ErrorCode::aborted && st.code() != ErrorCode::not_found) {
          (void)store_->unlock(id_, owner);  // best effort: the lock goes stale anyway
        }
        if (!is_new_) (void)reload();
        return std::move(st).error();
      }
      outcome.rotated = true;
      return outcome;
    }

    const ErrorCode code = grant.code();
    if (code == ErrorCode::not_found) {
      become_new(false);
      cookie_changed_ = true;
      return std::move(grant).error();
    }
    if (code != ErrorCode::lock_held && code != ErrorCode::verification_mismatch) {
      return std::move(grant).error();
    }
    if (code == ErrorCode::verification_mismatch) {
      // Someone changed the value (rotated the token): their result may be all we need.
      if (auto st = reload(); !st) return std::move(st).error();
      if (is_new_) return Error(ErrorCode::not_found, "the session was removed while waiting for its lock");
      if (!needs_refresh(*this)) return outcome;
    } else {
      ++outcome.lock_waits;
    }
    const auto pause = jittered(backoff);
    if (std::chrono::steady_clock::now() + pause > deadline) {
      return Error(ErrorCode::lock_held, "the session stayed locked longer than the wait allows");
    }
    std::this_thread::sleep_for(pause);
    backoff = std::min(backoff * 2, wait.max_backoff);
    if (auto st = reload(); !st) return std::move(st).error();
    if (is_new_) return Error(ErrorCode::not_found, "the session was removed while waiting for its lock");
    if (!needs_refresh(*this)) return outcome;
  }
}

}  // namespace websession
