// A small blocking HTTP client over libcurl with a pool of keep-alive handles. Private to
// websession::dynamodb: the DynamoDB client and the container/IMDS credential providers use it.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "websession/result.h"

namespace websession::aws::detail {

/// One request. `headers` are complete "Name: value" lines.
struct HttpRequest {
  std::string_view method = "GET";  ///< GET, POST or PUT
  std::string_view url;
  std::span<const std::string> headers;
  std::string_view body;
};

/// One response (any status).
struct HttpResponse {
  long status = 0;
  /// Response headers, names lower-cased, values trimmed.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The first header named `name` (lower-case), or nullptr.
  [[nodiscard]] const std::string* header(std::string_view name) const noexcept;
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{2000};
  /// Idle easy handles kept for reuse (each holds its keep-alive connection).
  std::size_t max_connections = 64;
  /// Largest response body accepted; a bigger one is an error (protects against a runaway peer).
  std::size_t max_response_bytes = 16 * 1024 * 1024;
};

/// Error service types of transport failures; both are retryable.
inline constexpr std::string_view kNetworkError = "NetworkError";
inline constexpr std::string_view kTimeout = "Timeout";

/// Thread-safe: each perform() borrows an easy handle from the pool (or makes one) and returns it,
/// with its connection, afterwards.
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Performs `request`, finishing by `deadline`. Transport failures are unavailable errors with
  /// service_type kNetworkError or kTimeout; an HTTP error status is not an error here.
  [[nodiscard]] Result<HttpResponse> perform(const HttpRequest& request,
                                             std::chrono::steady_clock::time_point deadline);

  /// Idle handles currently pooled (for tests).
  [[nodiscard]] std::size_t idle_handles() const;

 private:
  class Handle;
  std::unique_ptr<Handle> acquire();
  void release(std::unique_ptr<Handle> handle);

  HttpClientOptions options_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Handle>> idle_;
};

}  // namespace websession::aws::detail
