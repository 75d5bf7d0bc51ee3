// A settable wall clock for tests: stores read it instead of the system clock, so expiry and lock
// staleness are tested without sleeping.
#pragma once

#include <atomic>
#include <chrono>

#include "websession/session_store.h"

namespace websession::testing {

class FakeClock {
 public:
  FakeClock() : ms_(std::chrono::duration_cast<std::chrono::milliseconds>(
                        SystemClock::now().time_since_epoch()).count()) {}

  TimePoint now() const { return TimePoint(std::chrono::milliseconds(ms_.load())); }
  void advance(std::chrono::milliseconds d) { ms_.fetch_add(d.count()); }
  /// A Clock bound to this object, which must outlive every user of it.
  Clock clock() { return [this] { return now(); }; }

 private:
  std::atomic<std::int64_t> ms_;
};

}  // namespace websession::testing
