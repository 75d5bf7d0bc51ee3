#include "websession/dynamodb/errors.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <string>

namespace websession::dynamodb {
namespace {

struct Mapping {
  std::string_view type;
  ErrorCode code;
};

// DynamoDB's documented error types (the names after '#' in __type).
constexpr std::array kMappings{
    Mapping{"ConditionalCheckFailedException", ErrorCode::aborted},
    Mapping{"TransactionConflictException", ErrorCode::aborted},
    Mapping{"ResourceNotFoundException", ErrorCode::not_found},
    Mapping{"ResourceInUseException", ErrorCode::already_exists},
    Mapping{"UnknownOperationException", ErrorCode::invalid_argument},
    Mapping{"ValidationException", ErrorCode::invalid_argument},
    Mapping{"SerializationException", ErrorCode::invalid_argument},
    Mapping{"ItemCollectionSizeLimitExceededException", ErrorCode::invalid_argument},
    Mapping{"ItemCollectionSizeLimitExceeded", ErrorCode::invalid_argument},
    Mapping{"ThrottlingException", ErrorCode::unavailable},
    Mapping{"ProvisionedThroughputExceededException", ErrorCode::unavailable},
    Mapping{"RequestLimitExceeded", ErrorCode::unavailable},
    Mapping{"InternalServerError", ErrorCode::unavailable},
    Mapping{"ServiceUnavailable", ErrorCode::unavailable},
    Mapping{"UnrecognizedClientException", ErrorCode::permission_denied},
    Mapping{"InvalidSignatureException", ErrorCode::permission_denied},
    Mapping{"AccessDeniedException", ErrorCode::permission_denied},
    Mapping{"MissingAuthenticationToken", ErrorCode::permission_denied},
    Mapping{"MissingAuthenticationTokenException", ErrorCode::permission_denied},
    Mapping{"IncompleteSignature", ErrorCode::permission_denied},
    Mapping{"IncompleteSignatureException", ErrorCode::permission_denied},
    Mapping{"ExpiredToken", ErrorCode::permission_denied},
    Mapping{"ExpiredTokenException", ErrorCode::permission_denied},
};

std::string status_text(long status) { return "HTTP status " + std::to_string(status); }

}  // namespace

bool is_throttling(std::string_view t) noexcept {
  return t == "ThrottlingException" || t == "ProvisionedThroughputExceededException" ||
         t == "RequestLimitExceeded" || t == "TooManyRequestsException";
}

bool is_expired_token(std::string_view t) noexcept { return t == "ExpiredToken" || t == "ExpiredTokenException"; }

bool is_retryable(const Error& error) noexcept {
  return error.code == ErrorCode::unavailable && error.service_type != kTlsError &&
         error.service_type != kProtocolError;
}

Error error_from_response(long http_status, std::string_view body) {
  std::string type;
  std::string message;
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(body, ec);
  if (!ec && doc.is_object()) {
    const auto& obj = doc.get_object();
    if (auto it = obj.find("__type"); it != obj.end() && it->value().is_string()) {
      std::string_view full = it->value().get_string();
      auto hash = full.rfind('#');
      type = std::string(hash == std::string_view::npos ? full : full.substr(hash + 1));
    }
    for (std::string_view key : {"message", "Message"}) {
      if (auto it = obj.find(key); it != obj.end() && it->value().is_string()) {
        message = std::string(it->value().get_string());
        break;
      }
    }
  }
  // The names the client gives its own final transport failures are not the server's to claim:
  // an answer calling itself "ProtocolError" must not make a 5xx final (not retried).
  if (type == kTlsError || type == kProtocolError) type.clear();
  // A 5xx is a server-side problem whatever the body says: retryable.
  if (http_status >= 500) {
    if (type.empty()) type = http_status == 503 ? "ServiceUnavailable" : "InternalServerError";
    return Error(ErrorCode::unavailable,
                 message.empty() ? status_text(http_status) : message + " (" + status_text(http_status) + ")", type);
  }
  if (type.empty()) {
    // Not DynamoDB's JSON: a proxy's HTML page, a truncated body. Never echo it.
    ErrorCode code = http_status == 429 ? ErrorCode::unavailable
                     : (http_status == 401 || http_status == 403) ? ErrorCode::permission_denied
                                                                   : ErrorCode::internal;
    return Error(code, "unexpected answer from DynamoDB: " + status_text(http_status), "");
  }
  ErrorCode code = ErrorCode::internal;
  for (const Mapping& m : kMappings) {
    if (m.type == type) {
      code = m.code;
      break;
    }
  }
  if (code == ErrorCode::internal && is_throttling(type)) code = ErrorCode::unavailable;
  if (message.empty()) message = type + " (" + status_text(http_status) + ")";
  return Error(code, std::move(message), std::move(type));
}

}  // namespace websession::dynamodb
