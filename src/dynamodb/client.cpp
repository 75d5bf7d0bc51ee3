#include "websession/dynamodb/client.h"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>

#include <array>
#include <atomic>
#include <charconv>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "aws/detail/http_client.h"
#include "dynamodb/crc32.h"
#include "dynamodb/marshal.h"
#include "websession/aws/sigv4.h"
#include "websession/dynamodb/retry.h"

namespace websession::dynamodb {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

enum class Op : std::size_t {
  get_item,
  put_item,
  update_item,
  delete_item,
  create_table,
  describe_table,
  update_time_to_live,
  describe_time_to_live,
  count_
};

constexpr std::array<std::string_view, static_cast<std::size_t>(Op::count_)> kOpNames{
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "CreateTable", "DescribeTable", "UpdateTimeToLive",
    "DescribeTimeToLive"};

// "X-Amz-Target: DynamoDB_20120810.GetItem" lines, built once at compile time would need constexpr
// strings; a static table of literals does the same.
constexpr std::array<std::string_view, static_cast<std::size_t>(Op::count_)> kTargets{
    "DynamoDB_20120810.GetItem",          "DynamoDB_20120810.PutItem",
    "DynamoDB_20120810.UpdateItem",       "DynamoDB_20120810.DeleteItem",
    "DynamoDB_20120810.CreateTable",      "DynamoDB_20120810.DescribeTable",
    "DynamoDB_20120810.UpdateTimeToLive", "DynamoDB_20120810.DescribeTimeToLive"};

constexpr std::string_view kContentType = "application/x-amz-json-1.0";

bool valid_region(std::string_view r) {
  if (r.empty() || r.size() > 64) return false;
  for (char c : r) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::optional<std::uint32_t> parse_u32(std::string_view s) {
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

struct Client::Impl {
  ClientOptions options;
  std::string region;
  aws::Endpoint endpoint;
  std::string host_line;  // "Host: ..." (we send the exact value we sign)
  std::shared_ptr<aws::CredentialsProvider> credentials;
  aws::Signer signer;
  aws::detail::HttpClient http;
  RetryPolicy policy;

  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Op::count_)> calls{};
  std::atomic<std::uint64_t> attempts{0}, retries{0}, throttles{0}, conditional_check_failures{0}, errors{0};

  std::mutex rng_mutex;
  std::mt19937_64 rng{std::random_device{}()};

  Impl(ClientOptions opts, std::string reg, aws::Endpoint ep, std::shared_ptr<aws::CredentialsProvider> creds)
      : options(std::move(opts)),
        region(std::move(reg)),
        endpoint(std::move(ep)),
        host_line("Host: " + endpoint.host_header),
        credentials(std::move(creds)),
        signer(region, "dynamodb", options.clock),
        http({options.connect_timeout, options.max_connections}),
        policy{options.max_attempts, options.retry_base_delay, options.retry_max_delay} {}

  double unit_random() {
    std::lock_guard lock(rng_mutex);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }

  // One HTTP attempt: sign, send, check the checksum, parse the JSON of a 2xx answer into `sp`.
  Result<boost::json::value> attempt(Op op, const std::string& body, steady_clock::time_point deadline,
                                     const boost::json::storage_ptr& sp) {
    auto creds = credentials->credentials();
    if (!creds) {
      Error e = std::move(creds).error();
      // Failing to obtain credentials is a configuration problem unless the source was merely
      // unreachable (then it is worth retrying).
      if (e.code != ErrorCode::unavailable) e.code = ErrorCode::permission_denied;
      return e;
    }
    const aws::Credentials& c = **creds;
    std::string amz_date = aws::format_amz_date(signer.now());
    std::string_view target = kTargets[static_cast<std::size_t>(op)];

    std::array<aws::HeaderView, 5> to_sign{{{"host", endpoint.host_header},
                                            {"content-type", kContentType},
                                            {"x-amz-date", amz_date},
                                            {"x-amz-target", target},
                                            {"x-amz-security-token", c.session_token}}};
    std::size_t n_signed = c.session_token.empty() ? 4 : 5;
    aws::SignableRequest signable{"POST", endpoint.path, "", std::span(to_sign.data(), n_signed), body};
    std::string authorization = signer.authorization(c, signable, amz_date);

    std::array<std::string, 6> lines;
    lines[0] = host_line;
    lines[1] = "Content-Type: application/x-amz-json-1.0";
    lines[2].append("X-Amz-Date: ").append(amz_date);
    lines[3].append("X-Amz-Target: ").append(target);
    lines[4].append("Authorization: ").append(authorization);
    std::size_t n_lines = 5;
    if (!c.session_token.empty()) lines[n_lines++].append("X-Amz-Security-Token: ").append(c.session_token);

    aws::detail::HttpRequest request{"POST", endpoint.url, std::span(lines.data(), n_lines), body};
    auto response = http.perform(request, deadline);
    if (!response) return std::move(response).error();

    if (const std::string* crc = response->header("x-amz-crc32")) {
      auto expected = parse_u32(*crc);
      if (!expected || *expected != detail::crc32(response->body)) {
        return Error(ErrorCode::unavailable, "response checksum (x-amz-crc32) mismatch", std::string(kCrc32Mismatch));
      }
    }
    if (response->status < 200 || response->status >= 300) {
      return error_from_response(response->status, response->body);
    }
    // boost::json::parse() would put the parser's own working stack on the heap; a stack buffer
    // holds it for any body short of very deep nesting (beyond it the parser falls back to the heap).
    std::array<unsigned char, 2048> parser_stack;  // NOLINT(cppcoreguidelines-pro-type-member-init)
    // DynamoDB nests documents 32 deep, and each level is two JSON levels on the wire ({"M": {...}}),
    // inside the response's own few: Boost.JSON's default limit of 32 would refuse legal items.
    boost::json::parse_options limits;
    limits.max_depth = 2 * 32 + 16;
    boost::json::parser parser(boost::json::storage_ptr(), limits, parser_stack.data(), parser_stack.size());
    parser.reset(sp);
    boost::system::error_code ec;
    parser.write(response->body, ec);
    if (ec) {
      return Error(ErrorCode::unavailable,
                   "malformed response body (HTTP " + std::to_string(response->status) + ")",
                   std::string(kMalformedResponse));
    }
    // Moved, never assigned: assigning to a value of another storage would copy the whole tree.
    return parser.release();
  }

  // The retry loop around attempt().
  Result<boost::json::value> execute(Op op, const std::string& body, const CallOptions& call,
                                     const boost::json::storage_ptr& sp) {
    auto deadline = steady_clock::now() + call.timeout.value_or(options.call_timeout);
    bool refreshed_credentials = false;
    for (int n = 1;; ++n) {
      if (n > 1) retries.fetch_add(1, std::memory_order_relaxed);
      attempts.fetch_add(1, std::memory_order_relaxed);
      auto r = attempt(op, body, deadline, sp);
      if (r) return r;
      Error e = std::move(r).error();
      if (is_throttling(e.service_type)) throttles.fetch_add(1, std::memory_order_relaxed);
      if (is_expired_token(e.service_type) && !refreshed_credentials) {
        // Temporary credentials expired before the cache noticed (clock skew): refresh, retry once.
        refreshed_credentials = true;
        credentials->invalidate();
        continue;
      }
      if (!is_retryable(e)) return e;
      if (!policy.may_retry(n)) {
        e.message += " (gave up after " + std::to_string(n) + " attempts)";
        return e;
      }
      auto delay = policy.delay(n, unit_random());
      if (steady_clock::now() + delay >= deadline) {
        e.message += " (deadline reached after " + std::to_string(n) + " attempts)";
        return e;
      }
      std::this_thread::sleep_for(delay);
    }
  }

  template <class Response, class Request, class Parse>
  Result<Response> invoke(Op op, const Request& request, const CallOptions& call, Parse parse) {
    calls[static_cast<std::size_t>(op)].fetch_add(1, std::memory_order_relaxed);
    // Scratch memory for the request's and the response's JSON trees: one stack buffer, no heap
    // traffic for typical items.
    std::array<unsigned char, 8192> scratch;  // NOLINT(cppcoreguidelines-pro-type-member-init)
    boost::json::monotonic_resource mr(scratch.data(), scratch.size());
    boost::json::storage_ptr sp(&mr);
    std::string body = detail::serialize(request, sp);
    auto value = execute(op, body, call, sp);
    if (!value) {
      errors.fetch_add(1, std::memory_order_relaxed);
      if (value.error().service_type == kConditionalCheckFailed) {
        conditional_check_failures.fetch_add(1, std::memory_order_relaxed);
      }
      return std::move(value).error();
    }
    auto parsed = parse(*value);
    if (!parsed) errors.fetch_add(1, std::memory_order_relaxed);
    return parsed;
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::shared_ptr<Client>> Client::create(ClientOptions options) {
  if (options.max_attempts < 1) return Error(ErrorCode::invalid_argument, "max_attempts must be at least 1");
  if (options.call_timeout.count() <= 0 || options.connect_timeout.count() <= 0) {
    return Error(ErrorCode::invalid_argument, "timeouts must be positive");
  }
  aws::GetEnv env = aws::or_process_environment(options.getenv);
  std::optional<std::string> region = options.region ? options.region : aws::resolve_region(env, options.profile);
  if (!region || region->empty()) {
    return Error(ErrorCode::invalid_argument,
                 "no AWS region: set ClientOptions::region, AWS_REGION, AWS_DEFAULT_REGION or the profile's region");
  }
  if (!valid_region(*region)) return Error(ErrorCode::invalid_argument, "malformed AWS region '" + *region + "'");
  std::string url = options.endpoint ? *options.endpoint : aws::resolve_endpoint(env, "DYNAMODB", "dynamodb", *region);
  auto endpoint = aws::parse_endpoint(url);
  if (!endpoint) return Error(ErrorCode::invalid_argument, "DynamoDB endpoint: " + endpoint.error().message);
  auto creds = options.credentials;
  if (!creds) {
    aws::DefaultChainOptions chain;
    chain.getenv = env;
    chain.profile = options.profile;
    chain.clock = options.clock;
    creds = aws::default_credentials_chain(std::move(chain));
  }
  options.getenv = env;
  auto impl = std::make_unique<Impl>(std::move(options), std::move(*region), std::move(*endpoint), std::move(creds));
  return std::shared_ptr<Client>(new Client(std::move(impl)));
}

Result<GetItemResponse> Client::get_item(const GetItemRequest& r, const CallOptions& o) {
  return impl_->invoke<GetItemResponse>(Op::get_item, r, o, &detail::parse_get_item);
}
Result<PutItemResponse> Client::put_item(const PutItemRequest& r, const CallOptions& o) {
  return impl_->invoke<PutItemResponse>(Op::put_item, r, o, &detail::parse_put_item);
}
Result<UpdateItemResponse> Client::update_item(const UpdateItemRequest& r, const CallOptions& o) {
  return impl_->invoke<UpdateItemResponse>(Op::update_item, r, o, &detail::parse_update_item);
}
Result<DeleteItemResponse> Client::delete_item(const DeleteItemRequest& r, const CallOptions& o) {
  return impl_->invoke<DeleteItemResponse>(Op::delete_item, r, o, &detail::parse_delete_item);
}
Result<CreateTableResponse> Client::create_table(const CreateTableRequest& r, const CallOptions& o) {
  return impl_->invoke<CreateTableResponse>(Op::create_table, r, o, &detail::parse_create_table);
}
Result<DescribeTableResponse> Client::describe_table(const DescribeTableRequest& r, const CallOptions& o) {
  return impl_->invoke<DescribeTableResponse>(Op::describe_table, r, o, &detail::parse_describe_table);
}
Result<UpdateTimeToLiveResponse> Client::update_time_to_live(const UpdateTimeToLiveRequest& r, const CallOptions& o) {
  return impl_->invoke<UpdateTimeToLiveResponse>(Op::update_time_to_live, r, o, &detail::parse_update_time_to_live);
}
Result<DescribeTimeToLiveResponse> Client::describe_time_to_live(const DescribeTimeToLiveRequest& r,
                                                                 const CallOptions& o) {
  return impl_->invoke<DescribeTimeToLiveResponse>(Op::describe_time_to_live, r, o,
                                                   &detail::parse_describe_time_to_live);
}

ClientMetrics Client::metrics() const {
  ClientMetrics m;
  for (std::size_t i = 0; i < kOpNames.size(); ++i) {
    m.calls_by_operation[std::string(kOpNames[i])] = impl_->calls[i].load(std::memory_order_relaxed);
  }
  m.attempts = impl_->attempts.load(std::memory_order_relaxed);
  m.retries = impl_->retries.load(std::memory_order_relaxed);
  m.throttles = impl_->throttles.load(std::memory_order_relaxed);
  m.conditional_check_failures = impl_->conditional_check_failures.load(std::memory_order_relaxed);
  m.errors = impl_->errors.load(std::memory_order_relaxed);
  return m;
}

const std::string& Client::region() const { return impl_->region; }
const std::string& Client::endpoint() const { return impl_->endpoint.url; }

}  // namespace websession::dynamodb
