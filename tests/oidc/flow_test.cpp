#include "websession/oidc/flow.h"

#include <gtest/gtest.h>

#include <set>

namespace websession::oidc {
namespace {

// --- PKCE, state, nonce ----------------------------------------------------------------------------

TEST(Pkce, MatchesRfc7636AppendixB) {
  EXPECT_EQ(code_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Pkce, VerifiersAre43CharactersOfFreshRandomness) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const std::string v = make_code_verifier();
    EXPECT_EQ(v.size(), 43U);
    EXPECT_TRUE(is_valid_code_verifier(v)) << v;
    EXPECT_TRUE(seen.insert(v).second);
  }
}

TEST(Pkce, VerifierSyntax) {
  EXPECT_TRUE(is_valid_code_verifier(std::string(43, 'a')));
  EXPECT_TRUE(is_valid_code_verifier(std::string(128, '~')));
  EXPECT_FALSE(is_valid_code_verifier(std::string(42, 'a')));
  EXPECT_FALSE(is_valid_code_verifier(std::string(129, 'a')));
  EXPECT_FALSE(is_valid_code_verifier(std::string(43, '+')));
}

TEST(SignInAttempt, StateAndNonceCarry256Bits) {
  const SignInAttempt a = SignInAttempt::start();
  const SignInAttempt b = SignInAttempt::start();
  EXPECT_TRUE(is_valid_state(a.state));
  EXPECT_EQ(a.nonce.size(), kRandomValueLength);
  EXPECT_NE(a.state, b.state);
  EXPECT_NE(a.nonce, b.nonce);
  EXPECT_NE(a.state, a.nonce);
  EXPECT_EQ(a.code_challenge(), code_challenge_s256(a.code_verifier));
  EXPECT_FALSE(is_valid_state("short"));
  EXPECT_FALSE(is_valid_state(std::string(43, '=')));
}

// --- authorization URL -----------------------------------------------------------------------------

AuthorizationRequest request() {
  AuthorizationRequest r;
  r.authorization_endpoint = "https://op.example.com/authorize";
  r.client_id = "demo client";
  r.redirect_uri = "http://127.0.0.1:8080/auth/callback";
  r.scope = "openid profile email offline_access";
  r.state = "st";
  r.nonce = "no";
  r.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  return r;
}

TEST(AuthorizationUrl, HasEveryParameterPercentEncoded) {
  EXPECT_EQ(build_authorization_url(request()),
            "https://op.example.com/authorize?response_type=code&client_id=demo%20client"
            "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fauth%2Fcallback"
            "&scope=openid%20profile%20email%20offline_access&state=st&nonce=no"
            "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256");
}

TEST(AuthorizationUrl, KeepsAnExistingQueryAndAddsOptions) {
  AuthorizationRequest r = request();
  r.authorization_endpoint = "https://op.example.com/authorize?p=B2C_1_signin";
  r.prompt = "login";
  r.max_age = std::chrono::seconds(300);
  r.login_hint = "alice@example.com";
  r.extra = {{"ui_locales", "fr CA"}};
  const std::string url = build_authorization_url(r);
  EXPECT_EQ(url.rfind("https://op.example.com/authorize?p=B2C_1_signin&response_type=code&", 0), 0U) << url;
  EXPECT_NE(url.find("&prompt=login&max_age=300&login_hint=alice%40example.com&ui_locales=fr%20CA"), std::string::npos)
      << url;
}

TEST(AuthorizationUrl, MissingValuesAreProgrammingErrors) {
  AuthorizationRequest r = request();
  r.scope = "profile";
  EXPECT_THROW((void)build_authorization_url(r), std::invalid_argument);
  r = request();
  r.code_challenge.clear();
  EXPECT_THROW((void)build_authorization_url(r), std::invalid_argument);
  r = request();
  r.state.clear();
  EXPECT_THROW((void)build_authorization_url(r), std::invalid_argument);
}

// --- callback --------------------------------------------------------------------------------------

constexpr std::string_view kIssuer = "https://op.example.com";

TEST(Callback, ParsesCodeStateAndIss) {
  auto p = parse_callback("code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj&iss=https%3A%2F%2Fop.example.com&x=");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->code, "SplxlOBeZQQYbYS6WxSbIA");
  EXPECT_EQ(p->state, "af0ifjsldkj");
  EXPECT_TRUE(p->has_iss);
  EXPECT_EQ(p->iss, kIssuer);
  auto code = check_callback(*p, kIssuer, true);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, "SplxlOBeZQQYbYS6WxSbIA");
}

TEST(Callback, RefusesDuplicatesAndBadEscapes) {
  EXPECT_FALSE(parse_callback("state=a&code=c&state=b").ok());
  EXPECT_FALSE(parse_callback("code=%zz&state=s").ok());
  EXPECT_FALSE(parse_callback("code=c%2&state=s").ok());
}

TEST(Callback, Rfc9207IssuerChecks) {
  auto other = parse_callback("code=c&state=s&iss=https%3A%2F%2Fevil.example.com");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(check_callback(*other, kIssuer, true).ok());
  EXPECT_FALSE(check_callback(*other, kIssuer, false).ok());  // when present it must always match
  auto missing = parse_callback("code=c&state=s");
  ASSERT_TRUE(missing.ok());
  auto r = check_callback(*missing, kIssuer, true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().service_type, "invalid_issuer");
  EXPECT_TRUE(check_callback(*missing, kIssuer, false).ok());
  // Error responses are checked for iss too, before their error is believed.
  auto error_from_elsewhere = parse_callback("error=access_denied&state=s&iss=https%3A%2F%2Fevil.example.com");
  ASSERT_TRUE(error_from_elsewhere.ok());
  EXPECT_EQ(check_callback(*error_from_elsewhere, kIssuer, true).error().service_type, "invalid_issuer");
}

TEST(Callback, ErrorResponses) {
  auto denied = parse_callback("error=access_denied&error_description=End-User+aborted+interaction&state=s");
  ASSERT_TRUE(denied.ok());
  auto r = check_callback(*denied, kIssuer, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::permission_denied);
  EXPECT_EQ(r.error().service_type, "access_denied");
  EXPECT_NE(r.error().message.find("End-User aborted interaction"), std::string::npos);
  auto other = parse_callback("error=invalid_scope&state=s");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(check_callback(*other, kIssuer, false).code(), ErrorCode::invalid_argument);
  auto no_code = parse_callback("state=s");
  ASSERT_TRUE(no_code.ok());
  EXPECT_FALSE(check_callback(*no_code, kIssuer, false).ok());
}

// --- token, refresh, revocation requests -----------------------------------------------------------

TEST(ClientSecretBasic, FormEncodesBeforeBase64) {
  // RFC 6749 2.3.1: "Basic " + base64(form(id) ":" form(secret)).
  // form("an:identifier") = "an%3Aidentifier"; form("some secure & non-standard secret") =
  // "some+secure+%26+non-standard+secret".
  EXPECT_EQ(basic_authorization("an:identifier", "some secure & non-standard secret"),
            "Basic YW4lM0FpZGVudGlmaWVyOnNvbWUrc2VjdXJlKyUyNitub24tc3RhbmRhcmQrc2VjcmV0");
  EXPECT_EQ(basic_authorization("client", "secret"), "Basic Y2xpZW50OnNlY3JldA==");
  EXPECT_EQ(basic_authorization("c", "p%+é"), "Basic YzpwJTI1JTJCJUMzJUE5");
}

TEST(TokenRequest, ClientSecretBasicKeepsTheSecretOutOfTheBody) {
  const ClientCredentials client{"demo", "s3cret", ClientAuthMethod::client_secret_basic};
  const FormRequest r = build_token_request(client, "co de", "http://127.0.0.1:8080/auth/callback", "verifier");
  EXPECT_EQ(r.body,
            "grant_type=authorization_code&code=co+de&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fauth%2Fcallback"
            "&code_verifier=verifier");
  EXPECT_EQ(r.authorization, basic_authorization("demo", "s3cret"));
  EXPECT_EQ(r.body.find("s3cret"), std::string::npos);
  EXPECT_EQ(FormRequest::content_type, "application/x-www-form-urlencoded");
}

TEST(TokenRequest, ClientSecretPostPutsCredentialsInTheBody) {
  const ClientCredentials client{"demo", "a&b=c", ClientAuthMethod::client_secret_post};
  const FormRequest r = build_token_request(client, "code", "https://rp/cb", "v");
  EXPECT_TRUE(r.authorization.empty());
  EXPECT_EQ(r.body, "grant_type=authorization_code&code=code&redirect_uri=https%3A%2F%2Frp%2Fcb&code_verifier=v"
                    "&client_id=demo&client_secret=a%26b%3Dc");
}

TEST(RefreshRequest, Body) {
  const ClientCredentials client{"demo", "s", ClientAuthMethod::client_secret_basic};
  EXPECT_EQ(build_refresh_request(client, "rt/1").body, "grant_type=refresh_token&refresh_token=rt%2F1");
  EXPECT_EQ(build_refresh_request(client, "rt", "openid email").body,
            "grant_type=refresh_token&refresh_token=rt&scope=openid+email");
}

TEST(RevocationRequest, Body) {
  const ClientCredentials client{"demo", "s", ClientAuthMethod::client_secret_post};
  EXPECT_EQ(build_revocation_request(client, "rt").body,
            "token=rt&token_type_hint=refresh_token&client_id=demo&client_secret=s");
  EXPECT_EQ(build_revocation_request(client, "at", "").body, "token=at&client_id=demo&client_secret=s");
}

// --- logout URL ------------------------------------------------------------------------------------

TEST(LogoutUrl, CarriesTheHintAndRedirect) {
  LogoutRequest r;
  r.end_session_endpoint = "https://op.example.com/session/end";
  r.id_token_hint = "h.p.s";
  r.post_logout_redirect_uri = "http://127.0.0.1:8080/";
  r.client_id = "demo";
  EXPECT_EQ(build_logout_url(r), "https://op.example.com/session/end?id_token_hint=h.p.s"
                                 "&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2F&client_id=demo");
  r.state = "xyz";
  EXPECT_NE(build_logout_url(r).find("&state=xyz&"), std::string::npos);
  LogoutRequest bare;
  bare.end_session_endpoint = "https://op.example.com/logout";
  EXPECT_EQ(build_logout_url(bare), "https://op.example.com/logout");
  bare.extra = {{"logout_uri", "https://app.example.com/bye"}};
  EXPECT_EQ(build_logout_url(bare), "https://op.example.com/logout?logout_uri=https%3A%2F%2Fapp.example.com%2Fbye");
  bare.extra.clear();
  bare.end_session_endpoint.clear();
  EXPECT_THROW((void)build_logout_url(bare), std::invalid_argument);
}

// --- return_to -------------------------------------------------------------------------------------

TEST(ReturnTo, AcceptsPathsOnThisSite) {
  for (const char* ok : {"/", "/ok/path?x=1", "/a-b_c.d~e/f", "/search?q=a%20b&next=//x", "/page#top",
                         "/caf%C3%A9", "/x/./y", "/a:b"}) {
    EXPECT_TRUE(is_safe_return_to(ok)) << ok;
    EXPECT_EQ(sanitize_return_to(ok), ok);
  }
}

TEST(ReturnTo, RefusesEverythingElse) {
  for (const std::string& bad : std::vector<std::string>{"", "//evil", "//evil.example.com/path", "/\\evil", "\\\\evil", "https://evil", "http:evil",
        "javascript:alert(1)", "evil", "./x", "/%2F%2Fevil", "/%2f%2fevil", "/%5Cevil", "/%5cevil",
        "/%252F%252Fevil", "/%25252F%25252Fevil", "/ok\\..\\evil", "/\t/evil", "/\n/evil", "/a\r\nSet-Cookie:x",
        "/%0D%0ASet-Cookie:x", "/%09/evil", "/%00", "/ a", "/a//b", "/../evil", "/a/..", "/%2E%2E/x", "/%",
        "/%zz", std::string("/caf\xc3\xa9"), std::string("/x\x7f"), "/" + std::string(kMaxReturnToLength, 'a')}) {
    EXPECT_FALSE(is_safe_return_to(bad)) << bad;
    EXPECT_EQ(sanitize_return_to(bad), "/") << bad;
  }
}

}  // namespace
}  // namespace websession::oidc
