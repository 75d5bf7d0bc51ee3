#include "websession/oidc/flow.h"

#include <openssl/evp.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <set>
#include <stdexcept>
#include <system_error>

#include "oidc/detail/json.h"
#include "oidc/detail/text.h"
#include "websession/oidc/jose.h"

namespace websession::oidc {
namespace {

// 32 bytes from getrandom(2), base64url: 43 characters.
std::string random_value() {
  std::array<unsigned char, 32> bytes{};
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::getrandom(bytes.data() + done, bytes.size() - done, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    done += static_cast<std::size_t>(got);
  }
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Appends "&name=value" (or "name=value" first) with `encode` applied to both.
void append_param(std::string& out, std::string_view name, std::string_view value,
                  std::string (*encode)(std::string_view)) {
  if (!out.empty() && out.back() != '?' && out.back() != '&') out += '&';
  out += encode(name);
  out += '=';
  out += encode(value);
}

std::string with_query(std::string_view endpoint) {
  std::string url(endpoint);
  url += endpoint.find('?') == std::string_view::npos ? '?' : '&';
  return url;
}

void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

// Adds the client's authentication to a form request.
FormRequest authenticated(const ClientCredentials& client, std::string body) {
  FormRequest out;
  if (client.method == ClientAuthMethod::client_secret_post) {
    append_param(body, "client_id", client.client_id, detail::form_encode);
    append_param(body, "client_secret", client.client_secret, detail::form_encode);
  } else {
    out.authorization = basic_authorization(client.client_id, client.client_secret);
  }
  out.body = std::move(body);
  return out;
}

}  // namespace

std::string make_code_verifier() { return random_value(); }
std::string make_state() { return random_value(); }
std::string make_nonce() { return random_value(); }

std::string code_challenge_s256(std::string_view verifier) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(verifier.data(), verifier.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL could not compute SHA-256");
  }
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), size));
}

bool is_valid_code_verifier(std::string_view verifier) noexcept {
  return verifier.size() >= 43 && verifier.size() <= 128 &&
         std::all_of(verifier.begin(), verifier.end(), [](char c) { return is_base64url_char(c) || c == '.' || c == '~'; });
}

bool is_valid_state(std::string_view state) noexcept {
  return state.size() == kRandomValueLength && std::all_of(state.begin(), state.end(), is_base64url_char);
}

SignInAttempt SignInAttempt::start() { return SignInAttempt{make_state(), make_nonce(), make_code_verifier()}; }

std::string build_authorization_url(const AuthorizationRequest& r) {
  require(!r.authorization_endpoint.empty(), "AuthorizationRequest: authorization_endpoint is empty");
  require(!r.client_id.empty(), "AuthorizationRequest: client_id is empty");
  require(!r.redirect_uri.empty(), "AuthorizationRequest: redirect_uri is empty");
  require(detail::has_scope(r.scope, "openid"), "AuthorizationRequest: scope does not contain openid");
  require(!r.state.empty() && !r.nonce.empty(), "AuthorizationRequest: state and nonce are required");
  require(!r.code_challenge.empty(), "AuthorizationRequest: code_challenge is required");
  std::string url = with_query(r.authorization_endpoint);
  const std::pair<std::string_view, std::string_view> params[] = {
      {"response_type", "code"}, {"client_id", r.client_id}, {"redirect_uri", r.redirect_uri},
      {"scope", r.scope}, {"state", r.state}, {"nonce", r.nonce},
      {"code_challenge", r.code_challenge}, {"code_challenge_method", "S256"}};
  for (const auto& [name, value] : params) append_param(url, name, value, detail::percent_encode);
  if (!r.prompt.empty()) append_param(url, "prompt", r.prompt, detail::percent_encode);
  if (r.max_age) append_param(url, "max_age", std::to_string(r.max_age->count()), detail::percent_encode);
  if (!r.login_hint.empty()) append_param(url, "login_hint", r.login_hint, detail::percent_encode);
  for (const auto& [name, value] : r.extra) append_param(url, name, value, detail::percent_encode);
  return url;
}

Result<CallbackParams> parse_callback(std::string_view query) {
  CallbackParams out;
  std::set<std::string> seen;
  const std::pair<std::string_view, std::string*> known[] = {
      {"code", &out.code}, {"state", &out.state}, {"iss", &out.iss},
      {"error", &out.error}, {"error_description", &out.error_description}};
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    auto name = detail::percent_decode(pair.substr(0, eq), true);
    auto value = detail::percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!name || !value) return detail::invalid("the callback's query has a malformed escape", "invalid_request");
    if (!seen.insert(*name).second) {
      return detail::invalid("the callback's query has the parameter " + detail::quote_for_message(*name) + " twice",
                             "invalid_request");
    }
    for (const auto& [known_name, field] : known) {
      if (*name == known_name) *field = std::move(*value);
    }
    if (*name == "iss") out.has_iss = true;
  }
  return out;
}

Result<std::string> check_callback(const CallbackParams& params, std::string_view issuer, bool iss_parameter_supported) {
  if (params.has_iss && params.iss != issuer) {
    return detail::invalid("the authorization response names another issuer than the configured one (RFC 9207)",
                           "invalid_issuer");
  }
  if (!params.has_iss && iss_parameter_supported) {
    return detail::invalid("the authorization response has no iss, which this provider always sends (RFC 9207)",
                           "invalid_issuer");
  }
  if (!params.error.empty()) {
    std::string message = "the provider refused the sign-in: " + detail::printable(params.error, 64);
    if (!params.error_description.empty()) message += ": " + detail::printable(params.error_description);
    const ErrorCode code = params.error == "access_denied" ? ErrorCode::permission_denied : ErrorCode::invalid_argument;
    return Error(code, std::move(message), detail::printable(params.error, 64));
  }
  if (params.code.empty()) return detail::invalid("the authorization response has no code", "invalid_request");
  return params.code;
}

std::string basic_authorization(std::string_view client_id, std::string_view client_secret) {
  const std::string credentials = detail::form_encode(client_id) + ":" + detail::form_encode(client_secret);
  std::string encoded(4 * ((credentials.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                reinterpret_cast<const unsigned char*>(credentials.data()),
                                static_cast<int>(credentials.size()));
  encoded.resize(static_cast<std::size_t>(n));
  return "Basic " + encoded;
}

FormRequest build_token_request(const ClientCredentials& client, std::string_view code, std::string_view redirect_uri,
                                std::string_view code_verifier) {
  std::string body;
  append_param(body, "grant_type", "authorization_code", detail::form_encode);
  append_param(body, "code", code, detail::form_encode);
  append_param(body, "redirect_uri", redirect_uri, detail::form_encode);
  append_param(body, "code_verifier", code_verifier, detail::form_encode);
  return authenticated(client, std::move(body));
}

FormRequest build_refresh_request(const ClientCredentials& client, std::string_view refresh_token, std::string_view scope) {
  std::string body;
  append_param(body, "grant_type", "refresh_token", detail::form_encode);
  append_param(body, "refresh_token", refresh_token, detail::form_encode);
  if (!scope.empty()) append_param(body, "scope", scope, detail::form_encode);
  return authenticated(client, std::move(body));
}

FormRequest build_revocation_request(const ClientCredentials& client, std::string_view token,
                                     std::string_view token_type_hint) {
  std::string body;
  append_param(body, "token", token, detail::form_encode);
  if (!token_type_hint.empty()) append_param(body, "token_type_hint", token_type_hint, detail::form_encode);
  return authenticated(client, std::move(body));
}

std::string build_logout_url(const LogoutRequest& r) {
  require(!r.end_session_endpoint.empty(), "LogoutRequest: end_session_endpoint is empty");
  std::string url = with_query(r.end_session_endpoint);
  const std::pair<std::string_view, std::string_view> params[] = {
      {"id_token_hint", r.id_token_hint}, {"post_logout_redirect_uri", r.post_logout_redirect_uri},
      {"state", r.state}, {"client_id", r.client_id}};
  for (const auto& [name, value] : params) {
    if (!value.empty()) append_param(url, name, value, detail::percent_encode);
  }
  for (const auto& [name, value] : r.extra) append_param(url, name, value, detail::percent_encode);
  if (url.back() == '?' || url.back() == '&') url.pop_back();
  return url;
}

}  // namespace websession::oidc
