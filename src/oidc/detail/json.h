// Typed reads of JSON members for the oidc part: each says which document and member was wrong, and
// never quotes a value (a value may be a token or a secret).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "websession/result.h"

namespace websession::oidc::detail {

/// An invalid_argument Error with `service_type`.
Error invalid(std::string message, std::string_view service_type);

/// Parses `json` as a JSON object; the error says "<what> is not a JSON object".
Result<boost::json::object> parse_object(std::string_view json, std::string_view what,
                                         std::string_view service_type);

/// The string member `name`: nullopt when absent; an error naming `what` when not a string.
Result<std::optional<std::string>> optional_string(const boost::json::object& o, std::string_view name,
                                                   std::string_view what, std::string_view service_type);

/// The boolean member `name`: nullopt when absent; an error when not a boolean.
Result<std::optional<bool>> optional_bool(const boost::json::object& o, std::string_view name,
                                          std::string_view what, std::string_view service_type);

/// The NumericDate member `name` (RFC 7519 section 2: seconds since the epoch, possibly fractional,
/// truncated here): nullopt when absent; an error when not a finite number between 0 and year 9999.
Result<std::optional<std::int64_t>> optional_seconds(const boost::json::object& o, std::string_view name,
                                                     std::string_view what, std::string_view service_type);

/// The member `name` as a list of strings: absent is empty; a single string is a list of one when
/// `allow_single` (the JWT "aud" form); an error for anything else.
Result<std::vector<std::string>> string_list(const boost::json::object& o, std::string_view name,
                                             bool allow_single, std::string_view what,
                                             std::string_view service_type);

}  // namespace websession::oidc::detail
