// What the ECS/EKS container credentials endpoint and EC2 instance metadata (IMDS) answer:
// parse_credentials_document() on any body, and parse_iso8601() on the whole input and on the
// document's Expiration.
//
// Invariants: accepted credentials have a non-empty key and secret; failures are unavailable or
// permission_denied and do not depend on the secret or the token; an accepted timestamp has digits
// where the format has them, and formatting it again parses to the same instant.
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "fuzz_support.h"
#include "websession/aws/credentials.h"

namespace {

using std::chrono::system_clock;

bool digits_where_expected(std::string_view t) {
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (t[i] < '0' || t[i] > '9') return false;
  }
  return true;
}

std::string format_iso8601(system_clock::time_point t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<seconds>(t - day)};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

void check_timestamp(std::string_view text) {
  const auto t = websession::aws::parse_iso8601(text);
  if (!t) return;
  FUZZ_CHECK(text.size() >= 19 && digits_where_expected(text));
  FUZZ_CHECK(websession::aws::parse_iso8601(format_iso8601(*t)) == t);
}

// The document with its secrets (SecretAccessKey, Token) replaced by other, equally empty or
// non-empty strings; nullopt when it is not a JSON object or holds neither.
std::optional<std::string> with_other_secrets(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(json, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  bool changed = false;
  for (std::string_view key : {"SecretAccessKey", "Token"}) {
    auto* v = doc.get_object().if_contains(key);
    if (v == nullptr || !v->is_string()) continue;
    const std::size_t n = v->get_string().size();
    *v = std::string(n, v->get_string() == std::string(n, 'x') ? 'y' : 'x');
    changed = true;
  }
  if (!changed) return std::nullopt;
  std::string text = boost::json::serialize(doc);
  // A number too large for a double (2e308) serializes as text Boost.JSON cannot read back.
  (void)boost::json::parse(text, ec);
  if (ec) return std::nullopt;
  return text;
}

// The document's Expiration, if it is a string.
std::optional<std::string> expiration(std::string_view json) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(json, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  const auto* v = doc.get_object().if_contains("Expiration");
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// A failure's message never depends on the secrets, so it cannot leak them.
void check_document(std::string_view json) {
  if (const auto when = expiration(json)) check_timestamp(*when);
  const auto c = websession::aws::parse_credentials_document(json);
  if (c) {
    FUZZ_CHECK(!c->access_key_id.empty() && !c->secret_access_key.empty());
    return;
  }
  const auto code = c.error().code;
  FUZZ_CHECK(code == websession::ErrorCode::unavailable || code == websession::ErrorCode::permission_denied);
  if (const auto other = with_other_secrets(json)) {
    const auto again = websession::aws::parse_credentials_document(*other);
    FUZZ_CHECK(!again && again.error().code == code && again.error().message == c.error().message);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = websession::fuzz::as_text(data, size);
  check_timestamp(text);
  check_document(text);
  return 0;
}
