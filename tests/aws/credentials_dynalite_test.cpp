// Every credential source end to end: a DynamoDB client configured only through the environment
// and the shared files writes and reads an item in dynalite. dynalite accepts any signature, so the
// client talks to dynalite through a relay that verifies each request's SigV4 signature with the
// credentials the source should have produced (the STS, SSO portal, container and IMDS stand-ins
// issue them), and refuses anything else.
#include "websession/aws/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <mutex>
#include <thread>

#include "aws/support/fake_env.h"
#include "aws/support/http_test_server.h"
#include "aws/support/signing_relay.h"
#include "aws/support/sts_stand_in.h"
#include "support/dynalite.h"
#include "websession/aws/sso.h"
#include "websession/dynamodb/client.h"
#include "websession/net/http_client.h"

namespace websession::aws {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;
using websession::testing::fake_env;
using websession::testing::HttpTestServer;
using websession::testing::KnownCredentials;
using websession::testing::SsoPortalStandIn;
using websession::testing::StsStandIn;
using websession::testing::TempDir;
using websession::testing::TestAction;
using websession::testing::TestRequest;
using websession::testing::SigningRelay;

const Credentials kBase{"AKIDBASE", "base-secret", "", std::nullopt};
const std::string kRemoteDoc =
    R"({"Code":"Success","AccessKeyId":"ASIAHOST","SecretAccessKey":"host-secret","Token":"host-token","Expiration":"2099-01-01T00:00:00Z"})";
const Credentials kHost{"ASIAHOST", "host-secret", "host-token", std::nullopt};

class CredentialSourcesAgainstDynalite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (websession::testing::dynalite_endpoint().empty()) return;
    auto c = websession::testing::make_test_client(websession::testing::dynalite_endpoint(), 10s);
    table_ = websession::testing::unique_table_name("credentials");
    dynamodb::CreateTableRequest r;
    r.table_name = table_;
    r.attribute_definitions = {{"id", "S"}};
    r.key_schema = {{"id", "HASH"}};
    ASSERT_TRUE(c->create_table(r));
    for (int i = 0; i < 200; ++i) {
      auto d = c->describe_table({table_});
      if (d && d->table.table_status == "ACTIVE") return;
      std::this_thread::sleep_for(10ms);
    }
  }

  void SetUp() override {
    WEBSESSION_REQUIRE_DYNALITE();
    relay_ = std::make_unique<SigningRelay>(websession::testing::dynalite_endpoint());
    sts_.accept(kBase);
    sts_.accept(kHost);
  }

  void config(const std::string& text) { vars_["AWS_CONFIG_FILE"] = dir_.write("config", text); }
  void credentials(const std::string& text) { vars_["AWS_SHARED_CREDENTIALS_FILE"] = dir_.write("credentials", text); }

  [[nodiscard]] GetEnv env() const {
    auto v = vars_;
    v.emplace("HOME", dir_.path());
    v.emplace("AWS_REGION", "us-east-1");
    v.emplace("AWS_ENDPOINT_URL_STS", sts_.url());
    v.emplace("AWS_EC2_METADATA_DISABLED", "true");
    v.emplace("AWS_CONFIG_FILE", dir_.path() + "/no-config");
    v.emplace("AWS_SHARED_CREDENTIALS_FILE", dir_.path() + "/no-credentials");
    return fake_env(std::move(v));
  }

  // Writes and reads an item with a client configured by env() alone, expecting its requests
  // signed with `expected`; returns the error if any.
  Status round_trip(const Credentials& expected, std::optional<std::string> profile = std::nullopt) {
    relay_->expect(expected);
    dynamodb::ClientOptions o;
    o.endpoint = relay_->url();
    o.getenv = env();
    o.profile = std::move(profile);
    auto client = dynamodb::Client::create(o);
    if (!client) return client.error();
    dynamodb::PutItemRequest put;
    put.table_name = table_;
    put.item = {{"id", dynamodb::AttributeValue::string(expected.access_key_id)}};
    auto p = (*client)->put_item(put);
    if (!p) return p.error();
    dynamodb::GetItemRequest get;
    get.table_name = table_;
    get.key = put.item;
    get.consistent_read = true;
    auto g = (*client)->get_item(get);
    if (!g) return g.error();
    EXPECT_TRUE(g->item.has_value());
    for (const auto& who : relay_->signed_with()) EXPECT_EQ(who, expected.access_key_id);
    return {};
  }

  static inline std::string table_;
  TempDir dir_;
  StsStandIn sts_;
  std::unique_ptr<SigningRelay> relay_;
  std::map<std::string, std::string> vars_;
};

TEST_F(CredentialSourcesAgainstDynalite, Environment) {
  vars_["AWS_ACCESS_KEY_ID"] = "AKIDBASE";
  vars_["AWS_SECRET_ACCESS_KEY"] = "base-secret";
  auto s = round_trip(kBase);
  ASSERT_TRUE(s) << s.error().describe();
  // The relay does refuse a wrong signature.
  vars_["AWS_SECRET_ACCESS_KEY"] = "not-the-secret";
  EXPECT_EQ(round_trip(kBase).code(), ErrorCode::permission_denied);
}

TEST_F(CredentialSourcesAgainstDynalite, StaticProfile) {
  credentials("[dev]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
  auto s = round_trip(kBase, std::string("dev"));
  ASSERT_TRUE(s) << s.error().describe();
}

TEST_F(CredentialSourcesAgainstDynalite, AssumeRoleFromASourceProfile) {
  config("[profile app]\nrole_arn = arn:aws:iam::1:role/sessions\nsource_profile = base\n");
  credentials("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
  vars_["AWS_PROFILE"] = "app";
  auto s = round_trip({"ASIASTS1", "sts-secret-1", "sts-token-1", std::nullopt});
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(sts_.calls().at(0).signed_with, "AKIDBASE");
}

TEST_F(CredentialSourcesAgainstDynalite, RoleChain) {
  config("[profile top]\nrole_arn = arn:aws:iam::1:role/top\nsource_profile = middle\n"
         "[profile middle]\nrole_arn = arn:aws:iam::1:role/middle\nsource_profile = base\n");
  credentials("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
  auto s = round_trip({"ASIASTS2", "sts-secret-2", "sts-token-2", std::nullopt}, std::string("top"));
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(sts_.calls().at(1).signed_with, "ASIASTS1");
}

TEST_F(CredentialSourcesAgainstDynalite, CredentialSourceEnvironment) {
  config("[profile app]\nrole_arn = arn:aws:iam::1:role/sessions\ncredential_source = Environment\n");
  vars_["AWS_ACCESS_KEY_ID"] = "AKIDBASE";
  vars_["AWS_SECRET_ACCESS_KEY"] = "base-secret";
  auto s = round_trip({"ASIASTS1", "sts-secret-1", "sts-token-1", std::nullopt}, std::string("app"));
  ASSERT_TRUE(s) << s.error().describe();
}

TEST_F(CredentialSourcesAgainstDynalite, WebIdentityFromTheEnvironment) {
  vars_["AWS_WEB_IDENTITY_TOKEN_FILE"] = dir_.write("token", "eyJ-irsa");
  vars_["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/irsa";
  sts_.accept_web_identity_token("eyJ-irsa");
  auto s = round_trip({"ASIASTS1", "sts-secret-1", "sts-token-1", std::nullopt});
  ASSERT_TRUE(s) << s.error().describe();
}

TEST_F(CredentialSourcesAgainstDynalite, WebIdentityProfile) {
  config("[profile eks]\nrole_arn = arn:aws:iam::1:role/eks\nweb_identity_token_file = " +
         dir_.write("token", "eyJ-profile") + "\n");
  sts_.accept_web_identity_token("eyJ-profile");
  auto s = round_trip({"ASIASTS1", "sts-secret-1", "sts-token-1", std::nullopt}, std::string("eks"));
  ASSERT_TRUE(s) << s.error().describe();
}

TEST_F(CredentialSourcesAgainstDynalite, CredentialProcess) {
  const std::string helper = dir_.write(
      "helper.sh", "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\",\"SecretAccessKey\":\"proc-secret\","
                   "\"SessionToken\":\"proc-token\",\"Expiration\":\"2099-01-01T00:00:00Z\"}'\n");
  ::chmod(helper.c_str(), 0700);
  config("[profile vault]\ncredential_process = " + helper + "\n");
  auto s = round_trip({"AKIDPROC", "proc-secret", "proc-token", std::nullopt}, std::string("vault"));
  ASSERT_TRUE(s) << s.error().describe();
}

TEST_F(CredentialSourcesAgainstDynalite, Sso) {
  SsoPortalStandIn portal("sso-access-token", system_clock::now() + 1h);
  vars_["AWS_ENDPOINT_URL_SSO"] = portal.url();
  config("[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\n"
         "[sso-session corp]\nsso_start_url = https://d-abc123.awsapps.com/start\nsso_region = eu-west-1\n");
  SsoConfig key;
  key.session_name = "corp";
  dir_.write(".aws/sso/cache/" + sso_cache_key(key) + ".json",
             R"({"accessToken":"sso-access-token","expiresAt":"2099-01-01T00:00:00Z"})");
  auto s = round_trip(portal.credentials(), std::string("dev"));
  ASSERT_TRUE(s) << s.error().describe();
}

TEST_F(CredentialSourcesAgainstDynalite, ContainerAndInstanceMetadata) {
  HttpTestServer container([](const TestRequest&) { return TestAction::respond(200, kRemoteDoc, "application/json", false); });
  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = container.url() + "/creds";
  auto s = round_trip(kHost);
  ASSERT_TRUE(s) << s.error().describe();

  HttpTestServer imds([](const TestRequest& r) {
    if (r.method == "PUT") return TestAction::respond(200, "IMDS-TOKEN", "text/plain", false);
    if (r.target.ends_with("/security-credentials/")) return TestAction::respond(200, "role", "text/plain", false);
    return TestAction::respond(200, kRemoteDoc, "application/json", false);
  });
  vars_.erase("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  vars_["AWS_EC2_METADATA_DISABLED"] = "false";
  vars_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url();
  auto i = round_trip(kHost);
  ASSERT_TRUE(i) << i.error().describe();
}

TEST_F(CredentialSourcesAgainstDynalite, StsDownForAMomentIsRetried) {
  config("[profile app]\nrole_arn = arn:aws:iam::1:role/sessions\nsource_profile = base\n");
  credentials("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
  sts_.fail_next(1, 503);
  auto s = round_trip({"ASIASTS1", "sts-secret-1", "sts-token-1", std::nullopt}, std::string("app"));
  ASSERT_TRUE(s) << s.error().describe();
  // The client retried; the cache let STS be asked again once its 200 ms backoff had passed.
  EXPECT_EQ(sts_.calls().size(), 2u);
}

TEST_F(CredentialSourcesAgainstDynalite, AMissingNamedProfileNeverReachesDynamoDb) {
  vars_["AWS_PROFILE"] = "prod";
  HttpTestServer imds([](const TestRequest&) { return TestAction::respond(200, kRemoteDoc, "text/plain", false); });
  vars_["AWS_EC2_METADATA_DISABLED"] = "false";
  vars_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url();
  auto s = round_trip(kHost);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.code(), ErrorCode::permission_denied);
  EXPECT_NE(s.error().message.find("profile 'prod'"), std::string::npos) << s.error().message;
  EXPECT_TRUE(relay_->signed_with().empty());
  EXPECT_EQ(imds.requests(), 0);
}

}  // namespace
}  // namespace websession::aws
