// How DynamoDB's error answers become websession::Error values, and which of them are retried.
#pragma once

#include <string_view>

#include "websession/result.h"

namespace websession::dynamodb {

/// service_type of a failed conditional write (code aborted). The session store relies on it.
inline constexpr std::string_view kConditionalCheckFailed = "ConditionalCheckFailedException";
/// service_type when the response's x-amz-crc32 did not match its body (retried).
inline constexpr std::string_view kCrc32Mismatch = "CRC32Mismatch";
/// service_type of a 2xx answer whose body is not the expected JSON (retried).
inline constexpr std::string_view kMalformedResponse = "MalformedResponse";
/// service_type of transport failures (retried).
inline constexpr std::string_view kNetworkError = "NetworkError";
inline constexpr std::string_view kTimeout = "Timeout";
/// service_type of a TLS failure (a certificate that does not verify) or an answer that is not
/// HTTP/1.1 or too large: unavailable, but not retried (trying again cannot help).
inline constexpr std::string_view kTlsError = "TlsError";
inline constexpr std::string_view kProtocolError = "ProtocolError";
/// service_type when the server does not implement the operation (dynalite and UpdateTimeToLive,
/// UpdateContinuousBackups): invalid_argument.
inline constexpr std::string_view kUnknownOperation = "UnknownOperationException";

/// Maps an error answer (HTTP status and body) to an Error:
/// - `__type` (after its '#') names the error; the message comes from `message` or `Message`;
/// - ConditionalCheckFailedException: aborted; ResourceNotFoundException: not_found;
///   ResourceInUseException: already_exists; ValidationException, SerializationException,
///   ItemCollectionSizeLimitExceededException: invalid_argument;
/// - throttling, InternalServerError, ServiceUnavailable, any 5xx: unavailable (retryable);
/// - authentication and authorization errors, ExpiredToken: permission_denied;
/// - anything else (including a non-JSON body with a 4xx status): internal.
/// A `__type` naming the client's own final transport failures (kTlsError, kProtocolError) is read
/// as no `__type`: a server cannot make its 5xx final.
/// A body that is not DynamoDB's JSON (an HTML page from a proxy) never reaches the message; the
/// message then names the HTTP status only.
[[nodiscard]] Error error_from_response(long http_status, std::string_view body);

/// Whether a call that failed with `error` may be retried (transient: code unavailable, except TLS
/// and protocol failures).
[[nodiscard]] bool is_retryable(const Error& error) noexcept;

/// Whether `service_type` is a throttling error (counted separately in the metrics).
[[nodiscard]] bool is_throttling(std::string_view service_type) noexcept;

/// Whether `service_type` says the (temporary) credentials expired: refresh them and retry once.
[[nodiscard]] bool is_expired_token(std::string_view service_type) noexcept;

}  // namespace websession::dynamodb
