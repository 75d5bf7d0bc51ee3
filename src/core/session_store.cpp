#include "websession/session_store.h"

#include <algorithm>
#include <limits>

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

TimePoint from_epoch_seconds(std::int64_t secs) {
  // The clock counts nanoseconds in 64 bits: about 292 years either side of 1970.
  constexpr std::int64_t kLimit = std::chrono::duration_cast<std::chrono::seconds>(TimePoint::duration::max()).count() - 1;
  secs = std::clamp(secs, -kLimit, kLimit);
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(secs)));
}

TimePoint from_epoch_millis(std::int64_t millis) {
  constexpr std::int64_t kLimit =
      std::chrono::duration_cast<std::chrono::milliseconds>(TimePoint::duration::max()).count() - 1;
  millis = std::clamp(millis, -kLimit, kLimit);
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(millis)));
}

namespace {

Status check_principal(std::string_view what, std::string_view value) {
  if (value.size() > kMaxOwnerBytes) {
    return Error(ErrorCode::invalid_argument,
                 std::string(what) + " is longer than " + std::to_string(kMaxOwnerBytes) + " bytes");
  }
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return Error(ErrorCode::invalid_argument, std::string(what) + " contains a control character");
  }
  return {};
}

}  // namespace

Status validate_new_session(const NewSession& session) {
  if (auto st = check_principal("owner", session.owner); !st) return st;
  if (auto st = check_principal("sid", session.sid); !st) return st;
  if (!session.sid.empty() && session.owner.empty()) {
    return Error(ErrorCode::invalid_argument, "a session with a sid needs an owner");
  }
  if (session.expires <= session.created || session.absolute_expires <= session.created) {
    return Error(ErrorCode::invalid_argument, "a new session must expire after it is created");
  }
  return validate_fields(session.data);
}

std::string clean_user_agent(std::string_view user_agent) {
  // User agents are ASCII in practice; anything else (control characters, invalid or exotic UTF-8)
  // is dropped rather than risk an item the backend refuses.
  std::string out;
  out.reserve(std::min(user_agent.size(), kMaxUserAgentBytes));
  for (const char c : user_agent) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) continue;
    if (out.size() == kMaxUserAgentBytes) break;
    out += c;
  }
  return out;
}

}  // namespace websession
