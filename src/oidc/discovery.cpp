#include "websession/oidc/discovery.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "oidc/detail/json.h"
#include "oidc/detail/text.h"
#include "oidc/detail/url.h"

namespace websession::oidc {
namespace {

constexpr std::string_view kDocument = "the provider configuration";
constexpr std::string_view kConfigError = "invalid_configuration";

Error config_error(std::string message) { return detail::invalid(std::move(message), kConfigError); }

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// An endpoint: an absolute https URL (http only on loopback, and only for a development issuer).
Result<std::string> endpoint(const boost::json::object& doc, std::string_view name, bool required, bool development) {
  auto value = detail::optional_string(doc, name, kDocument, kConfigError);
  if (!value) return std::move(value).error();
  if (!value->has_value()) {
    if (required) return config_error(std::string(kDocument) + " has no \"" + std::string(name) + "\"");
    return std::string();
  }
  const auto parts = detail::split_url(**value);
  const std::string what = std::string(kDocument) + "'s \"" + std::string(name) + "\"";
  if (!parts) return config_error(what + " is not an absolute http(s) URL without user information or fragment");
  if (parts->scheme != "https" && !(development && detail::is_loopback_host(parts->host))) {
    return config_error(what + " is not an https URL");
  }
  return std::move(**value);
}

Result<std::vector<JwsAlgorithm>> signing_algorithms(const boost::json::object& doc) {
  auto names = detail::string_list(doc, "id_token_signing_alg_values_supported", false, kDocument, kConfigError);
  if (!names) return std::move(names).error();
  std::vector<JwsAlgorithm> out;
  for (const JwsAlgorithm alg : kAllowedAlgorithms) {
    if (contains(*names, to_string(alg))) out.push_back(alg);
  }
  if (out.empty()) {
    return config_error("the provider signs ID tokens with none of the accepted algorithms (RS256, PS256, ES256)");
  }
  return out;
}

struct EndpointField {
  std::string_view name;
  std::string ProviderMetadata::*field;
  bool required;
};

constexpr EndpointField kEndpoints[] = {
    {"authorization_endpoint", &ProviderMetadata::authorization_endpoint, true},
    {"token_endpoint", &ProviderMetadata::token_endpoint, true},
    {"jwks_uri", &ProviderMetadata::jwks_uri, true},
    {"userinfo_endpoint", &ProviderMetadata::userinfo_endpoint, false},
    {"revocation_endpoint", &ProviderMetadata::revocation_endpoint, false},
    {"end_session_endpoint", &ProviderMetadata::end_session_endpoint, false},
    {"introspection_endpoint", &ProviderMetadata::introspection_endpoint, false},
};

struct FlagField {
  std::string_view name;
  bool ProviderMetadata::*field;
};

constexpr FlagField kFlags[] = {
    {"backchannel_logout_supported", &ProviderMetadata::backchannel_logout_supported},
    {"backchannel_logout_session_supported", &ProviderMetadata::backchannel_logout_session_supported},
    {"authorization_response_iss_parameter_supported",
     &ProviderMetadata::authorization_response_iss_parameter_supported},
};

Status read_lists(const boost::json::object& doc, ProviderMetadata& out) {
  auto response_types = detail::string_list(doc, "response_types_supported", false, kDocument, kConfigError);
  if (!response_types) return std::move(response_types).error();
  if (!contains(*response_types, "code")) {
    return config_error("the provider does not support the authorization code flow (no \"code\" in response_types_supported)");
  }
  auto algs = signing_algorithms(doc);
  if (!algs) return std::move(algs).error();
  out.id_token_signing_algs = std::move(*algs);
  auto scopes = detail::string_list(doc, "scopes_supported", false, kDocument, kConfigError);
  if (!scopes) return std::move(scopes).error();
  out.scopes_supported = std::move(*scopes);
  auto auth = detail::string_list(doc, "token_endpoint_auth_methods_supported", false, kDocument, kConfigError);
  if (!auth) return std::move(auth).error();
  out.token_endpoint_auth_methods = auth->empty() && !doc.contains("token_endpoint_auth_methods_supported")
                                        ? std::vector<std::string>{"client_secret_basic"}
                                        : std::move(*auth);
  auto pkce = detail::string_list(doc, "code_challenge_methods_supported", false, kDocument, kConfigError);
  if (!pkce) return std::move(pkce).error();
  if (doc.contains("code_challenge_methods_supported") && !contains(*pkce, "S256")) {
    return config_error("the provider does not support PKCE with S256");
  }
  out.code_challenge_methods = std::move(*pkce);
  return {};
}

Status check_issuer(std::string_view issuer) {
  const auto parts = detail::split_url(issuer);
  if (!parts || parts->has_query) {
    return config_error("the configured issuer is not an absolute URL without query or fragment");
  }
  if (parts->scheme != "https" && !is_development_issuer(issuer)) {
    return config_error("the configured issuer is not an https URL (http is only for localhost and 127.0.0.1)");
  }
  return {};
}

}  // namespace

std::string_view to_string(ClientAuthMethod method) noexcept {
  return method == ClientAuthMethod::client_secret_post ? "client_secret_post" : "client_secret_basic";
}

bool ProviderMetadata::supports(ClientAuthMethod method) const {
  return contains(token_endpoint_auth_methods, to_string(method));
}

std::string discovery_url(std::string_view issuer) {
  if (!issuer.empty() && issuer.back() == '/') issuer.remove_suffix(1);
  return std::string(issuer) + "/.well-known/openid-configuration";
}

bool is_development_issuer(std::string_view issuer) {
  const auto parts = detail::split_url(issuer);
  return parts && parts->scheme == "http" && detail::is_loopback_host(parts->host);
}

Result<ProviderMetadata> parse_provider_metadata(std::string_view json, std::string_view expected_issuer) {
  if (Status s = check_issuer(expected_issuer); !s) return std::move(s).error();
  auto doc = detail::parse_object(json, kDocument, kConfigError);
  if (!doc) return std::move(doc).error();
  auto issuer = detail::optional_string(*doc, "issuer", kDocument, kConfigError);
  if (!issuer) return std::move(issuer).error();
  if (!issuer->has_value()) return config_error("the provider configuration has no \"issuer\"");
  if (**issuer != expected_issuer) {
    return config_error("the provider configuration's issuer " + detail::quote_for_message(**issuer, 256) +
                        " is not the configured issuer " + detail::quote_for_message(expected_issuer, 256));
  }
  ProviderMetadata out;
  out.issuer = std::move(**issuer);
  const bool development = is_development_issuer(out.issuer);
  for (const EndpointField& e : kEndpoints) {
    auto url = endpoint(*doc, e.name, e.required, development);
    if (!url) return std::move(url).error();
    out.*e.field = std::move(*url);
  }
  for (const FlagField& f : kFlags) {
    auto flag = detail::optional_bool(*doc, f.name, kDocument, kConfigError);
    if (!flag) return std::move(flag).error();
    out.*f.field = flag->value_or(false);
  }
  if (Status s = read_lists(*doc, out); !s) return std::move(s).error();
  return out;
}

}  // namespace websession::oidc
