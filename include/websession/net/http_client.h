// websession's one HTTP/1.1 client, for DynamoDB, the AWS credential sources and the OpenID
// provider: Boost.Beast on Asio sockets, TLS through OpenSSL with certificate verification, pooled
// keep-alive connections, HTTP proxies as the AWS SDKs read them, and a deadline on every request.
// Asynchronous underneath; the blocking form runs the same code on the calling thread (see async.h).
//
//   websession::net::HttpClient http;
//   auto url = websession::net::Url::parse("https://example.com/.well-known/openid-configuration");
//   auto r = http.request({.method = "GET", .url = &*url}, steady_clock::now() + 5s);   // blocking
//   auto r2 = co_await http.co_request({.method = "GET", .url = &*url}, deadline);       // in a Task
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "websession/async.h"
#include "websession/result.h"

namespace websession::net {

/// An absolute http:// or https:// URL, parsed once.
struct Url {
  std::string scheme;  ///< "http" or "https"
  std::string host;    ///< a name or an address; IPv6 without brackets
  std::uint16_t port = 0;  ///< explicit, or the scheme's default
  std::string target;  ///< path and query, at least "/"
  /// Userinfo ("user:password", percent-decoded); only proxies use it.
  std::string userinfo;

  /// Parses `text`. invalid_argument for anything but http(s), a missing host, a bad port, or
  /// control characters and spaces anywhere.
  [[nodiscard]] static Result<Url> parse(std::string_view text);
  /// The Host header value: host, bracketed when IPv6, with ":port" unless the scheme's default.
  [[nodiscard]] std::string host_header() const;
  [[nodiscard]] bool tls() const noexcept { return scheme == "https"; }
};

/// A header to send.
struct HeaderView {
  std::string_view name;
  std::string_view value;
};

/// One request. Everything it refers to must outlive the call. The client adds Host (from the URL,
/// unless given), Content-Length and, through a proxy, Proxy-Authorization. Header names and values
/// containing CR, LF or NUL are refused (invalid_argument) before anything is sent.
struct Request {
  std::string_view method = "GET";
  const Url* url = nullptr;
  /// Overrides url->target (path and query) when not empty.
  std::string_view target;
  std::span<const HeaderView> headers;
  std::string_view body;
};

/// One response, whatever its status.
struct Response {
  unsigned status = 0;
  /// Names lower-cased, values trimmed, in the order received.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The first header named `name` (lower-case), or nullptr.
  [[nodiscard]] const std::string* header(std::string_view name) const noexcept;
};

/// Error service types of transport failures. kNetworkError and kTimeout are worth retrying;
/// kTlsError (a certificate that does not verify, a failed handshake) and kProtocolError (an answer
/// that is not HTTP/1.1, or too large) are not.
inline constexpr std::string_view kNetworkError = "NetworkError";
inline constexpr std::string_view kTimeout = "Timeout";
inline constexpr std::string_view kTlsError = "TlsError";
inline constexpr std::string_view kProtocolError = "ProtocolError";

struct TlsOptions {
  /// Verify the server's certificate chain and name. Turning this off is for tests only.
  bool verify = true;
  /// A PEM bundle of trusted CAs instead of the system's (AWS_CA_BUNDLE, a provider's private CA).
  std::string ca_file;
};

/// How requests reach the network.
struct ProxyOptions {
  /// Read HTTPS_PROXY / https_proxy (for https URLs), HTTP_PROXY / http_proxy (for http URLs) and
  /// NO_PROXY / no_proxy from the environment, as the AWS SDKs and curl do. When false, only the
  /// fields below count.
  bool from_environment = true;
  /// http://[user:password@]host:port of a proxy for https URLs (a CONNECT tunnel) and for http URLs
  /// (absolute-form requests). Empty: none.
  std::string https_proxy;
  std::string http_proxy;
  /// Comma-separated hosts that bypass the proxy: exact names, ".suffix" or "suffix" domain matches,
  /// address literals, or "*" for all. Loopback and link-local addresses never use a proxy.
  std::string no_proxy;
};

struct HttpClientOptions {
  /// Bounds name resolution, TCP connect, proxy CONNECT and the TLS handshake of a new connection
  /// (and never extends the request's deadline).
  std::chrono::milliseconds connect_timeout{2000};
  /// Idle keep-alive connections kept per origin and per io_context.
  std::size_t max_idle_per_origin = 64;
  /// A pooled connection idle for longer is closed instead of reused (servers drop idle ones).
  std::chrono::milliseconds idle_timeout{30'000};
  /// Larger response bodies are an error (kProtocolError): a runaway peer cannot exhaust memory.
  std::size_t max_response_bytes = 16 * 1024 * 1024;
  std::size_t max_header_bytes = 64 * 1024;
  TlsOptions tls;
  ProxyOptions proxy;
  /// The environment for the proxy variables; empty: the process environment.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  /// The executor for asynchronous calls whose handler has no I/O executor (see async.h).
  Executor executor;
};

/// Thread-safe; share one. Connections are pooled per io_context (an Asio service of that context
/// holds the idle ones), so a blocking caller reuses its thread's connections and a server's
/// coroutines reuse the server's. As for any Asio I/O object, an io_context run by several threads
/// needs a strand as the executor of the coroutines that call it.
class HttpClient {
 public:
  /// Throws std::invalid_argument for invalid options (an unreadable ca_file, a malformed proxy URL).
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Performs one request, finished by `deadline` (connect, TLS, write and read together). No
  /// retries, except that a request on a reused keep-alive connection that the server had already
  /// closed (no byte of an answer received) is sent once more on a new connection. Errors are
  /// unavailable with a service type above, invalid_argument for a malformed request, cancelled.
  [[nodiscard]] Task<Result<Response>> co_request(const Request& request,
                                                  std::chrono::steady_clock::time_point deadline);

  /// co_request() as an Asio initiating function; completion signature void(Result<Response>).
  template <class CompletionToken>
  auto async_request(const Request& request, std::chrono::steady_clock::time_point deadline,
                     CompletionToken&& token) {
    return async_run<Result<Response>>(
        executor(), std::forward<CompletionToken>(token),
        [this, request, deadline]() { return co_request(request, deadline); });
  }

  /// co_request(), blocking.
  [[nodiscard]] Result<Response> request(const Request& request, std::chrono::steady_clock::time_point deadline);

  /// The configured fallback executor (may be empty).
  [[nodiscard]] const Executor& executor() const noexcept;

  /// Idle pooled connections on `context` for `url`'s origin (for tests and diagnostics).
  [[nodiscard]] std::size_t idle_connections(asio::execution_context& context, const Url& url) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace websession::net
