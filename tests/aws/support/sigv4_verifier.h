// Verifies a received request's SigV4 signature the way AWS does: the expected signature is
// computed with the project's signer (canonical request, string to sign, signing key) over the
// request as it arrived, with the secret of the access key it names.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "aws/support/http_test_server.h"
#include "websession/aws/credentials.h"

namespace websession::testing {

/// The access keys a stand-in accepts, by access key ID.
using KnownCredentials = std::map<std::string, aws::Credentials, std::less<>>;

/// The outcome of checking one request.
struct SigV4Check {
  /// Empty when the signature is valid; else why not ("unknown access key", "signature mismatch").
  std::string failure;
  /// The access key ID the request was signed with (when it could be read).
  std::string access_key_id;
  std::string region;
};

/// Checks `request`'s Authorization header for `service`: the credential scope, the signed headers
/// (host and x-amz-date required; x-amz-security-token required and equal for temporary
/// credentials), and the signature over the request as received.
[[nodiscard]] SigV4Check verify_sigv4(const TestRequest& request, const KnownCredentials& known,
                                      std::string_view service);

/// Percent-decodes an application/x-www-form-urlencoded body into its fields.
[[nodiscard]] std::map<std::string, std::string> parse_form(std::string_view body);

}  // namespace websession::testing
