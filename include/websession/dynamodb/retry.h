// The retry policy: exponential backoff with full jitter, bounded by attempts and the deadline.
#pragma once

#include <chrono>

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

}  // namespace websession::dynamodb
