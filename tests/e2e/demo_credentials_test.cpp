// The demo on DynamoDB with each credential source a deployment uses, configured only as an operator
// would (environment and shared files): it signs in and counts a view against dynalite through a
// relay that checks every request's signature with the credentials the source should have produced
// (an STS, SSO portal or credential_process stand-in issues them). A missing profile stops it at
// start with a message naming the profile.
#include <sys/stat.h>

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "aws/support/fake_env.h"
#include "aws/support/signing_relay.h"
#include "aws/support/sts_stand_in.h"
#include "demo_process.h"
#include "support/dynalite.h"
#include "websession/aws/sso.h"

namespace {

using namespace std::chrono_literals;
using e2e::Demo;
using e2e::HttpResponse;
using websession::aws::Credentials;
using websession::testing::SigningRelay;
using websession::testing::SsoPortalStandIn;
using websession::testing::StsStandIn;
using websession::testing::TempDir;

const Credentials kBase{"AKIDBASE", "base-secret", "", std::nullopt};
const Credentials kFromSts{"ASIASTS1", "sts-secret-1", "sts-token-1", std::nullopt};

class DemoCredentials : public ::testing::Test {
 protected:
  void SetUp() override {
    WEBSESSION_REQUIRE_DYNALITE();
    relay_ = std::make_unique<SigningRelay>(websession::testing::dynalite_endpoint());
    sts_.accept(kBase);
  }
  // The demo's environment: DynamoDB through the relay, STS at the stand-in, no keys of its own.
  std::map<std::string, std::string> env(std::map<std::string, std::string> more) const {
    more.emplace("SESSION_STORE", "dynamodb");
    more.emplace("SESSION_TABLE", websession::testing::unique_table_name("creds"));
    more.emplace("AWS_ENDPOINT_URL_DYNAMODB", relay_->url());
    more.emplace("AWS_ENDPOINT_URL_STS", sts_.url());
    more.emplace("AWS_REGION", "us-east-1");
    more.emplace("AWS_EC2_METADATA_DISABLED", "true");
    more.emplace("HOME", dir_.path());
    more.emplace("AWS_CONFIG_FILE", dir_.path() + "/no-config");
    more.emplace("AWS_SHARED_CREDENTIALS_FILE", dir_.path() + "/no-credentials");
    more.emplace("OIDC_ISSUER", "off");
    return more;
  }
  // Signs in and counts a view: every DynamoDB call signed with `expected`.
  void works_with(const std::map<std::string, std::string>& vars, const Credentials& expected) {
    relay_->expect(expected);
    Demo demo(env(vars));
    HttpResponse in = e2e::post(demo.url("/api/login"), R"({"user":"olga"})", {"Content-Type: application/json"});
    ASSERT_EQ(in.status, 200) << in.body << "\n" << demo.process().log();
    const std::string cookie = e2e::cookie_value(in.header("set-cookie"));
    HttpResponse views = e2e::post(demo.url("/api/views"), std::nullopt, {"Cookie: sessionId=" + cookie});
    EXPECT_EQ(views.status, 200) << views.body;
    const auto signers = relay_->signed_with();
    ASSERT_FALSE(signers.empty());
    for (const auto& who : signers) EXPECT_EQ(who, expected.access_key_id);
  }

  TempDir dir_;
  StsStandIn sts_;
  std::unique_ptr<SigningRelay> relay_;
};

TEST_F(DemoCredentials, WebIdentityVariablesAlone) {
  sts_.accept_web_identity_token("eyJ-service-account");
  works_with({{"AWS_WEB_IDENTITY_TOKEN_FILE", dir_.write("token", "eyJ-service-account")},
              {"AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/sessions"},
              {"AWS_ROLE_SESSION_NAME", "demo"}},
             kFromSts);
}

TEST_F(DemoCredentials, AnAssumeRoleProfile) {
  const std::string config = dir_.write("config", "[profile app]\nrole_arn = arn:aws:iam::1:role/sessions\nsource_profile = base\n");
  const std::string creds = dir_.write("credentials", "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
  works_with({{"AWS_PROFILE", "app"}, {"AWS_CONFIG_FILE", config}, {"AWS_SHARED_CREDENTIALS_FILE", creds}}, kFromSts);
  EXPECT_EQ(sts_.calls().at(0).signed_with, "AKIDBASE") << "AssumeRole is signed with the source profile";
}

TEST_F(DemoCredentials, ACredentialProcessProfile) {
  const std::string helper = dir_.write(
      "helper.sh", "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\",\"SecretAccessKey\":\"proc-secret\","
                   "\"SessionToken\":\"proc-token\",\"Expiration\":\"2099-01-01T00:00:00Z\"}'\n");
  ::chmod(helper.c_str(), 0700);
  const std::string config = dir_.write("config", "[profile vault]\ncredential_process = " + helper + "\n");
  works_with({{"AWS_PROFILE", "vault"}, {"AWS_CONFIG_FILE", config}},
             Credentials{"AKIDPROC", "proc-secret", "proc-token", std::nullopt});
}

TEST_F(DemoCredentials, AnSsoProfile) {
  SsoPortalStandIn portal("sso-access-token", std::chrono::system_clock::now() + 1h);
  const std::string config = dir_.write(
      "config", "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\n"
                "[sso-session corp]\nsso_start_url = https://d-abc123.awsapps.com/start\nsso_region = eu-west-1\n");
  websession::aws::SsoConfig key;
  key.session_name = "corp";
  dir_.write(".aws/sso/cache/" + websession::aws::sso_cache_key(key) + ".json",
             R"({"accessToken":"sso-access-token","expiresAt":"2099-01-01T00:00:00Z"})");
  works_with({{"AWS_PROFILE", "dev"}, {"AWS_CONFIG_FILE", config}, {"AWS_ENDPOINT_URL_SSO", portal.url()}},
             portal.credentials());
}

TEST_F(DemoCredentials, AMissingProfileStopsTheDemoAtStart) {
  auto vars = env({{"AWS_PROFILE", "production"}, {"PORT", std::to_string(e2e::free_port())}});
  e2e::ChildProcess p({WEBSESSION_DEMO_BINARY}, vars, e2e::ChildProcess::temp_log_path("websession-e2e-profile"));
  const auto code = p.wait_exit(30s);
  ASSERT_TRUE(code.has_value()) << "the demo kept running with a missing profile";
  EXPECT_NE(*code, 0);
  EXPECT_NE(p.log().find("production"), std::string::npos) << p.log();
  EXPECT_TRUE(relay_->signed_with().empty()) << "nothing reached DynamoDB under another identity";
}

}  // namespace
