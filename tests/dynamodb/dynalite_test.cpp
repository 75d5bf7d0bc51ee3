// Every operation against a real DynamoDB implementation (dynalite), started by ./scripts/test.
#include "websession/dynamodb/client.h"

#include <gtest/gtest.h>

#include "support/dynalite.h"

#include <boost/json/parse.hpp>

#include <atomic>
#include <set>
#include <thread>

#include <boost/asio/detached.hpp>

namespace websession::dynamodb {
namespace {

using namespace std::chrono_literals;

using testing::dynalite_endpoint;

std::string unique_table(std::string_view prefix) { return testing::unique_table_name(std::string(prefix)); }

std::shared_ptr<Client> client() { return testing::make_test_client(dynalite_endpoint(), 10s); }

AttributeMap key(const std::string& id) { return {{"id", AttributeValue::string(id)}}; }

// Requests built field by field: aggregate initialization would leave members unnamed.
GetItemRequest get_req(const std::string& table, AttributeMap k, bool consistent = false) {
  GetItemRequest r;
  r.table_name = table;
  r.key = std::move(k);
  r.consistent_read = consistent;
  return r;
}
PutItemRequest put_req(const std::string& table, AttributeMap item) {
  PutItemRequest r;
  r.table_name = table;
  r.item = std::move(item);
  return r;
}
UpdateItemRequest update_req(const std::string& table, AttributeMap k, std::string expression) {
  UpdateItemRequest r;
  r.table_name = table;
  r.key = std::move(k);
  r.update_expression = std::move(expression);
  return r;
}
DeleteItemRequest delete_req(const std::string& table, AttributeMap k) {
  DeleteItemRequest r;
  r.table_name = table;
  r.key = std::move(k);
  return r;
}
CreateTableRequest table_req(const std::string& name) {
  CreateTableRequest r;
  r.table_name = name;
  r.attribute_definitions = {{"id", "S"}};
  r.key_schema = {{"id", "HASH"}};
  return r;
}

// Creates a table with hash key `id` (S) and waits until it is ACTIVE.
std::string make_table(Client& c) {
  std::string name = unique_table("client");
  auto created = c.create_table(table_req(name));
  EXPECT_TRUE(created) << created.error().describe();
  for (int i = 0; i < 200; ++i) {
    auto d = c.describe_table({name});
    if (d && d->table.table_status == "ACTIVE") return name;
    std::this_thread::sleep_for(10ms);
  }
  ADD_FAILURE() << "table never became ACTIVE";
  return name;
}


TEST(Dynalite, TableLifecycle) {
  WEBSESSION_REQUIRE_DYNALITE();
  auto c = client();
  std::string name = unique_table("lifecycle");
  auto created = c->create_table(table_req(name));
  ASSERT_TRUE(created) << created.error().describe();
  EXPECT_EQ(created->table.table_name, name);
  EXPECT_EQ(created->table.key_schema, (std::vector<KeySchemaElement>{{"id", "HASH"}}));
  EXPECT_EQ(created->table.attribute_definitions, (std::vector<AttributeDefinition>{{"id", "S"}}));

  auto again = c->create_table(table_req(name));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.code(), ErrorCode::already_exists);
  EXPECT_EQ(again.error().service_type, "ResourceInUseException");

  auto missing = c->describe_table({unique_table("missing")});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.code(), ErrorCode::not_found);
  EXPECT_EQ(missing.error().service_type, "ResourceNotFoundException");

  auto described = c->describe_table({name});
  ASSERT_TRUE(described);
  EXPECT_FALSE(described->table.table_status.empty());
}

TEST(Dynalite, TimeToLiveOperationsGiveAnswersOrTypedErrors) {
  WEBSESSION_REQUIRE_DYNALITE();
  auto c = client();
  std::string table = make_table(*c);
  // dynalite does not implement the TTL operations; real DynamoDB does. Either way the answer is a
  // value or a typed error, never a crash or a hang.
  auto update = c->update_time_to_live({table, "expires", true});
  if (update) {
    EXPECT_EQ(update->attribute_name, "expires");
    EXPECT_TRUE(update->enabled);
    auto d = c->describe_time_to_live({table});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->attribute_name, "expires");
  } else {
    EXPECT_NE(update.code(), ErrorCode::unavailable) << update.error().describe();
    EXPECT_FALSE(update.error().service_type.empty());
    auto d = c->describe_time_to_live({table});
    EXPECT_FALSE(d.ok() && d->status.empty() && !d->attribute_name.empty());
  }
}

TEST(Dynalite, PutGetEveryTypeLosslessly) {
  WEBSESSION_REQUIRE_DYNALITE();
  auto c = client();
  std::string table = make_table(*c);
  AttributeMap item = key("all-types");
  item["s"] = AttributeValue::string("héllo");
  item["n"] = AttributeValue::number("12345678901234567890123456789012345678");
  item["d"] = AttributeValue::number("0.1");
  item["b"] = AttributeValue::binary(std::string("\0\x01\xfe\xff", 4));
  item["t"] = AttributeValue::boolean(true);
  item["z"] = AttributeValue::null();
  item["m"] = AttributeValue::map({{"inner", AttributeValue::list({AttributeValue::number(std::int64_t{1}),
                                                                   AttributeValue::string("x")})}});
  item["ss"] = AttributeValue::string_set({"a", "b"});
  item["ns"] = AttributeValue::number_set({"1", "2"});
  item["bs"] = AttributeValue::binary_set({"x", "y"});
  auto put = c->put_item(put_req(table, item));
  ASSERT_TRUE(put) << put.error().describe();

  GetItemRequest get = get_req(table, key("all-types"), true);
  get.return_consumed_capacity = ReturnConsumedCapacity::total;
  auto got = c->get_item(get);
  ASSERT_TRUE(got) << got.error().describe();
  ASSERT_TRUE(got->item);
  for (const auto& [name, value] : item) {
    ASSERT_TRUE(got->item->count(name)) << name;
    if (value.is_string_set() || value.is_number_set() || value.is_binary_set()) continue;  // order may differ
    EXPECT_TRUE(got->item->at(name) == value) << name;
  }
  EXPECT_EQ(got->item->at("ss").as_string_set().size(), 2u);
  EXPECT_TRUE(got->consumed_capacity_units.has_value());

  GetItemRequest projected = get_req(table, key("all-types"));
  projected.projection_expression = "#s";
  projected.expression_attribute_names = {{"#s", "s"}};
  auto only_s = c->get_item(projected);
  ASSERT_TRUE(only_s);
  EXPECT_EQ(only_s->item->size(), 1u);

  auto none = c->get_item(get_req(table, key("absent")));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->item);
}

TEST(Dynalite, JsonSessionDataRoundTrips) {
  WEBSESSION_REQUIRE_DYNALITE();
  auto c = client();
  std::string table = make_table(*c);
  auto doc = boost::json::parse(R"({"user":"alice","views":3,"big":18446744073709551615,"ratio":0.25,"two":2.0,"ok":true,"none":null,"tags":["a",1],"nested":{"k":{"j":[]}}})");
  AttributeMap item = key("json");
  item["data"] = to_attribute(doc);
  ASSERT_TRUE(c->put_item(put_req(table, item)));
  auto got = c->get_item(get_req(table, key("json"), true));
  ASSERT_TRUE(got && got->item);
  auto back = to_json(got->item->at("data"));
  ASSERT_TRUE(back);
  // DynamoDB (and dynalite) store numbers canonically: 2.0 comes back as 2, equal in value.
  ASSERT_TRUE(back->is_object());
  EXPECT_EQ(back->at("two").to_number<double>(), 2.0);
  back->as_object().erase("two");
  doc.as_object().erase("two");
  EXPECT_EQ(*back, doc);
}

TEST(Dynalite, ConditionalWritesAndReturnValues) {
  WEBSESSION_REQUIRE_DYNALITE();
  auto c = client();
  std::string table = make_table(*c);
  PutItemRequest create = put_req(table, key("s1"));
  create.item["v"] = AttributeValue::number(std::int64_t{1});
  create.condition_expression = "attribute_not_exists(#id)";
  create.expression_attribute_names = {{"#id", "id"}};
  ASSERT_TRUE(c->put_item(create));
  auto dup = c->put_item(create);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.code(), ErrorCode::aborted);
  EXPECT_EQ(dup.error().service_type, "ConditionalCheckFailedException");
  EXPECT_EQ(c->metrics().conditional_check_failures, 1u);

  PutItemRequest replace = put_req(table, key("s1"));
  replace.item["v"] = AttributeValue::number(std::int64_t{5});
  replace.return_values = ReturnValues::all_old;
  auto replaced = c->put_item(replace);
  ASSERT_TRUE(replaced);
  ASSERT_TRUE(replaced->attributes);
  EXPECT_EQ(replaced->attributes->at("v").as_number(), "1");

  UpdateItemRequest inc = update_req(table, key("s1"), "SET #v = #v + :d, #w = :w");
  inc.condition_expression = "attribute_exists(#v)";
  inc.expression_attribute_names = {{"#v", "v"}, {"#w", "w"}};
  inc.expression_attribute_values = {{":d", AttributeValue::number(std::int64_t{2})}, {":w", AttributeValue::string("x")}};
  inc.return_values = ReturnValues::all_new;
  auto updated = c->update_item(inc);
  ASSERT_TRUE(updated) << updated.error().describe();
  EXPECT_EQ(updated->attributes->at("v").as_number(), "7");
  EXPECT_EQ(updated->attributes->at("w").as_string(), "x");

  inc.return_values = ReturnValues::updated_old;
  auto old = c->update_item(inc);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->attributes->at("v").as_number(), "7");

  UpdateItemRequest on_missing = update_req(table, key("nope"), "SET #v = :d");
  on_missing.condition_expression = "attribute_exists(id)";
  on_missing.expression_attribute_names = {{"#v", "v"}};
  on_missing.expression_attribute_values = {{":d", AttributeValue::number(std::int64_t{1})}};
  EXPECT_EQ(c->update_item(on_missing).code(), ErrorCode::aborted);

  DeleteItemRequest del = delete_req(table, key("s1"));
  del.condition_expression = "#v = :v";
  del.expression_attribute_names = {{"#v", "v"}};
  del.expression_attribute_values = {{":v", AttributeValue::number(std::int64_t{9})}};
  del.return_values = ReturnValues::all_old;
  auto deleted = c->delete_item(del);
  ASSERT_TRUE(deleted) << deleted.error().describe();
  EXPECT_EQ(deleted->attributes->at("w").as_string(), "x");
  EXPECT_FALSE(c->get_item(get_req(table, key("s1"), true))->item);
  EXPECT_EQ(c->delete_item(delete_req(table, key("s1"))).ok(), true);
}

TEST(Dynalite, ConcurrentIncrementsAreAtomic) {
  WEBSESSION_REQUIRE_DYNALITE();
  auto c = client();
  std::string table = make_table(*c);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        UpdateItemRequest u = update_req(table, key("counter"), "ADD #n :one");
        u.expression_attribute_names = {{"#n", "n"}};
        u.expression_attribute_values = {{":one", AttributeValue::number(std::int64_t{1})}};
        EXPECT_TRUE(c->update_item(u));
      }
    });
  }
  for (auto& t : threads) t.join();
  auto got = c->get_item(get_req(table, key("counter"), true));
  ASSERT_TRUE(got && got->item);
  EXPECT_EQ(got->item->at("n").as_number(), "40");
  EXPECT_EQ(c->metrics().calls_by_operation.at("UpdateItem"), 40u);
}

TEST(Dynalite, InvalidRequestsAreInvalidArgument) {
  WEBSESSION_REQUIRE_DYNALITE();
  auto c = client();
  std::string table = make_table(*c);
  UpdateItemRequest bad = update_req(table, key("x"), "SET #missing = :v");
  auto r = c->update_item(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(r.error().service_type, "ValidationException");
  EXPECT_FALSE(r.error().message.empty());

  auto missing_table = c->get_item(get_req(unique_table("absent"), key("x")));
  EXPECT_EQ(missing_table.code(), ErrorCode::not_found);
}

TEST(Dynalite, BatchWriteThenBatchGet) {
  WEBSESSION_REQUIRE_DYNALITE();
  auto c = client();
  std::string table = make_table(*c);
  BatchWriteItemRequest write;
  for (int i = 0; i < 20; ++i) {
    AttributeMap item = key("k" + std::to_string(i));
    item["n"] = AttributeValue::number(std::int64_t{i});
    write.request_items[table].push_back(WriteRequest::put(std::move(item)));
  }
  auto written = c->batch_write_item(write);
  ASSERT_TRUE(written) << written.error().describe();
  EXPECT_TRUE(written->unprocessed_items.empty());

  BatchWriteItemRequest remove;
  remove.request_items[table].push_back(WriteRequest::remove(key("k0")));
  ASSERT_TRUE(c->batch_write_item(remove));

  BatchGetItemRequest get;
  KeysAndAttributes& keys = get.request_items[table];
  for (int i = 0; i < 20; ++i) keys.keys.push_back(key("k" + std::to_string(i)));
  keys.keys.push_back(key("absent"));
  keys.consistent_read = true;
  keys.projection_expression = "#n, id";
  keys.expression_attribute_names = {{"#n", "n"}};
  auto got = c->batch_get_item(get);
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_TRUE(got->unprocessed_keys.empty());
  ASSERT_EQ(got->responses.at(table).size(), 19u);  // k0 deleted, "absent" never written
  std::set<std::string> ids;
  for (const auto& item : got->responses.at(table)) {
    EXPECT_EQ(item.size(), 2u);
    ids.insert(item.at("id").as_string());
  }
  EXPECT_EQ(ids.count("k0"), 0u);
  EXPECT_EQ(ids.count("k19"), 1u);
  EXPECT_EQ(c->metrics().calls_by_operation.at("BatchGetItem"), 1u);
}

TEST(Dynalite, ScanPaginatesFiltersAndProjects) {
  WEBSESSION_REQUIRE_DYNALITE();
  auto c = client();
  std::string table = make_table(*c);
  for (int i = 0; i < 25; ++i) {
    AttributeMap item = key("s" + std::to_string(i));
    item["even"] = AttributeValue::boolean(i % 2 == 0);
    item["payload"] = AttributeValue::string(std::string(100, 'p'));
    ASSERT_TRUE(c->put_item(put_req(table, std::move(item))));
  }
  ScanRequest scan;
  scan.table_name = table;
  scan.limit = 10;
  scan.consistent_read = true;
  std::set<std::string> seen;
  int pages = 0;
  do {
    auto page = c->scan(scan);
    ASSERT_TRUE(page) << page.error().describe();
    ++pages;
    for (const auto& item : page->items) seen.insert(item.at("id").as_string());
    EXPECT_EQ(page->count, static_cast<std::int64_t>(page->items.size()));
    scan.exclusive_start_key = page->last_evaluated_key;
  } while (scan.exclusive_start_key && pages < 10);
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_GE(pages, 3);

  ScanRequest filtered;
  filtered.table_name = table;
  filtered.filter_expression = "#e = :t";
  filtered.projection_expression = "id";
  filtered.expression_attribute_names = {{"#e", "even"}};
  filtered.expression_attribute_values = {{":t", AttributeValue::boolean(true)}};
  auto evens = c->scan(filtered);
  ASSERT_TRUE(evens) << evens.error().describe();
  EXPECT_EQ(evens->items.size(), 13u);
  EXPECT_EQ(evens->scanned_count, 25);
  EXPECT_FALSE(evens->last_evaluated_key);
  for (const auto& item : evens->items) EXPECT_EQ(item.size(), 1u);
}

TEST(Dynalite, TagResourceTagsATableByItsArn) {
  WEBSESSION_REQUIRE_DYNALITE();
  auto c = client();
  std::string table = make_table(*c);
  auto d = c->describe_table({table});
  ASSERT_TRUE(d);
  ASSERT_FALSE(d->table.table_arn.empty());
  auto tagged = c->tag_resource({d->table.table_arn, {{"app", "websession"}, {"env", "test"}}});
  EXPECT_TRUE(tagged) << tagged.error().describe();
}

TEST(Dynalite, ContinuousBackupsAnswerOrSayTheServerLacksThem) {
  WEBSESSION_REQUIRE_DYNALITE();
  auto c = client();
  std::string table = make_table(*c);
  auto update = c->update_continuous_backups({table, true});
  if (update) {  // real DynamoDB
    EXPECT_EQ(update->description.point_in_time_recovery_status, "ENABLED");
    auto d = c->describe_continuous_backups({table});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->description.continuous_backups_status, "ENABLED");
  } else {  // dynalite lacks them: a clear, typed error, not retried
    EXPECT_EQ(update.code(), ErrorCode::invalid_argument);
    EXPECT_EQ(update.error().service_type, kUnknownOperation);
    EXPECT_NE(update.error().message.find("UpdateContinuousBackups"), std::string::npos);
    EXPECT_EQ(c->describe_continuous_backups({table}).error().service_type, kUnknownOperation);
    EXPECT_EQ(c->metrics().retries, 0u);
  }
  auto ttl = c->update_time_to_live({table, "expires", true});
  if (!ttl) {
    EXPECT_EQ(ttl.error().service_type, kUnknownOperation);
    EXPECT_NE(ttl.error().message.find("UpdateTimeToLive"), std::string::npos);
  }
}

TEST(Dynalite, CoroutinesOnOneIoContext) {
  WEBSESSION_REQUIRE_DYNALITE();
  auto c = client();
  std::string table = make_table(*c);
  asio::io_context ioc;
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    asio::co_spawn(
        ioc,
        [&, i]() -> Task<void> {
          const std::string id = "co" + std::to_string(i);
          auto put = co_await c->co_put_item(put_req(table, key(id)));
          auto got = co_await c->co_get_item(get_req(table, key(id), true));
          if (put && got && got->item) ++ok;
        },
        asio::detached);
  }
  ioc.run();
  EXPECT_EQ(ok.load(), 20);
}

}  // namespace
}  // namespace websession::dynamodb
