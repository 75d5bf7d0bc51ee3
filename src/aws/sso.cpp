#include "websession/aws/sso.h"

#include <openssl/evp.h>

#include <array>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "aws/detail/util.h"
#include "websession/aws/sigv4.h"
#include "websession/net/http_client.h"

namespace websession::aws {
namespace {

using std::chrono::system_clock;

std::string login_hint(const SsoConfig& config) { return "run aws sso login --profile " + config.profile; }

const boost::json::object* as_object(const boost::json::value* v) {
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

std::optional<std::string> string_field(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return std::nullopt;
  return std::string(it->value().get_string());
}

// The portal's error, named by its x-amzn-ErrorType and message (the bearer token scrubbed).
Error portal_error(const SsoConfig& config, const net::Response& response, std::string_view token) {
  const unsigned status = response.status;
  std::string type;
  if (const std::string* t = response.header("x-amzn-errortype")) type = t->substr(0, t->find(':'));
  std::string message = "SSO portal GetRoleCredentials: HTTP status " + std::to_string(status);
  if (!type.empty()) message.append(" ").append(detail::safe_excerpt(type, {}, 64));
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(response.body, ec);
  const auto* object = ec ? nullptr : as_object(&body);
  if (object != nullptr) {
    auto text = string_field(*object, "message");
    if (!text) text = string_field(*object, "Message");
    const std::array<std::string_view, 1> secrets{token};
    if (text && !text->empty()) message.append(": ").append(detail::safe_excerpt(*text, secrets));
  }
  if (status >= 500 || status == 429) return Error(ErrorCode::unavailable, std::move(message), type);
  if (status == 401 || status == 403) {
    message.append(" (the SSO sign-in may have ended: ").append(login_hint(config)).append(")");
  }
  return Error(ErrorCode::permission_denied, std::move(message), type);
}

}  // namespace

std::string sso_cache_key(const SsoConfig& config) {
  const std::string& input = config.session_name.empty() ? config.start_url : config.session_name;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1) return {};
  return hex(std::span<const unsigned char>(digest.data(), size));
}

std::optional<std::string> sso_token_cache_path(const GetEnv& getenv, const SsoConfig& config) {
  auto home = detail::non_empty(getenv, "HOME");
  if (!home) return std::nullopt;
  return *home + "/.aws/sso/cache/" + sso_cache_key(config) + ".json";
}

Result<SsoToken> parse_sso_token(std::string_view json) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(json, ec);
  const auto* object = ec ? nullptr : as_object(&doc);
  if (object == nullptr) return Error(ErrorCode::permission_denied, "the SSO token cache file is not JSON");
  auto token = string_field(*object, "accessToken");
  auto expires = string_field(*object, "expiresAt");
  if (!token || token->empty() || !expires) {
    return Error(ErrorCode::permission_denied, "the SSO token cache file lacks accessToken or expiresAt");
  }
  auto at = parse_iso8601(*expires);
  if (!at) return Error(ErrorCode::permission_denied, "the SSO token cache file has a malformed expiresAt");
  return SsoToken{std::move(*token), *at};
}

Result<Credentials> parse_sso_role_credentials(std::string_view json) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(json, ec);
  const auto* object = ec ? nullptr : as_object(&doc);
  const boost::json::object* role = nullptr;
  if (object != nullptr) {
    if (auto it = object->find("roleCredentials"); it != object->end()) role = as_object(&it->value());
  }
  const auto malformed = [] {
    return Error(ErrorCode::unavailable, "SSO portal GetRoleCredentials: malformed answer", "MalformedResponse");
  };
  if (role == nullptr) return malformed();
  auto key = string_field(*role, "accessKeyId");
  auto secret = string_field(*role, "secretAccessKey");
  auto token = string_field(*role, "sessionToken");
  auto it = role->find("expiration");
  if (!key || !secret || !token || key->empty() || secret->empty() || it == role->end()) return malformed();
  boost::system::error_code number_ec;
  const auto millis = it->value().to_number<std::int64_t>(number_ec);
  if (number_ec || millis <= 0) return malformed();
  Credentials c{std::move(*key), std::move(*secret), std::move(*token),
                system_clock::time_point(std::chrono::milliseconds(millis))};
  return c;
}

std::string sso_endpoint(const GetEnv& getenv, std::string_view region, const ProfileProperties* profile,
                         const SharedConfig& config) {
  return resolve_service_endpoint(getenv, {"SSO", "sso", "portal.sso"}, region, profile, config);
}

SsoCredentialsProvider::SsoCredentialsProvider(SsoConfig config, GetEnv getenv, ServiceCallOptions options,
                                               SystemClock clock)
    : config_(std::move(config)),
      getenv_(or_process_environment(std::move(getenv))),
      clock_(std::move(clock)),
      http_(std::make_unique<detail::ServiceHttp>(std::move(options), getenv_)) {
  if (config_.endpoint.empty()) config_.endpoint = sso_endpoint(getenv_, config_.region);
}

SsoCredentialsProvider::~SsoCredentialsProvider() = default;

Result<SsoToken> SsoCredentialsProvider::token() const {
  auto path = sso_token_cache_path(getenv_, config_);
  if (!path) return Error(ErrorCode::permission_denied, "no HOME to find the SSO token cache in");
  auto text = detail::read_file(*path);
  if (!text) {
    return Error(ErrorCode::permission_denied, "no SSO token in " + *path + ": " + login_hint(config_));
  }
  auto token = parse_sso_token(*text);
  if (!token) return detail::with_context(std::move(token).error(), *path);
  const auto now = clock_ ? clock_() : system_clock::now();
  if (token->expires_at <= now) {
    return Error(ErrorCode::permission_denied, "the SSO token in " + *path + " has expired: " + login_hint(config_));
  }
  return token;
}

Result<CredentialsPtr> SsoCredentialsProvider::credentials() {
  return run_blocking([this] { return co_credentials(); });
}

Task<Result<CredentialsPtr>> SsoCredentialsProvider::co_credentials() {
  auto token = this->token();
  if (!token) co_return std::move(token).error();
  auto endpoint = parse_endpoint(config_.endpoint);
  if (!endpoint) co_return Error(ErrorCode::permission_denied, "SSO portal endpoint: " + endpoint.error().message);
  std::string text = endpoint->url;
  while (!text.empty() && text.back() == '/') text.pop_back();
  text += "/federation/credentials?role_name=";
  uri_encode(config_.role_name, text);
  text += "&account_id=";
  uri_encode(config_.account_id, text);
  auto url = net::Url::parse(text);
  if (!url) co_return Error(ErrorCode::permission_denied, "SSO portal endpoint: " + url.error().message);
  const std::array<net::HeaderView, 2> headers{
      {{"x-amz-sso_bearer_token", token->access_token}, {"Accept", "application/json"}}};
  const net::Request request{"GET", &*url, {}, headers, {}};
  auto response = co_await http_->co_send(request);
  if (!response) {
    co_return detail::with_context(std::move(response).error(), "SSO portal at " + endpoint->url);
  }
  if (response->status != 200) co_return portal_error(config_, *response, token->access_token);
  co_return detail::to_pointer(parse_sso_role_credentials(response->body));
}

}  // namespace websession::aws
