// A SessionStore decorator that forwards every call, blocking or coroutine, to a real store, after
// asking before() whether to let it through: tests derive from it to count calls or make a real
// store fail on demand.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "websession/session_store.h"

namespace websession::testing {

/// The operations, as before() sees them.
enum class StoreOp { init, get, create, update, increment, touch, destroy, lock, unlock, renew, list, revoke, ping };

class ForwardingStore : public SessionStore {
 public:
  explicit ForwardingStore(SessionStore& inner) : inner_(inner) {}

 protected:
  /// Called before each operation; an error is returned instead of calling the inner store.
  virtual std::optional<Error> before(StoreOp) { return std::nullopt; }

 public:
  Status init() override {
    if (auto e = before(StoreOp::init)) return *e;
    return inner_.init();
  }
  Result<std::optional<SessionRecord>> get(std::string_view id) override {
    if (auto e = before(StoreOp::get)) return *e;
    return inner_.get(id);
  }
  Status create(std::string_view id, const NewSession& s) override {
    if (auto e = before(StoreOp::create)) return *e;
    return inner_.create(id, s);
  }
  Status update(std::string_view id, const Fields& f, const std::vector<std::string>& r,
                const WriteOptions& o = {}) override {
    if (auto e = before(StoreOp::update)) return *e;
    return inner_.update(id, f, r, o);
  }
  Result<std::int64_t> increment(std::string_view id, std::string_view f, std::int64_t d,
                                 const WriteOptions& o = {}) override {
    if (auto e = before(StoreOp::increment)) return *e;
    return inner_.increment(id, f, d, o);
  }
  Status touch(std::string_view id, TimePoint e) override {
    if (auto err = before(StoreOp::touch)) return *err;
    return inner_.touch(id, e);
  }
  Status destroy(std::string_view id) override {
    if (auto e = before(StoreOp::destroy)) return *e;
    return inner_.destroy(id);
  }
  Result<LockGrant> lock(std::string_view id, const Value& v) override {
    if (auto e = before(StoreOp::lock)) return *e;
    return inner_.lock(id, v);
  }
  Status unlock(std::string_view id, std::string_view t) override {
    if (auto e = before(StoreOp::unlock)) return *e;
    return inner_.unlock(id, t);
  }
  Status renew_lock(std::string_view id, std::string_view t) override {
    if (auto e = before(StoreOp::renew)) return *e;
    return inner_.renew_lock(id, t);
  }
  Result<std::vector<OwnerSession>> list_owner_sessions(std::string_view o) override {
    if (auto e = before(StoreOp::list)) return *e;
    return inner_.list_owner_sessions(o);
  }
  Result<std::size_t> destroy_owner_sessions(std::string_view o) override {
    if (auto e = before(StoreOp::revoke)) return *e;
    return inner_.destroy_owner_sessions(o);
  }
  Result<std::size_t> destroy_sid_sessions(std::string_view s) override {
    if (auto e = before(StoreOp::revoke)) return *e;
    return inner_.destroy_sid_sessions(s);
  }
  Status ping() override {
    if (auto e = before(StoreOp::ping)) return *e;
    return inner_.ping();
  }

  Task<Status> co_init() override {
    if (auto e = before(StoreOp::init)) co_return *e;
    co_return co_await inner_.co_init();
  }
  Task<Result<std::optional<SessionRecord>>> co_get(std::string_view id) override {
    if (auto e = before(StoreOp::get)) co_return *e;
    co_return co_await inner_.co_get(id);
  }
  Task<Status> co_create(std::string_view id, const NewSession& s) override {
    if (auto e = before(StoreOp::create)) co_return *e;
    co_return co_await inner_.co_create(id, s);
  }
  Task<Status> co_update(std::string_view id, const Fields& f, const std::vector<std::string>& r,
                         const WriteOptions& o) override {
    if (auto e = before(StoreOp::update)) co_return *e;
    co_return co_await inner_.co_update(id, f, r, o);
  }
  Task<Result<std::int64_t>> co_increment(std::string_view id, std::string_view f, std::int64_t d,
                                          const WriteOptions& o) override {
    if (auto e = before(StoreOp::increment)) co_return *e;
    co_return co_await inner_.co_increment(id, f, d, o);
  }
  Task<Status> co_touch(std::string_view id, TimePoint e) override {
    if (auto err = before(StoreOp::touch)) co_return *err;
    co_return co_await inner_.co_touch(id, e);
  }
  Task<Status> co_destroy(std::string_view id) override {
    if (auto e = before(StoreOp::destroy)) co_return *e;
    co_return co_await inner_.co_destroy(id);
  }
  Task<Result<LockGrant>> co_lock(std::string_view id, const Value& v) override {
    if (auto e = before(StoreOp::lock)) co_return *e;
    co_return co_await inner_.co_lock(id, v);
  }
  Task<Status> co_unlock(std::string_view id, std::string_view t) override {
    if (auto e = before(StoreOp::unlock)) co_return *e;
    co_return co_await inner_.co_unlock(id, t);
  }
  Task<Status> co_renew_lock(std::string_view id, std::string_view t) override {
    if (auto e = before(StoreOp::renew)) co_return *e;
    co_return co_await inner_.co_renew_lock(id, t);
  }
  Task<Result<std::vector<OwnerSession>>> co_list_owner_sessions(std::string_view o) override {
    if (auto e = before(StoreOp::list)) co_return *e;
    co_return co_await inner_.co_list_owner_sessions(o);
  }
  Task<Result<std::size_t>> co_destroy_owner_sessions(std::string_view o) override {
    if (auto e = before(StoreOp::revoke)) co_return *e;
    co_return co_await inner_.co_destroy_owner_sessions(o);
  }
  Task<Result<std::size_t>> co_destroy_sid_sessions(std::string_view s) override {
    if (auto e = before(StoreOp::revoke)) co_return *e;
    co_return co_await inner_.co_destroy_sid_sessions(s);
  }
  Task<Status> co_ping() override {
    if (auto e = before(StoreOp::ping)) co_return *e;
    co_return co_await inner_.co_ping();
  }

  void close() override { inner_.close(); }
  [[nodiscard]] const std::string& lock_verification_property() const override {
    return inner_.lock_verification_property();
  }
  [[nodiscard]] std::chrono::milliseconds max_lock_time() const override { return inner_.max_lock_time(); }
  [[nodiscard]] Executor executor() const override { return inner_.executor(); }
  [[nodiscard]] bool answers_inline() const override { return inner_.answers_inline(); }
  [[nodiscard]] std::vector<MetricSample> metrics() const override { return inner_.metrics(); }

 protected:
  SessionStore& inner_;
};

}  // namespace websession::testing
