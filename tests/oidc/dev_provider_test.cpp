// The development OpenID provider against this library's pure half: its discovery document and keys
// validate, and a whole sign-in (login page, code exchange, ID token, UserInfo, rotating refresh,
// revocation, back-channel logout) works with the requests flow.h builds and the parsers of
// discovery.h and tokens.h. HTTP here is cpp-httplib, standing in for the relying party's transport.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include <boost/json/parse.hpp>
#include <httplib.h>

#include "oidc/support/dev_provider.h"
#include "websession/oidc/discovery.h"
#include "websession/oidc/flow.h"
#include "websession/oidc/tokens.h"

namespace websession::oidc {
namespace {

using testing::DevProvider;
using testing::DevProviderOptions;
using testing::HttpAnswer;

#define REQUIRE_DEV_PROVIDER()                                                                   \
  do {                                                                                           \
    const auto setup = ::websession::testing::find_dev_provider();                               \
    const char* skip = std::getenv("WEBSESSION_SKIP_OIDC_PROVIDER_TESTS");                       \
    if (skip != nullptr && std::string(skip) == "1") GTEST_SKIP() << "WEBSESSION_SKIP_OIDC_PROVIDER_TESTS=1"; \
    if (!setup.problem.empty()) FAIL() << setup.problem << " (or set WEBSESSION_SKIP_OIDC_PROVIDER_TESTS=1)"; \
  } while (false)

// A secret with every kind of character that client_secret_basic must form-encode.
constexpr std::string_view kSecret = "s3cret: with spaces & symbols +%/=?";

DevProviderOptions options(std::string auth_method = "client_secret_basic") {
  DevProviderOptions o;
  o.client_secret = std::string(kSecret);
  o.client_auth_method = std::move(auth_method);
  return o;
}

struct Discovered {
  ProviderMetadata meta;
  Jwks jwks;
};

Discovered discover(DevProvider& op) {
  const HttpAnswer doc = op.get(discovery_url(op.issuer()));
  EXPECT_EQ(doc.status, 200);
  auto meta = parse_provider_metadata(doc.body, op.issuer());
  if (!meta) throw std::runtime_error(meta.error().describe());
  const HttpAnswer keys = op.get(meta->jwks_uri);
  auto jwks = Jwks::parse(keys.body);
  if (!jwks) throw std::runtime_error(jwks.error().describe());
  return {std::move(*meta), std::move(*jwks)};
}

ClientCredentials client_of(const DevProvider& op) {
  const ClientAuthMethod method = op.options().client_auth_method == "client_secret_post"
                                      ? ClientAuthMethod::client_secret_post
                                      : ClientAuthMethod::client_secret_basic;
  return {op.options().client_id, op.options().client_secret, method};
}

Result<TokenResponse> post_form(DevProvider& op, const std::string& endpoint, const FormRequest& form) {
  std::map<std::string, std::string> headers;
  if (!form.authorization.empty()) headers["Authorization"] = form.authorization;
  const HttpAnswer a = op.post(endpoint, form.body, std::string(FormRequest::content_type), headers);
  return parse_token_response(static_cast<unsigned>(a.status), a.body);
}

struct SignedIn {
  SignInAttempt attempt;
  TokenResponse tokens;
  IdTokenClaims id;
};

// The whole code flow with PKCE, as the relying party will run it.
SignedIn sign_in(DevProvider& op, const Discovered& d, const std::string& login = "alice") {
  SignedIn out{SignInAttempt::start(), {}, {}};
  AuthorizationRequest request;
  request.authorization_endpoint = d.meta.authorization_endpoint;
  request.client_id = op.options().client_id;
  request.redirect_uri = op.options().redirect_uris.front();
  request.scope = "openid profile email offline_access";
  request.state = out.attempt.state;
  request.nonce = out.attempt.nonce;
  request.code_challenge = out.attempt.code_challenge();
  std::string why;
  const auto query = op.sign_in(build_authorization_url(request), login, &why);
  if (!query) throw std::runtime_error("sign-in stopped: " + why);
  auto callback = parse_callback(*query);
  if (!callback || callback->state != out.attempt.state) throw std::runtime_error("bad callback");
  auto code = check_callback(*callback, d.meta.issuer, d.meta.authorization_response_iss_parameter_supported);
  if (!code) throw std::runtime_error(code.error().describe());
  auto tokens = post_form(op, d.meta.token_endpoint,
                          build_token_request(client_of(op), *code, request.redirect_uri, out.attempt.code_verifier));
  if (!tokens) throw std::runtime_error(tokens.error().describe());
  out.tokens = std::move(*tokens);
  IdTokenCheck check;
  check.issuer = d.meta.issuer;
  check.client_id = op.options().client_id;
  check.nonce = out.attempt.nonce;
  check.algorithms = d.meta.id_token_signing_algs;
  auto id = validate_id_token(out.tokens.id_token, d.jwks, check, std::chrono::system_clock::now());
  if (!id) throw std::runtime_error(id.error().describe());
  out.id = std::move(*id);
  return out;
}

std::int64_t count(const boost::json::object& events, const char* name) {
  const auto* v = events.if_contains(name);
  return v == nullptr ? 0 : v->as_int64();
}

TEST(DevProvider, DiscoveryDocumentValidates) {
  REQUIRE_DEV_PROVIDER();
  DevProvider op(options());
  const HttpAnswer doc = op.get("/.well-known/openid-configuration");
  ASSERT_EQ(doc.status, 200);
  auto meta = parse_provider_metadata(doc.body, op.issuer());
  ASSERT_TRUE(meta.ok()) << meta.error().describe();
  EXPECT_EQ(meta->issuer, op.issuer());
  EXPECT_TRUE(is_development_issuer(op.issuer()));
  EXPECT_FALSE(meta->userinfo_endpoint.empty());
  EXPECT_FALSE(meta->revocation_endpoint.empty());
  EXPECT_FALSE(meta->end_session_endpoint.empty());
  EXPECT_TRUE(meta->backchannel_logout_supported);
  EXPECT_TRUE(meta->backchannel_logout_session_supported);
  EXPECT_TRUE(meta->authorization_response_iss_parameter_supported);
  EXPECT_EQ(meta->id_token_signing_algs.size(), 3U);
  EXPECT_TRUE(meta->supports(ClientAuthMethod::client_secret_basic));
  EXPECT_EQ(meta->code_challenge_methods, std::vector<std::string>{"S256"});
  // Another configured issuer is refused, even one that differs only by a trailing slash.
  EXPECT_FALSE(parse_provider_metadata(doc.body, op.issuer() + "/").ok());
}

TEST(DevProvider, JwksHasAnRsaAndAnEcKey) {
  REQUIRE_DEV_PROVIDER();
  DevProvider op(options());
  const Discovered d = discover(op);
  EXPECT_EQ(d.jwks.size(), 2U);
  EXPECT_TRUE(d.jwks.select("", JwsAlgorithm::rs256).ok());
  EXPECT_TRUE(d.jwks.select("", JwsAlgorithm::es256).ok());
}

TEST(DevProvider, CodeFlowRefreshRotationAndReplay) {
  REQUIRE_DEV_PROVIDER();
  DevProvider op(options());
  const Discovered d = discover(op);
  op.configure({{"access_token_ttl", 5}});
  const SignedIn s = sign_in(op, d);
  EXPECT_EQ(s.id.preferred_username, "alice");
  EXPECT_EQ(s.id.email, "alice@example.com");
  EXPECT_FALSE(s.id.session_id.empty());
  EXPECT_EQ(s.tokens.expires_in, std::chrono::seconds(5));
  ASSERT_FALSE(s.tokens.refresh_token.empty());

  const HttpAnswer info = op.get(d.meta.userinfo_endpoint, {{"Authorization", "Bearer " + s.tokens.access_token}});
  auto userinfo = parse_userinfo_response(static_cast<unsigned>(info.status), info.header("content-type"), info.body,
                                          s.id.subject);
  ASSERT_TRUE(userinfo.ok()) << userinfo.error().describe();
  EXPECT_EQ(userinfo->at("email").as_string(), "alice@example.com");

  const ClientCredentials client = client_of(op);
  auto refreshed = post_form(op, d.meta.token_endpoint, build_refresh_request(client, s.tokens.refresh_token));
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().describe();
  ASSERT_FALSE(refreshed->refresh_token.empty());
  EXPECT_NE(refreshed->refresh_token, s.tokens.refresh_token);  // rotated
  if (!refreshed->id_token.empty()) {
    IdTokenCheck check;
    check.issuer = d.meta.issuer;
    check.client_id = client.client_id;
    check.subject = s.id.subject;
    EXPECT_TRUE(validate_id_token(refreshed->id_token, d.jwks, check, std::chrono::system_clock::now()).ok());
  }

  // A second redemption of the used refresh token is invalid_grant, and revokes the whole grant.
  auto replay = post_form(op, d.meta.token_endpoint, build_refresh_request(client, s.tokens.refresh_token));
  ASSERT_FALSE(replay.ok());
  EXPECT_TRUE(is_invalid_grant(replay.error())) << replay.error().describe();
  auto after = post_form(op, d.meta.token_endpoint, build_refresh_request(client, refreshed->refresh_token));
  ASSERT_FALSE(after.ok());
  EXPECT_TRUE(is_invalid_grant(after.error()));

  const auto events = op.events();
  EXPECT_EQ(count(events, "authorization_code"), 1);
  EXPECT_EQ(count(events, "refresh_token"), 1);
  EXPECT_EQ(count(events, "invalid_grant"), 2);
}

TEST(DevProvider, ClientSecretPostWhenRegistered) {
  REQUIRE_DEV_PROVIDER();
  DevProvider op(options("client_secret_post"));
  const Discovered d = discover(op);
  const SignedIn s = sign_in(op, d, "bob");
  EXPECT_EQ(s.id.display_name(), "bob");
  // A wrong secret is invalid_client: the configuration to fix, not a grant to give up.
  ClientCredentials wrong = client_of(op);
  wrong.client_secret += "x";
  auto r = post_form(op, d.meta.token_endpoint, build_refresh_request(wrong, s.tokens.refresh_token));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().service_type, kInvalidClient);
  EXPECT_EQ(r.error().code, ErrorCode::permission_denied);
}

TEST(DevProvider, RevokedRefreshTokenIsInvalidGrant) {
  REQUIRE_DEV_PROVIDER();
  DevProvider op(options());
  const Discovered d = discover(op);
  const SignedIn s = sign_in(op, d);
  const FormRequest revoke = build_revocation_request(client_of(op), s.tokens.refresh_token);
  const HttpAnswer a = op.post(d.meta.revocation_endpoint, revoke.body, std::string(FormRequest::content_type),
                               {{"Authorization", revoke.authorization}});
  EXPECT_TRUE(parse_revocation_response(static_cast<unsigned>(a.status), a.body).ok()) << a.status << " " << a.body;
  auto r = post_form(op, d.meta.token_endpoint, build_refresh_request(client_of(op), s.tokens.refresh_token));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_invalid_grant(r.error()));
}

TEST(DevProvider, EndSessionAcceptsTheLogoutUrl) {
  REQUIRE_DEV_PROVIDER();
  DevProvider op(options());
  const Discovered d = discover(op);
  const SignedIn s = sign_in(op, d);
  LogoutRequest logout{d.meta.end_session_endpoint, s.tokens.id_token, op.options().post_logout_redirect_uris.front(),
                       "", op.options().client_id, {}};
  const HttpAnswer a = op.get(build_logout_url(logout));
  // Without the provider's session cookie, it asks the browser to confirm the sign-out.
  EXPECT_EQ(a.status, 200) << a.body.substr(0, 300);
  EXPECT_NE(a.body.find("form"), std::string::npos);
}

TEST(DevProvider, TokenEndpointCanBeMadeSlow) {
  REQUIRE_DEV_PROVIDER();
  DevProvider op(options());
  const auto config = op.configure({{"token_delay_ms", 400}});
  EXPECT_EQ(config.at("token_delay_ms").as_int64(), 400);
  const auto start = std::chrono::steady_clock::now();
  const HttpAnswer a = op.post("/token", "grant_type=refresh_token&refresh_token=x", "application/x-www-form-urlencoded",
                               {{"Authorization", basic_authorization(op.options().client_id, op.options().client_secret)}});
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(400));
  auto r = parse_token_response(static_cast<unsigned>(a.status), a.body);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_invalid_grant(r.error()));
  EXPECT_EQ(count(op.events(), "invalid_grant"), 1);
  EXPECT_EQ(op.post("/test/config", R"({"token_delay_ms": -1})", "application/json").status, 400);
}

// A relying party's back-channel logout endpoint on a loopback port, validating what it receives.
class BackchannelReceiver {
 public:
  BackchannelReceiver() {
    server_.Post("/auth/backchannel-logout", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      tokens_.push_back(req.get_param_value("logout_token"));
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~BackchannelReceiver() {
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    server_.stop();
    thread_.join();
  }
  [[nodiscard]] std::string uri() const { return "http://127.0.0.1:" + std::to_string(port_) + "/auth/backchannel-logout"; }
  std::vector<std::string> tokens() {
    std::lock_guard<std::mutex> lock(mu_);
    return tokens_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> tokens_;
};

TEST(DevProvider, BackchannelLogoutTokensValidate) {
  REQUIRE_DEV_PROVIDER();
  BackchannelReceiver rp;
  DevProviderOptions o = options();
  o.backchannel_logout_uri = rp.uri();
  DevProvider op(o);
  const Discovered d = discover(op);
  const auto answer = op.backchannel_logout({{"sub", "alice"}, {"sid", "the-sid"}});
  EXPECT_EQ(answer.at("status").as_int64(), 200);
  ASSERT_EQ(rp.tokens().size(), 1U);
  EXPECT_EQ(rp.tokens().front(), answer.at("logout_token").as_string());
  LogoutTokenCheck check;
  check.issuer = d.meta.issuer;
  check.client_id = o.client_id;
  auto claims = validate_logout_token(rp.tokens().front(), d.jwks, check, std::chrono::system_clock::now());
  ASSERT_TRUE(claims.ok()) << claims.error().describe();
  EXPECT_EQ(claims->subject, "alice");
  EXPECT_EQ(claims->session_id, "the-sid");
  EXPECT_FALSE(claims->jwt_id.empty());
  // A token only minted, not delivered, for replay tests; and one with a sid only.
  const auto minted = op.backchannel_logout({{"sid", "only-sid"}, {"deliver", false}});
  EXPECT_FALSE(minted.contains("status"));
  auto sid_only = validate_logout_token(std::string(minted.at("logout_token").as_string()), d.jwks, check,
                                        std::chrono::system_clock::now());
  ASSERT_TRUE(sid_only.ok()) << sid_only.error().describe();
  EXPECT_TRUE(sid_only->subject.empty());
  EXPECT_EQ(rp.tokens().size(), 1U);
}

TEST(DevProvider, IdTokensInEveryAlgorithm) {
  REQUIRE_DEV_PROVIDER();
  for (const char* alg : {"PS256", "ES256"}) {
    DevProviderOptions o = options();
    o.id_token_alg = alg;
    DevProvider op(o);
    const Discovered d = discover(op);
    const SignedIn s = sign_in(op, d);
    auto jws = parse_jws(s.tokens.id_token);
    ASSERT_TRUE(jws.ok());
    EXPECT_EQ(to_string(jws->alg), alg);
  }
}

}  // namespace
}  // namespace websession::oidc
