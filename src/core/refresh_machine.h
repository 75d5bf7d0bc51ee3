// The refresh pattern's decisions, without I/O: Session::refresh_with_lock (blocking) and
// Session::co_refresh_with_lock (asynchronous) are thin drivers that perform what next() asks and
// report what came of it. Waiting and renewing are the drivers' business; when to wait, and for how
// long, is decided here.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <variant>

#include "websession/result.h"
#include "websession/session.h"

namespace websession::detail {

/// What the driver does next.
struct RefreshStep {
  enum class Kind {
    save,         ///< save the session's pending changes (Session::save), report the Status
    lock,         ///< lock with `value`, report the Result<LockGrant>
    unlock,       ///< unlock with `token`, report the Status (ignored)
    reload,       ///< reload the session, report the Status
    wait,         ///< pause for `delay`, then report
    refresh,      ///< run refresh(session) while renewing the lock `token`, report its Status
    save_locked,  ///< write the changes under the lock `token` and release it, report the Status
    done,         ///< finished: `outcome`
    fail,         ///< finished: `error`
  };
  Kind kind = Kind::done;
  Value value;
  std::string token;
  std::chrono::milliseconds delay{0};
  RefreshOutcome outcome;
  Error error;

  static RefreshStep of(Kind kind) {
    RefreshStep step;
    step.kind = kind;
    return step;
  }
  static RefreshStep with_token(Kind kind, std::string token) {
    RefreshStep step = of(kind);
    step.token = std::move(token);
    return step;
  }
};

/// One refresh_with_lock call. Not thread-safe; lives on the driver's stack.
class RefreshMachine {
 public:
  using SteadyNow = std::chrono::steady_clock::time_point (*)();

  RefreshMachine(Session& session, const Session::NeedsRefresh& needs_refresh, const LockWaitOptions& wait,
                 SteadyNow steady_now = &std::chrono::steady_clock::now);

  /// The first step.
  RefreshStep start();
  /// The next step after a save, unlock, reload, wait, refresh or save_locked step, with its Status.
  RefreshStep on_status(Status status);
  /// The next step after a lock step.
  RefreshStep on_lock(Result<LockGrant> grant);

  /// The renewal period the driver uses during a refresh step.
  [[nodiscard]] std::chrono::milliseconds renew_every() const noexcept { return renew_every_; }
  /// When waiting for the lock must stop (set once the pending changes are saved).
  [[nodiscard]] std::chrono::steady_clock::time_point wait_deadline() const noexcept { return deadline_; }
  /// The driver counts renewals here.
  void count_renewal() noexcept { ++outcome_.renewals; }

 private:
  enum class Phase { saving, locking, unlocking_clean, unlocking_failed, reloading_after_mismatch,
                     reloading_after_wait, reloading_failed, waiting, refreshing, saving_locked,
                     waiting_to_save, finished };

  RefreshStep lock_step();
  RefreshStep wait_or_give_up();
  RefreshStep after_reload(Status status);
  RefreshStep after_locked_save(Status status);
  RefreshStep::Kind reload_then_fail();
  RefreshStep fail(Error e);
  RefreshStep fail_after(Phase phase, RefreshStep step, Error e);
  RefreshStep done();
  static std::chrono::milliseconds jittered(std::chrono::milliseconds cap);

  Session& session_;
  const Session::NeedsRefresh& needs_refresh_;
  LockWaitOptions wait_;
  SteadyNow steady_now_;
  std::chrono::steady_clock::time_point deadline_{};
  std::chrono::milliseconds backoff_{};
  std::chrono::milliseconds renew_every_{};
  Phase phase_ = Phase::saving;
  RefreshOutcome outcome_;
  std::string token_;
  int save_attempts_left_ = 0;
  std::optional<Error> pending_error_;
};

}  // namespace websession::detail
