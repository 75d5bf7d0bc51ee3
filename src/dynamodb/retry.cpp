#include "websession/dynamodb/retry.h"

#include <algorithm>

namespace websession::dynamodb {

std::chrono::milliseconds RetryPolicy::delay_cap(int retry) const noexcept {
  if (retry < 1) retry = 1;
  // Doubling past 2^30 overflows nothing useful: the cap is reached long before.
  int shift = std::min(retry - 1, 30);
  auto base = std::max<std::int64_t>(0, base_delay.count());
  std::int64_t cap = max_delay.count();
  std::int64_t grown = base > (cap >> shift) ? cap : (base << shift);
  return std::chrono::milliseconds(std::min(cap, grown));
}

std::chrono::milliseconds RetryPolicy::delay(int retry, double unit_random) const noexcept {
  unit_random = std::clamp(unit_random, 0.0, 1.0);
  auto cap = static_cast<double>(delay_cap(retry).count());
  return std::chrono::milliseconds(static_cast<std::int64_t>(cap * unit_random));
}

int RetryQuota::acquire(bool after_timeout) noexcept {
  const int cost = after_timeout ? kTimeoutRetryCost : kRetryCost;
  int have = available_.load(std::memory_order_relaxed);
  do {
    if (have < cost) return 0;
  } while (!available_.compare_exchange_weak(have, have - cost, std::memory_order_relaxed));
  return cost;
}

void RetryQuota::release(int acquired) noexcept {
  const int amount = acquired > 0 ? acquired : kNoRetryIncrement;
  int have = available_.load(std::memory_order_relaxed);
  while (have < capacity_ &&
         !available_.compare_exchange_weak(have, std::min(capacity_, have + amount), std::memory_order_relaxed)) {
  }
}

}  // namespace websession::dynamodb
