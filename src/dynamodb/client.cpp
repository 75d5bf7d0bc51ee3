#include "websession/dynamodb/client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/monotonic_resource.hpp>

#include <array>
#include <functional>
#include <atomic>
#include <mutex>
#include <random>
#include <stdexcept>
#include <utility>

#include "dynamodb/marshal.h"
#include "dynamodb/protocol.h"
#include "websession/aws/sigv4.h"

namespace websession::dynamodb {
namespace {

using detail::Op;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Prometheus-style bucket bounds for call latency, in seconds: a local DynamoDB answers in about a
// millisecond, a regional one in a few, and retries under throttling take up to the deadline.
constexpr std::array<double, 14> kLatencyBounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                0.1,    0.25,  0.5,    1.0,   2.5,  5.0,  10.0};

bool valid_region(std::string_view r) {
  if (r.empty() || r.size() > 64) return false;
  for (char c : r) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

struct Histogram {
  std::array<std::atomic<std::uint64_t>, kLatencyBounds.size()> buckets{};  // not cumulative
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::uint64_t> sum_ns{0};

  void record(steady_clock::duration d) noexcept {
    const double seconds = std::chrono::duration<double>(d).count();
    for (std::size_t i = 0; i < kLatencyBounds.size(); ++i) {
      if (seconds <= kLatencyBounds[i]) {
        buckets[i].fetch_add(1, std::memory_order_relaxed);
        break;
      }
    }
    count.fetch_add(1, std::memory_order_relaxed);
    sum_ns.fetch_add(static_cast<std::uint64_t>(std::chrono::nanoseconds(d).count()), std::memory_order_relaxed);
  }

  [[nodiscard]] LatencyHistogram snapshot() const {
    LatencyHistogram h;
    h.upper_bounds.assign(kLatencyBounds.begin(), kLatencyBounds.end());
    std::uint64_t running = 0;
    for (const auto& b : buckets) {
      running += b.load(std::memory_order_relaxed);
      h.cumulative_counts.push_back(running);
    }
    h.count = count.load(std::memory_order_relaxed);
    h.sum_seconds = static_cast<double>(sum_ns.load(std::memory_order_relaxed)) / 1e9;
    return h;
  }
};

net::HttpClientOptions http_options(const ClientOptions& options, const aws::GetEnv& env) {
  net::HttpClientOptions h;
  h.connect_timeout = options.connect_timeout;
  h.max_idle_per_origin = options.max_connections;
  h.tls.ca_file = options.ca_file ? *options.ca_file : env("AWS_CA_BUNDLE").value_or("");
  h.proxy = options.proxy;
  h.getenv = [env](const std::string& name) { return env(name); };
  h.executor = options.executor;
  return h;
}

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable_t<Executor>{});

// Takes an intact 2xx body: decodes it into the call's response, or says why the answer is
// unusable (a garbled one is worth another attempt).
using Accept = std::function<Status(unsigned status, std::string_view body)>;

// A response decoded through a JSON tree.
template <class Response, Result<Response> (*Parse)(const boost::json::value&)>
Result<Response> decode_json(unsigned status, std::string_view body, const boost::json::storage_ptr& sp) {
  auto value = detail::parse_body(status, body, sp);
  if (!value) return std::move(value).error();
  return Parse(*value);
}

// GetItem, the hot path: streamed straight into attribute values.
Result<GetItemResponse> decode_get_item(unsigned status, std::string_view body, const boost::json::storage_ptr&) {
  return detail::decode_get_item(status, body);
}

// The date SigV4 signs with, formatted once per second per thread.
const std::string& amz_date(std::chrono::system_clock::time_point now) {
  thread_local std::int64_t second = -1;
  thread_local std::string text;
  const std::int64_t s = std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count();
  if (s != second) {
    text = aws::format_amz_date(now);
    second = s;
  }
  return text;
}

}  // namespace

struct Client::Impl {
  ClientOptions options;
  std::string region;
  aws::Endpoint endpoint;
  net::Url url;
  std::shared_ptr<aws::CredentialsProvider> credentials;
  aws::Signer signer;
  net::HttpClient http;
  RetryPolicy policy;
  RetryQuota quota;

  std::array<std::atomic<std::uint64_t>, detail::kOpCount> calls{};
  std::array<Histogram, detail::kOpCount> latency{};
  std::atomic<std::uint64_t> attempts{0}, retries{0}, throttles{0}, conditional_check_failures{0}, errors{0},
      quota_exhausted{0};

  std::mutex rng_mutex;
  std::mt19937_64 rng{std::random_device{}()};

  Impl(ClientOptions opts, std::string reg, aws::Endpoint ep, net::Url u, std::shared_ptr<aws::CredentialsProvider> creds,
       const aws::GetEnv& env)
      : options(std::move(opts)),
        region(std::move(reg)),
        endpoint(std::move(ep)),
        url(std::move(u)),
        credentials(std::move(creds)),
        signer(region, "dynamodb", options.clock),
        http(http_options(options, env)),
        policy{options.max_attempts, options.retry_base_delay, options.retry_max_delay},
        quota(options.retry_quota) {}

  double unit_random() {
    std::lock_guard lock(rng_mutex);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }

  Task<Status> attempt(Op op, std::string_view body, steady_clock::time_point deadline, const Accept& accept);
  Task<Status> co_invoke(Op op, std::string_view body, CallOptions call, const Accept& accept);
  void count_outcome(Op op, steady_clock::time_point start, const Error* error) noexcept;

  template <class Response, class Request, class Decode>
  Task<Result<Response>> co_call(Op op, const Request& request, CallOptions call, Decode decode) {
    const auto start = steady_clock::now();
    calls[static_cast<std::size_t>(op)].fetch_add(1, std::memory_order_relaxed);
    // Scratch memory for the request's and the response's JSON trees: one buffer in the
    // coroutine's frame, no heap traffic for typical items (its size: see marshal.h).
    std::array<unsigned char, detail::kJsonScratchBytes<Request>> scratch;  // NOLINT(cppcoreguidelines-pro-type-member-init)
    boost::json::monotonic_resource mr(scratch.data(), scratch.size());
    const boost::json::storage_ptr sp(&mr);
    std::string body = detail::serialize(request, sp);
    std::optional<Result<Response>> decoded;
    const Accept accept = [&](unsigned status, std::string_view answer) -> Status {
      auto r = decode(status, answer, sp);
      if (!r && is_retryable(r.error())) return std::move(r).error();
      decoded.emplace(std::move(r));
      return {};
    };
    Status s = co_await co_invoke(op, body, call, accept);
    Result<Response> out = s ? std::move(*decoded) : Result<Response>(std::move(s).error());
    count_outcome(op, start, out ? nullptr : &out.error());
    co_return out;
  }
};

// One HTTP attempt: credentials, sign, send with the attempt's own deadline, interpret the answer.
Task<Status> Client::Impl::attempt(Op op, std::string_view body, steady_clock::time_point deadline,
                                   const Accept& accept) {
  attempts.fetch_add(1, std::memory_order_relaxed);
  auto creds = co_await credentials->co_credentials();
  if (!creds) {
    Error e = std::move(creds).error();
    // Failing to obtain credentials is a configuration problem unless the source was merely
    // unreachable (then it is worth retrying) or the caller cancelled.
    if (e.code != ErrorCode::unavailable && e.code != ErrorCode::cancelled) e.code = ErrorCode::permission_denied;
    co_return e;
  }
  detail::SignedRequest signed_request;
  if (auto s = detail::sign_request(signed_request, signer, **creds, endpoint.host_header, endpoint.path, op, body,
                                    amz_date(signer.now()));
      !s) {
    co_return s.error();
  }
  net::Request request{"POST", &url, {}, signed_request.view(), body};
  const auto attempt_deadline = std::min(deadline, steady_clock::now() + options.attempt_timeout);
  auto response = co_await http.co_request(request, attempt_deadline);
  if (!response) co_return std::move(response).error();
  if (auto s = detail::check_response(op, response->status, response->header("x-amz-crc32"), response->body); !s) {
    co_return s;
  }
  co_return accept(response->status, response->body);
}

// The retry loop around attempt(): every decision comes from detail::decide_retry, every wait is
// a timer (cancellable).
Task<Status> Client::Impl::co_invoke(Op op, std::string_view body, CallOptions call, const Accept& accept) {
  co_await asio::this_coro::throw_if_cancelled(false);
  const auto deadline = steady_clock::now() + call.timeout.value_or(options.call_timeout);
  bool refreshed = false;
  int quota_taken = 0;
  for (int n = 1;; ++n) {
    auto r = co_await attempt(op, body, deadline, accept);
    if (r) {
      quota.release(quota_taken);
      co_return r;
    }
    Error e = std::move(r).error();
    if (e.code == ErrorCode::cancelled) co_return e;
    if (is_throttling(e.service_type)) throttles.fetch_add(1, std::memory_order_relaxed);
    auto d = detail::decide_retry(e, n, refreshed, policy, quota, unit_random(), steady_clock::now(), deadline);
    if (d.action == detail::RetryDecision::Action::fail) {
      if (d.quota_exhausted) quota_exhausted.fetch_add(1, std::memory_order_relaxed);
      if (!d.reason.empty()) e.message.append(" (").append(d.reason).append(")");
      co_return e;
    }
    if (d.action == detail::RetryDecision::Action::refresh_credentials) {
      refreshed = true;
      credentials->invalidate();
    }
    quota_taken = d.quota_taken;
    retries.fetch_add(1, std::memory_order_relaxed);
    if (d.delay.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor, d.delay);
      auto [ec] = co_await timer.async_wait(kAwait);
      if (ec) co_return Error(ErrorCode::cancelled, "cancelled between retries");
    }
  }
}

void Client::Impl::count_outcome(Op op, steady_clock::time_point start, const Error* error) noexcept {
  latency[static_cast<std::size_t>(op)].record(steady_clock::now() - start);
  if (error == nullptr) return;
  errors.fetch_add(1, std::memory_order_relaxed);
  if (error->service_type == kConditionalCheckFailed) {
    conditional_check_failures.fetch_add(1, std::memory_order_relaxed);
  }
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::shared_ptr<Client>> Client::create(ClientOptions options) {
  if (options.max_attempts < 1) return Error(ErrorCode::invalid_argument, "max_attempts must be at least 1");
  if (options.call_timeout.count() <= 0 || options.connect_timeout.count() <= 0 ||
      options.attempt_timeout.count() <= 0) {
    return Error(ErrorCode::invalid_argument, "timeouts must be positive");
  }
  if (options.retry_quota < 0) return Error(ErrorCode::invalid_argument, "retry_quota must not be negative");
  aws::GetEnv env = aws::or_process_environment(options.getenv);
  std::optional<std::string> region = options.region ? options.region : aws::resolve_region(env, options.profile);
  if (!region || region->empty()) {
    return Error(ErrorCode::invalid_argument,
                 "no AWS region: set ClientOptions::region, AWS_REGION, AWS_DEFAULT_REGION or the profile's region");
  }
  if (!valid_region(*region)) return Error(ErrorCode::invalid_argument, "malformed AWS region '" + *region + "'");
  std::string text = options.endpoint ? *options.endpoint : aws::resolve_endpoint(env, "DYNAMODB", "dynamodb", *region);
  auto endpoint = aws::parse_endpoint(text);
  if (!endpoint) return Error(ErrorCode::invalid_argument, "DynamoDB endpoint: " + endpoint.error().message);
  auto url = net::Url::parse(endpoint->url);
  if (!url) return Error(ErrorCode::invalid_argument, "DynamoDB endpoint: " + url.error().message);
  auto creds = options.credentials;
  if (!creds) {
    aws::DefaultChainOptions chain;
    chain.getenv = env;
    chain.profile = options.profile;
    chain.clock = options.clock;
    chain.region = *region;  // STS in the client's region, however it was found
    creds = aws::default_credentials_chain(std::move(chain));
  }
  options.getenv = env;
  try {
    auto impl = std::make_unique<Impl>(std::move(options), std::move(*region), std::move(*endpoint), std::move(*url),
                                       std::move(creds), env);
    return std::shared_ptr<Client>(new Client(std::move(impl)));
  } catch (const std::invalid_argument& e) {
    return Error(ErrorCode::invalid_argument, std::string("DynamoDB client: ") + e.what());
  }
}

#define WEBSESSION_DYNAMODB_OPERATION(name, Request, Response, op)                                          \
  Task<Result<Response>> Client::co_##name(const Request& r, CallOptions o) {                               \
    return impl_->co_call<Response>(op, r, o, decoder_##name);                                              \
  }                                                                                                         \
  Result<Response> Client::name(const Request& r, const CallOptions& o) {                                   \
    return run_blocking([&] { return co_##name(r, o); });                                                   \
  }

namespace {
// How each operation's answer is decoded: GetItem streamed, the others through a JSON tree.
constexpr auto decoder_get_item = &decode_get_item;
constexpr auto decoder_put_item = &decode_json<PutItemResponse, &detail::parse_put_item>;
constexpr auto decoder_update_item = &decode_json<UpdateItemResponse, &detail::parse_update_item>;
constexpr auto decoder_delete_item = &decode_json<DeleteItemResponse, &detail::parse_delete_item>;
constexpr auto decoder_batch_get_item = &decode_json<BatchGetItemResponse, &detail::parse_batch_get_item>;
constexpr auto decoder_batch_write_item = &decode_json<BatchWriteItemResponse, &detail::parse_batch_write_item>;
constexpr auto decoder_scan = &decode_json<ScanResponse, &detail::parse_scan>;
constexpr auto decoder_create_table = &decode_json<CreateTableResponse, &detail::parse_create_table>;
constexpr auto decoder_describe_table = &decode_json<DescribeTableResponse, &detail::parse_describe_table>;
constexpr auto decoder_update_time_to_live =
    &decode_json<UpdateTimeToLiveResponse, &detail::parse_update_time_to_live>;
constexpr auto decoder_describe_time_to_live =
    &decode_json<DescribeTimeToLiveResponse, &detail::parse_describe_time_to_live>;
constexpr auto decoder_tag_resource = &decode_json<TagResourceResponse, &detail::parse_tag_resource>;
constexpr auto decoder_update_continuous_backups =
    &decode_json<UpdateContinuousBackupsResponse, &detail::parse_update_continuous_backups>;
constexpr auto decoder_describe_continuous_backups =
    &decode_json<DescribeContinuousBackupsResponse, &detail::parse_describe_continuous_backups>;
}  // namespace

WEBSESSION_DYNAMODB_OPERATION(get_item, GetItemRequest, GetItemResponse, Op::get_item)
WEBSESSION_DYNAMODB_OPERATION(put_item, PutItemRequest, PutItemResponse, Op::put_item)
WEBSESSION_DYNAMODB_OPERATION(update_item, UpdateItemRequest, UpdateItemResponse, Op::update_item)
WEBSESSION_DYNAMODB_OPERATION(delete_item, DeleteItemRequest, DeleteItemResponse, Op::delete_item)
WEBSESSION_DYNAMODB_OPERATION(batch_get_item, BatchGetItemRequest, BatchGetItemResponse, Op::batch_get_item)
WEBSESSION_DYNAMODB_OPERATION(batch_write_item, BatchWriteItemRequest, BatchWriteItemResponse, Op::batch_write_item)
WEBSESSION_DYNAMODB_OPERATION(scan, ScanRequest, ScanResponse, Op::scan)
WEBSESSION_DYNAMODB_OPERATION(create_table, CreateTableRequest, CreateTableResponse, Op::create_table)
WEBSESSION_DYNAMODB_OPERATION(describe_table, DescribeTableRequest, DescribeTableResponse, Op::describe_table)
WEBSESSION_DYNAMODB_OPERATION(update_time_to_live, UpdateTimeToLiveRequest, UpdateTimeToLiveResponse,
                              Op::update_time_to_live)
WEBSESSION_DYNAMODB_OPERATION(describe_time_to_live, DescribeTimeToLiveRequest, DescribeTimeToLiveResponse,
                              Op::describe_time_to_live)
WEBSESSION_DYNAMODB_OPERATION(tag_resource, TagResourceRequest, TagResourceResponse, Op::tag_resource)
WEBSESSION_DYNAMODB_OPERATION(update_continuous_backups, UpdateContinuousBackupsRequest,
                              UpdateContinuousBackupsResponse, Op::update_continuous_backups)
WEBSESSION_DYNAMODB_OPERATION(describe_continuous_backups, DescribeContinuousBackupsRequest,
                              DescribeContinuousBackupsResponse, Op::describe_continuous_backups)

#undef WEBSESSION_DYNAMODB_OPERATION

ClientMetrics Client::metrics() const {
  ClientMetrics m;
  for (std::size_t i = 0; i < detail::kOpCount; ++i) {
    const std::string name(detail::operation_name(static_cast<Op>(i)));
    m.calls_by_operation[name] = impl_->calls[i].load(std::memory_order_relaxed);
    m.latency_by_operation[name] = impl_->latency[i].snapshot();
  }
  m.attempts = impl_->attempts.load(std::memory_order_relaxed);
  m.retries = impl_->retries.load(std::memory_order_relaxed);
  m.throttles = impl_->throttles.load(std::memory_order_relaxed);
  m.conditional_check_failures = impl_->conditional_check_failures.load(std::memory_order_relaxed);
  m.errors = impl_->errors.load(std::memory_order_relaxed);
  m.retry_quota_exhausted = impl_->quota_exhausted.load(std::memory_order_relaxed);
  m.retry_quota_available = impl_->quota.available();
  return m;
}

const std::string& Client::region() const { return impl_->region; }
const std::string& Client::endpoint() const { return impl_->endpoint.url; }
const Executor& Client::executor() const noexcept { return impl_->options.executor; }

}  // namespace websession::dynamodb
