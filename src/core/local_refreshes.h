// The refreshes under way in this process, by store and session: a request that finds its session's
// lock held by another request of this process waits for that request to finish instead of polling
// the store. With DynamoDB, 200 requests of one user waiting on a refresh would otherwise each read
// and try the lock every few hundred milliseconds: hundreds of billed calls a second, enough to
// throttle the table (or to overwhelm a local DynamoDB) and fail the refresh they are waiting for.
// Requests in other processes still find out through the store, as before.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace websession::detail {

/// One refresh under way: done once its request has finished (saved, failed or given up).
struct LocalRefresh {
  std::atomic<bool> done{false};
  /// When its request began to lead. Other requests defer to it for at most the store's
  /// max_lock_time from then: a leader that is stuck longer is treated as a dead holder would be
  /// (they go to the store, which lets them take a stale lock over).
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

/// The key of a session's refreshes: the store's address and the session's ID (kept in memory only).
std::string local_refresh_key(const void* store, const std::string& session_id);

/// This request's place among the refreshes of this process: it leads its session's refresh (tries the
/// lock, refreshes) unless another request of the process already does; then it waits for that one.
/// Leading ends with the object (the refresh_with_lock call).
class LocalRefreshLead {
 public:
  LocalRefreshLead() = default;
  ~LocalRefreshLead();
  LocalRefreshLead(const LocalRefreshLead&) = delete;
  LocalRefreshLead& operator=(const LocalRefreshLead&) = delete;

  /// Leads `key`'s refresh (null) unless another request does and began less than `patience` ago
  /// (that request's refresh, to wait for). Leading already: null.
  std::shared_ptr<LocalRefresh> try_lead(const std::string& key, std::chrono::milliseconds patience);
  [[nodiscard]] const LocalRefresh* led() const noexcept { return refresh_.get(); }

 private:
  std::string key_;
  std::shared_ptr<LocalRefresh> refresh_;
};

/// The refresh under way for `key` in this process, or null.
std::shared_ptr<LocalRefresh> find_local_refresh(const std::string& key);
/// Until when a request waits for `refresh`: its start plus `patience`, or `deadline` if earlier.
std::chrono::steady_clock::time_point local_wait_until(const LocalRefresh& refresh, std::chrono::milliseconds patience,
                                                       std::chrono::steady_clock::time_point deadline);

/// Blocks until `refresh` is done or `until` passes.
void wait_local_refresh(LocalRefresh& refresh, std::chrono::steady_clock::time_point until);

/// How often an asynchronous waiter looks at `done` (a timer on its own executor, no store call).
inline constexpr std::chrono::milliseconds kLocalRefreshPoll{20};

}  // namespace websession::detail
