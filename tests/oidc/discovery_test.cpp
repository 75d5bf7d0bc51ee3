#include "websession/oidc/discovery.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

namespace websession::oidc {
namespace {

constexpr std::string_view kIssuer = "https://op.example.com";

boost::json::object metadata() {
  return boost::json::object{
      {"issuer", kIssuer},
      {"authorization_endpoint", "https://op.example.com/authorize"},
      {"token_endpoint", "https://op.example.com/token"},
      {"jwks_uri", "https://op.example.com/jwks"},
      {"userinfo_endpoint", "https://op.example.com/userinfo"},
      {"revocation_endpoint", "https://op.example.com/revoke"},
      {"end_session_endpoint", "https://op.example.com/logout"},
      {"response_types_supported", boost::json::array{"code", "id_token"}},
      {"subject_types_supported", boost::json::array{"public"}},
      {"id_token_signing_alg_values_supported", boost::json::array{"HS256", "ES256", "RS256", "none"}},
      {"scopes_supported", boost::json::array{"openid", "profile", "email", "offline_access"}},
      {"token_endpoint_auth_methods_supported", boost::json::array{"client_secret_basic", "client_secret_post"}},
      {"code_challenge_methods_supported", boost::json::array{"S256"}},
      {"backchannel_logout_supported", true},
      {"backchannel_logout_session_supported", true},
      {"authorization_response_iss_parameter_supported", true}};
}

Result<ProviderMetadata> parse(const boost::json::object& doc, std::string_view issuer = kIssuer) {
  return parse_provider_metadata(boost::json::serialize(doc), issuer);
}

void expect_refused(const Result<ProviderMetadata>& r, std::string_view fragment) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
}

// --- provider metadata -----------------------------------------------------------------------------

TEST(ProviderMetadata, ParsesAValidDocument) {
  auto r = parse(metadata());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->issuer, kIssuer);
  EXPECT_EQ(r->authorization_endpoint, "https://op.example.com/authorize");
  EXPECT_EQ(r->token_endpoint, "https://op.example.com/token");
  EXPECT_EQ(r->jwks_uri, "https://op.example.com/jwks");
  EXPECT_EQ(r->userinfo_endpoint, "https://op.example.com/userinfo");
  EXPECT_EQ(r->revocation_endpoint, "https://op.example.com/revoke");
  EXPECT_EQ(r->end_session_endpoint, "https://op.example.com/logout");
  EXPECT_TRUE(r->introspection_endpoint.empty());
  EXPECT_TRUE(r->backchannel_logout_supported);
  EXPECT_TRUE(r->backchannel_logout_session_supported);
  EXPECT_TRUE(r->authorization_response_iss_parameter_supported);
  // The allow-list's order, without HS256 and none.
  EXPECT_EQ(r->id_token_signing_algs, (std::vector<JwsAlgorithm>{JwsAlgorithm::rs256, JwsAlgorithm::es256}));
  EXPECT_TRUE(r->supports(ClientAuthMethod::client_secret_basic));
  EXPECT_TRUE(r->supports(ClientAuthMethod::client_secret_post));
}

TEST(ProviderMetadata, OptionalMembersDefault) {
  auto doc = metadata();
  for (const char* name : {"userinfo_endpoint", "revocation_endpoint", "end_session_endpoint",
                           "backchannel_logout_supported", "authorization_response_iss_parameter_supported",
                           "token_endpoint_auth_methods_supported", "code_challenge_methods_supported"}) {
    doc.erase(name);
  }
  auto r = parse(doc);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->userinfo_endpoint.empty());
  EXPECT_TRUE(r->end_session_endpoint.empty());
  EXPECT_FALSE(r->backchannel_logout_supported);
  EXPECT_FALSE(r->authorization_response_iss_parameter_supported);
  EXPECT_TRUE(r->supports(ClientAuthMethod::client_secret_basic));  // the specification's default
  EXPECT_FALSE(r->supports(ClientAuthMethod::client_secret_post));
}

TEST(ProviderMetadata, IssuerMustMatchExactly) {
  expect_refused(parse(metadata(), "https://op.example.com/"), "is not the configured issuer");
  expect_refused(parse(metadata(), "https://OP.example.com"), "is not the configured issuer");
  auto doc = metadata();
  doc["issuer"] = "https://evil.example.com";
  expect_refused(parse(doc), "is not the configured issuer");
  doc.erase("issuer");
  expect_refused(parse(doc), "no \"issuer\"");
}

TEST(ProviderMetadata, RequiredEndpoints) {
  for (const char* name : {"authorization_endpoint", "token_endpoint", "jwks_uri"}) {
    auto doc = metadata();
    doc.erase(name);
    expect_refused(parse(doc), name);
  }
}

TEST(ProviderMetadata, EndpointsMustBeHttps) {
  for (const char* url : {"http://op.example.com/token", "ftp://op.example.com/token", "/token",
                          "https://user:pw@op.example.com/token", "https://op.example.com/token#x",
                          "https://op.example.com/to ken", "https:///token", "https://op.example.com:99999/"}) {
    auto doc = metadata();
    doc["token_endpoint"] = url;
    expect_refused(parse(doc), "token_endpoint");
  }
  auto doc = metadata();
  doc["end_session_endpoint"] = "http://op.example.com/logout";
  expect_refused(parse(doc), "end_session_endpoint");
}

TEST(ProviderMetadata, DevelopmentIssuerOnLoopbackMayUseHttp) {
  for (const std::string issuer : {"http://127.0.0.1:4000", "http://localhost:4000", "http://[::1]:4000"}) {
    auto doc = metadata();
    doc["issuer"] = issuer;
    for (const char* name : {"authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"}) {
      doc[name] = issuer + "/x";
    }
    auto r = parse(doc, issuer);
    EXPECT_TRUE(r.ok()) << issuer << ": " << r.error().message;
    EXPECT_TRUE(is_development_issuer(issuer));
    // Even then, an http endpoint elsewhere is refused.
    doc["token_endpoint"] = "http://op.example.com/token";
    expect_refused(parse(doc, issuer), "token_endpoint");
  }
  EXPECT_FALSE(is_development_issuer("http://op.example.com"));
  EXPECT_FALSE(is_development_issuer("https://127.0.0.1"));
  EXPECT_FALSE(is_development_issuer("http://127.0.0.1.evil.example"));
}

TEST(ProviderMetadata, ConfiguredIssuerMustBeHttpsOrDevelopment) {
  auto doc = metadata();
  doc["issuer"] = "http://op.example.com";
  expect_refused(parse(doc, "http://op.example.com"), "not an https URL");
  doc["issuer"] = "https://op.example.com?x=1";
  expect_refused(parse(doc, "https://op.example.com?x=1"), "without query");
}

TEST(ProviderMetadata, CodeFlowPkceAndAlgorithmsAreRequired) {
  auto doc = metadata();
  doc["response_types_supported"] = boost::json::array{"id_token", "token id_token"};
  expect_refused(parse(doc), "authorization code flow");
  doc = metadata();
  doc["code_challenge_methods_supported"] = boost::json::array{"plain"};
  expect_refused(parse(doc), "PKCE");
  doc = metadata();
  doc["id_token_signing_alg_values_supported"] = boost::json::array{"HS256", "none", "RS512"};
  expect_refused(parse(doc), "none of the accepted algorithms");
  doc.erase("id_token_signing_alg_values_supported");
  expect_refused(parse(doc), "none of the accepted algorithms");
}

TEST(ProviderMetadata, MembersOfTheWrongTypeAreErrors) {
  auto doc = metadata();
  doc["backchannel_logout_supported"] = "true";
  expect_refused(parse(doc), "backchannel_logout_supported");
  doc = metadata();
  doc["scopes_supported"] = "openid";
  expect_refused(parse(doc), "scopes_supported");
  doc = metadata();
  doc["jwks_uri"] = 3;
  expect_refused(parse(doc), "jwks_uri");
  expect_refused(parse_provider_metadata("<html>", kIssuer), "not valid JSON");
  expect_refused(parse_provider_metadata("[]", kIssuer), "not a JSON object");
}

TEST(ProviderMetadata, DiscoveryUrl) {
  EXPECT_EQ(discovery_url("https://op.example.com"), "https://op.example.com/.well-known/openid-configuration");
  EXPECT_EQ(discovery_url("https://op.example.com/realms/x/"),
            "https://op.example.com/realms/x/.well-known/openid-configuration");
}

// --- token responses -------------------------------------------------------------------------------

TEST(TokenResponse, ParsesASuccess) {
  auto r = parse_token_response(200, R"({"access_token":"at","token_type":"bearer","expires_in":3600,
      "refresh_token":"rt","id_token":"a.b.c","scope":"openid email"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->access_token, "at");
  EXPECT_EQ(r->token_type, "bearer");
  EXPECT_EQ(r->expires_in, std::chrono::seconds(3600));
  EXPECT_EQ(r->refresh_token, "rt");
  EXPECT_EQ(r->id_token, "a.b.c");
  EXPECT_EQ(r->scope, "openid email");
}

TEST(TokenResponse, OptionalMembersAndStringExpiry) {
  auto r = parse_token_response(200, R"({"access_token":"at","token_type":"Bearer","expires_in":"60"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->expires_in, std::chrono::seconds(60));
  EXPECT_TRUE(r->refresh_token.empty());
  r = parse_token_response(200, R"({"access_token":"at","token_type":"Bearer"})");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->expires_in.has_value());
}

TEST(TokenResponse, RefusesMalformedSuccesses) {
  EXPECT_FALSE(parse_token_response(200, R"({"token_type":"Bearer"})").ok());
  EXPECT_FALSE(parse_token_response(200, R"({"access_token":"at","token_type":"DPoP"})").ok());
  EXPECT_FALSE(parse_token_response(200, R"({"access_token":"at"})").ok());
  EXPECT_FALSE(parse_token_response(200, R"({"access_token":"at","token_type":"Bearer","expires_in":-5})").ok());
  EXPECT_FALSE(parse_token_response(200, R"({"access_token":"at","token_type":"Bearer","expires_in":"1h"})").ok());
  EXPECT_FALSE(parse_token_response(200, R"({"access_token":7,"token_type":"Bearer"})").ok());
  EXPECT_FALSE(parse_token_response(200, "access_token=at").ok());
}

TEST(TokenResponse, InvalidGrantIsTellableApart) {
  auto r = parse_token_response(400, R"({"error":"invalid_grant","error_description":"grant request is invalid"})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_invalid_grant(r.error()));
  EXPECT_EQ(r.error().service_type, kInvalidGrant);
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  EXPECT_NE(r.error().message.find("grant request is invalid"), std::string::npos);
}

TEST(TokenResponse, OtherOAuthErrorsMapToWhatTheCallerDoes) {
  struct Case {
    unsigned status;
    const char* error;
    ErrorCode code;
  };
  for (const Case c : {Case{401, "invalid_client", ErrorCode::permission_denied},
                       Case{400, "unauthorized_client", ErrorCode::permission_denied},
                       Case{400, "invalid_request", ErrorCode::invalid_argument},
                       Case{400, "invalid_scope", ErrorCode::invalid_argument},
                       Case{503, "temporarily_unavailable", ErrorCode::unavailable},
                       Case{500, "server_error", ErrorCode::unavailable}}) {
    auto r = parse_token_response(c.status, std::string(R"({"error":")") + c.error + "\"}");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, c.code) << c.error;
    EXPECT_EQ(r.error().service_type, c.error);
    EXPECT_FALSE(is_invalid_grant(r.error()));
  }
}

TEST(TokenResponse, NonOAuthFailures) {
  EXPECT_EQ(parse_token_response(502, "<html>Bad gateway</html>").code(), ErrorCode::unavailable);
  EXPECT_EQ(parse_token_response(429, "").code(), ErrorCode::unavailable);
  EXPECT_EQ(parse_token_response(404, "not here").code(), ErrorCode::internal);
  auto weird = parse_token_response(400, R"({"error":"evil\nline","error_description":"a\u0000b"})");
  ASSERT_FALSE(weird.ok());
  EXPECT_EQ(weird.error().service_type, "invalid_error_code");
  EXPECT_EQ(weird.error().message.find('\n'), std::string::npos);
  EXPECT_EQ(weird.error().message.find('\0'), std::string::npos);
}

TEST(TokenResponse, ErrorsNeverContainTokens) {
  auto r = parse_token_response(200, R"({"access_token":"secret-access-token","token_type":"MAC"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find("secret-access-token"), std::string::npos);
}

// --- UserInfo and revocation -----------------------------------------------------------------------

TEST(UserinfoResponse, SubjectMustBeTheIdTokens) {
  auto r = parse_userinfo_response(200, "application/json; charset=utf-8", R"({"sub":"alice","email":"a@x"})", "alice");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->at("email").as_string(), "a@x");
  auto other = parse_userinfo_response(200, "application/json", R"({"sub":"mallory"})", "alice");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::invalid_argument);
  EXPECT_FALSE(parse_userinfo_response(200, "application/json", R"({"email":"a@x"})", "alice").ok());
}

TEST(UserinfoResponse, Failures) {
  auto expired = parse_userinfo_response(401, "", "", "alice");
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, ErrorCode::permission_denied);
  EXPECT_EQ(expired.error().service_type, "invalid_token");
  EXPECT_EQ(parse_userinfo_response(503, "", "", "alice").code(), ErrorCode::unavailable);
  EXPECT_EQ(parse_userinfo_response(200, "application/jwt", "a.b.c", "alice").code(), ErrorCode::internal);
  EXPECT_EQ(parse_userinfo_response(200, "text/html", "<html>", "alice").code(), ErrorCode::internal);
}

TEST(RevocationResponse, StatusMapping) {
  EXPECT_TRUE(parse_revocation_response(200, "").ok());
  auto unsupported = parse_revocation_response(400, R"({"error":"unsupported_token_type"})");
  ASSERT_FALSE(unsupported.ok());
  EXPECT_EQ(unsupported.error().service_type, "unsupported_token_type");
  EXPECT_EQ(parse_revocation_response(503, "").code(), ErrorCode::unavailable);
  EXPECT_EQ(parse_revocation_response(401, R"({"error":"invalid_client"})").code(), ErrorCode::permission_denied);
}

}  // namespace
}  // namespace websession::oidc
