// A local STS stand-in: a real HTTP server on loopback that answers AssumeRole (after verifying its
// SigV4 signature with the source credentials it knows) and AssumeRoleWithWebIdentity (unsigned,
// after checking the token), issues numbered temporary credentials, and can be told to fail.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "aws/support/http_test_server.h"
#include "aws/support/sigv4_verifier.h"

namespace websession::testing {

/// One call STS answered (or refused).
struct StsCall {
  std::string action;
  std::string role_arn;
  std::string role_session_name;
  std::string external_id;
  std::string duration_seconds;
  std::string web_identity_token;
  /// AssumeRole: the access key ID that signed it.
  std::string signed_with;
  std::string region;
  /// Empty when answered with credentials; else the error code sent.
  std::string refused;
};

class StsStandIn {
 public:
  /// Credentials it issues expire `lifetime` after `now()` (the test's clock).
  explicit StsStandIn(std::chrono::seconds lifetime = std::chrono::hours(1),
                      std::function<std::chrono::system_clock::time_point()> now = {});

  /// AssumeRole accepts signatures by these credentials (and by any it issued itself).
  void accept(const aws::Credentials& source);
  /// The web identity token AssumeRoleWithWebIdentity accepts.
  void accept_web_identity_token(std::string token);
  /// The next `n` requests get HTTP `status` with the error `code` (503 ServiceUnavailable: STS
  /// down; 403 AccessDenied: a trust policy that refuses).
  void fail_next(int n, int status = 503, std::string code = "ServiceUnavailable");
  /// AssumeRole signed by `access_key_id` is refused with ExpiredToken, once.
  void expire_once(std::string access_key_id);

  /// http://127.0.0.1:<port>
  [[nodiscard]] std::string url() const { return server_.url(); }
  [[nodiscard]] std::vector<StsCall> calls() const;
  /// The credentials issued by the n-th successful call (0-based).
  [[nodiscard]] aws::Credentials issued(std::size_t n) const;
  [[nodiscard]] std::size_t issued_count() const;

 private:
  TestAction handle(const TestRequest& request);
  TestAction refuse(StsCall& call, int status, const std::string& code, const std::string& message);
  TestAction issue(StsCall& call);

  std::chrono::seconds lifetime_;
  std::function<std::chrono::system_clock::time_point()> now_;
  mutable std::mutex mutex_;
  KnownCredentials known_;
  std::string web_identity_token_;
  int fail_remaining_ = 0;
  int fail_status_ = 503;
  std::string fail_code_;
  std::string expire_key_;
  std::vector<StsCall> calls_;
  std::vector<aws::Credentials> issued_;
  HttpTestServer server_;  // last: stops before the state it uses goes away
};

/// A local stand-in of the SSO portal's GetRoleCredentials: checks the bearer token, answers role
/// credentials for any account and role, or fails when told.
class SsoPortalStandIn {
 public:
  explicit SsoPortalStandIn(std::string bearer_token, std::chrono::system_clock::time_point expiration);
  void fail_next(int n, int status);
  [[nodiscard]] std::string url() const { return server_.url(); }
  [[nodiscard]] std::vector<TestRequest> received() const { return server_.received(); }
  /// The credentials it hands out.
  [[nodiscard]] aws::Credentials credentials() const;

 private:
  TestAction handle(const TestRequest& request);

  std::string bearer_token_;
  std::chrono::system_clock::time_point expiration_;
  mutable std::mutex mutex_;
  int fail_remaining_ = 0;
  int fail_status_ = 503;
  HttpTestServer server_;
};

}  // namespace websession::testing
