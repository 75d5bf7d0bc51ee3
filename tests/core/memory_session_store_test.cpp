#include "websession/memory_session_store.h"

#include <stdexcept>

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

INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance,
                         ::testing::Values(StoreFactory{
                             "Memory",
                             [](const StoreTestOptions& o) -> std::unique_ptr<SessionStore> {
                               MemorySessionStoreOptions opts;
                               opts.clock = o.clock;
                               opts.max_lock_time = o.max_lock_time;
                               return std::make_unique<MemorySessionStore>(opts);
                             },
                             8, 500, 200}),
                         testing::StoreFactoryName{});

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
    ASSERT_TRUE(store.create(ids.back(), Fields{{"i", i}}, expires));
  }
  ASSERT_TRUE(store.get(ids[0])->has_value());  // ids[1] is now the least recently used
  const std::string fourth = generate_session_id();
  ASSERT_TRUE(store.create(fourth, Fields{{"i", 3}}, expires));
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
  for (int i = 0; i < 30'000; ++i) ASSERT_TRUE(store.create(generate_session_id(), Fields{{"i", i}}, expires));
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
    ASSERT_TRUE(store.create(generate_session_id(), Fields{}, clock.now() + std::chrono::seconds(10 + i * 100)));
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
  ASSERT_TRUE(store.create(generate_session_id(), Fields{}, clock.now() + 10s));
  clock.advance(20s);
  for (int i = 0; i < 400 && store.size() != 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(store.size(), 0u);
  store.close();
  store.close();  // idempotent
}

TEST(MemorySessionStore, ExportsMetrics) {
  MemorySessionStore store;
  ASSERT_TRUE(store.create(generate_session_id(), Fields{}, system_now() + 60s));
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

}  // namespace
}  // namespace websession
