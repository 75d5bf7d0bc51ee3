// Helpers shared by the credential sources: environment lookups, files, safe message excerpts, and
// the HTTP client of the sources that call AWS services (STS, the SSO portal).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "websession/async.h"
#include "websession/aws/config.h"
#include "websession/aws/credentials.h"
#include "websession/net/http_client.h"
#include "websession/result.h"

namespace websession::aws::detail {

/// The variable's value, or nullopt when unset or empty.
[[nodiscard]] std::optional<std::string> non_empty(const GetEnv& getenv, std::string_view name);

/// ASCII lower case.
[[nodiscard]] std::string lower(std::string_view s);

/// The whole file, or nullopt when it cannot be read.
[[nodiscard]] std::optional<std::string> read_file(const std::string& path);

/// True for errors worth retrying (unavailable).
[[nodiscard]] bool transient(const Error& e) noexcept;

/// Shares parsed credentials.
[[nodiscard]] Result<CredentialsPtr> to_pointer(Result<Credentials> parsed);

/// A service's text made fit for an error message: at most `max` bytes, control characters as
/// blanks, and every occurrence of each non-empty `secrets` entry replaced by "***".
[[nodiscard]] std::string safe_excerpt(std::string_view text, std::span<const std::string_view> secrets = {},
                                       std::size_t max = 256);

/// `e` with "<prefix>: " in front of its message; code and service type kept.
[[nodiscard]] Error with_context(Error e, std::string_view prefix);

/// The HTTP client of a source that calls an AWS service: proxies from the environment, the CA
/// bundle from the options or AWS_CA_BUNDLE, created on first use so that a bad option is an error
/// of the call (never an exception out of the chain's construction).
class ServiceHttp {
 public:
  ServiceHttp(ServiceCallOptions options, GetEnv getenv);

  /// Sends `request`, finished within the options' timeout; any status is an answer. Transport
  /// errors keep their code (unavailable, cancelled); unusable options are permission_denied.
  [[nodiscard]] Task<Result<net::Response>> co_send(const net::Request& request);

 private:
  Result<net::HttpClient*> client();

  ServiceCallOptions options_;
  GetEnv getenv_;
  std::mutex mutex_;
  std::unique_ptr<net::HttpClient> http_;
};

}  // namespace websession::aws::detail
