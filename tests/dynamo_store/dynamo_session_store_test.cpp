#include "websession/dynamo_session_store.h"

#include <atomic>
#include <csignal>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "conformance/store_conformance.h"
#include "dynamo_store/layout.h"
#include "support/child_process.h"
#include "support/dynalite.h"
#include "websession/dynamodb/client.h"
#include "websession/session.h"
#include "websession/session_id.h"

namespace websession {
namespace {

using namespace std::chrono_literals;
using testing::dynalite_endpoint;
using testing::make_test_client;
using testing::unique_table_name;
namespace ddb = websession::dynamodb;

// One table for the whole conformance suite: ctest runs its tests in parallel processes, so they
// also prove that instances starting at once all initialise.
using testing::StoreConformance;
// An anonymous session expiring at `expires`.
NewSession fresh(Fields data, TimePoint expires) {
  NewSession s;
  s.data = std::move(data);
  s.expires = expires;
  s.absolute_expires = expires + 3600s;
  s.created = system_now();
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    DynamoDB, StoreConformance,
    testing::conformance_params(testing::StoreFactory{
        "DynamoDB",
        [](const testing::StoreTestOptions& o) -> std::unique_ptr<SessionStore> {
          if (dynalite_endpoint().empty()) return nullptr;  // WEBSESSION_TEST_DYNAMODB_ENDPOINT unset
          DynamoSessionStoreOptions opts;
          opts.table_name = "websession_conformance";
          opts.client = make_test_client(dynalite_endpoint());
          opts.clock = o.clock;
          opts.max_lock_time = o.max_lock_time;
          opts.polling_frequency = 50ms;
          opts.logger = [](std::string_view) {};  // dynalite has no TTL: no warning for each test
          return std::make_unique<DynamoSessionStore>(opts);
        },
        4, 25, 20}),
    testing::ConformanceParamName{});

class DynamoStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WEBSESSION_REQUIRE_DYNALITE();
    client_ = make_test_client(dynalite_endpoint());
  }
  DynamoSessionStoreOptions options(const std::string& table) {
    DynamoSessionStoreOptions o;
    o.table_name = table;
    o.client = client_;
    o.polling_frequency = 50ms;
    return o;
  }
  std::unique_ptr<DynamoSessionStore> ready_store(const std::string& table) {
    auto store = std::make_unique<DynamoSessionStore>(options(table));
    auto st = store->init();
    EXPECT_TRUE(st) << (st ? "" : st.error().describe());
    return store;
  }
  void put_raw(const std::string& table, ddb::AttributeMap item) {
    ddb::PutItemRequest req;
    req.table_name = table;
    req.item = std::move(item);
    auto r = client_->put_item(req);
    ASSERT_TRUE(r) << r.error().describe();
  }
  std::optional<ddb::AttributeMap> raw_item(const std::string& table, const std::string& key) {
    ddb::GetItemRequest req;
    req.table_name = table;
    req.key = {{"id", ddb::AttributeValue::string(key)}};
    req.consistent_read = true;
    auto r = client_->get_item(req);
    EXPECT_TRUE(r) << r.error().describe();
    return r ? r->item : std::nullopt;
  }
  std::uint64_t calls(const std::string& op) {
    auto m = client_->metrics();
    auto it = m.calls_by_operation.find(op);
    return it == m.calls_by_operation.end() ? 0 : it->second;
  }

  std::shared_ptr<ddb::Client> client_;
};

TEST_F(DynamoStoreTest, InvalidOptionsThrowNamingTheOption) {
  auto message_of = [&](DynamoSessionStoreOptions o) -> std::string {
    try {
      DynamoSessionStore store(std::move(o));
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "no exception";
  };
  EXPECT_NE(message_of(options("")).find("table_name"), std::string::npos);
  EXPECT_NE(message_of(options("bad name!")).find("table_name"), std::string::npos);
  auto lock = options("sessions");
  lock.max_lock_time = 0ms;
  EXPECT_NE(message_of(lock).find("max_lock_time"), std::string::npos);
  auto prop = options("sessions");
  prop.lock_verification_property = "";
  EXPECT_NE(message_of(prop).find("lock_verification_property"), std::string::npos);
}

TEST_F(DynamoStoreTest, InitCreatesThePayPerRequestTable) {
  const std::string table = unique_table_name("create");
  auto store = ready_store(table);
  auto d = client_->describe_table({table});
  ASSERT_TRUE(d) << d.error().describe();
  EXPECT_EQ(d->table.table_status, "ACTIVE");
  ASSERT_EQ(d->table.key_schema.size(), 1u);
  EXPECT_EQ(d->table.key_schema[0].attribute_name, "id");
  EXPECT_EQ(d->table.key_schema[0].key_type, "HASH");
  EXPECT_EQ(d->table.billing_mode, "PAY_PER_REQUEST");
  // A second instance finds the table and checks it.
  auto again = ready_store(table);
}

TEST_F(DynamoStoreTest, TwoInstancesStartingAtOnceBothSucceed) {
  const std::string table = unique_table_name("race");
  std::vector<std::thread> pool;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    pool.emplace_back([&] {
      DynamoSessionStore store(options(table));
      if (store.init()) ++ok;
    });
  }
  for (auto& t : pool) t.join();
  EXPECT_EQ(ok.load(), 4);
}

TEST_F(DynamoStoreTest, AnotherKeySchemaFailsInitNamingTheExpectedOne) {
  const std::string table = unique_table_name("schema");
  ddb::CreateTableRequest req;
  req.table_name = table;
  req.attribute_definitions = {{"pk", "S"}, {"sk", "N"}};
  req.key_schema = {{"pk", "HASH"}, {"sk", "RANGE"}};
  ASSERT_TRUE(client_->create_table(req));
  for (int i = 0; i < 100; ++i) {
    auto d = client_->describe_table({table});
    if (d && d->table.table_status == "ACTIVE") break;
    std::this_thread::sleep_for(20ms);
  }
  DynamoSessionStore store(options(table));
  auto st = store.init();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::invalid_argument);
  EXPECT_NE(st.error().message.find("hash key 'id' of type S"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("pk"), std::string::npos) << st.error().message;
}

TEST_F(DynamoStoreTest, AnExistingTableWithoutTtlIsReported) {
  // A table made by hand, or left by a crash between ACTIVE and UpdateTimeToLive: init() says so.
  const std::string table = unique_table_name("nottl");
  ddb::CreateTableRequest req;
  req.table_name = table;
  req.attribute_definitions = {{"id", "S"}};
  req.key_schema = {{"id", "HASH"}};
  ASSERT_TRUE(client_->create_table(req));
  auto o = options(table);
  o.create_table = false;
  std::vector<std::string> warnings;
  o.logger = [&](std::string_view line) { warnings.emplace_back(line); };
  DynamoSessionStore store(o);
  ASSERT_TRUE(store.init());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("does not have TTL enabled on 'expires'"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find(table), std::string::npos);
}

TEST_F(DynamoStoreTest, MissingTableWithoutCreationFailsInit) {
  auto o = options(unique_table_name("missing"));
  o.create_table = false;
  DynamoSessionStore store(o);
  auto st = store.init();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::not_found);
  EXPECT_NE(st.error().message.find("create_table"), std::string::npos);
}

TEST_F(DynamoStoreTest, UnreachableDynamoDbIsUnavailableWithinTheDeadline) {
  // A port nothing listens on.
  auto o = options("sessions");
  o.client = make_test_client("http://127.0.0.1:9", 1500ms);
  DynamoSessionStore store(o);
  const auto start = std::chrono::steady_clock::now();
  auto st = store.init();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::unavailable) << st.error().describe();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(DynamoStoreTest, TheItemHasThePinnedLayout) {
  const std::string table = unique_table_name("layout");
  auto store = ready_store(table);
  const std::string id = generate_session_id();
  const auto expires = floor_seconds(system_now() + 600s);
  ASSERT_TRUE(store->create(id, fresh(Fields{{"user", "alice"}, {"views", 2}, {"ratio", 0.5}}, expires)));
  EXPECT_FALSE(raw_item(table, id)) << "the table never holds the session ID itself";
  auto item_or = raw_item(table, session_key(id));
  ASSERT_TRUE(item_or);
  const auto& item = *item_or;
  EXPECT_EQ(item.at("id").as_string(), session_key(id));
  EXPECT_EQ(item.at("expires").as_number(), std::to_string(to_epoch_seconds(expires)));
  EXPECT_EQ(item.at("expires_absolute").as_number(), std::to_string(to_epoch_seconds(expires + 3600s)));
  EXPECT_TRUE(item.at("created").is_number());
  EXPECT_TRUE(item.at("last_seen").is_number());
  const auto& data = item.at("data").as_map();
  EXPECT_EQ(data.at("user").as_string(), "alice");
  EXPECT_EQ(data.at("views").as_number(), "2");
  EXPECT_EQ(data.at("ratio").as_number(), "0.5");
  EXPECT_EQ(item.size(), 6u) << "no lock attributes and no owner on an unlocked anonymous session";
}

TEST_F(DynamoStoreTest, ExpiredItemStillInTheTableIsNotServed) {
  const std::string table = unique_table_name("expired");
  auto store = ready_store(table);
  const std::string id = generate_session_id();
  put_raw(table, {{"id", ddb::AttributeValue::string(session_key(id))},
                  {"expires", ddb::AttributeValue::number(to_epoch_seconds(system_now()) - 5)},
                  {"data", ddb::AttributeValue::map({{"user", ddb::AttributeValue::string("alice")}})}});
  auto got = store->get(id);
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());
}

TEST_F(DynamoStoreTest, ItemsWrittenByOtherToolsAreRead) {
  const std::string table = unique_table_name("foreign");
  auto store = ready_store(table);
  const std::string id = generate_session_id();
  put_raw(table, {{"id", ddb::AttributeValue::string(session_key(id))},
                  {"expires", ddb::AttributeValue::number(to_epoch_seconds(system_now()) + 600)},
                  {"data", ddb::AttributeValue::map({{"tags", ddb::AttributeValue::string_set({"a", "b"})},
                                                     {"nums", ddb::AttributeValue::number_set({"1", "2.5"})}})}});
  auto got = store->get(id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->data.at("tags").as_array().size(), 2u);
  EXPECT_EQ((*got)->data.at("nums").as_array().size(), 2u);
}

TEST_F(DynamoStoreTest, CorruptedItemsAreNoSessionAndCounted) {
  const std::string table = unique_table_name("corrupt");
  auto store = ready_store(table);
  const auto future = ddb::AttributeValue::number(to_epoch_seconds(system_now()) + 600);
  const std::string no_data = generate_session_id();
  const std::string bad_expiry = generate_session_id();
  const std::string data_not_map = generate_session_id();
  put_raw(table, {{"id", ddb::AttributeValue::string(session_key(no_data))}, {"expires", future}});
  put_raw(table, {{"id", ddb::AttributeValue::string(session_key(bad_expiry))},
                  {"expires", ddb::AttributeValue::string("tomorrow")},
                  {"data", ddb::AttributeValue::map({})}});
  put_raw(table, {{"id", ddb::AttributeValue::string(session_key(data_not_map))},
                  {"expires", future},
                  {"data", ddb::AttributeValue::string("oops")}});
  for (const auto& id : {no_data, bad_expiry, data_not_map}) {
    auto got = store->get(id);
    ASSERT_TRUE(got);
    EXPECT_FALSE(got->has_value());
  }
  double corrupt = -1;
  for (const auto& m : store->metrics()) {
    if (m.name == "websession_dynamodb_corrupt_items_total") corrupt = m.value;
  }
  EXPECT_EQ(corrupt, 3);
}

TEST_F(DynamoStoreTest, AReadOnlyRequestCostsOneGetItemAndNoWrite) {
  const std::string table = unique_table_name("readonly");
  auto store = ready_store(table);
  SessionOptions so;
  Session first(*store, so);
  first.set("user", "alice");
  ASSERT_TRUE(first.save());
  const auto before = client_->metrics();
  auto s = Session::load(*store, first.id(), so);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->get_string("user"), "alice");
  ASSERT_TRUE(s->save());
  const auto after = client_->metrics();
  std::uint64_t total_before = 0, total_after = 0;
  for (const auto& [op, n] : before.calls_by_operation) total_before += n;
  for (const auto& [op, n] : after.calls_by_operation) total_after += n;
  EXPECT_EQ(total_after - total_before, 1u);
  EXPECT_EQ(after.calls_by_operation.at("GetItem") - before.calls_by_operation.at("GetItem"), 1u);
  // A request that changes the session: one GetItem and one UpdateItem.
  const auto u0 = calls("UpdateItem");
  auto w = Session::load(*store, first.id(), so);
  w->set("theme", "dark");
  ASSERT_TRUE(w->save());
  EXPECT_EQ(calls("UpdateItem") - u0, 1u);
}

TEST_F(DynamoStoreTest, TwoProcessesRacingForTheLockHaveOneWinnerPerRound) {
  const std::string table = unique_table_name("lockrace");
  auto store = ready_store(table);
  constexpr int kRounds = 100;
  std::vector<std::string> args_tail;
  for (int i = 0; i < kRounds; ++i) {
    const std::string id = generate_session_id();
    ASSERT_TRUE(store->create(id, fresh(Fields{{"refresh_token", "r"}}, system_now() + 600s)));
    args_tail.push_back(id);
  }
  auto argv = [&] {
    std::vector<std::string> a{WEBSESSION_LOCK_WORKER, "race", dynalite_endpoint(), table, "4"};
    a.insert(a.end(), args_tail.begin(), args_tail.end());
    return a;
  };
  testing::ChildProcess a(argv(), {}, testing::ChildProcess::temp_log_path("websession-lock-race"));
  testing::ChildProcess b(argv(), {}, testing::ChildProcess::temp_log_path("websession-lock-race"));
  EXPECT_EQ(a.wait_exit(120s), 0) << a.log();
  EXPECT_EQ(b.wait_exit(120s), 0) << b.log();
  std::map<int, int> wins;
  for (auto* p : {&a, &b}) {
    std::istringstream lines(p->log());
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("won ", 0) == 0) ++wins[std::stoi(line.substr(4))];
    }
  }
  for (int i = 0; i < kRounds; ++i) EXPECT_EQ(wins[i], 1) << "round " << i;
}

TEST_F(DynamoStoreTest, AKilledHoldersLockIsTakenOverAfterMaxLockTimeAndNotBefore) {
  const std::string table = unique_table_name("killed");
  auto o = options(table);
  o.max_lock_time = 2000ms;
  DynamoSessionStore store(o);
  ASSERT_TRUE(store.init());
  const std::string id = generate_session_id();
  ASSERT_TRUE(store.create(id, fresh(Fields{{"refresh_token", "r"}}, system_now() + 600s)));
  testing::ChildProcess holder({WEBSESSION_LOCK_WORKER, "hold", dynalite_endpoint(), table, "2000", id}, {},
                               testing::ChildProcess::temp_log_path("websession-lock-holder"));
  ASSERT_TRUE(holder.wait_for_log("locked\n", 30s)) << holder.log();
  const auto locked_at = std::chrono::steady_clock::now();
  holder.signal(SIGKILL);
  holder.wait_exit(10s);
  auto early = store.lock(id, Value("r"));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.code(), ErrorCode::lock_held);
  std::this_thread::sleep_until(locked_at + 1500ms);
  EXPECT_EQ(store.lock(id, Value("r")).code(), ErrorCode::lock_held);
  std::this_thread::sleep_until(locked_at + 2100ms);
  auto later = store.lock(id, Value("r"));
  ASSERT_TRUE(later) << later.error().describe();
  EXPECT_TRUE(later->took_over);
}

TEST_F(DynamoStoreTest, TheRefreshPatternRotatesOnceForFiftyConcurrentCallers) {
  const std::string table = unique_table_name("refresh");
  auto store = ready_store(table);
  SessionOptions so;
  Session first(*store, so);
  first.set(Fields{{"refresh_token", "r1"}, {"access_valid", false}, {"refresh_count", 0}});
  ASSERT_TRUE(first.save());
  const std::string id = first.id();
  auto needs_refresh = [](const Session& s) { return !s.get("access_valid")->as_bool(); };
  std::atomic<int> refreshes{0}, rotated{0}, failures{0};
  std::vector<std::string> seen(50);
  std::vector<std::thread> pool;
  for (int i = 0; i < 50; ++i) {
    pool.emplace_back([&, i] {
      auto s = Session::load(*store, id, so);
      if (!s) { ++failures; return; }
      auto out = s->refresh_with_lock(needs_refresh, [&](Session& locked) {
        ++refreshes;
        std::this_thread::sleep_for(100ms);
        locked.set("refresh_token", "r2");
        locked.set("access_valid", true);
        locked.set("refresh_count", *locked.get_int("refresh_count") + 1);
        return Status{};
      });
      if (!out) { ++failures; return; }
      if (out->rotated) ++rotated;
      seen[static_cast<std::size_t>(i)] = s->get_string("refresh_token").value_or("");
    });
  }
  for (auto& t : pool) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(refreshes.load(), 1);
  EXPECT_EQ(rotated.load(), 1);
  for (const auto& token : seen) EXPECT_EQ(token, "r2");
  auto stored = store->get(id);
  EXPECT_EQ((*stored)->data.at("refresh_count").as_int64(), 1);
}

TEST_F(DynamoStoreTest, OversizedMergedItemIsRefusedByDynamoDb) {
  const std::string table = unique_table_name("size");
  auto store = ready_store(table);
  const std::string id = generate_session_id();
  ASSERT_TRUE(store->create(id, fresh(Fields{{"a", std::string(300'000, 'a')}}, system_now() + 600s)));
  auto st = store->set(id, Fields{{"b", std::string(300'000, 'b')}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::invalid_argument) << st.error().describe();
}

// ---- Sessions of an owner on DynamoDB: the items, the calls, two processes.

class DynamoOwnerTest : public DynamoStoreTest {
 protected:
  void SetUp() override {
    DynamoStoreTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    table_ = unique_table_name("owners");
    store_ = ready_store(table_);
  }
  NewSession owned(const std::string& owner, const std::string& sid = {}) {
    NewSession s = fresh(Fields{{"user", owner}}, system_now() + 600s);
    s.owner = owner;
    s.sid = sid;
    s.user_agent = "test";
    return s;
  }
  std::string sign_in(const std::string& owner, const std::string& sid = {}) {
    const std::string id = generate_session_id();
    auto st = store_->create(id, owned(owner, sid));
    EXPECT_TRUE(st) << (st ? "" : st.error().describe());
    return id;
  }
  // Calls made by `fn`, by operation.
  std::map<std::string, std::uint64_t> calls_of(const std::function<void()>& fn) {
    const auto before = client_->metrics().calls_by_operation;
    fn();
    std::map<std::string, std::uint64_t> out;
    for (const auto& [op, n] : client_->metrics().calls_by_operation) {
      const std::uint64_t was = before.count(op) != 0 ? before.at(op) : 0;
      if (n > was) out[op] = n - was;
    }
    return out;
  }
  std::string table_;
  std::unique_ptr<DynamoSessionStore> store_;
};

TEST_F(DynamoOwnerTest, TheIndexItemListsSessionsByKeyAndHoldsNoId) {
  const std::string id = sign_in("alice", "https://issuer sid-1");
  auto index = raw_item(table_, dynamo::owner_index_key("alice"));
  ASSERT_TRUE(index);
  EXPECT_TRUE(index->count("s:" + session_key(id)));
  EXPECT_TRUE(index->at("expires").is_number());
  for (const auto& [name, value] : *index) EXPECT_EQ(name.find(id), std::string::npos);
  EXPECT_TRUE(raw_item(table_, dynamo::sid_index_key("https://issuer sid-1")));
  const auto item = raw_item(table_, session_key(id));
  ASSERT_TRUE(item);
  EXPECT_EQ(item->at("owner").as_string(), "alice");
  EXPECT_EQ(item->at("sid").as_string(), "https://issuer sid-1");
}

TEST_F(DynamoOwnerTest, EachOperationCostsWhatTheReadmeSays) {
  std::string id;
  // An owned sign-in: the index entry, then the session.
  EXPECT_EQ(calls_of([&] { id = sign_in("bob"); }), (std::map<std::string, std::uint64_t>{{"UpdateItem", 1}, {"PutItem", 1}}));
  // With a provider session too: one more index entry.
  EXPECT_EQ(calls_of([&] { sign_in("bob", "iss sid"); }),
            (std::map<std::string, std::uint64_t>{{"UpdateItem", 2}, {"PutItem", 1}}));
  // A read: one GetItem.
  EXPECT_EQ(calls_of([&] { ASSERT_TRUE(store_->get(id)->has_value()); }),
            (std::map<std::string, std::uint64_t>{{"GetItem", 1}}));
  // Listing n sessions: the index, then the sessions, 100 per BatchGetItem.
  EXPECT_EQ(calls_of([&] { EXPECT_EQ(store_->list_owner_sessions("bob")->size(), 2u); }),
            (std::map<std::string, std::uint64_t>{{"GetItem", 1}, {"BatchGetItem", 1}}));
  // Logging out of an owned session: the delete, then its index entry.
  EXPECT_EQ(calls_of([&] { ASSERT_TRUE(store_->destroy(id)); }),
            (std::map<std::string, std::uint64_t>{{"DeleteItem", 1}, {"UpdateItem", 1}}));
  // Logging out everywhere with n sessions: the mark, a tombstone each, the index entries.
  sign_in("bob");
  EXPECT_EQ(calls_of([&] { EXPECT_EQ(*store_->destroy_owner_sessions("bob"), 2u); }),
            (std::map<std::string, std::uint64_t>{{"UpdateItem", 2}, {"PutItem", 2}}));
}

TEST_F(DynamoOwnerTest, ARevokedSessionLeavesATombstoneThatRefusesItsCreation) {
  const std::string id = sign_in("carol");
  ASSERT_EQ(*store_->destroy_owner_sessions("carol"), 1u);
  const auto tomb = raw_item(table_, session_key(id));
  ASSERT_TRUE(tomb);
  EXPECT_TRUE(tomb->at("revoked").as_bool());
  EXPECT_EQ(tomb->count("data"), 0u);
  EXPECT_FALSE(store_->get(id)->has_value());
  EXPECT_TRUE(store_->destroy(id)) << "destroying a revoked session succeeds";
  EXPECT_TRUE(raw_item(table_, session_key(id))) << "and leaves the tombstone";
  EXPECT_EQ(store_->create(id, fresh(Fields{{"a", 1}}, system_now() + 60s)).code(), ErrorCode::already_exists);
}

TEST_F(DynamoOwnerTest, ListingPrunesTheIndexOfSessionsThatEnded) {
  const std::string gone = sign_in("dave");
  const std::string kept = sign_in("dave");
  ddb::DeleteItemRequest del;
  del.table_name = table_;
  del.key = {{"id", ddb::AttributeValue::string(session_key(gone))}};
  ASSERT_TRUE(client_->delete_item(del));
  ASSERT_EQ(store_->list_owner_sessions("dave")->size(), 1u);
  auto index = raw_item(table_, dynamo::owner_index_key("dave"));
  ASSERT_TRUE(index);
  EXPECT_FALSE(index->count("s:" + session_key(gone))) << "pruned";
  EXPECT_TRUE(index->count("s:" + session_key(kept)));
}

TEST_F(DynamoOwnerTest, TwoProcessesSigningOneOwnerInAreAllIndexed) {
  auto run = [&] {
    return std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{WEBSESSION_LOCK_WORKER, "signin", dynalite_endpoint(), table_, "4", "erin", "5"},
        std::map<std::string, std::string>{}, testing::ChildProcess::temp_log_path("websession-signin"));
  };
  auto a = run();
  auto b = run();
  ASSERT_EQ(a->wait_exit(120s), 0) << a->log();
  ASSERT_EQ(b->wait_exit(120s), 0) << b->log();
  std::set<std::string> created;
  for (auto* p : {a.get(), b.get()}) {
    std::istringstream lines(p->log());
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("session ", 0) == 0) created.insert(line.substr(8));
    }
  }
  ASSERT_EQ(created.size(), 40u);
  std::set<std::string> listed;
  auto sessions = store_->list_owner_sessions("erin");
  ASSERT_TRUE(sessions);
  for (const OwnerSession& s : *sessions) listed.insert(s.key);
  EXPECT_EQ(listed, created);
}

}  // namespace
}  // namespace websession