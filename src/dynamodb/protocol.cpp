#include "dynamodb/protocol.h"

#include <boost/json/parser.hpp>

#include <algorithm>
#include <charconv>
#include <optional>

#include "core/text.h"
#include "dynamodb/crc32.h"
#include "websession/dynamodb/errors.h"

namespace websession::dynamodb::detail {
namespace {

constexpr std::array<std::string_view, kOpCount> kTargets{
    "DynamoDB_20120810.GetItem",          "DynamoDB_20120810.PutItem",
    "DynamoDB_20120810.UpdateItem",       "DynamoDB_20120810.DeleteItem",
    "DynamoDB_20120810.BatchGetItem",     "DynamoDB_20120810.BatchWriteItem",
    "DynamoDB_20120810.Scan",             "DynamoDB_20120810.CreateTable",
    "DynamoDB_20120810.DescribeTable",    "DynamoDB_20120810.UpdateTimeToLive",
    "DynamoDB_20120810.DescribeTimeToLive", "DynamoDB_20120810.TagResource",
    "DynamoDB_20120810.UpdateContinuousBackups", "DynamoDB_20120810.DescribeContinuousBackups"};

constexpr std::string_view kPrefix = "DynamoDB_20120810.";
constexpr std::string_view kContentType = "application/x-amz-json-1.0";

std::optional<std::uint32_t> parse_u32(std::string_view s) {
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool has_line_break(std::string_view s) noexcept { return ::websession::detail::has_cr_lf_nul(s); }

}  // namespace

// boost::json::parse() would put the parser's own working stack on the heap; a stack buffer holds
// it for any body short of very deep nesting.
Result<boost::json::value> parse_body(unsigned status, std::string_view body, const boost::json::storage_ptr& sp) {
  std::array<unsigned char, 2048> parser_stack;  // NOLINT(cppcoreguidelines-pro-type-member-init)
  // DynamoDB nests documents 32 deep, and each level is two JSON levels on the wire ({"M": {...}}),
  // inside the response's own few: Boost.JSON's default limit of 32 would refuse legal items.
  boost::json::parse_options limits;
  limits.max_depth = 2 * 32 + 16;
  boost::json::parser parser(boost::json::storage_ptr(), limits, parser_stack.data(), parser_stack.size());
  parser.reset(sp);
  boost::system::error_code ec;
  parser.write(body.empty() ? std::string_view("{}") : body, ec);
  if (ec) {
    return Error(ErrorCode::unavailable, "malformed response body (HTTP " + std::to_string(status) + ")",
                 std::string(kMalformedResponse));
  }
  // Moved, never assigned: assigning to a value of another storage would copy the whole tree.
  return parser.release();
}

std::string_view operation_target(Op op) noexcept { return kTargets[static_cast<std::size_t>(op)]; }

std::string_view operation_name(Op op) noexcept { return operation_target(op).substr(kPrefix.size()); }

Status sign_request(SignedRequest& out, aws::Signer& signer, const aws::Credentials& credentials,
                    std::string_view host_header, std::string_view path, Op op, std::string_view body,
                    std::string_view amz_date) {
  if (has_line_break(credentials.access_key_id) || has_line_break(credentials.session_token)) {
    return Error(ErrorCode::permission_denied, "the AWS credentials contain CR, LF or NUL");
  }
  if (amz_date.size() != out.amz_date.size()) {
    return Error(ErrorCode::invalid_argument, "x-amz-date must be 16 characters, as 20150830T123600Z");
  }
  std::copy(amz_date.begin(), amz_date.end(), out.amz_date.begin());
  const std::string_view target = operation_target(op);
  const std::array<aws::HeaderView, 5> to_sign{{{"host", host_header},
                                                {"content-type", kContentType},
                                                {"x-amz-date", out.date()},
                                                {"x-amz-target", target},
                                                {"x-amz-security-token", credentials.session_token}}};
  const std::size_t n_signed = credentials.session_token.empty() ? 4 : 5;
  aws::SignableRequest signable{"POST", path, "", std::span(to_sign.data(), n_signed), body};
  auto authorization = signer.authorization(credentials, signable, out.date());
  if (!authorization) return std::move(authorization).error();
  out.authorization = std::move(*authorization);
  out.headers[0] = {"Host", host_header};
  out.headers[1] = {"Content-Type", kContentType};
  out.headers[2] = {"X-Amz-Date", out.date()};
  out.headers[3] = {"X-Amz-Target", target};
  out.headers[4] = {"Authorization", out.authorization};
  out.count = 5;
  if (!credentials.session_token.empty()) out.headers[out.count++] = {"X-Amz-Security-Token", credentials.session_token};
  return {};
}

Status check_response(Op op, unsigned status, const std::string* crc32, std::string_view body) {
  if (crc32 != nullptr) {
    auto expected = parse_u32(*crc32);
    if (!expected || *expected != detail::crc32(body)) {
      return Error(ErrorCode::unavailable, "response checksum (x-amz-crc32) mismatch", std::string(kCrc32Mismatch));
    }
  }
  if (status >= 200 && status < 300) return {};
  Error e = error_from_response(status, body);
  if (e.service_type == kUnknownOperation) {
    e.message = "the DynamoDB endpoint does not implement " + std::string(operation_name(op));
  }
  return e;
}

RetryDecision decide_retry(const Error& error, int attempt, bool credentials_refreshed, const RetryPolicy& policy,
                           RetryQuota& quota, double unit_random, std::chrono::steady_clock::time_point now,
                           std::chrono::steady_clock::time_point deadline) {
  RetryDecision d;
  const std::string attempts = std::to_string(attempt) + (attempt == 1 ? " attempt" : " attempts");
  if (is_expired_token(error.service_type) && !credentials_refreshed) {
    // Temporary credentials expired before the cache noticed (clock skew): refresh, retry once.
    d.action = RetryDecision::Action::refresh_credentials;
    return d;
  }
  if (!is_retryable(error)) return d;
  if (!policy.may_retry(attempt)) {
    d.reason = "gave up after " + attempts;
    return d;
  }
  d.delay = policy.delay(attempt, unit_random);
  if (now + d.delay >= deadline) {
    d.reason = "deadline reached after " + attempts;
    return d;
  }
  d.quota_taken = quota.acquire(error.service_type == kTimeout);
  if (d.quota_taken == 0) {
    d.quota_exhausted = true;
    d.reason = "retry quota exhausted after " + attempts;
    return d;
  }
  d.action = RetryDecision::Action::retry;
  return d;
}

}  // namespace websession::dynamodb::detail
