#include "websession/session.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/local_refreshes.h"
#include "core/refresh_machine.h"
#include "websession/session_id.h"

namespace websession {

// What save() writes, decided before any I/O; the blocking and the asynchronous drivers perform it.
struct Session::SavePlan {
  enum class Kind { nothing, create, update, touch };
  Kind kind = Kind::nothing;
  NewSession create;
  Fields set;
  std::vector<std::string> removed;
  WriteOptions write;
};

namespace {

void check_lifetime(const char* name, std::chrono::seconds value) {
  if (value < std::chrono::seconds(1) || value > kMaxLifetime) {
    throw std::invalid_argument(std::string("SessionOptions.") + name + " must be between 1 second and 10 years");
  }
}

constexpr auto kAwaitable = asio::as_tuple(asio::use_awaitable_t<Executor>{});

// What a lock attempt reports when another request of this process leads the refresh: the lock is
// (or is about to be) held, so wait for that request instead of asking the store.
Error held_here() { return Error(ErrorCode::lock_held, "another request of this process is refreshing the session"); }

}  // namespace

Session::Session(SessionStore& store, SessionOptions options) : store_(&store), options_(std::move(options)) {
  check_lifetime("max_age", options_.max_age);
  check_lifetime("absolute_max_age", options_.absolute_max_age);
  if (options_.touch_below && (*options_.touch_below < std::chrono::seconds::zero() ||
                               *options_.touch_below > options_.max_age)) {
    throw std::invalid_argument("SessionOptions.touch_below must be between 0 and max_age");
  }
  if (!options_.clock) options_.clock = system_now;
  start_lifetime();
}

Result<Session> Session::load(SessionStore& store, std::string_view id, SessionOptions options) {
  if (!is_valid_session_id(id)) return Session(store, std::move(options));
  auto record = store.get(id);
  if (!record) return std::move(record).error();
  if (!record->has_value()) return Session(store, std::move(options));
  return from_record(store, std::move(**record), std::move(options));
}

Task<Result<Session>> Session::co_load(SessionStore& store, std::string_view id, SessionOptions options) {
  if (!is_valid_session_id(id)) co_return Session(store, std::move(options));
  auto record = co_await store.co_get(id);
  if (!record) co_return std::move(record).error();
  if (!record->has_value()) co_return Session(store, std::move(options));
  co_return from_record(store, std::move(**record), std::move(options));
}

Session Session::from_record(SessionStore& store, SessionRecord record, SessionOptions options) {
  Session session(store, std::move(options));
  session.id_ = record.id;
  session.adopt(std::move(record));
  session.is_new_ = false;
  return session;
}

TimePoint Session::now() const { return options_.clock(); }

TimePoint Session::new_expiry() const { return std::min(floor_seconds(now() + options_.max_age), absolute_expires_); }

void Session::start_lifetime() {
  created_ = now();
  absolute_expires_ = floor_seconds(created_ + options_.absolute_max_age);
  expires_ = new_expiry();
}

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
    expires_ = new_expiry();
  } else {
    data_.clear();
    owner_.clear();
    sid_.clear();
    user_agent_.clear();
    start_lifetime();
  }
}

void Session::mark_all_dirty() {
  for (const auto& kv : data_) dirty_.emplace(kv.key());
}

void Session::adopt(SessionRecord record) {
  data_ = std::move(record.data);
  expires_ = record.expires;
  absolute_expires_ = record.absolute_expires;
  created_ = record.created;
  owner_ = std::move(record.owner);
  sid_ = std::move(record.sid);
  user_agent_ = std::move(record.user_agent);
  dirty_.clear();
  removed_.clear();
}

void Session::vanished() {
  become_new(false);
  cookie_changed_ = true;
}

void Session::drop_changes() {
  dirty_.clear();
  removed_.clear();
}

void Session::sign_in(SignIn who) {
  if (who.owner.empty()) throw std::invalid_argument("SignIn.owner must not be empty");
  NewSession probe;
  probe.expires = probe.absolute_expires = TimePoint::max();
  probe.created = TimePoint::min();
  probe.owner = who.owner;
  probe.sid = who.sid;
  if (auto st = validate_new_session(probe); !st) throw std::invalid_argument("SignIn: " + st.error().message);
  regenerate(who.keep_data);
  owner_ = std::move(who.owner);
  sid_ = std::move(who.sid);
  user_agent_ = clean_user_agent(who.user_agent);
  start_lifetime();
}

void Session::regenerate(bool keep_data) {
  // The first ID given up in a request is the stored one; later ones were never written.
  if (!is_new_ && retired_id_.empty()) retired_id_ = id_;
  become_new(keep_data);
  id_ = generate_session_id();
  cookie_changed_ = true;
}

NewSession Session::new_session_args() const {
  return NewSession{data_, new_expiry(), absolute_expires_, created_, owner_, sid_, user_agent_,
                    options_.max_sessions_per_owner};
}

Session::SavePlan Session::plan_save() {
  SavePlan plan;
  if (is_new_) {
    if (data_.empty() && owner_.empty()) return plan;
    if (id_.empty()) id_ = generate_session_id();
    plan.kind = SavePlan::Kind::create;
    plan.create = new_session_args();
    return plan;
  }
  if (modified()) {
    plan.kind = SavePlan::Kind::update;
    for (const std::string& name : dirty_) {
      if (const Value* v = data_.if_contains(name)) plan.set[name] = *v;
    }
    plan.removed.assign(removed_.begin(), removed_.end());
    plan.write.expires = new_expiry();
    return plan;
  }
  // Lazy touch: only when enough of the lifetime has passed, and never past the absolute end.
  const auto touch_below = options_.touch_below.value_or(options_.max_age * 3 / 4);
  const TimePoint expires = new_expiry();
  if (expires_ - now() >= touch_below || expires <= expires_) return plan;
  plan.kind = SavePlan::Kind::touch;
  plan.write.expires = expires;
  return plan;
}

Session::SavePlan Session::plan_locked_save(const std::string& token) {
  SavePlan plan;
  plan.kind = SavePlan::Kind::update;
  for (const std::string& name : dirty_) {
    if (const Value* v = data_.if_contains(name)) plan.set[name] = *v;
  }
  plan.removed.assign(removed_.begin(), removed_.end());
  plan.write = WriteOptions{new_expiry(), token, true};
  return plan;
}

Status Session::finish_save(const SavePlan& plan, Status result) {
  if (plan.kind == SavePlan::Kind::nothing) {
    if (is_new_ && data_.empty() && owner_.empty()) {
      // Nothing to keep: no item, no ID. If an ID had been handed out (regenerate), drop it.
      if (!id_.empty()) cookie_changed_ = true;
      id_.clear();
      dirty_.clear();
    }
    return {};
  }
  if (!result) {
    if (plan.kind != SavePlan::Kind::create && result.code() == ErrorCode::not_found) vanished();
    return result;
  }
  is_new_ = false;
  drop_changes();
  expires_ = plan.kind == SavePlan::Kind::create ? std::min(plan.create.expires, absolute_expires_)
                                                  : plan.write.expires.value_or(expires_);
  if (plan.kind == SavePlan::Kind::create || plan.write.expires) cookie_changed_ = true;
  return {};
}

Status Session::save() {
  SavePlan plan = plan_save();
  Status st;
  switch (plan.kind) {
    case SavePlan::Kind::nothing:
      break;
    case SavePlan::Kind::create:
      st = store_->create(id_, plan.create);
      if (!st && st.code() == ErrorCode::already_exists) {
        // 192 random bits do not collide: the ID was handed out twice, or revoked. Never reuse it.
        id_ = generate_session_id();
        st = store_->create(id_, plan.create);
      }
      break;
    case SavePlan::Kind::update:
      st = store_->update(id_, plan.set, plan.removed, plan.write);
      break;
    case SavePlan::Kind::touch:
      st = store_->touch(id_, *plan.write.expires);
      break;
  }
  st = finish_save(plan, std::move(st));
  if (st && !retired_id_.empty() && (is_new_ || plan.kind == SavePlan::Kind::create)) {
    // The old ID goes only once the new one exists: a failed save never logs the user out.
    st = store_->destroy(retired_id_);
    if (st) retired_id_.clear();
  }
  return st;
}

Task<Status> Session::co_save() {
  SavePlan plan = plan_save();
  Status st;
  switch (plan.kind) {
    case SavePlan::Kind::nothing:
      break;
    case SavePlan::Kind::create:
      st = co_await store_->co_create(id_, plan.create);
      if (!st && st.code() == ErrorCode::already_exists) {
        id_ = generate_session_id();
        st = co_await store_->co_create(id_, plan.create);
      }
      break;
    case SavePlan::Kind::update:
      st = co_await store_->co_update(id_, plan.set, plan.removed, plan.write);
      break;
    case SavePlan::Kind::touch:
      st = co_await store_->co_touch(id_, *plan.write.expires);
      break;
  }
  st = finish_save(plan, std::move(st));
  if (st && !retired_id_.empty() && (is_new_ || plan.kind == SavePlan::Kind::create)) {
    st = co_await store_->co_destroy(retired_id_);
    if (st) retired_id_.clear();
  }
  co_return st;
}

bool Session::increment_needs_save(std::string_view name) const {
  // A pending local value or removal must land before the atomic add applies to the stored field.
  return !is_new_ && (dirty_.find(name) != dirty_.end() || removed_.find(name) != removed_.end());
}

Result<std::int64_t> Session::finish_increment(std::string_view name, Result<std::int64_t> result, TimePoint expires) {
  if (!result) return result;
  data_[name] = *result;
  if (auto it = dirty_.find(name); it != dirty_.end()) dirty_.erase(it);
  if (auto it = removed_.find(name); it != removed_.end()) removed_.erase(it);
  expires_ = expires;
  cookie_changed_ = true;
  return result;
}

Result<std::int64_t> Session::increment_locally(std::string_view name, std::int64_t delta) {
  std::int64_t value = delta;
  if (auto current = get_int(name)) {
    if (__builtin_add_overflow(*current, delta, &value)) {
      return Error(ErrorCode::invalid_argument, "incrementing field '" + std::string(name) + "' overflows");
    }
  } else if (get(name) != nullptr) {
    return Error(ErrorCode::invalid_argument, "field '" + std::string(name) + "' is not an integer");
  }
  set(name, value);
  return value;
}

Result<std::int64_t> Session::increment(std::string_view name, std::int64_t delta) {
  if (auto st = validate_field_name(name); !st) return std::move(st).error();
  if (increment_needs_save(name)) {
    if (auto st = save(); !st) return std::move(st).error();
  }
  if (!is_new_) {
    const TimePoint expires = new_expiry();
    auto r = store_->increment(id_, name, delta, WriteOptions{expires, std::nullopt, false});
    if (r || r.code() != ErrorCode::not_found) return finish_increment(name, std::move(r), expires);
    vanished();  // start a new session rather than revive the old data
  }
  auto value = increment_locally(name, delta);
  if (!value) return value;
  if (auto st = save(); !st) return std::move(st).error();
  return value;
}

Task<Result<std::int64_t>> Session::co_increment(std::string_view name, std::int64_t delta) {
  if (auto st = validate_field_name(name); !st) co_return std::move(st).error();
  if (increment_needs_save(name)) {
    if (auto st = co_await co_save(); !st) co_return std::move(st).error();
  }
  if (!is_new_) {
    const TimePoint expires = new_expiry();
    const WriteOptions write{expires, std::nullopt, false};
    auto r = co_await store_->co_increment(id_, name, delta, write);
    if (r || r.code() != ErrorCode::not_found) co_return finish_increment(name, std::move(r), expires);
    vanished();
  }
  auto value = increment_locally(name, delta);
  if (!value) co_return value;
  if (auto st = co_await co_save(); !st) co_return std::move(st).error();
  co_return value;
}

Status Session::finish_destroy(Status result) {
  if (!result) return result;
  const bool had_id = !id_.empty() || !is_new_;
  become_new(false);
  retired_id_.clear();
  destroyed_ = true;
  if (had_id) cookie_changed_ = true;
  return {};
}

Status Session::destroy() {
  Status st;
  if (!is_new_) st = store_->destroy(id_);
  if (st && !retired_id_.empty()) st = store_->destroy(retired_id_);
  return finish_destroy(std::move(st));
}

Task<Status> Session::co_destroy() {
  Status st;
  if (!is_new_) st = co_await store_->co_destroy(id_);
  if (st && !retired_id_.empty()) st = co_await store_->co_destroy(retired_id_);
  co_return finish_destroy(std::move(st));
}

Status Session::finish_reload(Result<std::optional<SessionRecord>> record) {
  if (!record) return std::move(record).error();
  if (!record->has_value()) {
    vanished();
    return {};
  }
  adopt(std::move(**record));
  return {};
}

Status Session::reload() {
  if (is_new_) return {};
  return finish_reload(store_->get(id_));
}

Task<Status> Session::co_reload() {
  if (is_new_) co_return Status{};
  co_return finish_reload(co_await store_->co_get(id_));
}

// ---- The refresh pattern: two drivers of detail::RefreshMachine.

Status Session::run_refresh_renewing(detail::RefreshMachine& machine, const Refresh& refresh, const std::string& token) {
  // A watchdog renews the lease while refresh() (a call to the identity provider) runs.
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  int renewals = 0;
  std::thread watchdog([&] {
    std::unique_lock lock(mu);
    while (!cv.wait_for(lock, machine.renew_every(), [&] { return finished; })) {
      lock.unlock();
      const bool renewed = store_->renew_lock(id_, token).ok();
      lock.lock();
      if (renewed) ++renewals;
    }
  });
  struct Stop {
    std::mutex& mu;
    std::condition_variable& cv;
    bool& finished;
    std::thread& watchdog;
    ~Stop() {
      {
        std::lock_guard lock(mu);
        finished = true;
      }
      cv.notify_all();
      watchdog.join();
    }
  };
  Status st;
  {
    Stop stop{mu, cv, finished, watchdog};
    st = refresh(*this);
  }
  for (int i = 0; i < renewals; ++i) machine.count_renewal();
  return st;
}

Result<RefreshOutcome> Session::refresh_with_lock(const NeedsRefresh& needs_refresh, const Refresh& refresh,
                                                  const LockWaitOptions& wait) {
  using Kind = detail::RefreshStep::Kind;
  detail::RefreshMachine machine(*this, needs_refresh, wait);
  // One request of this process at a time tries the lock and refreshes; the others that need the
  // refresh wait for it here rather than polling the store, then reload (see local_refreshes.h).
  std::string local_key;  // made at the first lock step: most calls find no refresh needed
  detail::LocalRefreshLead lead;
  detail::RefreshStep step = machine.start();
  for (;;) {
    switch (step.kind) {
      case Kind::save: step = machine.on_status(save()); break;
      case Kind::lock:
        if (local_key.empty()) local_key = detail::local_refresh_key(store_, id_);  // waits follow a lock step
        if (lead.try_lead(local_key, store_->max_lock_time())) {
          step = machine.on_lock(held_here());
        } else {
          step = machine.on_lock(store_->lock(id_, step.value));
        }
        break;
      case Kind::unlock: step = machine.on_status(store_->unlock(id_, step.token)); break;
      case Kind::reload: step = machine.on_status(reload()); break;
      case Kind::wait:
        if (auto local = waitable_local_refresh(local_key, lead, machine)) {
          detail::wait_local_refresh(*local, local_wait_until(*local, machine));
        } else {
          std::this_thread::sleep_for(step.delay);  // every wait pauses: never a busy loop of reloads
        }
        step = machine.on_status({});
        break;
      case Kind::refresh:
        step = machine.on_status(run_refresh_renewing(machine, refresh, step.token));
        break;
      case Kind::save_locked: {
        SavePlan plan = plan_locked_save(step.token);
        step = machine.on_status(finish_save(plan, store_->update(id_, plan.set, plan.removed, plan.write)));
        break;
      }
      case Kind::done: return step.outcome;
      case Kind::fail: return std::move(step.error);
    }
  }
}

Task<void> Session::co_renew_loop(detail::RefreshMachine& machine, std::string token) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(machine.renew_every());
    auto [ec] = co_await timer.async_wait(kAwaitable);
    if (ec) co_return;  // cancelled: the refresh finished
    if (co_await store_->co_renew_lock(id_, token)) machine.count_renewal();
  }
}

Task<Status> Session::co_run_refresh_renewing(detail::RefreshMachine& machine, const AsyncRefresh& refresh,
                                              const std::string& token) {
  using namespace asio::experimental::awaitable_operators;
  // Whichever finishes first cancels the other; the renewal loop only ends when cancelled.
  std::variant<Status, std::monostate> first = co_await (refresh(*this) || co_renew_loop(machine, token));
  if (auto* st = std::get_if<Status>(&first)) co_return std::move(*st);
  co_return Error(ErrorCode::internal, "the lock renewal ended before the refresh");
}

std::chrono::steady_clock::time_point Session::local_wait_until(const detail::LocalRefresh& local,
                                                               const detail::RefreshMachine& machine) const {
  return detail::local_wait_until(local, store_->max_lock_time(), machine.wait_deadline());
}

std::shared_ptr<detail::LocalRefresh> Session::waitable_local_refresh(const std::string& local_key,
                                                                      const detail::LocalRefreshLead& lead,
                                                                      const detail::RefreshMachine& machine) const {
  // Another request's refresh that is still worth waiting for; null for none, this request's own,
  // or one waited for as long as it may be already.
  auto local = detail::find_local_refresh(local_key);
  if (!local || local.get() == lead.led() || local->done.load()) return nullptr;
  if (std::chrono::steady_clock::now() >= local_wait_until(*local, machine)) return nullptr;
  return local;
}

Task<bool> Session::co_wait_for_lock(const detail::RefreshMachine& machine, const detail::LocalRefreshLead& lead,
                                     const std::string& local_key, std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto local = waitable_local_refresh(local_key, lead, machine);
  if (!local) {
    // Every wait pauses, so that a request never loops on reloads that answer at once (the memory
    // store) and starves the executor's timers, the lock holder's renewals among them.
    timer.expires_after(delay);
    auto [ec] = co_await timer.async_wait(kAwaitable);
    co_return !ec;
  }
  // Another request of this process leads the refresh: look at its flag on a short timer (no store call)
  // until it is done, then reload once.
  const auto until = local_wait_until(*local, machine);
  while (!local->done.load() && std::chrono::steady_clock::now() < until) {
    timer.expires_after(detail::kLocalRefreshPoll);
    auto [ec] = co_await timer.async_wait(kAwaitable);
    if (ec) co_return false;
  }
  co_return true;
}

Task<Result<RefreshOutcome>> Session::co_refresh_with_lock(NeedsRefresh needs_refresh, AsyncRefresh refresh,
                                                           LockWaitOptions wait) {
  using Kind = detail::RefreshStep::Kind;
  detail::RefreshMachine machine(*this, needs_refresh, wait);
  std::string local_key;  // as in refresh_with_lock
  detail::LocalRefreshLead lead;
  detail::RefreshStep step = machine.start();
  for (;;) {
    switch (step.kind) {
      case Kind::save: step = machine.on_status(co_await co_save()); break;
      case Kind::lock:
        if (local_key.empty()) local_key = detail::local_refresh_key(store_, id_);  // waits follow a lock step
        if (lead.try_lead(local_key, store_->max_lock_time())) {
          step = machine.on_lock(held_here());
        } else {
          step = machine.on_lock(co_await store_->co_lock(id_, step.value));
        }
        break;
      case Kind::unlock: step = machine.on_status(co_await store_->co_unlock(id_, step.token)); break;
      case Kind::reload: step = machine.on_status(co_await co_reload()); break;
      case Kind::wait: {
        if (!co_await co_wait_for_lock(machine, lead, local_key, step.delay)) {
          co_return Error(ErrorCode::cancelled, "the refresh was cancelled while waiting for the lock");
        }
        step = machine.on_status({});
        break;
      }
      case Kind::refresh:
        step = machine.on_status(co_await co_run_refresh_renewing(machine, refresh, step.token));
        break;
      case Kind::save_locked: {
        SavePlan plan = plan_locked_save(step.token);
        step = machine.on_status(finish_save(plan, co_await store_->co_update(id_, plan.set, plan.removed, plan.write)));
        break;
      }
      case Kind::done: co_return step.outcome;
      case Kind::fail: co_return std::move(step.error);
    }
  }
}

}  // namespace websession
