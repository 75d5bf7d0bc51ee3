#include <charconv>
#include <string>

#include "websession/net/http_client.h"

namespace websession::net {
namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percent_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) return Error(ErrorCode::invalid_argument, "URL: bad percent-escape in userinfo");
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\r' || c == '\n' || c == '\0') return Error(ErrorCode::invalid_argument, "URL: control character in userinfo");
    out.push_back(c);
    i += 2;
  }
  return out;
}

Error bad(std::string_view why) { return Error(ErrorCode::invalid_argument, "URL: " + std::string(why)); }

// Splits "host[:port]" or "[v6][:port]" into the URL's host and port.
Status parse_host_port(std::string_view hostport, Url& url) {
  std::string_view port_text;
  if (hostport.starts_with('[')) {
    auto close = hostport.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    url.host.assign(hostport.substr(1, close - 1));
    std::string_view rest = hostport.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad("junk after the IPv6 address");
    if (!rest.empty()) port_text = rest.substr(1);
  } else {
    auto colon = hostport.rfind(':');
    url.host.assign(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port_text = hostport.substr(colon + 1);
    if (url.host.find(':') != std::string::npos) return bad("an IPv6 address needs brackets");
  }
  if (url.host.empty()) return bad("no host");
  for (char& c : url.host) c = lower(c);
  url.port = url.tls() ? 443 : 80;
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      return bad("bad port");
    }
    url.port = static_cast<std::uint16_t>(port);
  }
  return {};
}

}  // namespace

Result<Url> Url::parse(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return bad("control character or space");
  }
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return bad("not an absolute http(s) URL");
  Url url;
  for (char c : text.substr(0, sep)) url.scheme.push_back(lower(c));
  if (url.scheme != "http" && url.scheme != "https") return bad("scheme is not http or https");
  std::string_view rest = text.substr(sep + 3);
  auto end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    auto info = percent_decode(authority.substr(0, at));
    if (!info) return std::move(info).error();
    url.userinfo = std::move(*info);
    authority = authority.substr(at + 1);
  }
  if (auto s = parse_host_port(authority, url); !s) return s.error();
  if (target.empty() || target.front() == '?') {
    url.target.push_back('/');
    url.target.append(target);
  } else {
    url.target.assign(target);
  }
  return url;
}

std::string Url::host_header() const {
  std::string out;
  const bool v6 = host.find(':') != std::string::npos;
  if (v6) out.push_back('[');
  out.append(host);
  if (v6) out.push_back(']');
  if (port != (tls() ? 443 : 80)) out.append(":").append(std::to_string(port));
  return out;
}

}  // namespace websession::net
