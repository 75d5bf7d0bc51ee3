#include "websession/session_store.h"

namespace websession {

TimePoint system_now() { return SystemClock::now(); }

TimePoint floor_seconds(TimePoint t) {
  return TimePoint(std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()));
}

std::int64_t to_epoch_seconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::int64_t to_epoch_millis(TimePoint t) {
  return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace websession
