// Just enough URL structure to judge an endpoint: scheme, host, and whether the rest is clean.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace websession::oidc::detail {

struct UrlParts {
  std::string scheme;  ///< "http" or "https", lower-case
  std::string host;    ///< lower-case; IPv6 literals keep their brackets
  bool has_query = false;
};

/// Splits an absolute http or https URL. nullopt when it is not one, has user information or a
/// fragment, an empty host or a bad port, or contains spaces, control characters or non-ASCII bytes.
std::optional<UrlParts> split_url(std::string_view url);

/// localhost, 127.0.0.1 or [::1].
bool is_loopback_host(std::string_view host) noexcept;

}  // namespace websession::oidc::detail
