// The shared files' profiles in every form, against local stand-ins of STS, the SSO portal, the
// container endpoint and IMDS: ProfileCredentialsProvider and the default chain.
#include "websession/aws/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <map>

#include "aws/support/fake_env.h"
#include "aws/support/http_test_server.h"
#include "aws/support/sts_stand_in.h"
#include "websession/aws/sso.h"

namespace websession::aws {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;
using websession::testing::fake_env;
using websession::testing::HttpTestServer;
using websession::testing::SsoPortalStandIn;
using websession::testing::StsStandIn;
using websession::testing::TempDir;
using websession::testing::TestAction;
using websession::testing::TestRequest;

const Credentials kBase{"AKIDBASE", "base-secret", "", std::nullopt};

// A test's world: shared files in a temporary HOME, an STS stand-in that knows kBase, and an
// environment pointing at them. Instance metadata is off unless a test turns it on.
class ProfileWorld {
 public:
  ProfileWorld() { sts.accept(kBase); }

  void config(const std::string& text) { vars["AWS_CONFIG_FILE"] = dir.write("config", text); }
  void credentials(const std::string& text) { vars["AWS_SHARED_CREDENTIALS_FILE"] = dir.write("credentials", text); }
  [[nodiscard]] GetEnv env() const {
    auto v = vars;
    v.emplace("HOME", dir.path());
    v.emplace("AWS_ENDPOINT_URL_STS", sts.url());
    v.emplace("AWS_EC2_METADATA_DISABLED", "true");
    v.emplace("AWS_CONFIG_FILE", dir.path() + "/no-config");
    v.emplace("AWS_SHARED_CREDENTIALS_FILE", dir.path() + "/no-credentials");
    return fake_env(std::move(v));
  }
  [[nodiscard]] std::shared_ptr<CredentialsProvider> chain(std::optional<std::string> profile = std::nullopt) const {
    DefaultChainOptions o;
    o.getenv = env();
    o.profile = std::move(profile);
    o.clock = clock;
    return default_credentials_chain(std::move(o));
  }

  TempDir dir;
  StsStandIn sts;
  std::map<std::string, std::string> vars;
  SystemClock clock;
};

// Nothing in `message` is one of the test's secrets.
void expect_no_secret(const std::string& message) {
  for (const char* secret : {"base-secret", "sts-secret", "sts-token", "proc-secret", "sso-secret", "eyJ"}) {
    EXPECT_EQ(message.find(secret), std::string::npos) << message;
  }
}

TEST(Profiles, StaticKeysAndTheCredentialsFileWins) {
  ProfileWorld w;
  w.credentials("[default]\naws_access_key_id = FROM_CREDS\naws_secret_access_key = S1\n");
  w.config("[default]\naws_access_key_id = FROM_CONFIG\naws_secret_access_key = S2\n"
           "[profile dev]\naws_access_key_id = DEV\naws_secret_access_key = S3\naws_session_token = T3\n");
  auto c = ProfileCredentialsProvider(w.env()).credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ((*c)->access_key_id, "FROM_CREDS");
  auto d = ProfileCredentialsProvider(w.env(), std::string("dev")).credentials();
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)->session_token, "T3");
}

TEST(Profiles, ANamedProfileThatIsMissingIsAnErrorAndNothingElseIsTried) {
  ProfileWorld w;
  HttpTestServer imds([](const TestRequest&) { return TestAction::respond(200, "x", "text/plain", false); });
  w.config("[profile other]\nregion = eu-west-1\n");
  w.vars["AWS_PROFILE"] = "prod";
  w.vars["AWS_EC2_METADATA_DISABLED"] = "false";
  w.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url();
  auto c = w.chain()->credentials();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.code(), ErrorCode::permission_denied);
  EXPECT_NE(c.error().message.find("profile 'prod' not found"), std::string::npos) << c.error().message;
  EXPECT_EQ(imds.requests(), 0);  // never fell through to the instance's role

  // The same with an explicit profile.
  ProfileWorld x;
  x.vars["AWS_EC2_METADATA_DISABLED"] = "false";
  x.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url();
  EXPECT_EQ(x.chain(std::string("prod"))->credentials().code(), ErrorCode::permission_denied);
  EXPECT_EQ(imds.requests(), 0);
}

TEST(Profiles, AnAbsentDefaultProfileOrOneWithOnlyARegionLetsTheChainGoOn) {
  ProfileWorld w;
  w.vars["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  w.vars["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  EXPECT_EQ(ProfileCredentialsProvider(w.env()).credentials().code(), ErrorCode::not_found);
  w.config("[profile prod]\nregion = eu-west-1\n");
  w.vars["AWS_PROFILE"] = "prod";
  auto only_region = ProfileCredentialsProvider(w.env()).credentials();
  EXPECT_EQ(only_region.code(), ErrorCode::not_found);
  EXPECT_NE(only_region.error().message.find("prod"), std::string::npos);
}

TEST(Profiles, AnExplicitProfileTakesTheEnvironmentKeysOut) {
  ProfileWorld w;
  w.vars["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  w.vars["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  w.config("[profile dev]\naws_access_key_id = DEV\naws_secret_access_key = S3\n");
  EXPECT_EQ((*w.chain()->credentials())->access_key_id, "ENVKEY");
  w.vars["AWS_PROFILE"] = "dev";
  EXPECT_EQ((*w.chain()->credentials())->access_key_id, "ENVKEY");  // AWS_PROFILE: the environment still wins
  EXPECT_EQ((*w.chain(std::string("dev"))->credentials())->access_key_id, "DEV");
}

TEST(Profiles, AssumeRoleWithASourceProfile) {
  ProfileWorld w;
  w.config("[profile app]\nrole_arn = arn:aws:iam::123456789012:role/sessions\nsource_profile = base\n"
           "external_id = ext-42\nduration_seconds = 1800\nrole_session_name = web-1\nregion = eu-central-1\n"
           "[profile base]\nregion = us-west-2\n");
  w.credentials("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
  w.vars["AWS_PROFILE"] = "app";
  auto c = w.chain()->credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ((*c)->access_key_id, "ASIASTS1");
  EXPECT_EQ((*c)->session_token, "sts-token-1");
  auto calls = w.sts.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].action, "AssumeRole");
  EXPECT_EQ(calls[0].signed_with, "AKIDBASE");  // the stand-in verified the signature with base's secret
  EXPECT_EQ(calls[0].region, "eu-central-1");    // the role profile's region
  EXPECT_EQ(calls[0].role_arn, "arn:aws:iam::123456789012:role/sessions");
  EXPECT_EQ(calls[0].external_id, "ext-42");
  EXPECT_EQ(calls[0].duration_seconds, "1800");
  EXPECT_EQ(calls[0].role_session_name, "web-1");
}

TEST(Profiles, RoleChainsAreAssumedInOrder) {
  ProfileWorld w;
  w.config("[profile top]\nrole_arn = arn:aws:iam::1:role/top\nsource_profile = middle\n"
           "[profile middle]\nrole_arn = arn:aws:iam::1:role/middle\nsource_profile = base\n");
  w.credentials("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
  auto c = ProfileCredentialsProvider(w.env(), std::string("top")).credentials();
  ASSERT_TRUE(c) << c.error().describe();
  auto calls = w.sts.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].role_arn, "arn:aws:iam::1:role/middle");
  EXPECT_EQ(calls[0].signed_with, "AKIDBASE");
  EXPECT_EQ(calls[1].role_arn, "arn:aws:iam::1:role/top");
  EXPECT_EQ(calls[1].signed_with, "ASIASTS1");  // signed with middle's role credentials and token
  EXPECT_EQ((*c)->access_key_id, "ASIASTS2");
}

TEST(Profiles, AProfileMaySourceItsOwnStaticKeys) {
  ProfileWorld w;
  w.credentials("[self]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n"
                "role_arn = arn:aws:iam::1:role/self\nsource_profile = self\n");
  auto c = ProfileCredentialsProvider(w.env(), std::string("self")).credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ((*c)->access_key_id, "ASIASTS1");
  EXPECT_EQ(w.sts.calls().at(0).signed_with, "AKIDBASE");
}

TEST(Profiles, MisconfigurationsAreClearErrorsNamingTheProfile) {
  const std::map<std::string, std::string> cases{
      {"[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = q\n[profile q]\nrole_arn = "
       "arn:aws:iam::1:role/q\nsource_profile = p\n",
       "cycle: p -> q -> p"},
      {"[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = nowhere\n", "source_profile 'nowhere' not found"},
      {"[profile p]\nrole_arn = arn:aws:iam::1:role/r\n", "needs source_profile, credential_source"},
      {"[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = b\ncredential_source = Environment\n"
       "[profile b]\naws_access_key_id = A\naws_secret_access_key = S\n",
       "both source_profile and credential_source"},
      {"[profile p]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Laptop\n", "credential_source must be"},
      {"[profile p]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Environment\nmfa_serial = "
       "arn:aws:iam::1:mfa/me\n",
       "mfa_serial is not supported"},
      {"[profile p]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Environment\nduration_seconds = 60\n",
       "duration_seconds"},
      {"[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = b\n[profile b]\nregion = x\n",
       "source_profile 'b': profile 'b' configures no credentials"},
      {"[profile p]\naws_access_key_id = A\n", "lacks aws_secret_access_key"},
      {"[profile p]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n", "[sso-session corp]"},
      {"[profile p]\nsso_start_url = https://x\nsso_region = eu-west-1\n", "sso_account_id and sso_role_name"},
      {"[profile p]\nweb_identity_token_file = /t\n", "web_identity_token_file needs role_arn"},
  };
  for (const auto& [config, expected] : cases) {
    ProfileWorld w;
    w.config(config);
    w.vars.emplace("AWS_PROFILE", "p");
    auto c = w.chain()->credentials();
    ASSERT_FALSE(c) << config;
    EXPECT_EQ(c.code(), ErrorCode::permission_denied) << config;
    EXPECT_NE(c.error().message.find("profile 'p'"), std::string::npos) << c.error().message;
    EXPECT_NE(c.error().message.find(expected), std::string::npos) << c.error().message;
    EXPECT_TRUE(w.sts.calls().empty());
  }
}

TEST(Profiles, CredentialSourceEnvironment) {
  ProfileWorld w;
  w.config("[profile p]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Environment\n");
  w.vars["AWS_PROFILE"] = "p";
  auto missing = ProfileCredentialsProvider(w.env()).credentials();
  EXPECT_EQ(missing.code(), ErrorCode::permission_denied);  // configured, absent: not "try the next source"
  EXPECT_NE(missing.error().message.find("profile 'p'"), std::string::npos);
  w.vars["AWS_ACCESS_KEY_ID"] = "AKIDBASE";
  w.vars["AWS_SECRET_ACCESS_KEY"] = "base-secret";
  auto c = ProfileCredentialsProvider(w.env()).credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(w.sts.calls().back().signed_with, "AKIDBASE");
}

// IMDSv2 that hands out kBase-like temporary credentials the STS stand-in accepts.
TestAction imds_with(const TestRequest& r, const std::string& doc) {
  if (r.method == "PUT") return TestAction::respond(200, "IMDS-TOKEN", "text/plain", false);
  if (r.target == "/latest/meta-data/iam/security-credentials/") return TestAction::respond(200, "role", "text/plain", false);
  return TestAction::respond(200, doc, "application/json", false);
}

TEST(Profiles, CredentialSourceInstanceMetadataAndContainer) {
  const std::string doc =
      R"({"Code":"Success","AccessKeyId":"ASIAHOST","SecretAccessKey":"host-secret","Token":"host-token","Expiration":"2099-01-01T00:00:00Z"})";
  HttpTestServer imds([&](const TestRequest& r) { return imds_with(r, doc); });
  HttpTestServer container([&](const TestRequest&) { return TestAction::respond(200, doc, "application/json", false); });
  for (const char* source : {"Ec2InstanceMetadata", "EcsContainer"}) {
    ProfileWorld w;
    w.sts.accept({"ASIAHOST", "host-secret", "host-token", std::nullopt});
    w.config(std::string("[profile p]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = ") + source + "\n");
    w.vars["AWS_PROFILE"] = "p";
    w.vars["AWS_EC2_METADATA_DISABLED"] = "false";
    w.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url();
    w.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = container.url() + "/creds";
    auto c = w.chain()->credentials();
    ASSERT_TRUE(c) << source << ": " << c.error().describe();
    EXPECT_EQ(w.sts.calls().at(0).signed_with, "ASIAHOST") << source;
  }
  // Configured, but there is no instance metadata service: an error, not the next source.
  std::uint16_t port = 0;
  {
    HttpTestServer gone([](const TestRequest&) { return TestAction::reset(); });
    port = gone.port();
  }
  ProfileWorld w;
  w.config("[profile p]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Ec2InstanceMetadata\n");
  w.vars["AWS_PROFILE"] = "p";
  w.vars["AWS_EC2_METADATA_DISABLED"] = "false";
  w.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:" + std::to_string(port);
  auto c = w.chain()->credentials();
  EXPECT_EQ(c.code(), ErrorCode::permission_denied);
  EXPECT_NE(c.error().message.find("profile 'p'"), std::string::npos);
}

TEST(Profiles, WebIdentityInAProfile) {
  ProfileWorld w;
  const std::string token = w.dir.write("token", "eyJ-profile-token");
  w.sts.accept_web_identity_token("eyJ-profile-token");
  w.config("[profile eks]\nrole_arn = arn:aws:iam::1:role/eks\nweb_identity_token_file = " + token +
           "\nrole_session_name = pod\n");
  auto c = ProfileCredentialsProvider(w.env(), std::string("eks")).credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(w.sts.calls().at(0).action, "AssumeRoleWithWebIdentity");
  EXPECT_EQ(w.sts.calls().at(0).role_session_name, "pod");
}

TEST(Profiles, CredentialProcessInAProfile) {
  ProfileWorld w;
  const std::string helper = w.dir.write(
      "helper.sh",
      "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\",\"SecretAccessKey\":\"proc-secret\"}'\n");
  ::chmod(helper.c_str(), 0700);
  w.config("[profile vault]\ncredential_process = " + helper + "\n");
  auto c = ProfileCredentialsProvider(w.env(), std::string("vault")).credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ((*c)->access_key_id, "AKIDPROC");

  const std::string failing = w.dir.write("failing.sh", "#!/bin/sh\necho oops >&2\nexit 1\n");
  ::chmod(failing.c_str(), 0700);
  w.config("[profile vault]\ncredential_process = " + failing + "\n");
  auto e = w.chain(std::string("vault"))->credentials();
  EXPECT_EQ(e.code(), ErrorCode::permission_denied);
  EXPECT_NE(e.error().message.find("profile 'vault'"), std::string::npos);
  EXPECT_NE(e.error().message.find("status 1"), std::string::npos);
}

TEST(Profiles, SsoSessionAndLegacySsoProfiles) {
  SsoPortalStandIn portal("sso-access-token", system_clock::now() + 1h);
  for (bool legacy : {false, true}) {
    ProfileWorld w;
    w.vars["AWS_ENDPOINT_URL_SSO"] = portal.url();
    const std::string url = "https://d-abc123.awsapps.com/start";
    if (legacy) {
      w.config("[profile dev]\nsso_start_url = " + url + "\nsso_region = eu-west-1\nsso_account_id = 111122223333\n"
               "sso_role_name = Dev\n");
    } else {
      w.config("[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\n"
               "[sso-session corp]\nsso_start_url = " + url + "\nsso_region = eu-west-1\n");
    }
    SsoConfig key;
    key.session_name = legacy ? "" : "corp";
    key.start_url = url;
    auto c = ProfileCredentialsProvider(w.env(), std::string("dev")).credentials();
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("aws sso login --profile dev"), std::string::npos) << c.error().message;
    w.dir.write(".aws/sso/cache/" + sso_cache_key(key) + ".json",
                R"({"accessToken":"sso-access-token","expiresAt":"2099-01-01T00:00:00Z"})");
    auto ok = ProfileCredentialsProvider(w.env(), std::string("dev")).credentials();
    ASSERT_TRUE(ok) << ok.error().describe();
    EXPECT_EQ((*ok)->access_key_id, "ASIASSO");
  }
}

TEST(Profiles, StsDownIsUnavailableAndRetriedAfterTheCachesBackoff) {
  ProfileWorld w;
  auto now = std::make_shared<std::atomic<system_clock::time_point>>(system_clock::now());
  w.clock = [now] { return now->load(); };
  w.config("[profile app]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n");
  w.credentials("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
  w.vars["AWS_PROFILE"] = "app";
  w.sts.fail_next(1, 503);
  auto chain = w.chain();
  auto down = chain->credentials();
  ASSERT_FALSE(down);
  EXPECT_EQ(down.code(), ErrorCode::unavailable);
  EXPECT_NE(down.error().message.find("profile 'app'"), std::string::npos);
  EXPECT_EQ(chain->credentials().code(), ErrorCode::unavailable);  // within the backoff: no new call
  EXPECT_EQ(w.sts.calls().size(), 1u);
  now->store(now->load() + 1s);
  auto back = chain->credentials();
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(w.sts.calls().size(), 2u);
}

TEST(Profiles, AssumedRoleCredentialsAreRefreshedBeforeTheyExpire) {
  auto now = std::make_shared<std::atomic<system_clock::time_point>>(system_clock::now());
  ProfileWorld w;
  StsStandIn sts(15min, [now] { return now->load(); });
  sts.accept(kBase);
  w.clock = [now] { return now->load(); };
  w.vars["AWS_ENDPOINT_URL_STS"] = sts.url();
  w.config("[profile app]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n");
  w.credentials("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
  auto chain = w.chain(std::string("app"));
  EXPECT_EQ((*chain->credentials())->access_key_id, "ASIASTS1");
  now->store(now->load() + 9min);
  EXPECT_EQ((*chain->credentials())->access_key_id, "ASIASTS1");
  EXPECT_EQ(sts.calls().size(), 1u);
  now->store(now->load() + 2min);  // 4 minutes left: inside the 5-minute window
  EXPECT_EQ((*chain->credentials())->access_key_id, "ASIASTS2");
  EXPECT_EQ(sts.calls().size(), 2u);
  // If STS fails while the old credentials still work, they keep being served.
  sts.fail_next(5, 503);
  now->store(now->load() + 11min);
  auto still = chain->credentials();
  ASSERT_TRUE(still);
  EXPECT_EQ((*still)->access_key_id, "ASIASTS2");
}

TEST(DefaultChain, WebIdentityFromTheEnvironmentComesAfterTheProfile) {
  ProfileWorld w;
  const std::string token = w.dir.write("token", "eyJ-env-token");
  w.sts.accept_web_identity_token("eyJ-env-token");
  w.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = token;
  w.vars["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/irsa";
  auto c = w.chain()->credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(w.sts.calls().at(0).action, "AssumeRoleWithWebIdentity");

  // A default profile with keys comes first.
  ProfileWorld v;
  v.vars = w.vars;
  v.sts.accept_web_identity_token("eyJ-env-token");
  v.credentials("[default]\naws_access_key_id = PROFILEKEY\naws_secret_access_key = s\n");
  EXPECT_EQ((*v.chain()->credentials())->access_key_id, "PROFILEKEY");
}

TEST(DefaultChain, MessagesNeverCarrySecrets) {
  ProfileWorld w;
  w.config("[profile app]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n");
  w.credentials("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = wrong-secret\n");
  auto c = w.chain(std::string("app"))->credentials();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.code(), ErrorCode::permission_denied);
  EXPECT_EQ(c.error().message.find("wrong-secret"), std::string::npos);
  expect_no_secret(c.error().message);
}

}  // namespace
}  // namespace websession::aws
