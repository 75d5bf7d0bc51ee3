// return_to: the only redirect target that comes from the request, so the only open-redirect risk.
#include "websession/oidc/flow.h"

#include <algorithm>
#include <string>

#include "oidc/detail/text.h"

namespace websession::oidc {
namespace {

// The path part: everything before the query or fragment.
std::string_view path_of(std::string_view target) { return target.substr(0, target.find_first_of("?#")); }

bool has_dot_dot_segment(std::string_view path) {
  std::size_t start = 0;
  while (start < path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (path.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

// The rules a path must follow, raw or decoded: one leading "/", never "//" (another host to a
// browser) nor "/\" (the same to browsers that read "\" as "/"), no backslash or control character
// (browsers drop tabs and newlines, turning "/\t/evil" into "//evil"), no ".." segment.
bool safe_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  for (const char c : path) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7F || c == '\\') return false;
  }
  return path.find("//") == std::string_view::npos && !has_dot_dot_segment(path);
}

// The whole target as received: printable ASCII only (no space, no raw control or non-ASCII byte).
bool printable_ascii(std::string_view target) {
  for (const char c : target) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7F || c == '\\') return false;
  }
  return true;
}

}  // namespace

bool is_safe_return_to(std::string_view return_to) noexcept {
  try {
    if (return_to.size() > kMaxReturnToLength || !printable_ascii(return_to)) return false;
    std::string path(path_of(return_to));
    // Decode until nothing changes, so that "%2F", "%252F" and "%25252F" all count as "/". Four
    // rounds are plenty for any real path; more layers than that are refused.
    for (int round = 0; round < 4; ++round) {
      if (!safe_path(path)) return false;
      if (path.find('%') == std::string::npos) return true;
      auto decoded = detail::percent_decode(path, false);
      if (!decoded) return false;
      if (*decoded == path) return true;
      path = std::move(*decoded);
    }
    return false;
  } catch (...) {  // std::bad_alloc: refuse rather than throw from a noexcept check
    return false;
  }
}

std::string sanitize_return_to(std::string_view return_to) {
  return is_safe_return_to(return_to) ? std::string(return_to) : std::string("/");
}

}  // namespace websession::oidc
