// The DynamoDB client's protocol logic without I/O (sans-I/O): signing one attempt, interpreting
// an answer, and deciding whether and when to retry. The coroutine in client.cpp only moves bytes
// and waits. Private to websession::dynamodb; tested directly.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include "websession/aws/credentials.h"
#include "websession/aws/sigv4.h"
#include "websession/dynamodb/retry.h"
#include "websession/net/http_client.h"
#include "websession/result.h"

namespace websession::dynamodb::detail {

/// The operations, in the order of the client's per-operation metrics.
enum class Op : std::size_t {
  get_item,
  put_item,
  update_item,
  delete_item,
  batch_get_item,
  batch_write_item,
  scan,
  create_table,
  describe_table,
  update_time_to_live,
  describe_time_to_live,
  tag_resource,
  update_continuous_backups,
  describe_continuous_backups,
  count_
};
inline constexpr std::size_t kOpCount = static_cast<std::size_t>(Op::count_);

/// "GetItem", "PutItem", ...
[[nodiscard]] std::string_view operation_name(Op op) noexcept;
/// "DynamoDB_20120810.GetItem", ...: the X-Amz-Target header.
[[nodiscard]] std::string_view operation_target(Op op) noexcept;

/// The headers of one signed attempt: Host, Content-Type, X-Amz-Date, X-Amz-Target, Authorization
/// and, for temporary credentials, X-Amz-Security-Token. They refer to this object and to the
/// arguments of sign_request(), so it is neither copied nor moved.
struct SignedRequest {
  SignedRequest() = default;
  SignedRequest(const SignedRequest&) = delete;
  SignedRequest& operator=(const SignedRequest&) = delete;

  /// X-Amz-Date's value ("20150830T123600Z"), kept here for the header views; no heap.
  std::array<char, 16> amz_date{};
  std::string authorization;
  [[nodiscard]] std::string_view date() const noexcept { return {amz_date.data(), amz_date.size()}; }
  std::array<net::HeaderView, 6> headers{};
  std::size_t count = 0;
  [[nodiscard]] std::span<const net::HeaderView> view() const noexcept { return {headers.data(), count}; }
};

/// Signs one attempt of `op` carrying `body`, dated `amz_date` ("20150830T123600Z").
/// permission_denied when the credentials contain CR, LF or NUL (they could not be sent as signed,
/// and would inject headers).
[[nodiscard]] Status sign_request(SignedRequest& out, aws::Signer& signer, const aws::Credentials& credentials,
                                  std::string_view host_header, std::string_view path, Op op,
                                  std::string_view body, std::string_view amz_date);

/// Checks an answer: the x-amz-crc32 checksum (`crc32` may be null: not sent), then the status:
/// an error answer becomes its Error (see error_from_response). OK for an intact 2xx answer.
[[nodiscard]] Status check_response(Op op, unsigned status, const std::string* crc32, std::string_view body);

/// The JSON of a 2xx body, parsed into `sp` (an empty body is an empty object); unavailable
/// (kMalformedResponse, retried) when it is not JSON.
[[nodiscard]] Result<boost::json::value> parse_body(unsigned status, std::string_view body,
                                                    const boost::json::storage_ptr& sp);

/// What to do after attempt number `attempt` (1-based) failed.
struct RetryDecision {
  enum class Action {
    fail,                 ///< return the error, with `reason` appended when not empty
    retry,                ///< wait `delay`, then send again
    refresh_credentials,  ///< forget the cached credentials, then send again at once
  };
  Action action = Action::fail;
  std::chrono::milliseconds delay{0};
  /// Tokens the retry took from the quota (given back if the call then succeeds).
  int quota_taken = 0;
  bool quota_exhausted = false;
  std::string reason;
};

/// Decides about a failed attempt: ExpiredToken refreshes credentials once; a retryable error is
/// retried after the policy's jittered delay (`unit_random` in [0, 1)) if attempts remain, the
/// delay ends before `deadline`, and `quota` pays for it (the only side effect here).
[[nodiscard]] RetryDecision decide_retry(const Error& error, int attempt, bool credentials_refreshed,
                                         const RetryPolicy& policy, RetryQuota& quota, double unit_random,
                                         std::chrono::steady_clock::time_point now,
                                         std::chrono::steady_clock::time_point deadline);

}  // namespace websession::dynamodb::detail
