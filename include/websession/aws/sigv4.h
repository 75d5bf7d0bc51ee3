// AWS Signature Version 4 (header signing), as pure functions plus a Signer that caches the
// derived signing key.
//
//   canonical_request() -> string_to_sign() -> signature()
//
// Each step is testable on its own against the AWS SigV4 test suite.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "websession/aws/credentials.h"
#include "websession/result.h"

namespace websession::detail {
class KeyedHmacSha256;
}  // namespace websession::detail

namespace websession::aws {

/// A header of the request to sign. Names are case-insensitive; repeated names are combined in
/// order, as the suite requires.
struct HeaderView {
  std::string_view name;
  std::string_view value;
};

/// What SigV4 signs of an HTTP request.
struct SignableRequest {
  std::string_view method;  ///< "GET", "POST", ...
  /// The path, not percent-encoded ("/" for DynamoDB). It is normalized (dot segments and repeated
  /// slashes removed) and percent-encoded, as the SDKs do for every service but S3.
  std::string_view path = "/";
  /// The raw query string without '?' ("" if none); parameters may be percent-encoded or not.
  std::string_view query;
  /// Every header to sign, `host` included.
  std::span<const HeaderView> headers;
  std::string_view payload;
};

/// The canonical request and the list of signed headers ("host;x-amz-date").
struct CanonicalRequest {
  std::string text;
  std::string signed_headers;
};

/// SHA-256 digest.
using Sha256Digest = std::array<unsigned char, 32>;

/// SHA-256 of `data` (OpenSSL EVP).
[[nodiscard]] Sha256Digest sha256(std::string_view data);
/// HMAC-SHA256 of `data` under `key`.
[[nodiscard]] Sha256Digest hmac_sha256(std::string_view key, std::string_view data);
/// Lower-case hex of bytes.
[[nodiscard]] std::string hex(std::span<const unsigned char> bytes);
/// Lower-case hex of the SHA-256 of `data`: the payload hash of a canonical request.
[[nodiscard]] std::string sha256_hex(std::string_view data);

/// RFC 3986 percent-encoding of everything but unreserved characters (A-Z a-z 0-9 - . _ ~).
/// `keep_slash` leaves '/' alone (paths).
void uri_encode(std::string_view in, std::string& out, bool keep_slash = false);

/// Task 1: the canonical request. `payload_hash` is sha256_hex(payload) (passed in so callers that
/// already know it, or send UNSIGNED-PAYLOAD, need not hash twice). invalid_argument when a header
/// name or value contains CR, LF or NUL: such a header cannot be sent as signed.
[[nodiscard]] Result<CanonicalRequest> canonical_request(const SignableRequest& request,
                                                         std::string_view payload_hash);

/// The credential scope "20150830/us-east-1/service/aws4_request".
[[nodiscard]] std::string credential_scope(std::string_view date, std::string_view region,
                                           std::string_view service);

/// Task 2: the string to sign. `amz_date` is "20150830T123600Z".
[[nodiscard]] std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                                         std::string_view canonical_request);

/// Task 3a: the signing key, HMAC chain of "AWS4"+secret, date, region, service, "aws4_request".
[[nodiscard]] Sha256Digest derive_signing_key(std::string_view secret_access_key, std::string_view date,
                                              std::string_view region, std::string_view service);

/// Task 3b: the signature, lower-case hex of HMAC(signing key, string to sign).
[[nodiscard]] std::string signature(const Sha256Digest& signing_key, std::string_view string_to_sign);

/// Task 4: the Authorization header's value.
[[nodiscard]] std::string authorization_header(std::string_view access_key_id, std::string_view scope,
                                               std::string_view signed_headers,
                                               std::string_view signature_hex);

/// "20150830T123600Z" for a UTC time point.
[[nodiscard]] std::string format_amz_date(std::chrono::system_clock::time_point time);

/// Signs requests for one region and service. Thread-safe. The signing key depends only on the
/// secret, the day, the region and the service, so it is derived once per day and reused.
class Signer {
 public:
  /// `clock` defaults to system_clock::now; tests inject a fixed time.
  Signer(std::string region, std::string service, SystemClock clock = {});

  /// The time to sign with, from the injected clock.
  [[nodiscard]] std::chrono::system_clock::time_point now() const;

  /// Signs `request`, whose headers must already contain `host`, `x-amz-date` equal to
  /// `amz_date` and, for temporary credentials, `x-amz-security-token`. Returns the Authorization
  /// header value; invalid_argument as canonical_request().
  [[nodiscard]] Result<std::string> authorization(const Credentials& credentials, const SignableRequest& request,
                                          std::string_view amz_date);

  [[nodiscard]] const std::string& region() const noexcept { return region_; }
  [[nodiscard]] const std::string& service() const noexcept { return service_; }

 private:
  // What one day's signatures share: the signing key as a keyed HMAC (its pads absorbed once) and
  // the credential scope.
  struct DayKey {
    std::unique_ptr<const websession::detail::KeyedHmacSha256> mac;
    std::string scope;
    DayKey(std::unique_ptr<const websession::detail::KeyedHmacSha256> m, std::string s);
    ~DayKey();
  };
  // The day's key for the secret and day given, derived once and cached.
  std::shared_ptr<const DayKey> day_key(std::string_view secret, std::string_view date);

  std::string region_;
  std::string service_;
  SystemClock clock_;
  std::mutex mutex_;
  // One cached key: the secret and day it was derived for. Kept only in memory, never printed.
  std::string cached_secret_;
  std::string cached_date_;
  std::shared_ptr<const DayKey> cached_key_;
};

}  // namespace websession::aws
