#include "websession/oidc/tokens.h"

#include <algorithm>
#include <utility>

#include "oidc/detail/json.h"
#include "oidc/detail/text.h"

namespace websession::oidc {
namespace {

using std::chrono::seconds;

Error fail(std::string message) { return detail::invalid(std::move(message), kInvalidToken); }

TimePoint at(std::int64_t epoch_seconds) { return TimePoint(seconds(epoch_seconds)); }

// What an ID token and a logout token are checked for alike.
struct CommonCheck {
  std::string_view what;  // "the ID token" or "the logout token"
  std::string_view issuer;
  std::string_view client_id;
  const std::vector<std::string>& trusted_audiences;
  const std::vector<JwsAlgorithm>& algorithms;
  seconds clock_skew;
};

struct CommonClaims {
  Jws jws;
  boost::json::object claims;
  std::string issuer;
  std::vector<std::string> audience;
  std::string authorized_party;
  TimePoint issued_at;
  std::optional<TimePoint> expires;
};

std::string named(const CommonCheck& c, std::string_view rest) { return std::string(c.what) + std::string(rest); }

Status check_audience(const CommonCheck& c, CommonClaims& out) {
  auto aud = detail::string_list(out.claims, "aud", true, c.what, kInvalidToken);
  if (!aud) return std::move(aud).error();
  out.audience = std::move(*aud);
  if (std::find(out.audience.begin(), out.audience.end(), c.client_id) == out.audience.end()) {
    return fail(named(c, " is not meant for this client: its \"aud\" does not contain the client ID"));
  }
  for (const std::string& a : out.audience) {
    if (a != c.client_id &&
        std::find(c.trusted_audiences.begin(), c.trusted_audiences.end(), a) == c.trusted_audiences.end()) {
      return fail(named(c, " names an untrusted audience ") + detail::quote_for_message(a));
    }
  }
  auto azp = detail::optional_string(out.claims, "azp", c.what, kInvalidToken);
  if (!azp) return std::move(azp).error();
  if (!azp->has_value() && out.audience.size() > 1) {
    return fail(named(c, " has several audiences but no \"azp\""));
  }
  if (azp->has_value() && **azp != c.client_id) {
    return fail(named(c, "'s \"azp\" is not this client's ID"));
  }
  out.authorized_party = azp->value_or("");
  return {};
}

Status check_times(const CommonCheck& c, TimePoint now, CommonClaims& out) {
  auto iat = detail::optional_seconds(out.claims, "iat", c.what, kInvalidToken);
  if (!iat) return std::move(iat).error();
  if (!iat->has_value()) return fail(named(c, " has no \"iat\""));
  out.issued_at = at(**iat);
  if (out.issued_at > now + c.clock_skew) return fail(named(c, " was issued in the future (\"iat\")"));
  auto exp = detail::optional_seconds(out.claims, "exp", c.what, kInvalidToken);
  if (!exp) return std::move(exp).error();
  if (exp->has_value()) {
    out.expires = at(**exp);
    if (now >= *out.expires + c.clock_skew) return fail(named(c, " has expired (\"exp\")"));
  }
  return {};
}

// Signature, algorithm, issuer, audience and times: the rules both tokens share.
Result<CommonClaims> verify_common(std::string_view token, const Jwks& jwks, const CommonCheck& c, TimePoint now) {
  auto jws = verify_jws(token, jwks);
  if (!jws) return std::move(jws).error();
  if (!c.algorithms.empty() && std::find(c.algorithms.begin(), c.algorithms.end(), jws->alg) == c.algorithms.end()) {
    return fail(named(c, " is signed with ") + std::string(to_string(jws->alg)) +
                ", which this provider's configuration does not allow");
  }
  CommonClaims out;
  auto claims = detail::parse_object(jws->payload, std::string(c.what) + "'s claims", kInvalidToken);
  if (!claims) return std::move(claims).error();
  out.jws = std::move(*jws);
  out.claims = std::move(*claims);
  auto iss = detail::optional_string(out.claims, "iss", c.what, kInvalidToken);
  if (!iss) return std::move(iss).error();
  if (!iss->has_value()) return fail(named(c, " has no \"iss\""));
  if (**iss != c.issuer) {
    return fail(named(c, "'s issuer ") + detail::quote_for_message(**iss, 256) + " is not the configured issuer");
  }
  out.issuer = std::move(**iss);
  if (Status s = check_audience(c, out); !s) return std::move(s).error();
  if (Status s = check_times(c, now, out); !s) return std::move(s).error();
  return out;
}

// Whether `typ` names the media type `name` ("x+jwt" or "application/x+jwt", any case).
bool is_typ(std::string_view typ, std::string_view name) {
  std::string lower(typ);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return lower == name || lower == "application/" + std::string(name);
}

bool is_logout_typ(std::string_view typ) { return is_typ(typ, "logout+jwt"); }

// The `events` claim's back-channel logout member: nullptr when absent; an error when malformed.
Result<const boost::json::value*> logout_event(const boost::json::object& claims, std::string_view what) {
  const boost::json::value* events = claims.if_contains("events");
  if (events == nullptr) return static_cast<const boost::json::value*>(nullptr);
  if (!events->is_object()) return fail(std::string(what) + "'s \"events\" is not a JSON object");
  return events->get_object().if_contains(kBackchannelLogoutEvent);
}

Status check_id_token_kind(const CommonClaims& common) {
  if (is_logout_typ(common.jws.typ)) return fail("the ID token is typed as a logout token");
  if (is_typ(common.jws.typ, "at+jwt")) return fail("the ID token is typed as an access token");
  auto event = logout_event(common.claims, "the ID token");
  if (!event) return std::move(event).error();
  if (*event != nullptr) return fail("the ID token carries a back-channel logout event");
  return {};
}

Status check_id_token_subject(const IdTokenCheck& check, IdTokenClaims& out) {
  auto sub = detail::optional_string(out.claims, "sub", "the ID token", kInvalidToken);
  if (!sub) return std::move(sub).error();
  if (!sub->has_value() || (*sub)->empty()) return fail("the ID token has no \"sub\"");
  out.subject = std::move(**sub);
  if (check.subject && *check.subject != out.subject) {
    return fail("the ID token's subject is not the one of the original sign-in");
  }
  return {};
}

Status check_id_token_nonce(const IdTokenCheck& check, IdTokenClaims& out) {
  auto nonce = detail::optional_string(out.claims, "nonce", "the ID token", kInvalidToken);
  if (!nonce) return std::move(nonce).error();
  out.nonce = nonce->value_or("");
  if (!check.nonce) return {};
  if (!nonce->has_value()) return fail("the ID token has no \"nonce\"");
  if (check.nonce->empty() || !detail::constant_time_equal(**nonce, *check.nonce)) {
    return fail("the ID token's nonce is not the one of this sign-in attempt");
  }
  return {};
}

Status check_auth_time(const IdTokenCheck& check, TimePoint now, IdTokenClaims& out) {
  auto auth_time = detail::optional_seconds(out.claims, "auth_time", "the ID token", kInvalidToken);
  if (!auth_time) return std::move(auth_time).error();
  if (auth_time->has_value()) out.auth_time = at(**auth_time);
  if ((check.max_age || check.require_auth_time) && !out.auth_time) return fail("the ID token has no \"auth_time\"");
  if (check.max_age && now - *out.auth_time > *check.max_age + check.clock_skew) {
    return fail("the user's authentication is older than the requested max_age");
  }
  return {};
}

Status read_profile(IdTokenClaims& out) {
  for (const auto& [name, field] : {std::pair{"sid", &out.session_id}, std::pair{"preferred_username", &out.preferred_username},
                                    std::pair{"email", &out.email}, std::pair{"name", &out.name}, std::pair{"acr", &out.acr}}) {
    auto value = detail::optional_string(out.claims, name, "the ID token", kInvalidToken);
    if (!value) return std::move(value).error();
    *field = value->value_or("");
  }
  auto verified = detail::optional_bool(out.claims, "email_verified", "the ID token", kInvalidToken);
  // Some providers send "true" as a string; a malformed flag only means "not known to be verified".
  out.email_verified = verified ? *verified : std::nullopt;
  return {};
}

}  // namespace

const std::string& IdTokenClaims::display_name() const noexcept {
  if (!preferred_username.empty()) return preferred_username;
  if (!email.empty()) return email;
  return subject;
}

Result<IdTokenClaims> validate_id_token(std::string_view id_token, const Jwks& jwks, const IdTokenCheck& check,
                                        TimePoint now) {
  const CommonCheck c{"the ID token", check.issuer, check.client_id, check.trusted_audiences, check.algorithms,
                      check.clock_skew};
  auto common = verify_common(id_token, jwks, c, now);
  if (!common) return std::move(common).error();
  if (Status s = check_id_token_kind(*common); !s) return std::move(s).error();
  if (!common->expires) return fail("the ID token has no \"exp\"");
  if (check.max_token_age && now - common->issued_at > *check.max_token_age + check.clock_skew) {
    return fail("the ID token was issued too long ago (\"iat\")");
  }
  IdTokenClaims out;
  out.issuer = std::move(common->issuer);
  out.audience = std::move(common->audience);
  out.authorized_party = std::move(common->authorized_party);
  out.expires = *common->expires;
  out.issued_at = common->issued_at;
  out.claims = std::move(common->claims);
  if (Status s = check_id_token_subject(check, out); !s) return std::move(s).error();
  if (Status s = check_id_token_nonce(check, out); !s) return std::move(s).error();
  if (Status s = check_auth_time(check, now, out); !s) return std::move(s).error();
  if (Status s = read_profile(out); !s) return std::move(s).error();
  return out;
}

namespace {

Status check_logout_kind(const CommonClaims& common) {
  if (!common.jws.typ.empty() && !is_logout_typ(common.jws.typ) && common.jws.typ != "JWT") {
    return fail("the logout token's type " + detail::quote_for_message(common.jws.typ) + " is not logout+jwt");
  }
  auto event = logout_event(common.claims, "the logout token");
  if (!event) return std::move(event).error();
  if (*event == nullptr) return fail("the logout token has no back-channel logout event in \"events\"");
  if (!(*event)->is_object()) return fail("the logout token's back-channel logout event is not a JSON object");
  if (common.claims.contains("nonce")) return fail("the logout token has a \"nonce\", which logout tokens must not have");
  return {};
}

Status read_logout_ids(LogoutTokenClaims& out) {
  for (const auto& [name, field] :
       {std::pair{"sub", &out.subject}, std::pair{"sid", &out.session_id}, std::pair{"jti", &out.jwt_id}}) {
    auto value = detail::optional_string(out.claims, name, "the logout token", kInvalidToken);
    if (!value) return std::move(value).error();
    *field = value->value_or("");
  }
  if (out.subject.empty() && out.session_id.empty()) return fail("the logout token has neither \"sub\" nor \"sid\"");
  if (out.jwt_id.empty()) return fail("the logout token has no \"jti\"");
  return {};
}

}  // namespace

Result<LogoutTokenClaims> validate_logout_token(std::string_view logout_token, const Jwks& jwks,
                                                const LogoutTokenCheck& check, TimePoint now) {
  const CommonCheck c{"the logout token", check.issuer, check.client_id, check.trusted_audiences, check.algorithms,
                      check.clock_skew};
  auto common = verify_common(logout_token, jwks, c, now);
  if (!common) return std::move(common).error();
  if (Status s = check_logout_kind(*common); !s) return std::move(s).error();
  if (now - common->issued_at > check.max_token_age + check.clock_skew) {
    return fail("the logout token was issued too long ago (\"iat\")");
  }
  LogoutTokenClaims out;
  out.issuer = std::move(common->issuer);
  out.audience = std::move(common->audience);
  out.issued_at = common->issued_at;
  out.expires = common->expires;
  out.claims = std::move(common->claims);
  if (Status s = read_logout_ids(out); !s) return std::move(s).error();
  TimePoint until = out.issued_at + check.max_token_age;
  if (out.expires && *out.expires < until) until = *out.expires;
  out.replay_until = until + check.clock_skew;
  return out;
}

}  // namespace websession::oidc
