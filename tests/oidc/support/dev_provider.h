// The development OpenID provider (tools/dev-provider/provider.mjs, oidc-provider on Node.js 22) as
// a child process of a test, and a small browser for its login page. The node binary comes from
// WEBSESSION_NODE22 (./scripts/test sets it), else from tools/node22 when installed there.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "support/child_process.h"

/// Skips the test when WEBSESSION_SKIP_OIDC_PROVIDER_TESTS=1; fails it when Node.js 22 or
/// oidc-provider is missing (./scripts/test installs both).
#define WEBSESSION_REQUIRE_DEV_PROVIDER()                                                               \
  do {                                                                                                  \
    const auto setup_ = ::websession::testing::find_dev_provider();                                     \
    const char* skip_ = std::getenv("WEBSESSION_SKIP_OIDC_PROVIDER_TESTS");                             \
    if (skip_ != nullptr && std::string(skip_) == "1") GTEST_SKIP() << "WEBSESSION_SKIP_OIDC_PROVIDER_TESTS=1"; \
    if (!setup_.problem.empty()) FAIL() << setup_.problem << " (or set WEBSESSION_SKIP_OIDC_PROVIDER_TESTS=1)"; \
  } while (false)

namespace websession::testing {

/// How to start the provider; every field maps to a command-line flag of provider.mjs.
struct DevProviderOptions {
  std::string client_id = "test-client";
  std::string client_secret = "test-secret";
  std::vector<std::string> redirect_uris = {"http://127.0.0.1:9/auth/callback"};
  std::vector<std::string> post_logout_redirect_uris = {"http://127.0.0.1:9/"};
  std::string backchannel_logout_uri = "http://127.0.0.1:9/auth/backchannel-logout";
  std::string client_auth_method = "client_secret_basic";
  std::string id_token_alg = "RS256";
  int access_token_ttl = 600;
};

/// An HTTP answer.
struct HttpAnswer {
  int status = 0;
  std::multimap<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
  [[nodiscard]] std::string header(const std::string& lower_name) const;
};

/// Where the node binary and the provider script are, or why they are not there. Empty `problem`
/// means both are.
struct DevProviderSetup {
  std::string node;
  std::string script;
  std::string problem;
};
DevProviderSetup find_dev_provider();

class DevProvider {
 public:
  /// Starts the provider on a free loopback port and waits until it is ready. Throws
  /// std::runtime_error (with the provider's output) if it does not start within 30 seconds.
  explicit DevProvider(const DevProviderOptions& options = {});
  ~DevProvider();
  DevProvider(const DevProvider&) = delete;
  DevProvider& operator=(const DevProvider&) = delete;

  [[nodiscard]] const std::string& issuer() const { return issuer_; }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] const DevProviderOptions& options() const { return options_; }
  /// The provider's process (to stop it with SIGSTOP, as an outage).
  ChildProcess& process() { return *process_; }

  /// A request to the provider; `target` is a path with query, or a full URL on the provider.
  HttpAnswer get(const std::string& target, const std::map<std::string, std::string>& headers = {});
  HttpAnswer post(const std::string& target, const std::string& body, const std::string& content_type,
                  const std::map<std::string, std::string>& headers = {});

  /// GET /test/events: the counters object.
  boost::json::object events();
  /// POST /test/config with `config` (token_delay_ms, access_token_ttl, refresh_token_ttl); the answer.
  boost::json::object configure(const boost::json::object& config);
  /// POST /test/backchannel-logout with `request` (sub, sid, deliver, uri); the answer.
  boost::json::object backchannel_logout(const boost::json::object& request);

  /// Plays the browser: follows `authorization_url` through the login page (as `login`) back to the
  /// redirect URI, and returns the query string the provider put on it (code, state, iss), or
  /// std::nullopt with the reason in `why` when the provider stopped elsewhere.
  std::optional<std::string> sign_in(const std::string& authorization_url, const std::string& login,
                                     std::string* why = nullptr);

 private:
  std::string target_of(const std::string& url) const;

  DevProviderOptions options_;
  std::unique_ptr<ChildProcess> process_;
  std::string issuer_;
  std::uint16_t port_ = 0;
};

}  // namespace websession::testing
