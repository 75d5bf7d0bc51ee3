#include "websession/aws/sts.h"

#include <gtest/gtest.h>

#include <atomic>

#include <boost/asio/detached.hpp>

#include "aws/support/fake_env.h"
#include "aws/support/sts_stand_in.h"
#include "net/support/test_pki.h"

namespace websession::aws {
namespace {

using namespace std::chrono_literals;
using websession::testing::fake_env;
using websession::testing::StsStandIn;
using websession::testing::TempDir;

const Credentials kSource{"AKIDSOURCE", "source-secret", "", std::nullopt};

std::shared_ptr<StsClient> client_for(const StsStandIn& sts, std::string region = "eu-west-1") {
  auto c = StsClient::create(std::move(region), sts.url(), {}, fake_env({}));
  if (!c) throw std::runtime_error(c.error().describe());
  return *c;
}

TEST(StsRequests, BodiesAreFormEncoded) {
  AssumeRoleParams p{"arn:aws:iam::123456789012:role/a b", "s1", std::string("ext&id=1"), 900};
  EXPECT_EQ(assume_role_body(p),
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fa%20b"
            "&RoleSessionName=s1&ExternalId=ext%26id%3D1&DurationSeconds=900");
  WebIdentityParams w{"arn:aws:iam::1:role/r", "s", "eyJ.x+y/z", std::nullopt};
  EXPECT_EQ(assume_role_with_web_identity_body(w),
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"
            "&RoleSessionName=s&WebIdentityToken=eyJ.x%2By%2Fz");
}

TEST(StsRequests, SessionNames) {
  using namespace std::chrono;
  EXPECT_EQ(default_role_session_name(sys_days{2030y / January / 1}), "websession-1893456000");
  EXPECT_TRUE(valid_role_session_name("ci@example.com,run=1"));
  EXPECT_FALSE(valid_role_session_name("a"));
  EXPECT_FALSE(valid_role_session_name("has space"));
  EXPECT_FALSE(valid_role_session_name(std::string(65, 'a')));
}

TEST(StsResponses, CredentialsAndErrors) {
  const std::string ok =
      "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId>"
      "<SecretAccessKey>s&amp;1</SecretAccessKey><SessionToken>t&#43;1</SessionToken>"
      "<Expiration>2030-01-01T00:00:00.000Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>";
  auto c = parse_sts_response("AssumeRole", 200, ok);
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "ASIA1");
  EXPECT_EQ(c->secret_access_key, "s&1");
  EXPECT_EQ(c->session_token, "t+1");
  ASSERT_TRUE(c->expiration);

  auto denied = parse_sts_response(
      "AssumeRole", 403,
      "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:x is not authorized to "
      "perform: sts:AssumeRole</Message></Error></ErrorResponse>");
  EXPECT_EQ(denied.code(), ErrorCode::permission_denied);
  EXPECT_EQ(denied.error().service_type, "AccessDenied");
  EXPECT_NE(denied.error().message.find("not authorized"), std::string::npos);

  auto throttled = parse_sts_response("AssumeRole", 400, "<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>");
  EXPECT_EQ(throttled.code(), ErrorCode::unavailable);
  auto down = parse_sts_response("AssumeRole", 503, "<html>proxy says no</html>");
  EXPECT_EQ(down.code(), ErrorCode::unavailable);
  EXPECT_EQ(down.error().message.find("proxy says"), std::string::npos);
  EXPECT_EQ(parse_sts_response("AssumeRole", 200, "<html/>").code(), ErrorCode::unavailable);
}

TEST(StsResponses, TheWebIdentityTokenNeverReachesAMessage) {
  const std::array<std::string_view, 1> secrets{"eyJSECRET"};
  auto e = parse_sts_response("AssumeRoleWithWebIdentity", 400,
                              "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>token eyJSECRET "
                              "is bad</Message></Error></ErrorResponse>",
                              secrets);
  EXPECT_EQ(e.code(), ErrorCode::permission_denied);
  EXPECT_EQ(e.error().message.find("eyJSECRET"), std::string::npos);
}

TEST(StsEndpoint, ResolvedAsTheSdksDo) {
  SharedConfig config = parse_config_file(
      "[profile p]\nservices = local\nendpoint_url = http://profile-wide:1\n"
      "[services local]\nsts =\n  endpoint_url = http://sts-section:2\n"
      "[profile q]\nendpoint_url = http://profile-wide:1\n");
  const ProfileProperties* p = &config.profiles["p"];
  const ProfileProperties* q = &config.profiles["q"];
  EXPECT_EQ(sts_endpoint(fake_env({}), "eu-west-1"), "https://sts.eu-west-1.amazonaws.com");
  EXPECT_EQ(sts_endpoint(fake_env({}), "cn-north-1"), "https://sts.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(sts_endpoint(fake_env({{"AWS_ENDPOINT_URL_STS", "http://e:3"}, {"AWS_ENDPOINT_URL", "http://g:4"}}),
                         "eu-west-1", p, config),
            "http://e:3");
  EXPECT_EQ(sts_endpoint(fake_env({{"AWS_ENDPOINT_URL", "http://g:4"}}), "eu-west-1", p, config), "http://sts-section:2");
  EXPECT_EQ(sts_endpoint(fake_env({{"AWS_ENDPOINT_URL", "http://g:4"}}), "eu-west-1", q, config), "http://g:4");
  EXPECT_EQ(sts_endpoint(fake_env({}), "eu-west-1", q, config), "http://profile-wide:1");
  EXPECT_EQ(sts_endpoint(fake_env({{"AWS_ENDPOINT_URL_STS", "http://e:3"}, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}}),
                         "eu-west-1", p, config),
            "https://sts.eu-west-1.amazonaws.com");
}

TEST(StsClient, AssumeRoleIsSignedWithTheSourceCredentials) {
  StsStandIn sts;
  sts.accept(kSource);
  auto client = client_for(sts);
  AssumeRoleParams params{"arn:aws:iam::123456789012:role/sessions", "my-session", std::string("ext-1"), 1800};
  auto role = run_blocking([&] { return client->co_assume_role(kSource, params); });
  ASSERT_TRUE(role) << role.error().describe();
  EXPECT_EQ(role->access_key_id, "ASIASTS1");
  EXPECT_EQ(role->session_token, "sts-token-1");
  auto calls = sts.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].signed_with, "AKIDSOURCE");
  EXPECT_EQ(calls[0].region, "eu-west-1");
  EXPECT_EQ(calls[0].role_arn, params.role_arn);
  EXPECT_EQ(calls[0].role_session_name, "my-session");
  EXPECT_EQ(calls[0].external_id, "ext-1");
  EXPECT_EQ(calls[0].duration_seconds, "1800");
  EXPECT_TRUE(calls[0].refused.empty());

  // Temporary source credentials sign with their session token (a role chain).
  AssumeRoleParams next{"arn:aws:iam::123456789012:role/next", "", std::nullopt, std::nullopt};
  const Credentials first = *role;
  auto chained = run_blocking([&] { return client->co_assume_role(first, next); });
  ASSERT_TRUE(chained) << chained.error().describe();
  EXPECT_EQ(sts.calls()[1].signed_with, "ASIASTS1");
  EXPECT_TRUE(sts.calls()[1].role_session_name.starts_with("websession-"));
}

TEST(StsClient, AWrongSecretIsRefusedByTheStandIn) {
  StsStandIn sts;
  sts.accept(kSource);
  auto client = client_for(sts);
  const Credentials forged{"AKIDSOURCE", "not-the-secret", "", std::nullopt};
  AssumeRoleParams params{"arn:aws:iam::1:role/r", "s1", std::nullopt, std::nullopt};
  auto role = run_blocking([&] { return client->co_assume_role(forged, params); });
  ASSERT_FALSE(role);
  EXPECT_EQ(role.code(), ErrorCode::permission_denied);
  EXPECT_EQ(role.error().service_type, "SignatureDoesNotMatch");
  EXPECT_EQ(role.error().message.find("not-the-secret"), std::string::npos);
}

TEST(StsClient, WebIdentityIsUnsignedAndCarriesTheToken) {
  StsStandIn sts;
  sts.accept_web_identity_token("eyJ-token");
  auto client = client_for(sts);
  WebIdentityParams params{"arn:aws:iam::1:role/web", "pod", "eyJ-token", std::nullopt};
  auto role = run_blocking([&] { return client->co_assume_role_with_web_identity(params); });
  ASSERT_TRUE(role) << role.error().describe();
  params.token = "eyJ-wrong";
  auto refused = run_blocking([&] { return client->co_assume_role_with_web_identity(params); });
  EXPECT_EQ(refused.code(), ErrorCode::permission_denied);
  EXPECT_EQ(refused.error().service_type, "InvalidIdentityToken");
  EXPECT_EQ(refused.error().message.find("eyJ-wrong"), std::string::npos);
}

TEST(StsClient, StsDownIsUnavailable) {
  StsStandIn sts;
  sts.fail_next(1, 503);
  auto client = client_for(sts);
  WebIdentityParams params{"arn:aws:iam::1:role/web", "pod", "t", std::nullopt};
  EXPECT_EQ(run_blocking([&] { return client->co_assume_role_with_web_identity(params); }).code(),
            ErrorCode::unavailable);
  std::uint16_t port = 0;
  {
    StsStandIn gone;
    port = static_cast<std::uint16_t>(std::stoi(gone.url().substr(gone.url().rfind(':') + 1)));
  }
  auto nowhere = *StsClient::create("eu-west-1", "http://127.0.0.1:" + std::to_string(port), {}, fake_env({}));
  auto e = run_blocking([&] { return nowhere->co_assume_role_with_web_identity(params); });
  EXPECT_EQ(e.code(), ErrorCode::unavailable);
  EXPECT_EQ(StsClient::create("EU WEST", sts.url()).code(), ErrorCode::permission_denied);
  EXPECT_EQ(StsClient::create("eu-west-1", "ftp://x").code(), ErrorCode::permission_denied);
}

TEST(StsClient, AnUnreadableCaBundleIsAnErrorOfTheCallNotAnException) {
  auto client = StsClient::create("eu-west-1", "https://sts.eu-west-1.amazonaws.com", {},
                                  fake_env({{"AWS_CA_BUNDLE", "/nonexistent/ca.pem"}}));
  ASSERT_TRUE(client);
  WebIdentityParams params{"arn:aws:iam::1:role/web", "pod", "t", std::nullopt};
  auto e = run_blocking([&] { return (*client)->co_assume_role_with_web_identity(params); });
  EXPECT_EQ(e.code(), ErrorCode::permission_denied);
}

// STS over TLS trusts AWS_CA_BUNDLE (a corporate proxy's or a private endpoint's CA), as DynamoDB does.
TEST(StsClient, TrustsTheCaBundleOfTheEnvironment) {
  auto pki = websession::testing::make_test_pki("websession test CA", {}, {"127.0.0.1"});
  websession::testing::HttpTestServer server(
      [](const websession::testing::TestRequest&) {
        return websession::testing::TestAction::respond(
            200,
            "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIATLS"
            "</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>"
            "2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
            "</AssumeRoleWithWebIdentityResponse>",
            "text/xml", false);
      },
      websession::testing::TestTlsOptions{pki.server_cert_pem, pki.server_key_pem});
  TempDir dir;
  const std::string ca = dir.write("ca.pem", pki.ca_cert_pem);
  WebIdentityParams params{"arn:aws:iam::1:role/web", "pod", "t", std::nullopt};
  auto trusted = *StsClient::create("eu-west-1", server.url(), {}, fake_env({{"AWS_CA_BUNDLE", ca}}));
  auto ok = run_blocking([&] { return trusted->co_assume_role_with_web_identity(params); });
  ASSERT_TRUE(ok) << ok.error().describe();
  EXPECT_EQ(ok->access_key_id, "ASIATLS");
  auto untrusted = *StsClient::create("eu-west-1", server.url(), {}, fake_env({}));
  auto refused = run_blocking([&] { return untrusted->co_assume_role_with_web_identity(params); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().service_type, net::kTlsError);
}

// A source whose credentials STS finds expired is asked again, once.
class SequenceProvider : public CredentialsProvider {
 public:
  Result<CredentialsPtr> credentials() override {
    const int n = ++calls;
    return CredentialsPtr(std::make_shared<const Credentials>(
        Credentials{"AKIDSEQ" + std::to_string(n), "seq-secret", "", std::nullopt}));
  }
  void invalidate() noexcept override { ++invalidations; }
  std::string_view name() const noexcept override { return "sequence"; }
  std::atomic<int> calls{0};
  std::atomic<int> invalidations{0};
};

TEST(AssumeRoleProvider, ExpiredSourceCredentialsAreFetchedAgainOnce) {
  StsStandIn sts;
  sts.accept({"AKIDSEQ1", "seq-secret", "", std::nullopt});
  sts.accept({"AKIDSEQ2", "seq-secret", "", std::nullopt});
  sts.expire_once("AKIDSEQ1");
  auto source = std::make_shared<SequenceProvider>();
  AssumeRoleCredentialsProvider provider(source, {"arn:aws:iam::1:role/r", "s1", std::nullopt, std::nullopt},
                                         client_for(sts));
  auto c = provider.credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(source->invalidations.load(), 1);
  EXPECT_EQ(sts.calls().back().signed_with, "AKIDSEQ2");
}

TEST(AssumeRoleProvider, AnAbsentSourceIsAConfigurationError) {
  StsStandIn sts;
  AssumeRoleCredentialsProvider provider(std::make_shared<EnvironmentCredentialsProvider>(fake_env({})),
                                         {"arn:aws:iam::1:role/r", "s1", std::nullopt, std::nullopt}, client_for(sts));
  auto c = provider.credentials();
  EXPECT_EQ(c.code(), ErrorCode::permission_denied);
  EXPECT_NE(c.error().message.find("environment"), std::string::npos);
  EXPECT_TRUE(sts.calls().empty());
}

TEST(WebIdentityProvider, FromTheEnvironment) {
  TempDir dir;
  const std::string token = dir.write("token", "eyJ-first\n");
  StsStandIn sts;
  sts.accept_web_identity_token("eyJ-first");
  WebIdentityCredentialsProvider unset(fake_env({{"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"}}));
  EXPECT_EQ(unset.credentials().code(), ErrorCode::not_found);
  WebIdentityCredentialsProvider no_role(fake_env({{"AWS_WEB_IDENTITY_TOKEN_FILE", token}}));
  EXPECT_EQ(no_role.credentials().code(), ErrorCode::permission_denied);

  auto env = fake_env({{"AWS_WEB_IDENTITY_TOKEN_FILE", token},
                       {"AWS_ROLE_ARN", "arn:aws:iam::1:role/web"},
                       {"AWS_ROLE_SESSION_NAME", "pod-1"},
                       {"AWS_REGION", "ap-southeast-2"},
                       {"AWS_CONFIG_FILE", dir.path() + "/none"},
                       {"AWS_ENDPOINT_URL_STS", sts.url()}});
  WebIdentityCredentialsProvider provider(env);
  auto c = provider.credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ((*c)->access_key_id, "ASIASTS1");
  ASSERT_EQ(sts.calls().size(), 1u);
  EXPECT_EQ(sts.calls()[0].role_session_name, "pod-1");
  EXPECT_EQ(sts.calls()[0].role_arn, "arn:aws:iam::1:role/web");

  // The token file is read again on every fetch: EKS rotates it.
  dir.write("token", "eyJ-second");
  sts.accept_web_identity_token("eyJ-second");
  ASSERT_TRUE(provider.credentials());
  EXPECT_EQ(sts.calls()[1].web_identity_token, "eyJ-second");

  std::remove(token.c_str());
  auto missing = provider.credentials();
  EXPECT_EQ(missing.code(), ErrorCode::permission_denied);
}

TEST(WebIdentityProvider, TheCoroutinePathRunsOnTheCallersExecutor) {
  TempDir dir;
  const std::string token = dir.write("token", "eyJ-async");
  StsStandIn sts;
  sts.accept_web_identity_token("eyJ-async");
  WebIdentityCredentialsProvider provider(WebIdentityConfig{token, "arn:aws:iam::1:role/web", "", std::nullopt},
                                          client_for(sts));
  asio::io_context ioc;
  std::optional<Result<CredentialsPtr>> answer;
  asio::co_spawn(ioc, [&]() -> Task<void> { answer.emplace(co_await provider.co_credentials()); }, asio::detached);
  ioc.run();
  ASSERT_TRUE(answer && *answer) << (answer ? answer->error().describe() : "no answer");
  EXPECT_EQ((**answer)->session_token, "sts-token-1");
}

}  // namespace
}  // namespace websession::aws
