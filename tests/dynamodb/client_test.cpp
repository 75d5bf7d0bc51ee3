#include "websession/dynamodb/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "aws/support/fake_env.h"
#include "aws/support/http_test_server.h"
#include "net/support/test_pki.h"

namespace websession::dynamodb {
namespace {

using namespace std::chrono_literals;
using websession::testing::fake_env;
using websession::testing::HttpTestServer;
using websession::testing::TestAction;
using websession::testing::TestRequest;

constexpr const char* kItem = R"({"Item":{"id":{"S":"abc"},"n":{"N":"7"}}})";

ClientOptions test_options(const std::string& endpoint, std::chrono::milliseconds timeout = 3000ms,
                           std::shared_ptr<aws::CredentialsProvider> creds = nullptr) {
  ClientOptions o;
  o.region = "us-east-1";
  o.endpoint = endpoint;
  o.credentials = creds ? std::move(creds)
                        : std::make_shared<aws::StaticCredentialsProvider>(
                              aws::Credentials{"AKIDTEST", "SECRETTEST", "", std::nullopt});
  o.call_timeout = timeout;
  o.connect_timeout = 500ms;
  o.retry_base_delay = 1ms;
  o.retry_max_delay = 20ms;
  o.getenv = fake_env({});
  return o;
}

std::shared_ptr<Client> make_client(const ClientOptions& o) {
  auto c = Client::create(o);
  EXPECT_TRUE(c) << c.error().describe();
  return *c;
}

std::shared_ptr<Client> make_client(const std::string& endpoint, std::chrono::milliseconds timeout = 3000ms,
                                    std::shared_ptr<aws::CredentialsProvider> creds = nullptr) {
  return make_client(test_options(endpoint, timeout, std::move(creds)));
}

GetItemRequest get_request() {
  GetItemRequest r;
  r.table_name = "t";
  r.key = {{"id", AttributeValue::string("abc")}};
  return r;
}

// Answers with `failures` bad actions, then with the item.
HttpTestServer::Handler fail_then_succeed(int failures, std::function<TestAction()> bad) {
  auto count = std::make_shared<std::atomic<int>>(0);
  return [=](const TestRequest&) {
    if (++*count <= failures) return bad();
    return TestAction::respond(200, kItem);
  };
}

TEST(Client, SendsASignedDynamoDbRequest) {
  HttpTestServer server([](const TestRequest&) { return TestAction::respond(200, kItem); });
  auto client = make_client(server.url());
  auto r = client->get_item(get_request());
  ASSERT_TRUE(r) << r.error().describe();
  ASSERT_TRUE(r->item);
  EXPECT_EQ(r->item->at("n").as_number(), "7");
  auto req = server.received().at(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/");
  EXPECT_EQ(req.header("x-amz-target"), "DynamoDB_20120810.GetItem");
  EXPECT_EQ(req.header("content-type"), "application/x-amz-json-1.0");
  EXPECT_EQ(req.header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(req.header("expect"), "");
  EXPECT_EQ(req.header("authorization").rfind("AWS4-HMAC-SHA256 Credential=AKIDTEST/", 0), 0u);
  EXPECT_NE(req.header("authorization").find("SignedHeaders=content-type;host;x-amz-date;x-amz-target,"),
            std::string::npos);
  EXPECT_EQ(req.body, R"({"TableName":"t","Key":{"id":{"S":"abc"}}})");
  EXPECT_EQ(client->metrics().calls_by_operation.at("GetItem"), 1u);
}

TEST(Client, ReusesConnectionsAcrossCallsAndThreads) {
  HttpTestServer server([](const TestRequest&) { return TestAction::respond(200, kItem); });
  auto client = make_client(server.url());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->get_item(get_request()));
  EXPECT_EQ(server.connections(), 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) EXPECT_TRUE(client->get_item(get_request()));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(server.requests(), 105);
  EXPECT_LE(server.connections(), 5);
}

TEST(Client, RetriesThrottlingThenSucceeds) {
  HttpTestServer server(fail_then_succeed(3, [] {
    return TestAction::respond(400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"})");
  }));
  auto client = make_client(server.url());
  ASSERT_TRUE(client->get_item(get_request()));
  auto m = client->metrics();
  EXPECT_EQ(m.attempts, 4u);
  EXPECT_EQ(m.retries, 3u);
  EXPECT_EQ(m.throttles, 3u);
  EXPECT_EQ(m.errors, 0u);
}

TEST(Client, Retries5xxThenSucceeds) {
  HttpTestServer server(fail_then_succeed(2, [] { return TestAction::respond(500, R"({"__type":"InternalServerError"})"); }));
  auto client = make_client(server.url());
  EXPECT_TRUE(client->get_item(get_request()));
  EXPECT_EQ(server.requests(), 3);
}

TEST(Client, GivesUpAfterMaxAttemptsAsUnavailable) {
  HttpTestServer server([](const TestRequest&) {
    return TestAction::respond(503, R"({"__type":"ServiceUnavailable","message":"try later"})");
  });
  auto client = make_client(server.url());
  auto r = client->get_item(get_request());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::unavailable);
  EXPECT_EQ(r.error().service_type, "ServiceUnavailable");
  EXPECT_EQ(server.requests(), 10);
  EXPECT_EQ(client->metrics().errors, 1u);
}

TEST(Client, RetriesConnectionResets) {
  HttpTestServer server(fail_then_succeed(2, [] { return TestAction::reset(); }));
  auto client = make_client(server.url());
  auto r = client->get_item(get_request());
  EXPECT_TRUE(r) << r.error().describe();
}

TEST(Client, RetriesTruncatedBodies) {
  HttpTestServer server(fail_then_succeed(2, [] { return TestAction::truncated(200, R"({"Item":{"id")", 500); }));
  auto client = make_client(server.url());
  auto r = client->get_item(get_request());
  EXPECT_TRUE(r) << r.error().describe();
}

TEST(Client, RetriesABadChecksum) {
  HttpTestServer server(fail_then_succeed(1, [] { return TestAction::respond(200, kItem, "application/x-amz-json-1.0", true, 12345); }));
  auto client = make_client(server.url());
  auto r = client->get_item(get_request());
  EXPECT_TRUE(r) << r.error().describe();
  EXPECT_EQ(server.requests(), 2);
}

TEST(Client, PersistentBadChecksumIsUnavailable) {
  HttpTestServer server([](const TestRequest&) { return TestAction::respond(200, kItem, "application/x-amz-json-1.0", true, 1); });
  auto client = make_client(server.url());
  auto r = client->get_item(get_request());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::unavailable);
  EXPECT_EQ(r.error().service_type, kCrc32Mismatch);
}

TEST(Client, HtmlFromAProxyIsATypedErrorWithoutTheBody) {
  HttpTestServer server([](const TestRequest&) {
    return TestAction::respond(502, "<html><body>nginx bad gateway</body></html>", "text/html", false);
  });
  auto client = make_client(server.url());
  auto r = client->get_item(get_request());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::unavailable);
  EXPECT_EQ(r.error().message.find("nginx"), std::string::npos);

  HttpTestServer ok_html([](const TestRequest&) { return TestAction::respond(200, "<html>captive portal</html>", "text/html", false); });
  auto client2 = make_client(ok_html.url());
  auto r2 = client2->get_item(get_request());
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.code(), ErrorCode::unavailable);
  EXPECT_EQ(r2.error().service_type, kMalformedResponse);
}

TEST(Client, WellFormedJsonOfTheWrongShapeIsInternal) {
  HttpTestServer server([](const TestRequest&) { return TestAction::respond(200, R"({"Item":{"id":{"Q":"x"}}})"); });
  auto client = make_client(server.url());
  auto r = client->get_item(get_request());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::internal);
}

TEST(Client, AHangPastTheDeadlineTimesOutInTime) {
  HttpTestServer server([](const TestRequest&) { return TestAction::hang(10s); });
  auto client = make_client(server.url());
  auto start = std::chrono::steady_clock::now();
  auto r = client->get_item(get_request(), CallOptions{300ms});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::unavailable);
  EXPECT_EQ(r.error().service_type, kTimeout);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 1500ms);
}

TEST(Client, AnEndpointThatDoesNotAnswerFailsWithinTheDeadline) {
  // Bind a port, then close it: nothing listens there.
  std::uint16_t port = 0;
  {
    HttpTestServer gone([](const TestRequest&) { return TestAction::reset(); });
    port = gone.port();
  }
  auto client = make_client("http://127.0.0.1:" + std::to_string(port), 500ms);
  auto start = std::chrono::steady_clock::now();
  auto r = client->get_item(get_request());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::unavailable);
  EXPECT_EQ(r.error().service_type, kNetworkError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
}

TEST(Client, ConditionalCheckFailureIsAbortedAndCounted) {
  HttpTestServer server([](const TestRequest&) {
    return TestAction::respond(400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"})");
  });
  auto client = make_client(server.url());
  PutItemRequest p;
  p.table_name = "t";
  p.item = {{"id", AttributeValue::string("abc")}};
  p.condition_expression = "attribute_not_exists(id)";
  auto r = client->put_item(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::aborted);
  EXPECT_EQ(r.error().service_type, "ConditionalCheckFailedException");
  EXPECT_EQ(r.error().message, "The conditional request failed");
  EXPECT_EQ(server.requests(), 1);
  auto m = client->metrics();
  EXPECT_EQ(m.conditional_check_failures, 1u);
  EXPECT_EQ(m.calls_by_operation.at("PutItem"), 1u);
}

TEST(Client, UnknownErrorTypesAreInternalAndNotRetried) {
  HttpTestServer server([](const TestRequest&) { return TestAction::respond(400, R"({"__type":"BrandNewException"})"); });
  auto client = make_client(server.url());
  auto r = client->get_item(get_request());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::internal);
  EXPECT_EQ(r.error().service_type, "BrandNewException");
  EXPECT_EQ(server.requests(), 1);
}

class RotatingProvider : public aws::CredentialsProvider {
 public:
  Result<aws::CredentialsPtr> credentials() override {
    return aws::CredentialsPtr(std::make_shared<const aws::Credentials>(
        aws::Credentials{"AKID" + std::to_string(generation.load()), "S", "TOKEN", std::nullopt}));
  }
  void invalidate() noexcept override { ++generation; }
  std::string_view name() const noexcept override { return "rotating"; }
  std::atomic<int> generation{1};
};

TEST(Client, ExpiredTokenRefreshesCredentialsAndRetriesOnce) {
  HttpTestServer server([](const TestRequest& r) {
    if (r.header("authorization").find("Credential=AKID1/") != std::string::npos) {
      return TestAction::respond(400, R"({"__type":"com.amazon.coral.service#ExpiredTokenException","message":"expired"})");
    }
    return TestAction::respond(200, kItem);
  });
  auto provider = std::make_shared<RotatingProvider>();
  auto client = make_client(server.url(), 3000ms, provider);
  auto r = client->get_item(get_request());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(server.requests(), 2);
  EXPECT_EQ(server.received().at(1).header("x-amz-security-token"), "TOKEN");

  HttpTestServer always([](const TestRequest&) {
    return TestAction::respond(400, R"({"__type":"com.amazon.coral.service#ExpiredTokenException","message":"expired"})");
  });
  auto client2 = make_client(always.url(), 3000ms, std::make_shared<RotatingProvider>());
  auto r2 = client2->get_item(get_request());
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.code(), ErrorCode::permission_denied);
  EXPECT_EQ(always.requests(), 2);
}

TEST(Client, MissingCredentialsArePermissionDeniedWithoutSecrets) {
  HttpTestServer server([](const TestRequest&) { return TestAction::respond(200, kItem); });
  ClientOptions o;
  o.region = "us-east-1";
  o.endpoint = server.url();
  o.getenv = fake_env({{"AWS_EC2_METADATA_DISABLED", "true"}, {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"},
                       {"AWS_CONFIG_FILE", "/nonexistent"}});
  auto client = Client::create(o);
  ASSERT_TRUE(client);
  auto r = (*client)->get_item(get_request());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::permission_denied);
  EXPECT_EQ(server.requests(), 0);
}

TEST(ClientCreate, ResolvesRegionAndEndpointLikeTheSdks) {
  auto env = fake_env({{"AWS_REGION", "eu-west-1"}, {"AWS_ACCESS_KEY_ID", "A"}, {"AWS_SECRET_ACCESS_KEY", "S"}});
  ClientOptions o;
  o.getenv = env;
  auto c = Client::create(o);
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)->region(), "eu-west-1");
  EXPECT_EQ((*c)->endpoint(), "https://dynamodb.eu-west-1.amazonaws.com/");

  o.getenv = fake_env({{"AWS_DEFAULT_REGION", "cn-north-1"}});
  EXPECT_EQ((*Client::create(o))->endpoint(), "https://dynamodb.cn-north-1.amazonaws.com.cn/");

  o.getenv = fake_env({{"AWS_REGION", "us-east-1"}, {"AWS_ENDPOINT_URL", "http://localhost:8000"},
                       {"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:4566"}});
  EXPECT_EQ((*Client::create(o))->endpoint(), "http://127.0.0.1:4566/");

  o.getenv = fake_env({{"AWS_CONFIG_FILE", "/nonexistent"}});
  auto none = Client::create(o);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.code(), ErrorCode::invalid_argument);

  o.region = "us-east-1";
  o.endpoint = "not a url";
  EXPECT_EQ(Client::create(o).code(), ErrorCode::invalid_argument);
  o.endpoint.reset();
  o.region = "us-east-1\r\nX-Injected: 1";
  EXPECT_EQ(Client::create(o).code(), ErrorCode::invalid_argument);
}

// A pooled keep-alive connection that the server silently stops answering (a dead NAT mapping, a
// half-open socket) used to burn the whole call deadline in one attempt. Each attempt now has its
// own timeout, and the retry goes out on a fresh connection within the call's deadline.
TEST(Client, AStalledPooledConnectionCostsOneAttemptNotTheCall) {
  auto on_first = std::make_shared<std::atomic<int>>(0);
  HttpTestServer server([on_first](const TestRequest& r) {
    // The first connection answers once, then never again.
    if (r.connection == 1 && ++*on_first > 1) return TestAction::hang(10s);
    return TestAction::respond(200, kItem);
  });
  ClientOptions o = test_options(server.url(), 3000ms);
  o.attempt_timeout = 300ms;
  auto client = make_client(o);
  ASSERT_TRUE(client->get_item(get_request()));
  const auto start = std::chrono::steady_clock::now();
  auto r = client->get_item(get_request());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(client->metrics().retries, 1u);
}

TEST(Client, TheRetryQuotaStopsRetriesDuringAnOutage) {
  HttpTestServer server([](const TestRequest&) { return TestAction::respond(500, R"({"__type":"InternalServerError"})"); });
  ClientOptions o = test_options(server.url());
  o.retry_quota = 12;  // two retries' worth
  auto client = make_client(o);
  auto r = client->get_item(get_request());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::unavailable);
  EXPECT_NE(r.error().message.find("retry quota exhausted after 3 attempts"), std::string::npos) << r.error().message;
  EXPECT_EQ(server.requests(), 3);
  auto again = client->get_item(get_request());
  ASSERT_FALSE(again);
  EXPECT_EQ(server.requests(), 4);  // no retry left: one attempt per call, not ten
  auto m = client->metrics();
  EXPECT_EQ(m.retry_quota_exhausted, 2u);
  EXPECT_EQ(m.retry_quota_available, 2);
}

TEST(Client, SuccessRefillsTheRetryQuota) {
  HttpTestServer server(fail_then_succeed(1, [] { return TestAction::respond(503, R"({"__type":"ServiceUnavailable"})"); }));
  ClientOptions o = test_options(server.url());
  o.retry_quota = 100;
  auto client = make_client(o);
  ASSERT_TRUE(client->get_item(get_request()));
  EXPECT_EQ(client->metrics().retry_quota_available, 100);  // the retry's 5 tokens came back
}

TEST(Client, ASessionTokenWithALineBreakIsRefusedBeforeSending) {
  HttpTestServer server([](const TestRequest&) { return TestAction::respond(200, kItem); });
  auto client = make_client(server.url(), 3000ms,
                            std::make_shared<aws::StaticCredentialsProvider>(
                                aws::Credentials{"AKID", "SECRET", "TOKEN\r\nX-Injected: 1", std::nullopt}));
  auto r = client->get_item(get_request());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::permission_denied);
  EXPECT_EQ(server.requests(), 0);
}

// A configured credential source that fails for a moment (a 500 from the container endpoint) used
// to end the call as permission_denied, unretried, and stick for 10 s.
TEST(Client, ATransientCredentialFailureIsRetriedAsUnavailable) {
  auto fetches = std::make_shared<std::atomic<int>>(0);
  HttpTestServer creds([fetches](const TestRequest&) {
    if (++*fetches == 1) return TestAction::respond(500, "oops", "text/plain", false);
    return TestAction::respond(
        200, R"({"AccessKeyId":"ASIA","SecretAccessKey":"S","Token":"T","Expiration":"2099-01-01T00:00:00Z"})",
        "application/json", false);
  });
  HttpTestServer server([](const TestRequest&) { return TestAction::respond(200, kItem); });
  ClientOptions o = test_options(server.url());
  o.credentials = nullptr;
  o.retry_base_delay = 100ms;
  o.retry_max_delay = 400ms;
  o.getenv = fake_env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", creds.url() + "/creds"},
                       {"AWS_EC2_METADATA_DISABLED", "true"},
                       {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"},
                       {"AWS_CONFIG_FILE", "/nonexistent"}});
  auto client = make_client(o);
  auto r = client->get_item(get_request());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(fetches->load(), 2);
  EXPECT_EQ(server.received().at(0).header("x-amz-security-token"), "T");
}

// An https endpoint signed by a private CA: trusted through AWS_CA_BUNDLE, refused (and not
// retried: trying again cannot help) without it.
TEST(Client, AwsCaBundleIsTrustedForHttpsEndpoints) {
  auto pki = websession::testing::make_test_pki("private CA", {"localhost"});
  HttpTestServer server([](const TestRequest&) { return TestAction::respond(200, kItem); },
                        websession::testing::TestTlsOptions{pki.server_cert_pem, pki.server_key_pem});
  websession::testing::TempDir dir;
  ClientOptions o = test_options(server.url("localhost"));
  o.getenv = fake_env({{"AWS_CA_BUNDLE", dir.write("bundle.pem", pki.ca_cert_pem)}});
  auto trusting = make_client(o);
  auto r = trusting->get_item(get_request());
  ASSERT_TRUE(r) << r.error().describe();

  auto untrusting = make_client(test_options(server.url("localhost")));
  const int before = server.connections();
  auto refused = untrusting->get_item(get_request());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().service_type, kTlsError);
  EXPECT_EQ(server.connections() - before, 1);
  EXPECT_EQ(untrusting->metrics().retries, 0u);

  o.getenv = fake_env({{"AWS_CA_BUNDLE", "/nonexistent/bundle.pem"}});
  EXPECT_EQ(Client::create(o).code(), ErrorCode::invalid_argument);
}

// ---- asynchronous use ---------------------------------------------------------------------------

TEST(AsyncClient, CallbacksFuturesAndCoroutines) {
  HttpTestServer server([](const TestRequest&) { return TestAction::respond(200, kItem); });
  asio::io_context ioc;
  ClientOptions o = test_options(server.url());
  o.executor = ioc.get_executor();
  auto client = make_client(o);

  std::optional<Result<GetItemResponse>> by_callback;
  client->async_get_item(get_request(), asio::bind_executor(ioc, [&](Result<GetItemResponse> r) {
                           by_callback.emplace(std::move(r));
                         }));
  std::optional<Result<GetItemResponse>> by_awaitable;
  std::optional<Result<PutItemResponse>> by_co;
  asio::co_spawn(
      ioc,
      [&]() -> Task<void> {
        by_awaitable.emplace(co_await client->async_get_item(get_request(), asio::use_awaitable_t<Executor>{}));
        PutItemRequest put;
        put.table_name = "t";
        put.item = {{"id", AttributeValue::string("x")}};
        by_co.emplace(co_await client->co_put_item(put));
      },
      asio::detached);
  ioc.run();
  ASSERT_TRUE(by_callback && *by_callback) << by_callback->error().describe();
  EXPECT_EQ((*by_callback)->item->at("n").as_number(), "7");
  ASSERT_TRUE(by_awaitable && *by_awaitable);
  ASSERT_TRUE(by_co && *by_co);

  ioc.restart();
  auto work = asio::make_work_guard(ioc);
  std::thread runner([&] { ioc.run(); });
  auto f = client->async_get_item(get_request(), asio::use_future);
  Result<GetItemResponse> r = f.get();
  work.reset();
  runner.join();
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(client->metrics().calls_by_operation.at("GetItem"), 3u);
}

TEST(AsyncClient, UseFutureWithoutAnyExecutorRunsOnTheDefaultOne) {
  HttpTestServer server([](const TestRequest&) { return TestAction::respond(200, kItem); });
  auto client = make_client(server.url());
  auto f = client->async_get_item(get_request(), asio::use_future);
  auto r = f.get();
  EXPECT_TRUE(r) << r.error().describe();
}

TEST(AsyncClient, CancellationStopsTheCallAndItsRetries) {
  HttpTestServer server([](const TestRequest&) { return TestAction::hang(10s); });
  asio::io_context ioc;
  auto client = make_client(server.url(), 8000ms);
  asio::cancellation_signal signal;
  std::optional<Result<GetItemResponse>> got;
  client->async_get_item(get_request(), asio::bind_cancellation_slot(signal.slot(), asio::bind_executor(ioc, [&](auto r) {
                                                                       got.emplace(std::move(r));
                                                                     })));
  asio::steady_timer t(ioc, 100ms);
  t.async_wait([&](auto) { signal.emit(asio::cancellation_type::terminal); });
  const auto start = std::chrono::steady_clock::now();
  ioc.run();
  ASSERT_TRUE(got);
  ASSERT_FALSE(*got);
  EXPECT_EQ(got->code(), ErrorCode::cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(AsyncClient, ManyConcurrentCallsOnOneIoContextShareItsConnections) {
  HttpTestServer server([](const TestRequest&) { return TestAction::respond(200, kItem); });
  auto client = make_client(server.url(), 10s);
  asio::io_context ioc;
  std::atomic<int> ok{0};
  constexpr int kCoroutines = 50;
  for (int c = 0; c < kCoroutines; ++c) {
    asio::co_spawn(
        ioc,
        [&]() -> Task<void> {
          for (int i = 0; i < 4; ++i) {
            auto r = co_await client->co_get_item(get_request());
            if (r && r->item) ++ok;
          }
        },
        asio::detached);
  }
  ioc.run();
  EXPECT_EQ(ok.load(), kCoroutines * 4);
  EXPECT_LE(server.connections(), kCoroutines);
  auto m = client->metrics();
  EXPECT_EQ(m.calls_by_operation.at("GetItem"), static_cast<std::uint64_t>(kCoroutines * 4));
  const LatencyHistogram& h = m.latency_by_operation.at("GetItem");
  EXPECT_EQ(h.count, static_cast<std::uint64_t>(kCoroutines * 4));
  EXPECT_EQ(h.upper_bounds.size(), h.cumulative_counts.size());
  EXPECT_LE(h.cumulative_counts.back(), h.count);
  EXPECT_GT(h.sum_seconds, 0.0);
}

}  // namespace
}  // namespace websession::dynamodb
