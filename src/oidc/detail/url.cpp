#include "oidc/detail/url.h"

#include <algorithm>
#include <cctype>

namespace websession::oidc::detail {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  const unsigned long value = std::stoul(std::string(port));
  return value >= 1 && value <= 65535;
}

// Splits "host[:port]" (host possibly a bracketed IPv6 literal) and checks the port.
std::optional<std::string> host_of(std::string_view authority) {
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(0, close + 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (!valid_port(port)) return std::nullopt;
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (!valid_port(port)) return std::nullopt;
  }
  if (host.empty() || host == "[]") return std::nullopt;
  return lower(host);
}

}  // namespace

std::optional<UrlParts> split_url(std::string_view url) {
  for (const char c : url) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7F || c == '\\' || c == '#') return std::nullopt;
  }
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  UrlParts out;
  out.scheme = lower(url.substr(0, sep));
  if (out.scheme != "https" && out.scheme != "http") return std::nullopt;
  const std::string_view rest = url.substr(sep + 3);
  const std::size_t end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;
  auto host = host_of(authority);
  if (!host) return std::nullopt;
  out.host = std::move(*host);
  out.has_query = rest.find('?') != std::string_view::npos;
  return out;
}

bool is_loopback_host(std::string_view host) noexcept {
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
}

}  // namespace websession::oidc::detail
