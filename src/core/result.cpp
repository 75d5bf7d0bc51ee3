#include "websession/result.h"

namespace websession {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::already_exists: return "already_exists";
    case ErrorCode::lock_held: return "lock_held";
    case ErrorCode::verification_mismatch: return "verification_mismatch";
    case ErrorCode::aborted: return "aborted";
    case ErrorCode::unavailable: return "unavailable";
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::permission_denied: return "permission_denied";
    case ErrorCode::internal: return "internal";
    case ErrorCode::cancelled: return "cancelled";
  }
  return "unknown";
}

std::string Error::describe() const {
  std::string out(to_string(code));
  out += ": ";
  out += message;
  if (!service_type.empty()) {
    out += " [";
    out += service_type;
    out += ']';
  }
  return out;
}

BadResultAccess::BadResultAccess(const Error& e)
    : std::logic_error("Result accessed for a value it does not hold: " + e.describe()) {}

}  // namespace websession
