#include "net/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace websession::net::detail {
namespace {

std::optional<std::string> env(const HttpClientOptions& client, const std::string& name) {
  if (client.getenv) return client.getenv(name);
  const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read-only use
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

// The first of `names` that is set and not empty.
std::string first_env(const HttpClientOptions& client, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    auto v = env(client, n);
    if (v && !v->empty()) return *v;
  }
  return {};
}

std::optional<Url> parse_proxy(const std::string& text, const char* what) {
  if (text.empty()) return std::nullopt;
  std::string full = text.find("://") == std::string::npos ? "http://" + text : text;
  auto url = Url::parse(full);
  if (!url) throw std::invalid_argument(std::string(what) + ": " + url.error().message);
  if (url->scheme != "http") throw std::invalid_argument(std::string(what) + ": only http:// proxies are supported");
  return std::move(*url);
}

// An address literal's bytes (4 or 16), or 0 when `host` is not one.
std::size_t address_bytes(std::string_view host, std::array<unsigned char, 16>& out) noexcept {
  if (host.size() >= 64) return 0;
  char text[64];
  std::memcpy(text, host.data(), host.size());
  text[host.size()] = '\0';
  if (::inet_pton(AF_INET, text, out.data()) == 1) return 4;
  if (::inet_pton(AF_INET6, text, out.data()) == 1) return 16;
  return 0;
}

bool prefix_matches(const std::array<unsigned char, 16>& a, const std::array<unsigned char, 16>& b,
                    unsigned bits) noexcept {
  for (unsigned i = 0; i < bits / 8; ++i) {
    if (a[i] != b[i]) return false;
  }
  if (bits % 8 == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - bits % 8));
  return (a[bits / 8] & mask) == (b[bits / 8] & mask);
}

bool entry_matches(std::string_view entry, std::string_view host) noexcept {
  if (entry == "*") return true;
  while (!entry.empty() && entry.back() == '.') entry.remove_suffix(1);
  if (entry.starts_with('[') && entry.ends_with(']')) entry = entry.substr(1, entry.size() - 2);
  std::array<unsigned char, 16> h{};
  const std::size_t hlen = address_bytes(host, h);
  if (hlen != 0) {
    auto slash = entry.find('/');
    std::array<unsigned char, 16> e{};
    if (address_bytes(entry.substr(0, slash), e) != hlen) return false;
    unsigned bits = static_cast<unsigned>(hlen * 8);
    if (slash != std::string_view::npos) {
      std::string_view b = entry.substr(slash + 1);
      auto [p, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
      if (ec != std::errc() || p != b.data() + b.size() || bits > hlen * 8) return false;
    }
    return prefix_matches(h, e, bits);
  }
  if (entry.starts_with('.')) entry.remove_prefix(1);
  if (entry.empty()) return false;
  if (host.size() == entry.size()) return host == entry;
  return host.size() > entry.size() && host.ends_with(entry) && host[host.size() - entry.size() - 1] == '.';
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

ProxyConfig resolve_proxy_config(const ProxyOptions& options, const HttpClientOptions& client) {
  std::string https = options.https_proxy;
  std::string http = options.http_proxy;
  std::string no_proxy = options.no_proxy;
  if (options.from_environment) {
    if (https.empty()) https = first_env(client, {"https_proxy", "HTTPS_PROXY"});
    if (http.empty()) http = first_env(client, {"http_proxy", "HTTP_PROXY"});
    if (no_proxy.empty()) no_proxy = first_env(client, {"no_proxy", "NO_PROXY"});
  }
  ProxyConfig config;
  config.https_proxy = parse_proxy(https, "HTTPS proxy");
  config.http_proxy = parse_proxy(http, "HTTP proxy");
  for (char& c : no_proxy) c = lower(c);
  config.no_proxy = std::move(no_proxy);
  return config;
}

bool never_proxied(std::string_view host) noexcept {
  if (host == "localhost" || host.ends_with(".localhost")) return true;
  std::array<unsigned char, 16> a{};
  const std::size_t n = address_bytes(host, a);
  if (n == 4) return a[0] == 127 || (a[0] == 169 && a[1] == 254);
  if (n == 16) {
    static constexpr std::array<unsigned char, 16> kLoopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return a == kLoopback || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
  }
  return false;
}

bool no_proxy_matches(std::string_view list, std::string_view host) noexcept {
  std::size_t pos = 0;
  while (pos < list.size()) {
    std::size_t end = list.find_first_of(", \t", pos);
    if (end == std::string_view::npos) end = list.size();
    std::string_view entry = list.substr(pos, end - pos);
    if (!entry.empty() && entry_matches(entry, host)) return true;
    pos = end + 1;
  }
  return false;
}

const Url* proxy_for(const ProxyConfig& config, const Url& url) noexcept {
  const std::optional<Url>& proxy = url.tls() ? config.https_proxy : config.http_proxy;
  if (!proxy || never_proxied(url.host) || no_proxy_matches(config.no_proxy, url.host)) return nullptr;
  return &*proxy;
}

std::string proxy_authorization(const Url& proxy) {
  if (proxy.userinfo.empty()) return {};
  std::string out = "Basic ";
  const std::size_t start = out.size();
  out.resize(start + 4 * ((proxy.userinfo.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + start),
                                reinterpret_cast<const unsigned char*>(proxy.userinfo.data()),
                                static_cast<int>(proxy.userinfo.size()));
  if (n < 0) throw std::invalid_argument("proxy credentials could not be encoded");
  out.resize(start + static_cast<std::size_t>(n));
  return out;
}

}  // namespace websession::net::detail
