// Where the DynamoDB tests find dynalite: ./scripts/test starts one and exports its endpoint.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "websession/aws/credentials.h"
#include "websession/dynamodb/client.h"
#include "websession/session_id.h"

namespace websession::testing {

/// The dynalite endpoint from WEBSESSION_TEST_DYNAMODB_ENDPOINT. A test that needs it fails when it
/// is unset, unless WEBSESSION_SKIP_DYNAMODB_TESTS=1 says to skip: a silently skipped suite must not
/// pass for a tested one.
inline std::string dynalite_endpoint() {
  const char* e = std::getenv("WEBSESSION_TEST_DYNAMODB_ENDPOINT");
  return e != nullptr ? std::string(e) : std::string();
}

#define WEBSESSION_REQUIRE_DYNALITE()                                                                      \
  do {                                                                                                     \
    if (::websession::testing::dynalite_endpoint().empty()) {                                              \
      const char* skip = std::getenv("WEBSESSION_SKIP_DYNAMODB_TESTS");                                    \
      if (skip != nullptr && std::string(skip) == "1") GTEST_SKIP() << "WEBSESSION_SKIP_DYNAMODB_TESTS=1"; \
      FAIL() << "WEBSESSION_TEST_DYNAMODB_ENDPOINT is not set: run ./scripts/test, or set "                \
                "WEBSESSION_SKIP_DYNAMODB_TESTS=1";                                                        \
    }                                                                                                      \
  } while (false)

/// A client for `endpoint` with made-up credentials (dynalite checks only that a signature exists).
inline std::shared_ptr<dynamodb::Client> make_test_client(const std::string& endpoint,
                                                          std::chrono::milliseconds call_timeout =
                                                              std::chrono::milliseconds(5000)) {
  dynamodb::ClientOptions o;
  o.endpoint = endpoint;
  o.region = "us-east-1";
  o.credentials = std::make_shared<aws::StaticCredentialsProvider>(
      aws::Credentials{"websession-test", "websession-test-secret", "", std::nullopt});
  o.call_timeout = call_timeout;
  o.connect_timeout = std::chrono::milliseconds(1000);
  auto client = dynamodb::Client::create(o);
  if (!client) throw std::runtime_error("cannot create a DynamoDB client: " + client.error().describe());
  return *client;
}

/// A table name no other test uses.
inline std::string unique_table_name(const std::string& prefix) {
  std::string suffix = random_token(6);
  for (char& c : suffix) {
    if (c == '-' || c == '_') c = 'x';
  }
  return prefix + "_" + suffix;
}

}  // namespace websession::testing
