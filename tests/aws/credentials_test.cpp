#include "websession/aws/credentials.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "aws/support/fake_env.h"
#include "aws/support/http_test_server.h"
#include "net/support/test_pki.h"
#include "net/support/test_proxy.h"

namespace websession::aws {
namespace {

using namespace std::chrono_literals;
using websession::testing::fake_env;
using websession::testing::HttpTestServer;
using websession::testing::TempDir;
using websession::testing::TestAction;
using websession::testing::TestRequest;

constexpr const char* kDoc =
    R"({"Code":"Success","AccessKeyId":"ASIAREMOTE","SecretAccessKey":"remote-secret","Token":"remote-token","Expiration":"2099-01-01T00:00:00Z"})";

TEST(EnvironmentCredentials, ReadsTheStandardVariables) {
  EnvironmentCredentialsProvider p(fake_env(
      {{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "SECRET"}, {"AWS_SESSION_TOKEN", "TOKEN"}}));
  auto c = p.credentials();
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)->access_key_id, "AKID");
  EXPECT_EQ((*c)->secret_access_key, "SECRET");
  EXPECT_EQ((*c)->session_token, "TOKEN");
}

TEST(EnvironmentCredentials, UnsetIsNotFoundAndHalfSetIsAnError) {
  EnvironmentCredentialsProvider none(fake_env({}));
  EXPECT_EQ(none.credentials().code(), ErrorCode::not_found);
  EnvironmentCredentialsProvider half(fake_env({{"AWS_SECRET_ACCESS_KEY", "SECRET"}}));
  auto c = half.credentials();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.code(), ErrorCode::permission_denied);
  EXPECT_EQ(c.error().message.find("SECRET\""), std::string::npos);
  EXPECT_EQ(c.error().message.find(" SECRET"), std::string::npos);
}

TEST(ProfileCredentials, CredentialsFileWinsOverConfigFile) {
  TempDir dir;
  std::string creds = dir.write("credentials", "[default]\naws_access_key_id = FROM_CREDS\naws_secret_access_key = S1\n");
  std::string config = dir.write("config",
                                 "[default]\naws_access_key_id = FROM_CONFIG\naws_secret_access_key = S2\n"
                                 "aws_session_token = T2\n[profile dev]\naws_access_key_id = DEV\naws_secret_access_key = S3\n");
  ProfileCredentialsProvider p(fake_env({{"AWS_SHARED_CREDENTIALS_FILE", creds}, {"AWS_CONFIG_FILE", config}}));
  auto c = p.credentials();
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)->access_key_id, "FROM_CREDS");
  EXPECT_EQ((*c)->secret_access_key, "S1");

  ProfileCredentialsProvider dev(
      fake_env({{"AWS_SHARED_CREDENTIALS_FILE", creds}, {"AWS_CONFIG_FILE", config}, {"AWS_PROFILE", "dev"}}));
  auto d = dev.credentials();
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)->access_key_id, "DEV");

  ProfileCredentialsProvider missing(
      fake_env({{"AWS_SHARED_CREDENTIALS_FILE", creds}, {"AWS_CONFIG_FILE", config}, {"AWS_PROFILE", "nope"}}));
  // A profile asked for by name that does not exist is an error, never "try the next source".
  EXPECT_EQ(missing.credentials().code(), ErrorCode::permission_denied);
}

TEST(ProfileCredentials, DefaultFilesLiveUnderHome) {
  TempDir dir;
  dir.write(".aws/credentials", "[work]\naws_access_key_id = W\naws_secret_access_key = WS\naws_session_token = WT\n");
  ProfileCredentialsProvider p(fake_env({{"HOME", dir.path()}}), std::string("work"));
  auto c = p.credentials();
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)->session_token, "WT");
}

TEST(ContainerCredentials, FullUriWithAuthorizationToken) {
  HttpTestServer server([](const TestRequest& r) {
    if (r.target != "/creds" || r.header("authorization") != "Bearer abc") return TestAction::respond(403, "{}");
    return TestAction::respond(200, kDoc, "application/json", false);
  });
  ContainerCredentialsProvider p(fake_env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/creds"},
                                           {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer abc"}}));
  auto c = p.credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ((*c)->access_key_id, "ASIAREMOTE");
  EXPECT_EQ((*c)->session_token, "remote-token");
  ASSERT_TRUE((*c)->expiration);
}

TEST(ContainerCredentials, TokenFileWinsOverTokenVariable) {
  TempDir dir;
  std::string token_file = dir.write("token", "from-file\n");
  HttpTestServer server([](const TestRequest& r) {
    if (r.header("authorization") != "from-file") return TestAction::respond(403, "{}");
    return TestAction::respond(200, kDoc, "application/json", false);
  });
  ContainerCredentialsProvider p(fake_env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/creds"},
                                           {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "from-var"},
                                           {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file}}));
  EXPECT_TRUE(p.credentials());
}

TEST(ContainerCredentials, RefusesPlainHttpToOtherHostsAndReportsFailures) {
  ContainerCredentialsProvider remote(fake_env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds"}}));
  EXPECT_EQ(remote.credentials().code(), ErrorCode::invalid_argument);
  // A name that merely starts like a loopback address may resolve anywhere.
  ContainerCredentialsProvider lookalike(
      fake_env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.example.com/creds"}}));
  EXPECT_EQ(lookalike.credentials().code(), ErrorCode::invalid_argument);
  ContainerCredentialsProvider none(fake_env({}));
  EXPECT_EQ(none.credentials().code(), ErrorCode::not_found);

  HttpTestServer server([](const TestRequest&) { return TestAction::respond(500, "<html>oops</html>", "text/html", false); });
  ContainerCredentialsProvider failing(fake_env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/creds"}}));
  auto c = failing.credentials();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.code(), ErrorCode::unavailable);
  EXPECT_EQ(c.error().message.find("oops"), std::string::npos);
}

// An IMDSv2 double: token first, then the role, then the role's credentials, each checked.
TestAction imds(const TestRequest& r) {
  if (r.method == "PUT" && r.target == "/latest/api/token") {
    if (r.header("x-aws-ec2-metadata-token-ttl-seconds").empty()) return TestAction::respond(400, "");
    return TestAction::respond(200, "IMDS-TOKEN", "text/plain", false);
  }
  if (r.header("x-aws-ec2-metadata-token") != "IMDS-TOKEN") return TestAction::respond(401, "");
  if (r.target == "/latest/meta-data/iam/security-credentials/") {
    return TestAction::respond(200, "my-role\n", "text/plain", false);
  }
  if (r.target == "/latest/meta-data/iam/security-credentials/my-role") {
    return TestAction::respond(200, kDoc, "text/plain", false);
  }
  return TestAction::respond(404, "");
}

TEST(InstanceMetadataCredentials, FollowsTheImdsV2Protocol) {
  HttpTestServer server(imds);
  InstanceMetadataCredentialsProvider p(fake_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url() + "/"}}));
  auto c = p.credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ((*c)->access_key_id, "ASIAREMOTE");
  EXPECT_EQ(server.requests(), 3);
}

TEST(InstanceMetadataCredentials, DisabledSkipsTheNetwork) {
  HttpTestServer server(imds);
  InstanceMetadataCredentialsProvider p(fake_env(
      {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url()}, {"AWS_EC2_METADATA_DISABLED", "true"}}));
  EXPECT_EQ(p.credentials().code(), ErrorCode::not_found);
  EXPECT_EQ(server.requests(), 0);
}

TEST(InstanceMetadataCredentials, AHangingEndpointFailsWithinTheTimeout) {
  HttpTestServer server([](const TestRequest&) { return TestAction::hang(5s); });
  InstanceMetadataCredentialsProvider p(fake_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url()}}),
                                        RemoteProviderOptions{200ms, {}});
  auto start = std::chrono::steady_clock::now();
  auto c = p.credentials();
  EXPECT_FALSE(c);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

class CountingProvider : public CredentialsProvider {
 public:
  explicit CountingProvider(std::chrono::system_clock::time_point expiration) : expiration_(expiration) {}
  Result<CredentialsPtr> credentials() override {
    int n = ++calls;
    if (fail) return Error(ErrorCode::unavailable, "down");
    return CredentialsPtr(std::make_shared<const Credentials>(
        Credentials{"AKID" + std::to_string(n), "SECRET", "TOKEN", expiration_}));
  }
  std::string_view name() const noexcept override { return "counting"; }
  std::atomic<int> calls{0};
  std::atomic<bool> fail{false};

 private:
  std::chrono::system_clock::time_point expiration_;
};

TEST(CachedCredentials, RefreshesFiveMinutesBeforeExpiry) {
  using namespace std::chrono;
  auto t0 = sys_days{2030y / January / 1};
  auto now = std::make_shared<std::atomic<system_clock::time_point>>(t0);
  auto inner = std::make_shared<CountingProvider>(t0 + 1h);
  CachedCredentialsProvider cached(inner, minutes(5), [now] { return now->load(); });
  EXPECT_EQ((*cached.credentials())->access_key_id, "AKID1");
  now->store(t0 + 54min);
  EXPECT_EQ((*cached.credentials())->access_key_id, "AKID1");
  EXPECT_EQ(inner->calls.load(), 1);
  now->store(t0 + 56min);
  EXPECT_EQ((*cached.credentials())->access_key_id, "AKID2");
  // A failed refresh keeps serving unexpired credentials, and fails once they expire.
  inner->fail = true;
  now->store(t0 + 58min);
  auto still = cached.credentials();
  ASSERT_TRUE(still);
  EXPECT_EQ((*still)->access_key_id, "AKID2");
  now->store(t0 + 61min);
  EXPECT_FALSE(cached.credentials());
}

TEST(CachedCredentials, ConcurrentCallersShareOneFetch) {
  auto inner = std::make_shared<CountingProvider>(std::chrono::system_clock::now() + std::chrono::hours(1));
  CachedCredentialsProvider cached(inner);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 100; ++k) ASSERT_TRUE(cached.credentials());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(inner->calls.load(), 1);
  cached.invalidate();
  EXPECT_EQ((*cached.credentials())->access_key_id, "AKID2");
}

TEST(CredentialsChain, FirstThatAnswersWinsAndIsRemembered) {
  TempDir dir;
  std::string creds = dir.write("credentials", "[default]\naws_access_key_id = PROFILE\naws_secret_access_key = PS\n");
  auto chain = default_credentials_chain(
      {fake_env({{"AWS_ACCESS_KEY_ID", "ENV"}, {"AWS_SECRET_ACCESS_KEY", "ES"}, {"AWS_SHARED_CREDENTIALS_FILE", creds}}),
       std::nullopt, {}, {}});
  EXPECT_EQ((*chain->credentials())->access_key_id, "ENV");

  auto profile_chain = default_credentials_chain(
      {fake_env({{"AWS_SHARED_CREDENTIALS_FILE", creds}}), std::nullopt, {}, {}});
  EXPECT_EQ((*profile_chain->credentials())->access_key_id, "PROFILE");
}

TEST(CredentialsChain, ContainerAndImdsAreReachedThroughTheStandardVariables) {
  HttpTestServer server(imds);
  auto chain = default_credentials_chain(
      {fake_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url()}, {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"},
                 {"AWS_CONFIG_FILE", "/nonexistent"}}),
       std::nullopt, {}, {}});
  auto c = chain->credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ((*c)->access_key_id, "ASIAREMOTE");
  EXPECT_TRUE(chain->credentials());
  EXPECT_EQ(server.requests(), 3);  // cached: fetched once
}

TEST(CredentialsChain, NothingFoundIsPermissionDeniedNamingWhatWasTried) {
  auto chain = default_credentials_chain({fake_env({{"AWS_EC2_METADATA_DISABLED", "true"},
                                                    {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"},
                                                    {"AWS_CONFIG_FILE", "/nonexistent"},
                                                    {"AWS_SECRET_ACCESS_KEY_X", "do-not-print"}}),
                                          std::nullopt, {}, {}});
  auto c = chain->credentials();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.code(), ErrorCode::permission_denied);
  EXPECT_NE(c.error().message.find("environment"), std::string::npos);
  EXPECT_NE(c.error().message.find("imds"), std::string::npos);
}

// Credentials that arrive already inside the refresh window (a source that hands out short-lived
// ones) used to be fetched again on every call. They are served, and refreshed at most once per
// backoff.
TEST(CachedCredentials, CredentialsInsideTheRefreshWindowAreRefreshedOncePerBackoff) {
  using namespace std::chrono;
  auto t0 = sys_days{2030y / January / 1};
  auto now = std::make_shared<std::atomic<system_clock::time_point>>(t0);
  auto inner = std::make_shared<CountingProvider>(t0 + 2min);  // inside the 5-minute window at once
  CachedCredentialsProvider cached(inner, minutes(5), [now] { return now->load(); });
  for (int i = 0; i < 50; ++i) ASSERT_EQ((*cached.credentials())->access_key_id, "AKID1");
  EXPECT_EQ(inner->calls.load(), 1);
  now->store(t0 + 5s);
  EXPECT_EQ((*cached.credentials())->access_key_id, "AKID1");
  EXPECT_EQ(inner->calls.load(), 1);
  now->store(t0 + 11s);
  EXPECT_EQ((*cached.credentials())->access_key_id, "AKID2");
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(cached.credentials());
  EXPECT_EQ(inner->calls.load(), 2);
}

// A provider whose fetch takes a while on its coroutine's executor.
class SlowProvider : public CredentialsProvider {
 public:
  Result<CredentialsPtr> credentials() override { return Error(ErrorCode::internal, "blocking path not expected"); }
  Task<Result<CredentialsPtr>> co_credentials() override {
    ++calls;
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
    (void)co_await t.async_wait(asio::as_tuple(asio::use_awaitable_t<Executor>{}));
    co_return CredentialsPtr(std::make_shared<const Credentials>(Credentials{"SLOW", "S", "", std::nullopt}));
  }
  std::string_view name() const noexcept override { return "slow"; }
  std::atomic<int> calls{0};
};

// On one thread, a second coroutine that finds a refresh in progress must wait without blocking
// the thread: the refresh it waits for runs on that same thread.
TEST(CachedCredentials, TheAsyncPathWaitsOnATimerNotOnTheThread) {
  auto inner = std::make_shared<SlowProvider>();
  CachedCredentialsProvider cached(inner);
  asio::io_context ioc;
  std::atomic<int> done{0};
  for (int i = 0; i < 5; ++i) {
    asio::co_spawn(
        ioc,
        [&]() -> Task<void> {
          auto c = co_await cached.co_credentials();
          if (c && (*c)->access_key_id == "SLOW") ++done;
        },
        asio::detached);
  }
  ioc.run_for(std::chrono::seconds(3));
  EXPECT_EQ(done.load(), 5);
  EXPECT_EQ(inner->calls.load(), 1);
}

// A configured source that failed for a moment used to become permission_denied (not retried):
// the chain now ends with that source's own error, and never falls through to another identity.
TEST(CredentialsChain, AConfiguredSourceThatFailsEndsTheSearchWithItsError) {
  HttpTestServer container([](const TestRequest&) { return TestAction::respond(500, "oops", "text/plain", false); });
  HttpTestServer imds_server(imds);
  auto chain = default_credentials_chain(
      {fake_env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", container.url() + "/creds"},
                 {"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds_server.url()},
                 {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"},
                 {"AWS_CONFIG_FILE", "/nonexistent"}}),
       std::nullopt, {}, {}});
  auto c = chain->credentials();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.code(), ErrorCode::unavailable);
  EXPECT_NE(c.error().message.find("container"), std::string::npos);
  EXPECT_EQ(imds_server.requests(), 0);
  asio::io_context ioc;
  std::optional<Result<CredentialsPtr>> async;
  asio::co_spawn(ioc, [&]() -> Task<void> { async.emplace(co_await chain->co_credentials()); }, asio::detached);
  ioc.run();
  ASSERT_TRUE(async);
  EXPECT_EQ(async->code(), ErrorCode::unavailable);
}

TEST(InstanceMetadataCredentials, EndpointModeIPv6) {
  EXPECT_EQ(*instance_metadata_endpoint(fake_env({})), "http://169.254.169.254");
  EXPECT_EQ(*instance_metadata_endpoint(fake_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6"}})),
            "http://[fd00:ec2::254]");
  EXPECT_EQ(*instance_metadata_endpoint(fake_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv4"}})),
            "http://169.254.169.254");
  EXPECT_EQ(*instance_metadata_endpoint(fake_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6"},
                                                  {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1/"}})),
            "http://127.0.0.1:1");
  EXPECT_EQ(instance_metadata_endpoint(fake_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5"}})).code(),
            ErrorCode::invalid_argument);
}

TEST(InstanceMetadataCredentials, UnreachableIsNotConfiguredUntilItHasAnswered) {
  std::uint16_t port = 0;
  {
    HttpTestServer gone(imds);
    port = gone.port();
  }
  InstanceMetadataCredentialsProvider nowhere(
      fake_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:" + std::to_string(port)}}));
  EXPECT_EQ(nowhere.credentials().code(), ErrorCode::not_found);

  auto fail = std::make_shared<std::atomic<bool>>(false);
  HttpTestServer flaky([fail](const TestRequest& r) {
    if (*fail) return TestAction::reset();
    return imds(r);
  });
  InstanceMetadataCredentialsProvider p(fake_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", flaky.url()}}));
  ASSERT_TRUE(p.credentials());
  *fail = true;
  EXPECT_EQ(p.credentials().code(), ErrorCode::unavailable);
}

// The metadata endpoints are on the host or the instance: a proxy from the environment must never
// see their requests (nor the tokens in them).
TEST(RemoteProviders, NeverGoThroughAProxy) {
  auto name = websession::testing::loopback_host_name();
  if (!name) GTEST_SKIP() << "no host name of this machine resolves to loopback only";
  websession::testing::TestProxy proxy;
  HttpTestServer imds_server(imds);
  InstanceMetadataCredentialsProvider ec2(
      fake_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds_server.url(*name)},
                {"HTTP_PROXY", proxy.url()}, {"http_proxy", proxy.url()}, {"HTTPS_PROXY", proxy.url()}}));
  auto c = ec2.credentials();
  ASSERT_TRUE(c) << c.error().describe();

  auto pki = websession::testing::make_test_pki("websession test CA", {*name});
  HttpTestServer container([](const TestRequest&) { return TestAction::respond(200, kDoc, "application/json", false); },
                           websession::testing::TestTlsOptions{pki.server_cert_pem, pki.server_key_pem});
  TempDir dir;
  RemoteProviderOptions options;
  options.tls.ca_file = dir.write("ca.pem", pki.ca_cert_pem);
  ContainerCredentialsProvider ecs(fake_env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", container.url(*name) + "/creds"},
                                             {"HTTPS_PROXY", proxy.url()}, {"https_proxy", proxy.url()}}),
                                   options);
  auto e = ecs.credentials();
  ASSERT_TRUE(e) << e.error().describe();
  EXPECT_TRUE(proxy.requests().empty());
}

TEST(CredentialsDocument, ParsesAndRejects) {
  auto c = parse_credentials_document(kDoc);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->secret_access_key, "remote-secret");
  EXPECT_FALSE(parse_credentials_document("<html>"));
  EXPECT_FALSE(parse_credentials_document(R"({"AccessKeyId":"A"})"));
  EXPECT_EQ(parse_credentials_document(R"({"Code":"AssumeRoleUnauthorizedAccess"})").code(), ErrorCode::permission_denied);
  using namespace std::chrono;
  EXPECT_EQ(parse_iso8601("2015-08-30T12:36:00Z"), sys_days{2015y / August / 30} + 12h + 36min);
  EXPECT_EQ(parse_iso8601("2015-08-30T12:36:00.123Z"), sys_days{2015y / August / 30} + 12h + 36min);
  EXPECT_FALSE(parse_iso8601("2015-13-30T12:36:00Z"));
  EXPECT_FALSE(parse_iso8601("yesterday"));
}

// Found by fuzz/credentials_document_fuzz: a year outside what system_clock holds (1678 to 2261 in
// 64-bit nanoseconds) overflowed a signed integer (undefined behaviour) instead of being refused.
TEST(CredentialsDocument, TimestampsOutsideTheClocksRangeAreRefused) {
  EXPECT_FALSE(parse_iso8601("0000-01-01T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601("1677-01-01T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601("2262-12-31T23:59:59Z"));
  EXPECT_FALSE(parse_iso8601("9999-12-31T23:59:59Z"));
  EXPECT_TRUE(parse_iso8601("1970-01-01T00:00:00Z"));
  EXPECT_TRUE(parse_iso8601("2200-01-01T00:00:00Z"));
  const auto c = parse_credentials_document(
      R"({"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"0000-01-01T00:00:00Z"})");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.code(), ErrorCode::unavailable);
}

// Found by fuzz/credentials_document_fuzz: from_chars took a sign, so "-0" and "-1" passed as hours,
// minutes or seconds.
TEST(CredentialsDocument, TimestampFieldsAreDigitsOnly) {
  EXPECT_FALSE(parse_iso8601("2023-02-09T-0:00:00Z"));
  EXPECT_FALSE(parse_iso8601("2023-02-09T-1:-1:-1Z"));
  EXPECT_FALSE(parse_iso8601("2023-02-09T00:00:+1Z"));
  EXPECT_FALSE(parse_iso8601("-023-02-09T00:00:00Z"));
  EXPECT_TRUE(parse_iso8601("2023-02-09T00:00:00Z"));
}

}  // namespace
}  // namespace websession::aws
