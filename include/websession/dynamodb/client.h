// The DynamoDB client: a lean, thread-safe client for the operations websession needs, signed
// with SigV4 and sent over pooled keep-alive libcurl connections, with retries and deadlines.
//
//   auto client = websession::dynamodb::Client::create();          // AWS_REGION etc., default chain
//   if (!client) return client.error();
//   GetItemRequest get{.table_name = "sessions", .key = {{"id", AttributeValue::string(id)}}};
//   auto r = (*client)->get_item(get);
//   if (!r) ...                    // r.error().code: not_found, unavailable, ...
//   if (r->item) use(*r->item);
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "websession/async.h"
#include "websession/aws/config.h"
#include "websession/aws/credentials.h"
#include "websession/dynamodb/attribute_value.h"
#include "websession/dynamodb/errors.h"
#include "websession/dynamodb/operations.h"
#include "websession/result.h"

namespace websession::dynamodb {

/// Per-call options.
struct CallOptions {
  /// The deadline of this call, retries included; default ClientOptions::call_timeout.
  std::optional<std::chrono::milliseconds> timeout;
};

struct ClientOptions {
  /// Default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region.
  std::optional<std::string> region;
  /// Default: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, https://dynamodb.<region>.amazonaws.com
  /// (.com.cn for cn- regions).
  std::optional<std::string> endpoint;
  /// Default: aws::default_credentials_chain() with `getenv` and `profile`.
  std::shared_ptr<aws::CredentialsProvider> credentials;
  /// Profile for region and credentials; default AWS_PROFILE, else "default".
  std::optional<std::string> profile;
  std::chrono::milliseconds connect_timeout{2000};
  /// The deadline of a whole call including retries.
  std::chrono::milliseconds call_timeout{5000};
  int max_attempts = 10;
  std::chrono::milliseconds retry_base_delay{25};
  std::chrono::milliseconds retry_max_delay{2000};
  /// Pooled keep-alive connections.
  std::size_t max_connections = 64;
  /// The environment (for region, endpoint, credentials); empty: the process environment.
  aws::GetEnv getenv;
  /// The signing clock; empty: system_clock::now. For tests.
  aws::SystemClock clock;
};

/// A snapshot of the client's counters (atomics underneath).
struct ClientMetrics {
  /// Logical calls by operation name ("GetItem"), each counted once whatever its retries.
  std::map<std::string, std::uint64_t> calls_by_operation;
  /// HTTP attempts, including first tries.
  std::uint64_t attempts = 0;
  /// Attempts after the first.
  std::uint64_t retries = 0;
  /// Attempts answered with a throttling error.
  std::uint64_t throttles = 0;
  /// Calls that ended with ConditionalCheckFailedException.
  std::uint64_t conditional_check_failures = 0;
  /// Calls that ended with any error (conditional check failures included).
  std::uint64_t errors = 0;
};

/// Thread-safe; share one per process (it owns the connection pool).
///
/// Every operation returns the response or an Error: aborted (service_type
/// "ConditionalCheckFailedException") for a failed condition, not_found for a missing table,
/// already_exists for a table being created twice, invalid_argument for a rejected request,
/// permission_denied for credential problems, unavailable after retries or at the deadline
/// (service_type: DynamoDB's error, "NetworkError", "Timeout", "CRC32Mismatch" or
/// "MalformedResponse"), internal otherwise. Messages never contain credentials or item values.
class Client {
 public:
  /// Resolves region, endpoint and the credentials provider (credentials themselves are fetched on
  /// the first call). invalid_argument when no region can be found or the endpoint is malformed.
  [[nodiscard]] static Result<std::shared_ptr<Client>> create(ClientOptions options = {});

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  [[nodiscard]] Result<GetItemResponse> get_item(const GetItemRequest& request, const CallOptions& options = {});
  [[nodiscard]] Result<PutItemResponse> put_item(const PutItemRequest& request, const CallOptions& options = {});
  [[nodiscard]] Result<UpdateItemResponse> update_item(const UpdateItemRequest& request,
                                                       const CallOptions& options = {});
  [[nodiscard]] Result<DeleteItemResponse> delete_item(const DeleteItemRequest& request,
                                                       const CallOptions& options = {});
  [[nodiscard]] Result<CreateTableResponse> create_table(const CreateTableRequest& request,
                                                         const CallOptions& options = {});
  [[nodiscard]] Result<DescribeTableResponse> describe_table(const DescribeTableRequest& request,
                                                             const CallOptions& options = {});
  [[nodiscard]] Result<UpdateTimeToLiveResponse> update_time_to_live(const UpdateTimeToLiveRequest& request,
                                                                     const CallOptions& options = {});
  [[nodiscard]] Result<DescribeTimeToLiveResponse> describe_time_to_live(
      const DescribeTimeToLiveRequest& request, const CallOptions& options = {});

  // Coroutine forms, for code in a Task (see websession/async.h).
  [[nodiscard]] Task<Result<GetItemResponse>> co_get_item(const GetItemRequest& r, CallOptions o = {}) {
    co_return get_item(r, o);
  }
  [[nodiscard]] Task<Result<PutItemResponse>> co_put_item(const PutItemRequest& r, CallOptions o = {}) {
    co_return put_item(r, o);
  }
  [[nodiscard]] Task<Result<UpdateItemResponse>> co_update_item(const UpdateItemRequest& r, CallOptions o = {}) {
    co_return update_item(r, o);
  }
  [[nodiscard]] Task<Result<DeleteItemResponse>> co_delete_item(const DeleteItemRequest& r, CallOptions o = {}) {
    co_return delete_item(r, o);
  }
  [[nodiscard]] Task<Result<CreateTableResponse>> co_create_table(const CreateTableRequest& r, CallOptions o = {}) {
    co_return create_table(r, o);
  }
  [[nodiscard]] Task<Result<DescribeTableResponse>> co_describe_table(const DescribeTableRequest& r,
                                                                      CallOptions o = {}) {
    co_return describe_table(r, o);
  }
  [[nodiscard]] Task<Result<UpdateTimeToLiveResponse>> co_update_time_to_live(const UpdateTimeToLiveRequest& r,
                                                                              CallOptions o = {}) {
    co_return update_time_to_live(r, o);
  }
  [[nodiscard]] Task<Result<DescribeTimeToLiveResponse>> co_describe_time_to_live(
      const DescribeTimeToLiveRequest& r, CallOptions o = {}) {
    co_return describe_time_to_live(r, o);
  }

  [[nodiscard]] ClientMetrics metrics() const;
  [[nodiscard]] const std::string& region() const;
  /// The endpoint URL in use.
  [[nodiscard]] const std::string& endpoint() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace websession::dynamodb
