// One GetItem round trip, repeated: the client-side work (sign, serialize, send, receive, parse)
// measured under callgrind. Its source also builds against older trees that have only the blocking
// API, so that every transport is measured by the same program (see BENCHMARKS.md).
//
//   get_item_driver ENDPOINT COUNT [blocking|coroutine|callback]
//
// It creates a table on ENDPOINT (dynalite), puts a 20-field session item, warms the connection
// with one GetItem, then performs COUNT GetItems in the chosen way and prints how many succeeded.
#include <chrono>
#include <cstdio>
#include <functional>
#include <cstdlib>
#include <string>
#include <thread>

#include "websession/dynamodb/client.h"

// The build defines WEBSESSION_DRIVER_ASYNC where the client has the asynchronous API.
#ifdef WEBSESSION_DRIVER_ASYNC
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/detached.hpp>
#endif

using namespace websession;
using namespace websession::dynamodb;

namespace {

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

bool prepare(Client& client, const std::string& table) {
  CreateTableRequest create;
  create.table_name = table;
  create.attribute_definitions = {{"id", "S"}};
  create.key_schema = {{"id", "HASH"}};
  if (!client.create_table(create)) return false;
  for (int i = 0; i < 500; ++i) {
    auto d = client.describe_table({table});
    if (d && d->table.table_status == "ACTIVE") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  PutItemRequest put;
  put.table_name = table;
  put.item = session_item();
  return client.put_item(put).ok();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s ENDPOINT COUNT [blocking|coroutine|callback]\n", argv[0]);
    return 2;
  }
  const std::string mode = argc > 3 ? argv[3] : "blocking";
  const int count = std::atoi(argv[2]);
  ClientOptions o;
  o.region = "us-east-1";
  o.endpoint = argv[1];
  o.credentials = std::make_shared<aws::StaticCredentialsProvider>(
      aws::Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt});
  auto client = Client::create(o);
  if (!client) return 1;
  const std::string table = "driver_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  if (!prepare(**client, table)) return 1;
  GetItemRequest get;
  get.table_name = table;
  get.key = {{"id", AttributeValue::string("sE8f3kQ1x9ZbV7mN2pL5tR0wY4cH6jA")}};
  get.consistent_read = true;
  int ok = 0;
  if (mode == "blocking") {
    for (int i = 0; i <= count; ++i) ok += (*client)->get_item(get).ok() ? 1 : 0;  // the first one warms
#ifdef WEBSESSION_DRIVER_ASYNC
  } else if (mode == "coroutine") {
    asio::io_context ioc(1);
    asio::co_spawn(
        ioc,
        [&]() -> Task<void> {
          for (int i = 0; i <= count; ++i) ok += (co_await (*client)->co_get_item(get)).ok() ? 1 : 0;
        },
        asio::detached);
    ioc.run();
  } else if (mode == "callback") {
    asio::io_context ioc(1);
    std::function<void(Result<GetItemResponse>)> next = [&](Result<GetItemResponse> r) {
      ok += r.ok() ? 1 : 0;
      if (ok <= count && r.ok()) (*client)->async_get_item(get, asio::bind_executor(ioc, next));
    };
    (*client)->async_get_item(get, asio::bind_executor(ioc, next));
    ioc.run();
#endif
  } else {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
  }
  std::printf("%d of %d GetItems succeeded (%s)\n", ok - 1, count, mode.c_str());
  return ok == count + 1 ? 0 : 1;
}
