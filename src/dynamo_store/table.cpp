#include "dynamo_store/table.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "dynamo_store/layout.h"

namespace websession::dynamo {
namespace {

namespace ddb = websession::dynamodb;

Task<Status> co_wait_until_active(ddb::Client& client, const TableSetup& setup) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int attempt = 0; attempt < setup.polling_max_attempts; ++attempt) {
    const ddb::DescribeTableRequest describe{setup.table};
    auto d = co_await client.co_describe_table(describe);
    if (d && d->table.table_status == "ACTIVE") co_return Status{};
    if (!d && d.code() != ErrorCode::not_found) co_return std::move(d).error();
    timer.expires_after(setup.polling_frequency);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable_t<Executor>{}));
    if (ec) co_return Error(ErrorCode::cancelled, "cancelled while waiting for table '" + setup.table + "'");
  }
  co_return Error(ErrorCode::unavailable, "table '" + setup.table + "' did not become ACTIVE after " +
                                              std::to_string(setup.polling_max_attempts) + " polls");
}

Task<void> co_enable_ttl(ddb::Client& client, const TableSetup& setup) {
  const ddb::UpdateTimeToLiveRequest request{setup.table, kExpires, true};
  auto ttl = co_await client.co_update_time_to_live(request);
  if (!ttl) {
    setup.warn("could not enable TTL on '" + std::string(kExpires) + "' for table '" + setup.table + "' (" +
               ttl.error().describe() +
               "); expired sessions are still never served, but stay in the table until deleted");
  }
}

// A table made by hand, or a crash between ACTIVE and UpdateTimeToLive, leaves TTL off: say so.
Task<void> co_check_ttl(ddb::Client& client, const TableSetup& setup) {
  const ddb::DescribeTimeToLiveRequest request{setup.table};
  auto ttl = co_await client.co_describe_time_to_live(request);
  if (!ttl) {
    setup.warn("could not check TTL of table '" + setup.table + "' (" + ttl.error().describe() + ")");
    co_return;
  }
  const bool on = (ttl->status == "ENABLED" || ttl->status == "ENABLING") && ttl->attribute_name == kExpires;
  if (!on) {
    setup.warn("table '" + setup.table + "' does not have TTL enabled on '" + std::string(kExpires) +
               "' (status " + (ttl->status.empty() ? std::string("unknown") : ttl->status) +
               "): expired sessions are never served, but stay in the table; enable it with `sessionctl "
               "create-table` or `aws dynamodb update-time-to-live`");
  }
}

Task<Status> co_create_table(ddb::Client& client, const TableSetup& setup) {
  const ddb::CreateTableRequest request = create_table_request(setup.table);
  auto created = co_await client.co_create_table(request);
  // Another instance starting at the same time may have created it first: then just wait.
  if (!created && created.code() != ErrorCode::already_exists) {
    Error e = std::move(created).error();
    if (e.code == ErrorCode::permission_denied) {
      e.message = "cannot create table '" + setup.table + "': " + e.message +
                  ". Grant dynamodb:CreateTable, or create the table yourself (hash key 'id', S) and set "
                  "create_table = false.";
    }
    co_return e;
  }
  if (auto st = co_await co_wait_until_active(client, setup); !st) co_return st;
  if (created) co_await co_enable_ttl(client, setup);
  co_return Status{};
}

}  // namespace

Status check_schema(const std::string& table, const ddb::TableDescription& t) {
  bool ok = t.key_schema.size() == 1 && t.key_schema[0].attribute_name == kId && t.key_schema[0].key_type == "HASH";
  if (ok) {
    ok = false;
    for (const auto& def : t.attribute_definitions) {
      if (def.attribute_name == kId) ok = def.attribute_type == "S";
    }
  }
  if (ok) return {};
  std::string found;
  for (const auto& k : t.key_schema) {
    std::string type = "?";
    for (const auto& def : t.attribute_definitions) {
      if (def.attribute_name == k.attribute_name) type = def.attribute_type;
    }
    if (!found.empty()) found += ", ";
    found += k.key_type + " key '" + k.attribute_name + "' (" + type + ")";
  }
  return Error(ErrorCode::invalid_argument,
               "table '" + table + "' has key schema [" + found +
                   "]; websession expects a hash key 'id' of type S and no sort key. Use another table name, "
                   "or let websession create the table.");
}

ddb::CreateTableRequest create_table_request(const std::string& table) {
  ddb::CreateTableRequest req;
  req.table_name = table;
  req.attribute_definitions = {{kId, "S"}};
  req.key_schema = {{kId, "HASH"}};
  req.billing_mode = "PAY_PER_REQUEST";
  return req;
}

Task<Status> co_prepare_table(ddb::Client& client, const TableSetup& setup) {
  const ddb::DescribeTableRequest describe{setup.table};
  auto described = co_await client.co_describe_table(describe);
  if (described) {
    if (auto st = check_schema(setup.table, described->table); !st) co_return st;
    if (described->table.table_status != "ACTIVE") {
      if (auto st = co_await co_wait_until_active(client, setup); !st) co_return st;
    }
    co_await co_check_ttl(client, setup);
    co_return Status{};
  }
  if (described.code() != ErrorCode::not_found) {
    Error e = std::move(described).error();
    e.message = "cannot describe table '" + setup.table + "': " + e.message;
    co_return e;
  }
  if (!setup.create) {
    co_return Error(ErrorCode::not_found,
                    "table '" + setup.table +
                        "' does not exist and create_table is off; create it with hash key 'id' (S), or turn "
                        "create_table on",
                    "ResourceNotFoundException");
  }
  co_return co_await co_create_table(client, setup);
}

}  // namespace websession::dynamo
