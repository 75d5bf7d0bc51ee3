#include "core/refresh_machine.h"

#include <algorithm>
#include <random>

namespace websession::detail {

RefreshMachine::RefreshMachine(Session& session, const Session::NeedsRefresh& needs_refresh,
                               const LockWaitOptions& wait, SteadyNow steady_now)
    : session_(session), needs_refresh_(needs_refresh), wait_(wait), steady_now_(steady_now) {
  const auto max_lock_time = session.store().max_lock_time();
  renew_every_ = std::max(wait.renew_every.value_or(max_lock_time / 3), std::chrono::milliseconds(1));
}

RefreshStep RefreshMachine::start() {
  if (!needs_refresh_(session_)) return done();
  if (session_.modified()) {
    phase_ = Phase::saving;
    return RefreshStep::of(RefreshStep::Kind::save);
  }
  return on_status({});
}

RefreshStep RefreshMachine::lock_step() {
  const std::string& property = session_.store().lock_verification_property();
  const Value* current = session_.get(property);
  if (current == nullptr) {
    // Nothing to lock with: waiting could not help, so say so at once.
    return fail(Error(ErrorCode::invalid_argument, "the session has no '" + property + "' field to lock with"));
  }
  phase_ = Phase::locking;
  RefreshStep step = RefreshStep::of(RefreshStep::Kind::lock);
  step.value = *current;
  return step;
}

RefreshStep RefreshMachine::on_lock(Result<LockGrant> grant) {
  if (grant) {
    session_.adopt(std::move(grant->record));
    outcome_.took_over = grant->took_over;
    token_ = std::move(grant->token);
    // Another request may have refreshed between our read and the lock.
    if (!needs_refresh_(session_)) {
      phase_ = Phase::unlocking_clean;
      return RefreshStep::with_token(RefreshStep::Kind::unlock, token_);
    }
    phase_ = Phase::refreshing;
    return RefreshStep::with_token(RefreshStep::Kind::refresh, token_);
  }
  switch (grant.code()) {
    case ErrorCode::not_found:
      session_.vanished();
      return fail(std::move(grant).error());
    case ErrorCode::lock_held:
      ++outcome_.lock_waits;
      return wait_or_give_up();
    case ErrorCode::verification_mismatch:
      // Someone changed the value (rotated the token): their result may be all we need.
      phase_ = Phase::reloading_after_mismatch;
      return RefreshStep::of(RefreshStep::Kind::reload);
    default:
      return fail(std::move(grant).error());
  }
}

RefreshStep RefreshMachine::on_status(Status status) {
  switch (phase_) {
    case Phase::saving:
      if (!status) return fail(std::move(status).error());
      if (session_.is_new()) return fail(Error(ErrorCode::not_found, "the session does not exist in the store"));
      deadline_ = steady_now_() + wait_.max_wait.value_or(session_.store().max_lock_time() + std::chrono::seconds(1));
      backoff_ = std::max(wait_.initial_backoff, std::chrono::milliseconds(1));
      return lock_step();
    case Phase::unlocking_clean:
      if (!status) return fail(std::move(status).error());
      return done();
    case Phase::reloading_after_mismatch:
      return after_reload(std::move(status));
    case Phase::waiting:
      phase_ = Phase::reloading_after_wait;
      return RefreshStep::of(RefreshStep::Kind::reload);
    case Phase::reloading_after_wait:
      return after_reload(std::move(status));
    case Phase::refreshing:
      if (!status) {
        session_.drop_changes();
        return fail_after(Phase::unlocking_failed, RefreshStep::with_token(RefreshStep::Kind::unlock, token_),
                          std::move(status).error());
      }
      save_attempts_left_ = std::max(wait_.save_attempts, 0);
      phase_ = Phase::saving_locked;
      return RefreshStep::with_token(RefreshStep::Kind::save_locked, token_);
    case Phase::saving_locked:
      return after_locked_save(std::move(status));
    case Phase::waiting_to_save:
      phase_ = Phase::saving_locked;
      return RefreshStep::with_token(RefreshStep::Kind::save_locked, token_);
    case Phase::unlocking_failed:
      if (!session_.is_new()) return RefreshStep::of(reload_then_fail());
      return fail(std::move(*pending_error_));
    case Phase::reloading_failed:
    case Phase::finished:
      return fail(pending_error_ ? std::move(*pending_error_) : Error(ErrorCode::internal, "refresh already finished"));
    case Phase::locking:
      break;
  }
  return fail(Error(ErrorCode::internal, "refresh step reported out of order"));
}

RefreshStep::Kind RefreshMachine::reload_then_fail() {
  phase_ = Phase::reloading_failed;
  return RefreshStep::Kind::reload;
}

RefreshStep RefreshMachine::after_locked_save(Status status) {
  if (status) {
    outcome_.rotated = true;
    return done();
  }
  if (status.code() == ErrorCode::unavailable && save_attempts_left_ > 0) {
    // The store flickered: the refreshed tokens must not be lost, and the lock still guards them.
    const int attempt = std::max(wait_.save_attempts, 0) - save_attempts_left_ + 1;
    --save_attempts_left_;
    phase_ = Phase::waiting_to_save;
    RefreshStep step = RefreshStep::of(RefreshStep::Kind::wait);
    step.delay = jittered(std::chrono::milliseconds(100) * attempt);
    return step;
  }
  // The refreshed state must never be written without the lock: a request that took the lock over
  // may have rotated the tokens already. Drop it and show what the store holds.
  session_.drop_changes();
  const ErrorCode code = status.code();
  if (code != ErrorCode::aborted && code != ErrorCode::not_found) {
    // Best effort: the lock goes stale anyway.
    return fail_after(Phase::unlocking_failed, RefreshStep::with_token(RefreshStep::Kind::unlock, token_),
                      std::move(status).error());
  }
  if (!session_.is_new()) {
    pending_error_ = std::move(status).error();
    return RefreshStep::of(reload_then_fail());
  }
  return fail(std::move(status).error());
}

RefreshStep RefreshMachine::after_reload(Status status) {
  if (!status) return fail(std::move(status).error());
  if (session_.is_new()) return fail(Error(ErrorCode::not_found, "the session was removed while waiting for its lock"));
  if (!needs_refresh_(session_)) return done();
  if (phase_ == Phase::reloading_after_mismatch) return wait_or_give_up();
  return lock_step();
}

RefreshStep RefreshMachine::wait_or_give_up() {
  const auto pause = jittered(backoff_);
  if (steady_now_() + pause > deadline_) {
    return fail(Error(ErrorCode::lock_held, "the session stayed locked longer than the wait allows"));
  }
  backoff_ = std::min(backoff_ * 2, std::max(wait_.max_backoff, std::chrono::milliseconds(1)));
  phase_ = Phase::waiting;
  RefreshStep step = RefreshStep::of(RefreshStep::Kind::wait);
  step.delay = pause;
  return step;
}

RefreshStep RefreshMachine::fail_after(Phase phase, RefreshStep step, Error e) {
  pending_error_ = std::move(e);
  phase_ = phase;
  return step;
}

RefreshStep RefreshMachine::fail(Error e) {
  phase_ = Phase::finished;
  RefreshStep step = RefreshStep::of(RefreshStep::Kind::fail);
  step.error = std::move(e);
  return step;
}

RefreshStep RefreshMachine::done() {
  phase_ = Phase::finished;
  RefreshStep step = RefreshStep::of(RefreshStep::Kind::done);
  step.outcome = outcome_;
  return step;
}

// Lock polling must not march in step across requests: a per-thread generator seeded from the OS.
// "Equal jitter" (half the cap plus a random part), so that a waiter never spins with zero pauses.
std::chrono::milliseconds RefreshMachine::jittered(std::chrono::milliseconds cap) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  if (cap.count() <= 1) return cap;
  std::uniform_int_distribution<std::chrono::milliseconds::rep> dist(cap.count() / 2, cap.count());
  return std::chrono::milliseconds(dist(rng));
}

}  // namespace websession::detail
