// The retry policy: exponential backoff with full jitter, bounded by attempts and the deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace websession::dynamodb {

/// Exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential Backoff And
/// Jitter"): before retry n (n = 1 for the first retry) wait a uniformly random time in
/// [0, min(max_delay, base_delay * 2^(n-1))).
struct RetryPolicy {
  /// Attempts in total, the first included. DynamoDB's SDKs default to 10.
  int max_attempts = 10;
  std::chrono::milliseconds base_delay{25};
  std::chrono::milliseconds max_delay{2000};

  /// The cap of the delay before retry `retry` (1-based): min(max_delay, base_delay * 2^(retry-1)).
  [[nodiscard]] std::chrono::milliseconds delay_cap(int retry) const noexcept;

  /// The delay before retry `retry`, given `unit_random` uniform in [0, 1).
  [[nodiscard]] std::chrono::milliseconds delay(int retry, double unit_random) const noexcept;

  /// Whether another attempt may follow attempt number `attempt` (1-based).
  [[nodiscard]] bool may_retry(int attempt) const noexcept { return attempt < max_attempts; }
};

/// The retry quota of the AWS SDKs' "standard" retry mode: a token bucket shared by every call of
/// one client, so that an outage does not multiply the load on the service by the attempt count.
/// A retry takes kRetryCost tokens (kTimeoutRetryCost after a timeout); when the bucket cannot pay,
/// the call fails instead of retrying. A call that succeeds gives back what its last retry took,
/// or kNoRetryIncrement when it needed no retry, up to the capacity. Thread-safe.
class RetryQuota {
 public:
  static constexpr int kDefaultCapacity = 500;
  static constexpr int kRetryCost = 5;
  static constexpr int kTimeoutRetryCost = 10;
  static constexpr int kNoRetryIncrement = 1;

  explicit RetryQuota(int capacity = kDefaultCapacity) noexcept : capacity_(capacity), available_(capacity) {}

  /// Takes the cost of one retry; returns the tokens taken, or 0 when the quota cannot pay.
  [[nodiscard]] int acquire(bool after_timeout) noexcept;
  /// After a successful call: `acquired` is what its last retry took (0 when it was not retried).
  void release(int acquired) noexcept;
  [[nodiscard]] int available() const noexcept { return available_.load(std::memory_order_relaxed); }
  [[nodiscard]] int capacity() const noexcept { return capacity_; }

 private:
  int capacity_;
  std::atomic<int> available_;
};

}  // namespace websession::dynamodb
