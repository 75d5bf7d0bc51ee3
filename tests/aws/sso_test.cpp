#include "websession/aws/sso.h"

#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>

#include "aws/support/fake_env.h"
#include "aws/support/sts_stand_in.h"

namespace websession::aws {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;
using websession::testing::fake_env;
using websession::testing::SsoPortalStandIn;
using websession::testing::TempDir;

std::string iso(system_clock::time_point t) {
  const std::time_t tt = system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

SsoConfig session_config(const std::string& endpoint) {
  SsoConfig c;
  c.profile = "dev";
  c.session_name = "my-sso";
  c.start_url = "https://d-abc123.awsapps.com/start";
  c.region = "eu-west-1";
  c.account_id = "111122223333";
  c.role_name = "SessionsDeveloper";
  c.endpoint = endpoint;
  return c;
}

// Writes the token cache file `aws sso login` would leave for `config`.
void write_token(const TempDir& home, const SsoConfig& config, const std::string& token, system_clock::time_point expires) {
  home.write(".aws/sso/cache/" + sso_cache_key(config) + ".json",
             R"({"startUrl":")" + config.start_url + R"(","region":")" + config.region + R"(","accessToken":")" + token +
                 R"(","expiresAt":")" + iso(expires) + R"("})");
}

TEST(SsoTokenCache, KeyIsTheSha1OfTheSessionNameOrTheStartUrl) {
  SsoConfig c = session_config("");
  EXPECT_EQ(sso_cache_key(c), "0ad374308c5a4e22f723adf10145eafad7c4031c");
  c.session_name.clear();
  EXPECT_EQ(sso_cache_key(c), "40a89917e3175433e361b710a9d43528d7f1890a");
  EXPECT_EQ(sso_token_cache_path(fake_env({{"HOME", "/home/u"}}), c),
            "/home/u/.aws/sso/cache/40a89917e3175433e361b710a9d43528d7f1890a.json");
  EXPECT_EQ(sso_token_cache_path(fake_env({}), c), std::nullopt);
}

TEST(SsoParsing, TokensAndRoleCredentials) {
  auto t = parse_sso_token(R"({"accessToken":"tok","expiresAt":"2030-01-01T00:00:00Z"})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->access_token, "tok");
  EXPECT_EQ(parse_sso_token(R"({"accessToken":"tok"})").code(), ErrorCode::permission_denied);
  EXPECT_EQ(parse_sso_token("not json").code(), ErrorCode::permission_denied);

  auto c = parse_sso_role_credentials(
      R"({"roleCredentials":{"accessKeyId":"ASIA","secretAccessKey":"s","sessionToken":"t","expiration":1893456000000}})");
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "ASIA");
  EXPECT_EQ(*c->expiration, system_clock::time_point(std::chrono::seconds(1893456000)));
  EXPECT_EQ(parse_sso_role_credentials(R"({"roleCredentials":{}})").code(), ErrorCode::unavailable);
}

TEST(SsoEndpoint, PortalOfTheRegionOrTheOverride) {
  EXPECT_EQ(sso_endpoint(fake_env({}), "eu-west-1"), "https://portal.sso.eu-west-1.amazonaws.com");
  EXPECT_EQ(sso_endpoint(fake_env({}), "cn-north-1"), "https://portal.sso.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(sso_endpoint(fake_env({{"AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:9"}}), "eu-west-1"), "http://127.0.0.1:9");
}

TEST(SsoProvider, ReturnsTheRoleCredentialsForTheCachedToken) {
  TempDir home;
  SsoPortalStandIn portal("sso-access-token", system_clock::now() + 1h);
  SsoConfig c = session_config(portal.url());
  write_token(home, c, "sso-access-token", system_clock::now() + 8h);
  SsoCredentialsProvider p(c, fake_env({{"HOME", home.path()}}));
  auto creds = p.credentials();
  ASSERT_TRUE(creds) << creds.error().describe();
  EXPECT_EQ((*creds)->access_key_id, "ASIASSO");
  EXPECT_EQ((*creds)->session_token, "sso-session-token");
  ASSERT_EQ(portal.received().size(), 1u);
  EXPECT_EQ(portal.received()[0].target,
            "/federation/credentials?role_name=SessionsDeveloper&account_id=111122223333");

  asio::io_context ioc;
  std::optional<Result<CredentialsPtr>> answer;
  asio::co_spawn(ioc, [&]() -> Task<void> { answer.emplace(co_await p.co_credentials()); }, asio::detached);
  ioc.run();
  ASSERT_TRUE(answer && *answer);
}

TEST(SsoProvider, AnExpiredOrMissingTokenSaysToSignInAgain) {
  TempDir home;
  SsoPortalStandIn portal("sso-access-token", system_clock::now() + 1h);
  SsoConfig c = session_config(portal.url());
  SsoCredentialsProvider p(c, fake_env({{"HOME", home.path()}}));
  auto missing = p.credentials();
  EXPECT_EQ(missing.code(), ErrorCode::permission_denied);
  EXPECT_NE(missing.error().message.find("aws sso login --profile dev"), std::string::npos);

  write_token(home, c, "sso-access-token", system_clock::now() - 1min);
  auto expired = p.credentials();
  EXPECT_EQ(expired.code(), ErrorCode::permission_denied);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
  EXPECT_NE(expired.error().message.find("aws sso login --profile dev"), std::string::npos);
  EXPECT_EQ(expired.error().message.find("sso-access-token"), std::string::npos);
  EXPECT_TRUE(portal.received().empty());
}

TEST(SsoProvider, ThePortalRefusingTheTokenOrBeingDown) {
  TempDir home;
  SsoPortalStandIn portal("the-right-token", system_clock::now() + 1h);
  SsoConfig c = session_config(portal.url());
  write_token(home, c, "a-revoked-token", system_clock::now() + 1h);
  SsoCredentialsProvider p(c, fake_env({{"HOME", home.path()}}));
  auto refused = p.credentials();
  EXPECT_EQ(refused.code(), ErrorCode::permission_denied);
  EXPECT_EQ(refused.error().service_type, "UnauthorizedException");
  EXPECT_NE(refused.error().message.find("aws sso login --profile dev"), std::string::npos);
  EXPECT_EQ(refused.error().message.find("a-revoked-token"), std::string::npos);

  write_token(home, c, "the-right-token", system_clock::now() + 1h);
  portal.fail_next(1, 503);
  EXPECT_EQ(p.credentials().code(), ErrorCode::unavailable);
  EXPECT_TRUE(p.credentials());
}

}  // namespace
}  // namespace websession::aws
