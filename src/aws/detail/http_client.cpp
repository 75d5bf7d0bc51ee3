#include "aws/detail/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <string>

namespace websession::aws::detail {
namespace {

// curl_global_init is not thread-safe in older libcurl and must run once before any handle; a
// function-local static is initialized exactly once, thread-safely (the only global state here).
CURLcode global_init() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  return rc;
}

struct SlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct EasyDeleter {
  void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

struct Sink {
  HttpResponse* response;
  std::size_t limit;
  bool overflow = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  std::size_t n = size * count;
  if (sink->response->body.size() + n > sink->limit) {
    sink->overflow = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  sink->response->body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  std::size_t n = size * count;
  std::string_view line(data, n);
  // A new status line (after a redirect or 100-continue) starts a new header block.
  if (line.starts_with("HTTP/")) {
    sink->response->headers.clear();
    return n;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(trim(line.substr(0, colon)));
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  sink->response->headers.emplace_back(std::move(name), std::string(trim(line.substr(colon + 1))));
  return n;
}

}  // namespace

const std::string* HttpResponse::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

// An easy handle and its error buffer: curl writes into the buffer for the handle's lifetime, so
// they live and move together.
class HttpClient::Handle {
 public:
  Easy easy;
  char error[CURL_ERROR_SIZE] = {};
};

HttpClient::HttpClient(HttpClientOptions options) : options_(options) {}

HttpClient::~HttpClient() = default;

std::size_t HttpClient::idle_handles() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

std::unique_ptr<HttpClient::Handle> HttpClient::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  if (global_init() != CURLE_OK) return nullptr;
  auto h = std::make_unique<Handle>();
  h->easy.reset(curl_easy_init());
  if (!h->easy) return nullptr;
  // The options every request shares are set once per handle: they persist across transfers, so
  // perform() sets only what changes (URL, headers, body, timeouts, sink) and never resets the
  // handle (curl_easy_reset + re-setting everything cost more than the settings themselves).
  CURL* easy = h->easy.get();
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption opt, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(easy, opt, value);
  };
  set(CURLOPT_ERRORBUFFER, h->error);
  set(CURLOPT_NOSIGNAL, 1L);  // no SIGALRM-based DNS timeouts: we are a library in a threaded server
  set(CURLOPT_TCP_NODELAY, 1L);
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_WRITEFUNCTION, &on_body);
  set(CURLOPT_HEADERFUNCTION, &on_header);
  if (rc != CURLE_OK) return nullptr;
  return h;
}

void HttpClient::release(std::unique_ptr<Handle> handle) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < options_.max_connections) idle_.push_back(std::move(handle));
  // Otherwise the handle (and its connection) is closed here: the pool is full.
}

Result<HttpResponse> HttpClient::perform(const HttpRequest& request,
                                         std::chrono::steady_clock::time_point deadline) {
  using namespace std::chrono;
  auto remaining = duration_cast<milliseconds>(deadline - steady_clock::now());
  if (remaining.count() <= 0) {
    return Error(ErrorCode::unavailable, "deadline exceeded before the request was sent", std::string(kTimeout));
  }

  std::unique_ptr<Handle> handle = acquire();
  if (!handle) return Error(ErrorCode::internal, "libcurl could not be initialized");
  CURL* easy = handle->easy.get();
  handle->error[0] = '\0';

  Slist headers;
  auto append = [&headers](const char* line) {
    curl_slist* next = curl_slist_append(headers.get(), line);
    if (next == nullptr) return false;
    (void)headers.release();
    headers.reset(next);
    return true;
  };
  bool headers_ok = true;
  for (const std::string& h : request.headers) headers_ok = headers_ok && append(h.c_str());
  // libcurl would add "Expect: 100-continue" to larger POST bodies and wait for the server; an
  // empty Expect header turns that off (DynamoDB answers requests whole).
  headers_ok = headers_ok && append("Expect:") && append("Accept:");
  if (!headers_ok) {
    release(std::move(handle));
    return Error(ErrorCode::internal, "out of memory building request headers");
  }

  HttpResponse response;
  response.headers.reserve(12);
  Sink sink{&response, options_.max_response_bytes};
  long connect_ms = std::max<long>(1, static_cast<long>(std::min(options_.connect_timeout, remaining).count()));
  long total_ms = std::max<long>(1, static_cast<long>(remaining.count()));

  // Only the per-request options: the shared ones were set when the handle was made (acquire).
  // Every option set here is set on every request, so nothing leaks from the previous transfer.
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption opt, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(easy, opt, value);
  };
  std::string url(request.url);
  set(CURLOPT_URL, url.c_str());  // curl copies strings passed to setopt
  set(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  set(CURLOPT_TIMEOUT_MS, total_ms);
  set(CURLOPT_HTTPHEADER, headers.get());
  set(CURLOPT_WRITEDATA, static_cast<void*>(&sink));
  set(CURLOPT_HEADERDATA, static_cast<void*>(&sink));
  if (request.method == "GET") {
    set(CURLOPT_HTTPGET, 1L);
    set(CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
  } else {
    set(CURLOPT_POST, 1L);
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    set(CURLOPT_POSTFIELDS, request.body.data());
    std::string method(request.method);
    set(CURLOPT_CUSTOMREQUEST, request.method == "POST" ? static_cast<const char*>(nullptr) : method.c_str());
  }
  if (rc != CURLE_OK) {
    std::string message = std::string("libcurl option rejected: ") + curl_easy_strerror(rc);
    release(std::move(handle));
    return Error(ErrorCode::internal, std::move(message));
  }

  rc = curl_easy_perform(easy);
  if (rc != CURLE_OK) {
    std::string message = sink.overflow ? "response body too large" : curl_easy_strerror(rc);
    if (!sink.overflow && handle->error[0] != '\0') message.append(": ").append(handle->error);
    // A failed transfer leaves the handle usable (curl closes a broken connection itself).
    release(std::move(handle));
    bool timeout = rc == CURLE_OPERATION_TIMEDOUT;
    return Error(ErrorCode::unavailable, (timeout ? "request timed out: " : "network error: ") + message,
                 std::string(timeout ? kTimeout : kNetworkError));
  }
  long status = 0;
  rc = curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  release(std::move(handle));
  if (rc != CURLE_OK) {
    return Error(ErrorCode::internal, std::string("libcurl getinfo failed: ") + curl_easy_strerror(rc));
  }
  response.status = status;
  return response;
}

}  // namespace websession::aws::detail
