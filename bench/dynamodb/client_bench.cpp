// Client CPU per DynamoDB call: SigV4 signing, request serialization, response parsing, and a real
// GetItem round trip against dynalite (WEBSESSION_BENCH_DYNAMODB_ENDPOINT).
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <boost/asio/detached.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <cstdlib>
#include <string>
#include <thread>

#include "dynamodb/marshal.h"
#include "websession/aws/sigv4.h"
#include "websession/dynamodb/client.h"

namespace {

using namespace websession;
using namespace websession::dynamodb;

// CPU time of the whole process (all threads), in microseconds, user and kernel. Google Benchmark's
// CPU column counts only the benchmark thread.
struct ProcessCpu {
  double user_us = 0;
  double sys_us = 0;
};
ProcessCpu process_cpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto us = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) * 1e6 + static_cast<double>(tv.tv_usec); };
  return {us(ru.ru_utime), us(ru.ru_stime)};
}

const aws::Credentials kCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt};

GetItemRequest get_request() {
  GetItemRequest r;
  r.table_name = "sessions";
  r.key = {{"id", AttributeValue::string("sE8f3kQ1x9ZbV7mN2pL5tR0wY4cH6jA")}};
  r.consistent_read = true;
  return r;
}

// A typical session: 20 fields, about 2 KB of DynamoDB JSON.
AttributeMap session_item() {
  AttributeMap data;
  for (int i = 0; i < 8; ++i) {
    data["str" + std::to_string(i)] = AttributeValue::string(std::string(120, static_cast<char>('a' + i)));
  }
  for (int i = 0; i < 6; ++i) data["num" + std::to_string(i)] = AttributeValue::number(std::int64_t{1700000000 + i});
  data["ratio"] = AttributeValue::number(0.25);
  data["ok"] = AttributeValue::boolean(true);
  data["none"] = AttributeValue::null();
  data["tags"] = AttributeValue::list({AttributeValue::string("admin"), AttributeValue::string("beta")});
  data["profile"] = AttributeValue::map({{"name", AttributeValue::string("Alice Example")},
                                         {"email", AttributeValue::string("alice@example.com")}});
  data["token"] = AttributeValue::string(std::string(200, 'T'));
  AttributeMap item;
  item["id"] = AttributeValue::string("sE8f3kQ1x9ZbV7mN2pL5tR0wY4cH6jA");
  item["expires"] = AttributeValue::number(std::int64_t{1700001200});
  item["data"] = AttributeValue::map(std::move(data));
  return item;
}

std::string get_item_response() {
  boost::json::object o;
  o["Item"] = dynamodb::detail::to_wire(session_item(), {});
  return boost::json::serialize(o);
}

void BM_SignGetItem(benchmark::State& state) {
  aws::Signer signer("us-east-1", "dynamodb");
  std::string body = dynamodb::detail::serialize(get_request());
  std::string amz_date = aws::format_amz_date(signer.now());
  for (auto _ : state) {
    std::array<aws::HeaderView, 4> headers{{{"host", "dynamodb.us-east-1.amazonaws.com"},
                                            {"content-type", "application/x-amz-json-1.0"},
                                            {"x-amz-date", amz_date},
                                            {"x-amz-target", "DynamoDB_20120810.GetItem"}}};
    aws::SignableRequest req{"POST", "/", "", headers, body};
    benchmark::DoNotOptimize(*signer.authorization(kCredentials, req, amz_date));
  }
}
BENCHMARK(BM_SignGetItem);

void BM_SerializeSessionItem(benchmark::State& state) {
  PutItemRequest put;
  put.table_name = "sessions";
  put.item = session_item();
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::array<unsigned char, 8192> scratch;
    boost::json::monotonic_resource mr(scratch.data(), scratch.size());
    std::string body = dynamodb::detail::serialize(put, &mr);
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_SerializeSessionItem);

void BM_ParseSessionItem(benchmark::State& state) {
  std::string body = get_item_response();
  for (auto _ : state) {
    std::array<unsigned char, 8192> scratch;
    boost::json::monotonic_resource mr(scratch.data(), scratch.size());
    auto value = boost::json::parse(body, &mr);
    auto parsed = dynamodb::detail::parse_get_item(value);
    benchmark::DoNotOptimize(parsed);
  }
  state.counters["body_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_ParseSessionItem);

// Everything the client's CPU does for one GetItem apart from the socket: date, signature,
// request body, response parse (the same steps as Client::Impl::attempt).
void BM_GetItemClientCpu(benchmark::State& state) {
  aws::Signer signer("us-east-1", "dynamodb");
  std::string response = get_item_response();
  GetItemRequest request = get_request();
  for (auto _ : state) {
    std::array<unsigned char, 8192> scratch;
    boost::json::monotonic_resource mr(scratch.data(), scratch.size());
    std::string body = dynamodb::detail::serialize(request, &mr);
    std::string amz_date = aws::format_amz_date(signer.now());
    std::array<aws::HeaderView, 4> headers{{{"host", "dynamodb.us-east-1.amazonaws.com"},
                                            {"content-type", "application/x-amz-json-1.0"},
                                            {"x-amz-date", amz_date},
                                            {"x-amz-target", "DynamoDB_20120810.GetItem"}}};
    aws::SignableRequest req{"POST", "/", "", headers, body};
    std::string authorization = *signer.authorization(kCredentials, req, amz_date);
    benchmark::DoNotOptimize(authorization);
    auto value = boost::json::parse(response, &mr);
    auto parsed = dynamodb::detail::parse_get_item(value);
    benchmark::DoNotOptimize(parsed);
  }
}
BENCHMARK(BM_GetItemClientCpu);

// A client and a table holding the session item on WEBSESSION_BENCH_DYNAMODB_ENDPOINT; nullptr
// (and the benchmark skipped) when there is none.
std::shared_ptr<Client> round_trip_setup(benchmark::State& state, GetItemRequest& get) {
  const char* endpoint = std::getenv("WEBSESSION_BENCH_DYNAMODB_ENDPOINT");
  if (endpoint == nullptr || *endpoint == '\0') {
    state.SkipWithError("WEBSESSION_BENCH_DYNAMODB_ENDPOINT is not set");
    return nullptr;
  }
  ClientOptions o;
  o.region = "us-east-1";
  o.endpoint = endpoint;
  o.credentials = std::make_shared<aws::StaticCredentialsProvider>(kCredentials);
  auto client = Client::create(o);
  if (!client) {
    state.SkipWithError(client.error().message.c_str());
    return nullptr;
  }
  std::string table = "bench_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  CreateTableRequest create;
  create.table_name = table;
  create.attribute_definitions = {{"id", "S"}};
  create.key_schema = {{"id", "HASH"}};
  if (!(*client)->create_table(create)) {
    state.SkipWithError("CreateTable failed");
    return nullptr;
  }
  for (int i = 0; i < 500; ++i) {
    auto d = (*client)->describe_table({table});
    if (d && d->table.table_status == "ACTIVE") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  PutItemRequest put;
  put.table_name = table;
  put.item = session_item();
  if (!(*client)->put_item(put)) {
    state.SkipWithError("PutItem failed");
    return nullptr;
  }
  get = get_request();
  get.table_name = table;
  return *client;
}

void report_cpu(benchmark::State& state, const ProcessCpu& before) {
  // Process CPU (user + system, all threads) per round trip: what a server pays per GetItem.
  ProcessCpu after = process_cpu();
  auto n = static_cast<double>(state.iterations());
  state.counters["cpu_us"] = (after.user_us - before.user_us + after.sys_us - before.sys_us) / n;
  state.counters["user_us"] = (after.user_us - before.user_us) / n;
  state.counters["sys_us"] = (after.sys_us - before.sys_us) / n;
}

void BM_GetItemRoundTripDynalite(benchmark::State& state) {
  GetItemRequest get;
  auto client = round_trip_setup(state, get);
  if (!client) return;
  (void)client->get_item(get);  // warm: connection open
  ProcessCpu before = process_cpu();
  for (auto _ : state) {
    auto r = client->get_item(get);
    if (!r || !r->item) {
      state.SkipWithError("GetItem failed");
      break;
    }
  }
  report_cpu(state, before);
}
BENCHMARK(BM_GetItemRoundTripDynalite)->UseRealTime();

// The same round trip as a coroutine on an io_context (the Beast adapter's way).
void BM_GetItemRoundTripDynaliteCoroutine(benchmark::State& state) {
  GetItemRequest get;
  auto client = round_trip_setup(state, get);
  if (!client) return;
  asio::io_context ioc(1);
  auto once = [&]() {
    bool ok = false;
    asio::co_spawn(ioc, [&]() -> Task<void> { ok = (co_await client->co_get_item(get)).ok(); }, asio::detached);
    ioc.restart();
    ioc.run();
    return ok;
  };
  (void)once();
  ProcessCpu before = process_cpu();
  for (auto _ : state) {
    if (!once()) {
      state.SkipWithError("GetItem failed");
      break;
    }
  }
  report_cpu(state, before);
}
BENCHMARK(BM_GetItemRoundTripDynaliteCoroutine)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
