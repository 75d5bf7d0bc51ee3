// A DynamoDB endpoint that checks signatures: it verifies each request's SigV4 signature with the
// credentials a test expects, then forwards it to dynalite (which accepts any signature), and refuses
// anything else with InvalidSignatureException. Proves which credentials a client (or the demo) used.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "aws/support/http_test_server.h"
#include "aws/support/sigv4_verifier.h"
#include "websession/aws/credentials.h"
#include "websession/net/http_client.h"

namespace websession::testing {

class SigningRelay {
 public:
  /// `target`: dynalite's URL.
  explicit SigningRelay(std::string target);

  /// From now on, accept only signatures by `c`.
  void expect(const aws::Credentials& c);
  /// The access key of each request received, or "refused: <why>".
  [[nodiscard]] std::vector<std::string> signed_with() const;
  [[nodiscard]] std::string url() const { return server_.url(); }

 private:
  TestAction handle(const TestRequest& r);

  std::string target_;
  net::HttpClient http_;
  mutable std::mutex mutex_;
  KnownCredentials known_;
  std::vector<std::string> signed_with_;
  HttpTestServer server_{[this](const TestRequest& r) { return handle(r); }};
};

}  // namespace websession::testing
