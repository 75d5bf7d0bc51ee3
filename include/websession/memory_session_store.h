// MemorySessionStore: the embedded default, for development and single-instance use. Same semantics
// as the DynamoDB store, thread-safe, and bounded: a maximum number of sessions (the least recently
// used goes first) and a periodic sweep of expired ones, so memory cannot grow without limit.
//
// Its operations answer from memory: the blocking ones never touch an io_context, and the
// coroutines complete without suspending (no thread hop).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "websession/session_store.h"

namespace websession {

struct MemorySessionStoreOptions {
  /// Most sessions kept; when full, the least recently used session is evicted. Must be > 0.
  /// Stores of 4096 sessions or more are split into 16 shards for concurrency, and evict the least
  /// recently used session of the shard a new session lands in.
  std::size_t max_sessions = 100'000;
  /// How long a lock may be held without renewal before it may be taken over. Must be > 0.
  std::chrono::milliseconds max_lock_time{10'000};
  /// The field lock() verifies. Must not be empty.
  std::string lock_verification_property = "refresh_token";
  /// How often a background thread removes expired sessions; zero disables the thread (expired
  /// sessions are then removed when read or evicted).
  std::chrono::milliseconds sweep_interval{60'000};
  /// The clock; default the system clock.
  Clock clock;
};

class MemorySessionStore final : public SessionStore {
 public:
  /// Throws std::invalid_argument naming the option when an option is invalid.
  explicit MemorySessionStore(MemorySessionStoreOptions options = {});
  ~MemorySessionStore() override;

  Status init() override;
  Result<std::optional<SessionRecord>> get(std::string_view id) override;
  Status create(std::string_view id, const NewSession& session) override;
  Status update(std::string_view id, const Fields& set_fields, const std::vector<std::string>& remove_names,
                const WriteOptions& options = {}) override;
  Result<std::int64_t> increment(std::string_view id, std::string_view field, std::int64_t delta,
                                 const WriteOptions& options = {}) override;
  Status touch(std::string_view id, TimePoint expires) override;
  Status destroy(std::string_view id) override;
  Result<LockGrant> lock(std::string_view id, const Value& verification_value) override;
  Status unlock(std::string_view id, std::string_view token) override;
  Status renew_lock(std::string_view id, std::string_view token) override;
  Result<std::vector<OwnerSession>> list_owner_sessions(std::string_view owner) override;
  Result<std::size_t> destroy_owner_sessions(std::string_view owner) override;
  Result<std::size_t> destroy_sid_sessions(std::string_view sid) override;
  Status ping() override;

  Task<Status> co_init() override { co_return init(); }
  Task<Result<std::optional<SessionRecord>>> co_get(std::string_view id) override { co_return get(id); }
  Task<Status> co_create(std::string_view id, const NewSession& session) override { co_return create(id, session); }
  Task<Status> co_update(std::string_view id, const Fields& set_fields, const std::vector<std::string>& remove_names,
                         const WriteOptions& options) override {
    co_return update(id, set_fields, remove_names, options);
  }
  Task<Result<std::int64_t>> co_increment(std::string_view id, std::string_view field, std::int64_t delta,
                                          const WriteOptions& options) override {
    co_return increment(id, field, delta, options);
  }
  Task<Status> co_touch(std::string_view id, TimePoint expires) override { co_return touch(id, expires); }
  Task<Status> co_destroy(std::string_view id) override { co_return destroy(id); }
  Task<Result<LockGrant>> co_lock(std::string_view id, const Value& verification_value) override {
    co_return lock(id, verification_value);
  }
  Task<Status> co_unlock(std::string_view id, std::string_view token) override { co_return unlock(id, token); }
  Task<Status> co_renew_lock(std::string_view id, std::string_view token) override {
    co_return renew_lock(id, token);
  }
  Task<Result<std::vector<OwnerSession>>> co_list_owner_sessions(std::string_view owner) override {
    co_return list_owner_sessions(owner);
  }
  Task<Result<std::size_t>> co_destroy_owner_sessions(std::string_view owner) override {
    co_return destroy_owner_sessions(owner);
  }
  Task<Result<std::size_t>> co_destroy_sid_sessions(std::string_view sid) override {
    co_return destroy_sid_sessions(sid);
  }
  Task<Status> co_ping() override { co_return ping(); }

  void close() override;
  [[nodiscard]] const std::string& lock_verification_property() const override;
  [[nodiscard]] std::chrono::milliseconds max_lock_time() const override;
  [[nodiscard]] bool answers_inline() const override { return true; }
  [[nodiscard]] std::vector<MetricSample> metrics() const override;

  /// Sessions currently held (expired ones not yet swept included).
  [[nodiscard]] std::size_t size() const;
  /// Removes expired sessions now; returns how many.
  std::size_t sweep();
  /// Entries in the owner's index, live or not yet pruned (for tests of pruning).
  [[nodiscard]] std::size_t owner_index_size(std::string_view owner) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace websession
