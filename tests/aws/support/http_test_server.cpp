#include "aws/support/http_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "dynamodb/crc32.h"

namespace websession::testing {
namespace {

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

bool write_all(int fd, SSL* ssl, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = 0;
    if (ssl != nullptr) {
      n = SSL_write(ssl, data.data(), static_cast<int>(data.size()));
    } else {
      n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
    }
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

SSL_CTX* make_tls_context(const TestTlsOptions& o) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) throw std::runtime_error("SSL_CTX_new failed");
  BIO* cert_bio = BIO_new_mem_buf(o.cert_pem.data(), static_cast<int>(o.cert_pem.size()));
  BIO* key_bio = BIO_new_mem_buf(o.key_pem.data(), static_cast<int>(o.key_pem.size()));
  X509* cert = cert_bio != nullptr ? PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr) : nullptr;
  EVP_PKEY* key = key_bio != nullptr ? PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr) : nullptr;
  const bool ok = cert != nullptr && key != nullptr && SSL_CTX_use_certificate(ctx, cert) == 1 &&
                  SSL_CTX_use_PrivateKey(ctx, key) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  BIO_free(cert_bio);
  BIO_free(key_bio);
  if (!ok) {
    SSL_CTX_free(ctx);
    throw std::runtime_error("test server: bad certificate or key");
  }
  return ctx;
}

}  // namespace

std::string TestRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

TestAction TestAction::respond(int status, std::string body, std::string content_type, bool crc32,
                               std::uint32_t crc_override,
                               std::vector<std::pair<std::string, std::string>> extra_headers) {
  TestAction a;
  a.raw = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
  a.raw += "Content-Type: " + content_type + "\r\n";
  a.raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (crc32) {
    std::uint32_t crc = crc_override != 0 ? crc_override : dynamodb::detail::crc32(body);
    a.raw += "x-amz-crc32: " + std::to_string(crc) + "\r\n";
  }
  for (const auto& [k, v] : extra_headers) a.raw += k + ": " + v + "\r\n";
  a.raw += "x-amzn-RequestId: TEST\r\n\r\n";
  a.raw += body;
  return a;
}

TestAction TestAction::truncated(int status, std::string body_prefix, std::size_t claimed_length) {
  TestAction a;
  a.raw = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
  a.raw += "Content-Type: application/x-amz-json-1.0\r\nContent-Length: " + std::to_string(claimed_length) +
           "\r\n\r\n" + body_prefix;
  a.close_after = true;
  return a;
}

TestAction TestAction::reset() {
  TestAction a;
  a.kind = Kind::reset;
  return a;
}

TestAction TestAction::hang(std::chrono::milliseconds delay) {
  TestAction a;
  a.kind = Kind::hang;
  a.delay = delay;
  return a;
}

HttpTestServer::HttpTestServer(Handler handler, std::optional<TestTlsOptions> tls) : handler_(std::move(handler)) {
  if (tls) tls_ = make_tls_context(*tls);
  if (::pipe(stop_pipe_) != 0) throw std::runtime_error("pipe failed");
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("bind/listen failed");
  }
  socklen_t len = sizeof addr;
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("getsockname failed");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

HttpTestServer::~HttpTestServer() {
  char x = 'x';
  (void)!::write(stop_pipe_[1], &x, 1);
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
  SSL_CTX_free(static_cast<SSL_CTX*>(tls_));
}

std::string HttpTestServer::url() const { return url("127.0.0.1"); }

std::string HttpTestServer::url(const std::string& host) const {
  return std::string(tls_ != nullptr ? "https://" : "http://") + host + ":" + std::to_string(port_);
}

std::vector<TestRequest> HttpTestServer::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

void HttpTestServer::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int connection = ++connections_;
    std::lock_guard lock(mutex_);
    workers_.emplace_back([this, fd, connection] { serve(fd, connection); });
  }
}

void HttpTestServer::serve(int fd, int connection) {
  SSL* ssl = nullptr;
  if (tls_ != nullptr) {
    timeval tv{10, 0};  // a client that never finishes its handshake does not hold the thread for ever
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssl = SSL_new(static_cast<SSL_CTX*>(tls_));
    if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
      SSL_free(ssl);
      ::close(fd);
      return;
    }
  }
  struct Closer {
    SSL* ssl;
    int fd;
    ~Closer() {
      SSL_free(ssl);
      ::close(fd);
    }
  } closer{ssl, fd};
  serve_stream(fd, ssl, connection);
}

void HttpTestServer::serve_stream(int fd, void* tls_stream, int connection) {
  SSL* ssl = static_cast<SSL*>(tls_stream);
  std::string buffer;
  // Waits for data or the stop signal; false on stop, timeout or error.
  auto wait_readable = [&](int timeout_ms) {
    if (ssl != nullptr && SSL_pending(ssl) > 0) return true;
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    int rc = ::poll(fds, 2, timeout_ms);
    return rc > 0 && (fds[1].revents & POLLIN) == 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
  };
  auto read_more = [&] {
    if (!wait_readable(10000)) return false;
    char chunk[8192];
    ssize_t n = ssl != nullptr ? SSL_read(ssl, chunk, sizeof chunk) : ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
    return true;
  };
  for (;;) {
    std::size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!read_more()) return;
    }
    TestRequest req;
    req.connection = connection;
    std::string_view head(buffer.data(), end);
    std::size_t line_end = head.find("\r\n");
    std::string_view request_line = head.substr(0, line_end);
    std::size_t sp1 = request_line.find(' ');
    std::size_t sp2 = request_line.find(' ', sp1 + 1);
    req.method = std::string(request_line.substr(0, sp1));
    req.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
    std::size_t content_length = 0;
    std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      std::size_t e = head.find("\r\n", pos);
      if (e == std::string_view::npos) e = head.size();
      std::string_view line = head.substr(pos, e - pos);
      std::size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string name = lower(std::string(trim(line.substr(0, colon))));
        std::string value(trim(line.substr(colon + 1)));
        if (name == "content-length") content_length = std::stoul(value);
        req.headers.emplace_back(std::move(name), std::move(value));
      }
      pos = e + 2;
    }
    buffer.erase(0, end + 4);
    while (buffer.size() < content_length) {
      if (!read_more()) return;
    }
    req.body = buffer.substr(0, content_length);
    buffer.erase(0, content_length);
    ++requests_;
    {
      std::lock_guard lock(mutex_);
      received_.push_back(req);
    }
    TestAction action = handler_(req);
    switch (action.kind) {
      case TestAction::Kind::respond:
        if (!write_all(fd, ssl, action.raw) || action.close_after) return;
        break;
      case TestAction::Kind::reset: {
        linger l{1, 0};  // close with RST, like a crashed peer or a killed proxy
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        return;
      }
      case TestAction::Kind::hang: {
        pollfd stop{stop_pipe_[0], POLLIN, 0};
        (void)::poll(&stop, 1, static_cast<int>(action.delay.count()));
        return;
      }
    }
  }
}

}  // namespace websession::testing
