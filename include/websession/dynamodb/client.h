// The DynamoDB client: a lean, thread-safe client for the operations websession needs, signed
// with SigV4 and sent over websession::net's pooled keep-alive connections, with per-attempt
// timeouts, retries (backoff with jitter, and the AWS SDKs' retry quota) and a deadline per call.
//
// Every operation comes three ways (see <websession/async.h>):
//
//   auto client = *websession::dynamodb::Client::create();         // AWS_REGION etc., default chain
//   GetItemRequest get{.table_name = "sessions", .key = {{"id", AttributeValue::string(id)}}};
//   auto r = client->get_item(get);                                 // blocking
//   auto r = co_await client->co_get_item(get);                     // in a Task<...>
//   client->async_get_item(get, [](Result<GetItemResponse> r) {...});  // any completion token
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
#include <utility>
#include <vector>

#include "websession/async.h"
#include "websession/aws/config.h"
#include "websession/aws/credentials.h"
#include "websession/dynamodb/attribute_value.h"
#include "websession/dynamodb/errors.h"
#include "websession/dynamodb/operations.h"
#include "websession/dynamodb/retry.h"
#include "websession/net/http_client.h"
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
  /// Connecting (TCP, proxy tunnel, TLS) of a new connection; bounded by the attempt's timeout.
  std::chrono::milliseconds connect_timeout{2000};
  /// The deadline of a whole call including retries.
  std::chrono::milliseconds call_timeout{5000};
  /// The deadline of one attempt (bounded by the call's): a connection that stops answering costs
  /// one attempt, not the whole call.
  std::chrono::milliseconds attempt_timeout{2000};
  int max_attempts = 10;
  std::chrono::milliseconds retry_base_delay{25};
  std::chrono::milliseconds retry_max_delay{2000};
  /// The retry quota's capacity (see RetryQuota): 500, as in the AWS SDKs' standard retry mode.
  int retry_quota = RetryQuota::kDefaultCapacity;
  /// Idle keep-alive connections kept per io_context.
  std::size_t max_connections = 64;
  /// A PEM bundle of trusted CAs; default AWS_CA_BUNDLE, else the system's.
  std::optional<std::string> ca_file;
  /// HTTPS_PROXY, NO_PROXY etc. are read from `getenv` (see net::ProxyOptions).
  net::ProxyOptions proxy;
  /// The executor of asynchronous calls whose completion handler has none (see async.h).
  Executor executor;
  /// The environment (for region, endpoint, credentials, proxies); empty: the process environment.
  aws::GetEnv getenv;
  /// The signing clock; empty: system_clock::now. For tests.
  aws::SystemClock clock;
};

/// Latency of calls (retries and backoff included), shaped as a Prometheus histogram.
struct LatencyHistogram {
  /// Bucket upper bounds in seconds ("le"), ascending; the +Inf bucket is `count`.
  std::vector<double> upper_bounds;
  /// Calls that took at most upper_bounds[i] (cumulative, as Prometheus wants them).
  std::vector<std::uint64_t> cumulative_counts;
  std::uint64_t count = 0;
  double sum_seconds = 0;
};

/// A snapshot of the client's counters (atomics underneath).
struct ClientMetrics {
  /// Logical calls by operation name ("GetItem"), each counted once whatever its retries.
  std::map<std::string, std::uint64_t> calls_by_operation;
  /// Call latency by operation name.
  std::map<std::string, LatencyHistogram> latency_by_operation;
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
  /// Retries refused because the retry quota was empty.
  std::uint64_t retry_quota_exhausted = 0;
  /// Tokens left in the retry quota.
  std::int64_t retry_quota_available = 0;
};

/// Thread-safe; share one per process. Connections are pooled per io_context (see net::HttpClient):
/// blocking calls reuse their thread's, coroutines their io_context's.
///
/// Every operation returns the response or an Error: aborted (service_type
/// "ConditionalCheckFailedException") for a failed condition, not_found for a missing table,
/// already_exists for a table being created twice, invalid_argument for a rejected request (and
/// for an operation the server does not implement: service_type "UnknownOperationException"),
/// permission_denied for credential problems, unavailable after retries or at the deadline
/// (service_type: DynamoDB's error, "NetworkError", "Timeout", "TlsError", "CRC32Mismatch" or
/// "MalformedResponse"), cancelled, internal otherwise. Messages never contain credentials or item
/// values.
class Client : public std::enable_shared_from_this<Client> {
 public:
  /// Resolves region, endpoint and the credentials provider (credentials themselves are fetched on
  /// the first call). invalid_argument when no region can be found, the endpoint or a proxy is
  /// malformed, or the CA bundle cannot be read.
  [[nodiscard]] static Result<std::shared_ptr<Client>> create(ClientOptions options = {});

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Coroutines. The request is read before the first suspension; it may be a temporary.
  [[nodiscard]] Task<Result<GetItemResponse>> co_get_item(const GetItemRequest& request, CallOptions options = {});
  [[nodiscard]] Task<Result<PutItemResponse>> co_put_item(const PutItemRequest& request, CallOptions options = {});
  [[nodiscard]] Task<Result<UpdateItemResponse>> co_update_item(const UpdateItemRequest& request,
                                                                CallOptions options = {});
  [[nodiscard]] Task<Result<DeleteItemResponse>> co_delete_item(const DeleteItemRequest& request,
                                                                CallOptions options = {});
  [[nodiscard]] Task<Result<BatchGetItemResponse>> co_batch_get_item(const BatchGetItemRequest& request,
                                                                     CallOptions options = {});
  [[nodiscard]] Task<Result<BatchWriteItemResponse>> co_batch_write_item(const BatchWriteItemRequest& request,
                                                                         CallOptions options = {});
  [[nodiscard]] Task<Result<ScanResponse>> co_scan(const ScanRequest& request, CallOptions options = {});
  [[nodiscard]] Task<Result<CreateTableResponse>> co_create_table(const CreateTableRequest& request,
                                                                  CallOptions options = {});
  [[nodiscard]] Task<Result<DescribeTableResponse>> co_describe_table(const DescribeTableRequest& request,
                                                                      CallOptions options = {});
  [[nodiscard]] Task<Result<UpdateTimeToLiveResponse>> co_update_time_to_live(const UpdateTimeToLiveRequest& request,
                                                                              CallOptions options = {});
  [[nodiscard]] Task<Result<DescribeTimeToLiveResponse>> co_describe_time_to_live(
      const DescribeTimeToLiveRequest& request, CallOptions options = {});
  [[nodiscard]] Task<Result<TagResourceResponse>> co_tag_resource(const TagResourceRequest& request,
                                                                  CallOptions options = {});
  [[nodiscard]] Task<Result<UpdateContinuousBackupsResponse>> co_update_continuous_backups(
      const UpdateContinuousBackupsRequest& request, CallOptions options = {});
  [[nodiscard]] Task<Result<DescribeContinuousBackupsResponse>> co_describe_continuous_backups(
      const DescribeContinuousBackupsRequest& request, CallOptions options = {});

  // Asio initiating functions: completion signature void(Result<Response>). The request is copied
  // into the operation, and the operation keeps the client alive.
  template <class Token>
  auto async_get_item(GetItemRequest request, Token&& token) {
    return async_call(&Client::co_get_item, std::move(request), {}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_get_item(GetItemRequest request, CallOptions options, Token&& token) {
    return async_call(&Client::co_get_item, std::move(request), options, std::forward<Token>(token));
  }
  template <class Token>
  auto async_put_item(PutItemRequest request, Token&& token) {
    return async_call(&Client::co_put_item, std::move(request), {}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_update_item(UpdateItemRequest request, Token&& token) {
    return async_call(&Client::co_update_item, std::move(request), {}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_delete_item(DeleteItemRequest request, Token&& token) {
    return async_call(&Client::co_delete_item, std::move(request), {}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_batch_get_item(BatchGetItemRequest request, Token&& token) {
    return async_call(&Client::co_batch_get_item, std::move(request), {}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_batch_write_item(BatchWriteItemRequest request, Token&& token) {
    return async_call(&Client::co_batch_write_item, std::move(request), {}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_scan(ScanRequest request, Token&& token) {
    return async_call(&Client::co_scan, std::move(request), {}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_create_table(CreateTableRequest request, Token&& token) {
    return async_call(&Client::co_create_table, std::move(request), {}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_describe_table(DescribeTableRequest request, Token&& token) {
    return async_call(&Client::co_describe_table, std::move(request), {}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_update_time_to_live(UpdateTimeToLiveRequest request, Token&& token) {
    return async_call(&Client::co_update_time_to_live, std::move(request), {}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_describe_time_to_live(DescribeTimeToLiveRequest request, Token&& token) {
    return async_call(&Client::co_describe_time_to_live, std::move(request), {}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_tag_resource(TagResourceRequest request, Token&& token) {
    return async_call(&Client::co_tag_resource, std::move(request), {}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_update_continuous_backups(UpdateContinuousBackupsRequest request, Token&& token) {
    return async_call(&Client::co_update_continuous_backups, std::move(request), {}, std::forward<Token>(token));
  }
  template <class Token>
  auto async_describe_continuous_backups(DescribeContinuousBackupsRequest request, Token&& token) {
    return async_call(&Client::co_describe_continuous_backups, std::move(request), {}, std::forward<Token>(token));
  }

  // Blocking: the coroutine, run on the calling thread (run_blocking).
  [[nodiscard]] Result<GetItemResponse> get_item(const GetItemRequest& request, const CallOptions& options = {});
  [[nodiscard]] Result<PutItemResponse> put_item(const PutItemRequest& request, const CallOptions& options = {});
  [[nodiscard]] Result<UpdateItemResponse> update_item(const UpdateItemRequest& request,
                                                       const CallOptions& options = {});
  [[nodiscard]] Result<DeleteItemResponse> delete_item(const DeleteItemRequest& request,
                                                       const CallOptions& options = {});
  [[nodiscard]] Result<BatchGetItemResponse> batch_get_item(const BatchGetItemRequest& request,
                                                            const CallOptions& options = {});
  [[nodiscard]] Result<BatchWriteItemResponse> batch_write_item(const BatchWriteItemRequest& request,
                                                                const CallOptions& options = {});
  [[nodiscard]] Result<ScanResponse> scan(const ScanRequest& request, const CallOptions& options = {});
  [[nodiscard]] Result<CreateTableResponse> create_table(const CreateTableRequest& request,
                                                         const CallOptions& options = {});
  [[nodiscard]] Result<DescribeTableResponse> describe_table(const DescribeTableRequest& request,
                                                             const CallOptions& options = {});
  [[nodiscard]] Result<UpdateTimeToLiveResponse> update_time_to_live(const UpdateTimeToLiveRequest& request,
                                                                     const CallOptions& options = {});
  [[nodiscard]] Result<DescribeTimeToLiveResponse> describe_time_to_live(
      const DescribeTimeToLiveRequest& request, const CallOptions& options = {});
  [[nodiscard]] Result<TagResourceResponse> tag_resource(const TagResourceRequest& request,
                                                         const CallOptions& options = {});
  [[nodiscard]] Result<UpdateContinuousBackupsResponse> update_continuous_backups(
      const UpdateContinuousBackupsRequest& request, const CallOptions& options = {});
  [[nodiscard]] Result<DescribeContinuousBackupsResponse> describe_continuous_backups(
      const DescribeContinuousBackupsRequest& request, const CallOptions& options = {});

  [[nodiscard]] ClientMetrics metrics() const;
  [[nodiscard]] const std::string& region() const;
  /// The endpoint URL in use.
  [[nodiscard]] const std::string& endpoint() const;
  /// The configured fallback executor (may be empty).
  [[nodiscard]] const Executor& executor() const noexcept;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);

  template <class Response, class Request, class Token>
  auto async_call(Task<Result<Response>> (Client::*co)(const Request&, CallOptions), Request request,
                  CallOptions options, Token&& token) {
    return async_run<Result<Response>>(
        executor(), std::forward<Token>(token),
        [self = shared_from_this(), co, request = std::move(request), options]() { return ((*self).*co)(request, options); });
  }

  std::unique_ptr<Impl> impl_;
};

}  // namespace websession::dynamodb
