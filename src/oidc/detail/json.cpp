#include "oidc/detail/json.h"

#include <cmath>

#include <boost/json/parse.hpp>

namespace websession::oidc::detail {
namespace {

std::string member(std::string_view what, std::string_view name) {
  std::string s(what);
  s += "'s \"";
  s += name;
  s += '"';
  return s;
}

}  // namespace

Error invalid(std::string message, std::string_view service_type) {
  return Error(ErrorCode::invalid_argument, std::move(message), std::string(service_type));
}

Result<boost::json::object> parse_object(std::string_view json, std::string_view what,
                                         std::string_view service_type) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec) return invalid(std::string(what) + " is not valid JSON", service_type);
  if (!v.is_object()) return invalid(std::string(what) + " is not a JSON object", service_type);
  return std::move(v.as_object());
}

Result<std::optional<std::string>> optional_string(const boost::json::object& o, std::string_view name,
                                                   std::string_view what, std::string_view service_type) {
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return invalid(member(what, name) + " is not a string", service_type);
  return std::optional<std::string>(std::string(v->get_string()));
}

Result<std::optional<bool>> optional_bool(const boost::json::object& o, std::string_view name,
                                          std::string_view what, std::string_view service_type) {
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_bool()) return invalid(member(what, name) + " is not a boolean", service_type);
  return std::optional<bool>(v->get_bool());
}

Result<std::optional<std::int64_t>> optional_seconds(const boost::json::object& o, std::string_view name,
                                                     std::string_view what, std::string_view service_type) {
  // 9999-12-31T23:59:59Z: anything later is no date but an attempt at overflow.
  constexpr std::int64_t kLatest = 253402300799;
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr) return std::optional<std::int64_t>();
  std::int64_t seconds = -1;
  if (v->is_int64()) {
    seconds = v->get_int64();
  } else if (v->is_uint64()) {
    seconds = v->get_uint64() > static_cast<std::uint64_t>(kLatest) ? kLatest + 1 : static_cast<std::int64_t>(v->get_uint64());
  } else if (v->is_double()) {
    const double d = v->get_double();
    if (std::isfinite(d) && d >= 0 && d <= static_cast<double>(kLatest)) seconds = static_cast<std::int64_t>(d);
  } else {
    return invalid(member(what, name) + " is not a number", service_type);
  }
  if (seconds < 0 || seconds > kLatest) {
    return invalid(member(what, name) + " is not a date between 1970 and 9999", service_type);
  }
  return std::optional<std::int64_t>(seconds);
}

Result<std::vector<std::string>> string_list(const boost::json::object& o, std::string_view name,
                                             bool allow_single, std::string_view what,
                                             std::string_view service_type) {
  std::vector<std::string> out;
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr) return out;
  if (allow_single && v->is_string()) {
    out.emplace_back(v->get_string());
    return out;
  }
  if (!v->is_array()) return invalid(member(what, name) + " is not an array of strings", service_type);
  for (const boost::json::value& item : v->get_array()) {
    if (!item.is_string()) return invalid(member(what, name) + " is not an array of strings", service_type);
    out.emplace_back(item.get_string());
  }
  return out;
}

}  // namespace websession::oidc::detail
