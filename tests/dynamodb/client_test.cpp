#include "websession/dynamodb/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "aws/support/fake_env.h"
#include "aws/support/http_test_server.h"

namespace websession::dynamodb {
namespace {

using namespace std::chrono_literals;
using websession::testing::fake_env;
using websession::testing::HttpTestServer;
using websession::testing::TestAction;
using websession::testing::TestRequest;

constexpr const char* kItem = R"({"Item":{"id":{"S":"abc"},"n":{"N":"7"}}})";

std::shared_ptr<Client> make_client(const std::string& endpoint, std::chrono::milliseconds timeout = 3000ms,
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
  auto c = Client::create(o);
  EXPECT_TRUE(c) << c.error().describe();
  return *c;
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

}  // namespace
}  // namespace websession::dynamodb
