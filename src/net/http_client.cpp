#include "websession/net/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/basic_parser.hpp>

#include "core/text.h"
#include "net/connection.h"
#include "net/proxy.h"

namespace websession::net {
namespace {

using detail::Connection;
using detail::ConnectionPool;
using detail::ConnectionPtr;
using std::chrono::steady_clock;
namespace http = boost::beast::http;
using error_code = boost::system::error_code;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable_t<Executor>{});

Error failure(std::string_view type, std::string message) {
  return Error(ErrorCode::unavailable, std::move(message), std::string(type));
}

// What an I/O error on `c` means: the watchdog closed it (timeout), the caller cancelled, or the
// network failed.
Error io_error(const Connection& c, const error_code& ec, std::string_view what) {
  if (c.timed_out()) return failure(kTimeout, std::string(what) + ": deadline exceeded");
  if (ec == asio::error::operation_aborted) return Error(ErrorCode::cancelled, std::string(what) + ": cancelled");
  return failure(kNetworkError, std::string(what) + ": " + ec.message());
}

bool has_forbidden_char(std::string_view s) noexcept { return ::websession::detail::has_cr_lf_nul(s); }

bool valid_header_name(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0' || c == ':' || c == ' ' || c == '\t') return false;
  }
  return true;
}

bool is_address(const std::string& host) {
  error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// "host:port" with the port always explicit: a CONNECT request's authority.
std::string authority(const Url& url) {
  std::string out = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  return out.append(":").append(std::to_string(url.port));
}

// Beast's HTTP/1.1 parser, writing the status, headers and body straight into a Response: no
// basic_fields (an allocation per field) copied once more afterwards.
class ResponseParser final : public http::basic_parser<false> {
 public:
  explicit ResponseParser(Response& out) : out_(out) { out_.headers.reserve(16); }

 private:
  void on_request_impl(http::verb, boost::beast::string_view, boost::beast::string_view, int, error_code& ec) override {
    ec = http::error::bad_version;  // never called for a response parser
  }
  void on_response_impl(int code, boost::beast::string_view, int, error_code&) override {
    out_.status = static_cast<unsigned>(code);
  }
  void on_field_impl(http::field, boost::beast::string_view name, boost::beast::string_view value, error_code&) override {
    std::string lower(name.data(), name.size());
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    out_.headers.emplace_back(std::move(lower), std::string(value.data(), value.size()));
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    // The body limit was checked against Content-Length already.
    if (length) out_.body.reserve(static_cast<std::size_t>(*length));
  }
  std::size_t on_body_impl(boost::beast::string_view body, error_code&) override {
    out_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body, error_code& ec) override {
    return on_body_impl(body, ec);
  }
  void on_finish_impl(error_code&) override {}

  Response& out_;
};

// The outcome of one request on one connection.
struct Exchange {
  Result<Response> result = Error();
  bool got_bytes = false;
  bool keep_alive = false;
};

Error read_error(const Connection& c, const error_code& ec) {
  if (ec == http::error::body_limit || ec == http::error::header_limit) {
    return failure(kProtocolError, "response too large");
  }
  if (ec.category() == http::make_error_code(http::error::end_of_stream).category() && ec != http::error::end_of_stream &&
      ec != http::error::partial_message) {
    return failure(kProtocolError, "malformed HTTP response: " + ec.message());
  }
  return io_error(c, ec, "reading the response");
}

template <class Stream>
Task<void> exchange_on(Stream& stream, Connection& c, const Request& request, std::string_view head,
                       const HttpClientOptions& options, Exchange& out) {
  std::string_view body = request.body;
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
  auto [write_ec, written] = co_await asio::async_write(stream, buffers, kAwait);
  if (write_ec && (c.timed_out() || write_ec == asio::error::operation_aborted)) {
    out.result = io_error(c, write_ec, "sending the request");
    co_return;
  }
  // A server may answer before it has read the whole request, then stop reading (413 for a body
  // too large, 431 for headers): its answer is still there to read, as curl reads it.
  Response response;
  ResponseParser parser(response);
  parser.body_limit(options.max_response_bytes);
  parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(options.max_header_bytes, UINT32_MAX)));
  if (request.method == "HEAD") parser.skip(true);  // an answer to HEAD has no body, whatever it says
  auto [read_ec, read] = co_await http::async_read(stream, c.buffer, parser, kAwait);
  out.got_bytes = parser.got_some() || c.buffer.size() > 0;
  if (read_ec) {
    out.result = write_ec ? io_error(c, write_ec, "sending the request") : read_error(c, read_ec);
    co_return;
  }
  out.keep_alive = !write_ec && parser.keep_alive();
  out.result = std::move(response);
}

}  // namespace

const std::string* Response::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

// The TLS context for `o`: one per configuration for the whole process, made when a https URL is
// first used. Loading the system's CAs parses the whole bundle (about 200 million instructions), so
// it must not happen per client, nor for clients that only ever speak plain http.
std::shared_ptr<asio::ssl::context> shared_tls_context(const TlsOptions& o) {
  static auto* mutex = new std::mutex;  // NOLINT: never destroyed, clients may outlive statics
  static auto* cache = new std::map<std::string, std::weak_ptr<asio::ssl::context>>;  // NOLINT
  const std::string key = std::string(o.verify ? "v:" : "n:") + o.ca_file;
  std::lock_guard lock(*mutex);
  if (auto existing = (*cache)[key].lock()) return existing;
  auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  error_code ec;
  tls->set_verify_mode(o.verify ? asio::ssl::verify_peer : asio::ssl::verify_none, ec);
  if (!ec) {
    if (o.ca_file.empty()) {
      tls->set_default_verify_paths(ec);
    } else {
      tls->load_verify_file(o.ca_file, ec);
    }
  }
  if (ec) throw std::invalid_argument("TLS: cannot load the trusted CAs: " + ec.message());
  (*cache)[key] = tls;
  return tls;
}

struct HttpClient::Impl {
  HttpClientOptions options;
  detail::ProxyConfig proxies;
  std::string https_proxy_auth;
  std::string http_proxy_auth;
  std::string tls_key;
  std::mutex tls_mutex;
  std::shared_ptr<asio::ssl::context> tls;  // made on first use

  explicit Impl(HttpClientOptions o) : options(std::move(o)), proxies(detail::resolve_proxy_config(options.proxy, options)) {
    if (proxies.https_proxy) https_proxy_auth = detail::proxy_authorization(*proxies.https_proxy);
    if (proxies.http_proxy) http_proxy_auth = detail::proxy_authorization(*proxies.http_proxy);
    if (!options.tls.ca_file.empty() && !std::ifstream(options.tls.ca_file)) {
      throw std::invalid_argument("TLS: cannot read the CA file " + options.tls.ca_file);
    }
    tls_key = std::string(options.tls.verify ? "v" : "n") + options.tls.ca_file;
  }

  // The shared TLS context; a CA bundle that cannot be loaded is a TLS error of the request.
  Result<asio::ssl::context*> tls_context() {
    std::lock_guard lock(tls_mutex);
    if (!tls) {
      try {
        tls = shared_tls_context(options.tls);
      } catch (const std::invalid_argument& e) {
        return failure(kTlsError, e.what());
      }
    }
    return tls.get();
  }

  [[nodiscard]] std::string pool_key(const Url& url, const Url* proxy) const {
    std::string key = url.scheme;
    key.append("://").append(authority(url));
    if (proxy != nullptr) key.append(" via ").append(authority(*proxy)).append(proxy->userinfo);
    if (url.tls()) key.append(" tls:").append(tls_key);
    return key;
  }

  [[nodiscard]] Result<std::string> head(const Request& request, const Url& url, const Url* proxy) const;
  Task<Result<ConnectionPtr>> connect(const Url& url, const Url* proxy, steady_clock::time_point deadline);
  Task<Status> open_socket(Connection& c, const Url& peer);
  Task<Status> tunnel(Connection& c, const Url& url, const Url& proxy);
  Task<Status> handshake(Connection& c, const Url& url, asio::ssl::context& context);
};

Result<std::string> HttpClient::Impl::head(const Request& request, const Url& url, const Url* proxy) const {
  std::string_view target = request.target.empty() ? std::string_view(url.target) : request.target;
  if (request.method.empty() || !valid_header_name(request.method) || target.empty() ||
      has_forbidden_char(target) || target.find(' ') != std::string_view::npos) {
    return Error(ErrorCode::invalid_argument, "malformed request method or target");
  }
  std::string out;
  out.reserve(256 + request.headers.size() * 64);
  out.append(request.method).push_back(' ');
  // Through an http proxy, the absolute form: the proxy needs to know where to go.
  if (proxy != nullptr && !url.tls()) out.append(url.scheme).append("://").append(url.host_header());
  out.append(target).append(" HTTP/1.1\r\n");
  bool has_host = false;
  for (const HeaderView& h : request.headers) {
    if (!valid_header_name(h.name) || has_forbidden_char(h.value)) {
      return Error(ErrorCode::invalid_argument, "header name or value with CR, LF or NUL refused");
    }
    has_host = has_host || iequals(h.name, "host");
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (!has_host) out.append("Host: ").append(url.host_header()).append("\r\n");
  if (!request.body.empty() || !(request.method == "GET" || request.method == "HEAD")) {
    out.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n");
  }
  if (proxy != nullptr && !url.tls() && !http_proxy_auth.empty()) {
    out.append("Proxy-Authorization: ").append(http_proxy_auth).append("\r\n");
  }
  out.append("\r\n");
  return out;
}

Task<Status> HttpClient::Impl::open_socket(Connection& c, const Url& peer) {
  error_code ec;
  auto address = asio::ip::make_address(peer.host, ec);
  if (!ec) {
    auto [connect_ec] = co_await c.socket().async_connect(detail::tcp::endpoint(address, peer.port), kAwait);
    ec = connect_ec;
  } else {
    auto [resolve_ec, results] = co_await c.resolver().async_resolve(peer.host, std::to_string(peer.port), kAwait);
    if (resolve_ec) co_return io_error(c, resolve_ec, "resolving " + peer.host);
    auto [connect_ec, endpoint] = co_await asio::async_connect(c.socket(), results, kAwait);
    ec = connect_ec;
  }
  if (ec) co_return io_error(c, ec, "connecting to " + peer.host_header());
  c.socket().set_option(detail::tcp::no_delay(true), ec);
  co_return Status();
}

Task<Status> HttpClient::Impl::tunnel(Connection& c, const Url& url, const Url& proxy) {
  std::string request = "CONNECT " + authority(url) + " HTTP/1.1\r\nHost: " + authority(url) + "\r\n";
  if (!https_proxy_auth.empty()) request.append("Proxy-Authorization: ").append(https_proxy_auth).append("\r\n");
  request.append("\r\n");
  auto [write_ec, written] = co_await asio::async_write(c.socket(), asio::buffer(request), kAwait);
  if (write_ec) co_return io_error(c, write_ec, "sending CONNECT to the proxy " + proxy.host_header());
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a successful CONNECT answer has no body: the tunnel follows
  auto [read_ec, read] = co_await http::async_read_header(c.socket(), c.buffer, parser, kAwait);
  if (read_ec) co_return io_error(c, read_ec, "reading the proxy's CONNECT answer");
  const unsigned status = parser.get().result_int();
  if (status < 200 || status >= 300) {
    co_return failure(status >= 500 ? kNetworkError : kProtocolError,
                      "the proxy refused the tunnel: HTTP status " + std::to_string(status));
  }
  co_return Status();
}

Task<Status> HttpClient::Impl::handshake(Connection& c, const Url& url, asio::ssl::context& context) {
  c.start_tls(context);
  SSL* ssl = c.tls().native_handle();
  const bool literal = is_address(url.host);
  // SNI for names only (RFC 6066 forbids address literals); SSL_set_tlsext_host_name is this call.
  if (!literal && SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                           const_cast<char*>(url.host.c_str())) != 1) {
    co_return failure(kTlsError, "TLS: cannot set the server name");
  }
  if (options.tls.verify) {
    const int ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str())
                           : SSL_set1_host(ssl, url.host.c_str());
    if (ok != 1) co_return failure(kTlsError, "TLS: cannot set the name to verify");
  }
  auto [ec] = co_await c.tls().async_handshake(asio::ssl::stream_base::client, kAwait);
  if (!ec) co_return Status();
  if (c.timed_out() || ec == asio::error::operation_aborted) co_return io_error(c, ec, "TLS handshake");
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    co_return failure(kTlsError, std::string("TLS: certificate of ") + url.host +
                                     " not verified: " + X509_verify_cert_error_string(verify));
  }
  if (ec.category() == asio::error::get_ssl_category()) co_return failure(kTlsError, "TLS handshake: " + ec.message());
  co_return io_error(c, ec, "TLS handshake");
}

Task<Result<ConnectionPtr>> HttpClient::Impl::connect(const Url& url, const Url* proxy,
                                                      steady_clock::time_point deadline) {
  // The TLS context first, outside the connect timeout: the first one loads the trusted CAs.
  asio::ssl::context* context = nullptr;
  if (url.tls()) {
    auto made = tls_context();
    if (!made) co_return std::move(made).error();
    context = *made;
  }
  const Executor executor = co_await asio::this_coro::executor;
  auto connection = std::make_shared<Connection>(executor);
  connection->arm(std::min(deadline, steady_clock::now() + options.connect_timeout), executor);
  Status s = co_await open_socket(*connection, proxy != nullptr ? *proxy : url);
  if (s && proxy != nullptr && url.tls()) s = co_await tunnel(*connection, url, *proxy);
  if (s && context != nullptr) s = co_await handshake(*connection, url, *context);
  connection->disarm();
  if (!s) {
    connection->close();
    co_return s.error();
  }
  co_return connection;
}

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}
HttpClient::~HttpClient() = default;

const Executor& HttpClient::executor() const noexcept { return impl_->options.executor; }

std::size_t HttpClient::idle_connections(asio::execution_context& context, const Url& url) const {
  return asio::use_service<ConnectionPool>(context).idle(impl_->pool_key(url, detail::proxy_for(impl_->proxies, url)));
}

Task<Result<Response>> HttpClient::co_request(const Request& request, steady_clock::time_point deadline) {
  const std::shared_ptr<Impl> impl = impl_;  // the coroutine may outlive a caller's HttpClient
  co_await asio::this_coro::throw_if_cancelled(false);
  if (request.url == nullptr) co_return Error(ErrorCode::invalid_argument, "request without a URL");
  const Url& url = *request.url;
  const Url* proxy = detail::proxy_for(impl->proxies, url);
  auto head = impl->head(request, url, proxy);
  if (!head) co_return std::move(head).error();
  if (steady_clock::now() >= deadline) co_return failure(kTimeout, "deadline exceeded before sending");
  const Executor executor = co_await asio::this_coro::executor;
  auto& pool = asio::use_service<ConnectionPool>(asio::query(executor, asio::execution::context));
  const std::string key = impl->pool_key(url, proxy);
  for (bool first = true;; first = false) {
    ConnectionPtr c = first ? pool.take(key, impl->options.idle_timeout) : nullptr;
    const bool reused = c != nullptr;
    if (!c) {
      auto opened = co_await impl->connect(url, proxy, deadline);
      if (!opened) co_return std::move(opened).error();
      c = std::move(*opened);
    }
    Exchange x;
    c->arm(deadline, executor);
    if (c->is_tls()) {
      co_await exchange_on(c->tls(), *c, request, *head, impl->options, x);
    } else {
      co_await exchange_on(c->socket(), *c, request, *head, impl->options, x);
    }
    c->disarm();
    if (x.result) {
      if (x.keep_alive && c->is_open()) pool.give(key, std::move(c), impl->options.max_idle_per_origin);
      co_return std::move(x.result);
    }
    c->close();
    // A kept-alive connection the server had closed meanwhile: the request never reached it.
    if (reused && !x.got_bytes && x.result.error().service_type == kNetworkError) continue;
    co_return std::move(x.result);
  }
}

Result<Response> HttpClient::request(const Request& request, steady_clock::time_point deadline) {
  return run_blocking([&] { return co_request(request, deadline); });
}

}  // namespace websession::net
