#include "websession/aws/config.h"

#include <gtest/gtest.h>

#include <string_view>

#include "aws/support/fake_env.h"

namespace websession::aws {
namespace {

using websession::testing::fake_env;
using websession::testing::TempDir;

TEST(SharedFiles, ParsesConfigProfilesAndIgnoresOtherSections) {
  Profiles p = parse_shared_file(R"(# comment
[default]
region = eu-west-1
; another comment
[profile dev]
region=us-west-2   # inline comment
s3 =
  max_concurrent_requests = 10
output = json
[sso-session corp]
sso_region = us-east-1
[dev2]
region = nope
)",
                                 SharedFileKind::config);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p["default"]["region"], "eu-west-1");
  EXPECT_EQ(p["dev"]["region"], "us-west-2");
  EXPECT_EQ(p["dev"]["output"], "json");
  EXPECT_EQ(p["dev"].count("max_concurrent_requests"), 0u);
}

TEST(SharedFiles, ParsesCredentialsSectionsByBareName) {
  Profiles p = parse_shared_file("[default]\r\naws_access_key_id = AKID\r\nAWS_Secret_Access_Key=S\r\n[profile x]\nk=v\n",
                                 SharedFileKind::credentials);
  EXPECT_EQ(p["default"]["aws_access_key_id"], "AKID");
  EXPECT_EQ(p["default"]["aws_secret_access_key"], "S");
  EXPECT_EQ(p["profile x"]["k"], "v");
}

TEST(Region, EnvironmentThenDefaultRegionThenProfile) {
  TempDir dir;
  std::string config = dir.write("config", "[default]\nregion = eu-central-1\n[profile other]\nregion = ap-south-1\n");
  EXPECT_EQ(resolve_region(fake_env({{"AWS_REGION", "us-east-2"}, {"AWS_DEFAULT_REGION", "us-west-1"},
                                     {"AWS_CONFIG_FILE", config}})),
            "us-east-2");
  EXPECT_EQ(resolve_region(fake_env({{"AWS_DEFAULT_REGION", "us-west-1"}, {"AWS_CONFIG_FILE", config}})), "us-west-1");
  EXPECT_EQ(resolve_region(fake_env({{"AWS_CONFIG_FILE", config}})), "eu-central-1");
  EXPECT_EQ(resolve_region(fake_env({{"AWS_CONFIG_FILE", config}, {"AWS_PROFILE", "other"}})), "ap-south-1");
  EXPECT_EQ(resolve_region(fake_env({{"AWS_CONFIG_FILE", config}}), std::string("other")), "ap-south-1");
  EXPECT_EQ(resolve_region(fake_env({{"AWS_CONFIG_FILE", dir.path() + "/missing"}})), std::nullopt);
}

TEST(Region, DefaultConfigFileIsUnderHome) {
  TempDir dir;
  dir.write(".aws/config", "[default]\nregion = sa-east-1\n");
  EXPECT_EQ(resolve_region(fake_env({{"HOME", dir.path()}})), "sa-east-1");
  EXPECT_EQ(shared_credentials_path(fake_env({{"HOME", "/h"}})), "/h/.aws/credentials");
  EXPECT_EQ(shared_config_path(fake_env({{"HOME", "/h"}, {"AWS_CONFIG_FILE", "~/c"}})), "/h/c");
  EXPECT_EQ(shared_config_path(fake_env({})), std::nullopt);
}

TEST(Endpoint, ServiceVariableThenGeneralThenDefault) {
  EXPECT_EQ(resolve_endpoint(fake_env({{"AWS_ENDPOINT_URL_DYNAMODB", "http://a:1"}, {"AWS_ENDPOINT_URL", "http://b:2"}}),
                             "DYNAMODB", "dynamodb", "us-east-1"),
            "http://a:1");
  EXPECT_EQ(resolve_endpoint(fake_env({{"AWS_ENDPOINT_URL", "http://b:2"}}), "DYNAMODB", "dynamodb", "us-east-1"),
            "http://b:2");
  EXPECT_EQ(resolve_endpoint(fake_env({}), "DYNAMODB", "dynamodb", "eu-west-3"),
            "https://dynamodb.eu-west-3.amazonaws.com");
  EXPECT_EQ(default_endpoint("dynamodb", "cn-north-1"), "https://dynamodb.cn-north-1.amazonaws.com.cn");
}

TEST(Endpoint, ParsesUrls) {
  auto e = parse_endpoint("http://127.0.0.1:8000");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->scheme, "http");
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 8000);
  EXPECT_EQ(e->path, "/");
  EXPECT_EQ(e->host_header, "127.0.0.1:8000");
  EXPECT_EQ(e->url, "http://127.0.0.1:8000/");

  e = parse_endpoint("HTTPS://DynamoDB.us-east-1.amazonaws.com:443/");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host_header, "dynamodb.us-east-1.amazonaws.com");
  EXPECT_EQ(e->port, 443);

  e = parse_endpoint("http://[::1]:9000/base");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->host_header, "[::1]:9000");
  EXPECT_EQ(e->path, "/base");

  EXPECT_FALSE(parse_endpoint("ftp://x"));
  EXPECT_FALSE(parse_endpoint("localhost:8000"));
  EXPECT_FALSE(parse_endpoint("http://:80"));
  EXPECT_FALSE(parse_endpoint("http://h:99999"));
  auto userinfo = parse_endpoint("http://user:secret@h");
  ASSERT_FALSE(userinfo);
  EXPECT_EQ(userinfo.error().message.find("secret"), std::string::npos);
  EXPECT_EQ(userinfo.code(), ErrorCode::invalid_argument);
}

// Found by fuzz/endpoint_fuzz: hosts and paths with control characters, NULs or spaces were
// accepted and would have reached the Host header and the request line.
TEST(Endpoint, RefusesHostsAndPathsThatCannotBeSent) {
  using namespace std::string_view_literals;
  EXPECT_EQ(parse_endpoint("https://dynamo,\0\0\0r\xddth-1.amazonaws.com.cn"sv).code(), ErrorCode::invalid_argument);
  EXPECT_FALSE(parse_endpoint("http://localhost\r\nX-Injected: 1/"));
  EXPECT_FALSE(parse_endpoint("http://local host:8000/"));
  EXPECT_FALSE(parse_endpoint("http://a:b:8000/"));  // an IPv6 address needs brackets
  EXPECT_FALSE(parse_endpoint("http://[::1\n]:8000/"));
  EXPECT_FALSE(parse_endpoint("http://[%]:4/"));  // brackets hold an IPv6 address, never a name
  EXPECT_FALSE(parse_endpoint("http://[localhost]:4/"));
  EXPECT_FALSE(parse_endpoint("http://localhost:8000/a b"));
  EXPECT_FALSE(parse_endpoint("http://localhost:8000/a\tb"));
  EXPECT_FALSE(parse_endpoint("http://localhost:8000/\x7f"));
  EXPECT_TRUE(parse_endpoint("http://dynamodb_local-1.internal:8000/base~x/"));
  EXPECT_TRUE(parse_endpoint("http://[fe80::1%25eth0]:8000/"));
}

TEST(SharedFiles, ConfigFileSsoSessionsAndServices) {
  SharedConfig c = parse_config_file(R"([profile dev]
sso_session = corp
services = local
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
[services local]
sts =
  endpoint_url = http://127.0.0.1:4566
dynamodb =
  endpoint_url = http://127.0.0.1:8000
[profile  spaced ]
region = x
[sso-session]
sso_region = nowhere
)");
  EXPECT_EQ(c.profiles["dev"]["sso_session"], "corp");
  EXPECT_EQ(c.profiles["dev"].count("endpoint_url"), 0u);
  EXPECT_EQ(c.profiles["spaced"]["region"], "x");
  ASSERT_EQ(c.sso_sessions.size(), 1u);
  EXPECT_EQ(c.sso_sessions["corp"]["sso_region"], "eu-west-1");
  EXPECT_EQ(c.services["local"]["sts.endpoint_url"], "http://127.0.0.1:4566");
  EXPECT_EQ(c.services["local"]["dynamodb.endpoint_url"], "http://127.0.0.1:8000");
  EXPECT_TRUE(load_config_file(std::string("/nonexistent/config")).profiles.empty());
}

TEST(Region, OnlyWellFormedNamesAreRegions) {
  EXPECT_TRUE(valid_region("us-east-1"));
  EXPECT_TRUE(valid_region("cn-northwest-1"));
  EXPECT_FALSE(valid_region(""));
  EXPECT_FALSE(valid_region("US-EAST-1"));
  EXPECT_FALSE(valid_region("evil.com/x"));
  EXPECT_FALSE(valid_region("-us"));
}

TEST(Endpoint, ServiceEndpointsFromTheSharedConfig) {
  SharedConfig c = parse_config_file("[profile p]\nservices = s\n[services s]\nsso =\n  endpoint_url = http://sso:1\n");
  const ServiceNames sso{"SSO", "sso", "portal.sso"};
  EXPECT_EQ(resolve_service_endpoint(fake_env({}), sso, "eu-west-1", &c.profiles["p"], c), "http://sso:1");
  EXPECT_EQ(resolve_service_endpoint(fake_env({}), sso, "eu-west-1", nullptr, c),
            "https://portal.sso.eu-west-1.amazonaws.com");
  EXPECT_EQ(resolve_service_endpoint(fake_env({{"AWS_ENDPOINT_URL_SSO", "http://env:2"}}), sso, "eu-west-1",
                                     &c.profiles["p"], c),
            "http://env:2");
}

}  // namespace
}  // namespace websession::aws
