#include "websession/memory_session_store.h"

#include <stdexcept>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "conformance/store_conformance.h"
#include "support/fake_clock.h"
#include "websession/session_id.h"

namespace websession {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::StoreConformance;
using testing::StoreFactory;
using testing::StoreTestOptions;

// An anonymous session expiring at `expires`.
NewSession fresh(Fields data, TimePoint expires) {
  NewSession s;
  s.data = std::move(data);
  s.expires = expires;
  s.absolute_expires = expires + 3600s;
  s.created = expires - 3600s;
  return s;
}

INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance,
                         testing::conformance_params(StoreFactory{
                             "Memory",
                             [](const StoreTestOptions& o) -> std::unique_ptr<SessionStore> {
                               MemorySessionStoreOptions opts;
                               opts.clock = o.clock;
                               opts.max_lock_time = o.max_lock_time;
                               return std::make_unique<MemorySessionStore>(opts);
                             },
                             8, 500, 200}),
                         testing::ConformanceParamName{});

TEST(MemorySessionStore, InvalidOptionsThrowNamingTheOption) {
  auto message_of = [](MemorySessionStoreOptions o) -> std::string {
    try {
      MemorySessionStore store(std::move(o));
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "no exception";
  };
  MemorySessionStoreOptions zero;
  zero.max_sessions = 0;
  EXPECT_NE(message_of(zero).find("max_sessions"), std::string::npos);
  MemorySessionStoreOptions lock;
  lock.max_lock_time = 0ms;
  EXPECT_NE(message_of(lock).find("max_lock_time"), std::string::npos);
  MemorySessionStoreOptions prop;
  prop.lock_verification_property = "";
  EXPECT_NE(message_of(prop).find("lock_verification_property"), std::string::npos);
}

TEST(MemorySessionStore, EvictsTheLeastRecentlyUsedWhenFull) {
  FakeClock clock;
  MemorySessionStoreOptions opts;
  opts.max_sessions = 3;
  opts.clock = clock.clock();
  MemorySessionStore store(opts);
  const auto expires = clock.now() + 3600s;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(generate_session_id());
    ASSERT_TRUE(store.create(ids.back(), fresh(Fields{{"i", i}}, expires)));
  }
  ASSERT_TRUE(store.get(ids[0])->has_value());  // ids[1] is now the least recently used
  const std::string fourth = generate_session_id();
  ASSERT_TRUE(store.create(fourth, fresh(Fields{{"i", 3}}, expires)));
  EXPECT_EQ(store.size(), 3u);
  EXPECT_TRUE(store.get(ids[0])->has_value());
  EXPECT_FALSE(store.get(ids[1])->has_value());
  EXPECT_TRUE(store.get(ids[2])->has_value());
  EXPECT_TRUE(store.get(fourth)->has_value());
}

TEST(MemorySessionStore, StaysBoundedUnderManyShards) {
  MemorySessionStoreOptions opts;
  opts.max_sessions = 10'000;
  opts.sweep_interval = 0ms;
  MemorySessionStore store(opts);
  const auto expires = system_now() + 3600s;
  for (int i = 0; i < 30'000; ++i) ASSERT_TRUE(store.create(generate_session_id(), fresh(Fields{{"i", i}}, expires)));
  EXPECT_LE(store.size(), 10'000u + 16u);
  EXPECT_GE(store.size(), 9'000u);
}

TEST(MemorySessionStore, SweepRemovesExpiredSessions) {
  FakeClock clock;
  MemorySessionStoreOptions opts;
  opts.clock = clock.clock();
  opts.sweep_interval = 0ms;
  MemorySessionStore store(opts);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store.create(generate_session_id(), fresh(Fields{}, clock.now() + std::chrono::seconds(10 + i * 100))));
  }
  clock.advance(500s);
  EXPECT_EQ(store.sweep(), 5u);
  EXPECT_EQ(store.size(), 5u);
}

TEST(MemorySessionStore, BackgroundSweeperRuns) {
  FakeClock clock;
  MemorySessionStoreOptions opts;
  opts.clock = clock.clock();
  opts.sweep_interval = 5ms;
  MemorySessionStore store(opts);
  ASSERT_TRUE(store.create(generate_session_id(), fresh(Fields{}, clock.now() + 10s)));
  clock.advance(20s);
  for (int i = 0; i < 400 && store.size() != 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(store.size(), 0u);
  store.close();
  store.close();  // idempotent
}

TEST(MemorySessionStore, ExportsMetrics) {
  MemorySessionStore store;
  ASSERT_TRUE(store.create(generate_session_id(), fresh(Fields{}, system_now() + 60s)));
  bool found = false;
  for (const MetricSample& m : store.metrics()) {
    if (m.name == "websession_memory_sessions") {
      found = true;
      EXPECT_EQ(m.value, 1);
    }
  }
  EXPECT_TRUE(found);
  double gets = -1;
  (void)store.get(generate_session_id());
  for (const MetricSample& m : store.metrics()) {
    if (m.name == "websession_store_operations_total" && m.labels.size() == 2 && m.labels[1].second == "get") {
      gets = m.value;
    }
  }
  EXPECT_EQ(gets, 1);
}

TEST(MemorySessionStore, IndexesArePrunedOfEndedSessions) {
  FakeClock clock;
  MemorySessionStoreOptions opts;
  opts.clock = clock.clock();
  opts.sweep_interval = 0ms;
  MemorySessionStore store(opts);
  auto owned = [&](std::chrono::seconds lifetime) {
    NewSession s = fresh(Fields{{"a", 1}}, clock.now() + lifetime);
    s.created = clock.now();
    s.owner = "alice";
    const std::string id = generate_session_id();
    EXPECT_TRUE(store.create(id, s));
    return id;
  };
  for (int i = 0; i < 5; ++i) owned(10s);
  const std::string kept = owned(3600s);
  const std::string destroyed = owned(3600s);
  ASSERT_TRUE(store.destroy(destroyed));
  EXPECT_EQ(store.owner_index_size("alice"), 6u) << "destroy removes its own entry at once";
  clock.advance(11s);
  ASSERT_EQ(store.list_owner_sessions("alice")->size(), 1u);
  EXPECT_EQ(store.owner_index_size("alice"), 1u) << "listing prunes the ended ones";
  for (int i = 0; i < 5; ++i) owned(10s);
  clock.advance(11s);
  store.sweep();
  EXPECT_EQ(store.owner_index_size("alice"), 1u) << "the sweep prunes indexes too";
  EXPECT_TRUE(store.get(kept)->has_value());
}

TEST(MemorySessionStore, AsynchronousOperationsCompleteWithoutSuspending) {
  MemorySessionStore store;
  const std::string id = generate_session_id();
  ASSERT_TRUE(store.create(id, fresh(Fields{{"n", 1}}, system_now() + 60s)));
  asio::io_context context;
  bool done = false;
  asio::co_spawn(
      context,
      [&]() -> Task<void> {
        auto r = co_await store.co_increment(id, "n", 2, WriteOptions{});
        EXPECT_EQ(*r, 3);
        done = true;
      },
      asio::detached);
  // One handler runs the whole coroutine: nothing was posted for later.
  EXPECT_EQ(context.run_one(), 1u);
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace websession
