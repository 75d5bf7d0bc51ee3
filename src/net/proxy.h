// Which proxy, if any, a request goes through: the AWS SDKs' and curl's reading of HTTPS_PROXY,
// HTTP_PROXY and NO_PROXY, as pure functions. Private to websession::net; tested directly.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "websession/net/http_client.h"

namespace websession::net::detail {

/// The proxies in force for one client, resolved once from options and environment.
struct ProxyConfig {
  std::optional<Url> https_proxy;  ///< for https URLs: a CONNECT tunnel
  std::optional<Url> http_proxy;   ///< for http URLs: absolute-form requests
  std::string no_proxy;
};

/// Resolves `options` (and, when options.from_environment, https_proxy/HTTPS_PROXY,
/// http_proxy/HTTP_PROXY, no_proxy/NO_PROXY: lower case first, as curl and botocore read them;
/// explicit options win). A proxy without a scheme is http://. Throws std::invalid_argument for a
/// malformed proxy URL or an https:// proxy (TLS to the proxy itself is not supported).
[[nodiscard]] ProxyConfig resolve_proxy_config(const ProxyOptions& options, const HttpClientOptions& client);

/// True for hosts that never use a proxy: localhost, loopback and link-local address literals.
[[nodiscard]] bool never_proxied(std::string_view host) noexcept;

/// Whether `host` (lower case, IPv6 without brackets) matches a NO_PROXY list: comma- or
/// space-separated entries, "*" for every host, names matching themselves and their subdomains
/// (a leading dot is optional), address literals and CIDR blocks ("10.0.0.0/8", "fd00::/8").
[[nodiscard]] bool no_proxy_matches(std::string_view list, std::string_view host) noexcept;

/// The proxy for `url`, or nullptr to connect directly.
[[nodiscard]] const Url* proxy_for(const ProxyConfig& config, const Url& url) noexcept;

/// The Proxy-Authorization value for a proxy URL with userinfo ("Basic <base64>"), else "".
[[nodiscard]] std::string proxy_authorization(const Url& proxy);

}  // namespace websession::net::detail
