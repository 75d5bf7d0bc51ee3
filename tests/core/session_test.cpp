#include "websession/session.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "support/counting_store.h"
#include "support/fake_clock.h"
#include "websession/memory_session_store.h"
#include "websession/session_id.h"

namespace websession {
namespace {

using namespace std::chrono_literals;
using testing::CountingStore;
using testing::FakeClock;

class SessionTest : public ::testing::Test {
 protected:
  SessionTest() : memory_(memory_options()), store_(memory_) {}

  MemorySessionStoreOptions memory_options() {
    MemorySessionStoreOptions o;
    o.clock = clock_.clock();
    o.max_lock_time = 2'000ms;
    return o;
  }
  SessionOptions options() {
    SessionOptions o;
    o.max_age = 1200s;
    o.clock = clock_.clock();
    return o;
  }
  Session saved_session(const Fields& data) {
    Session s(store_, options());
    s.set(data);
    EXPECT_TRUE(s.save());
    store_.reset();
    return s;
  }

  FakeClock clock_;
  MemorySessionStore memory_;
  CountingStore store_;
};

TEST_F(SessionTest, NewSessionWithNothingWrittenCostsNothing) {
  Session s(store_, options());
  EXPECT_TRUE(s.is_new());
  ASSERT_TRUE(s.save());
  EXPECT_TRUE(s.id().empty());
  EXPECT_FALSE(s.cookie_changed());
  EXPECT_EQ(store_.writes(), 0);
}

TEST_F(SessionTest, FirstSaveCreatesWithANewId) {
  Session s(store_, options());
  s.set("user", "alice");
  ASSERT_TRUE(s.save());
  EXPECT_TRUE(is_valid_session_id(s.id()));
  EXPECT_FALSE(s.is_new());
  EXPECT_TRUE(s.cookie_changed());
  EXPECT_EQ(store_.creates, 1);
  auto loaded = Session::load(store_, s.id(), options());
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->get_string("user"), "alice");
  EXPECT_EQ(loaded->expires(), floor_seconds(clock_.now() + 1200s));
}

TEST_F(SessionTest, LoadOfUnknownOrMalformedIdGivesANewSessionNeverTheGivenId) {
  const std::string chosen = generate_session_id();
  auto s = Session::load(store_, chosen, options());
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->is_new());
  s->set("a", 1);
  ASSERT_TRUE(s->save());
  EXPECT_NE(s->id(), chosen);
  store_.reset();
  auto malformed = Session::load(store_, "../../etc/passwd", options());
  ASSERT_TRUE(malformed);
  EXPECT_TRUE(malformed->is_new());
  EXPECT_EQ(store_.gets, 0) << "a malformed ID must not cost a read";
}

TEST_F(SessionTest, SaveWritesOnlyTheChangedFieldsInOneWrite) {
  Session first = saved_session(Fields{{"a", 1}, {"b", 2}});
  auto s = Session::load(store_, first.id(), options());
  ASSERT_TRUE(s);
  // Another writer changes b meanwhile; our save of a and removal of c must not clobber it.
  ASSERT_TRUE(memory_.set(first.id(), Fields{{"b", 20}, {"c", 3}}));
  s->set("a", 10);
  s->unset("c");
  store_.reset();
  ASSERT_TRUE(s->save());
  EXPECT_EQ(store_.updates, 1);
  EXPECT_EQ(store_.writes(), 1);
  auto stored = memory_.get(first.id());
  EXPECT_EQ((*stored)->data, (Fields{{"a", 10}, {"b", 20}}));
}

TEST_F(SessionTest, ReadOnlyRequestWritesNothingUntilTheTouchThreshold) {
  Session first = saved_session(Fields{{"a", 1}});
  const std::string id = first.id();
  auto s = Session::load(store_, id, options());
  ASSERT_TRUE(s->save());
  EXPECT_EQ(store_.writes(), 0);
  EXPECT_FALSE(s->cookie_changed());
  // Three quarters of the lifetime is the default threshold: 900 s left means 300 s have passed.
  clock_.advance(299s);
  auto still = Session::load(store_, id, options());
  ASSERT_TRUE(still->save());
  EXPECT_EQ(store_.writes(), 0);
  clock_.advance(2s);
  auto late = Session::load(store_, id, options());
  ASSERT_TRUE(late->save());
  EXPECT_EQ(store_.touches, 1);
  EXPECT_TRUE(late->cookie_changed());
  EXPECT_EQ((*memory_.get(id))->expires, floor_seconds(clock_.now() + 1200s));
}

TEST_F(SessionTest, IncrementIsOneAtomicWriteAndCreatesNewSessions) {
  Session fresh(store_, options());
  auto one = fresh.increment("views");
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, 1);
  EXPECT_EQ(store_.creates, 1);
  EXPECT_FALSE(fresh.is_new());
  store_.reset();
  auto s = Session::load(store_, fresh.id(), options());
  auto two = s->increment("views", 5);
  ASSERT_TRUE(two);
  EXPECT_EQ(*two, 6);
  EXPECT_EQ(store_.increments, 1);
  ASSERT_TRUE(s->save());
  EXPECT_EQ(store_.writes(), 1) << "nothing left to save after the increment";
}

TEST_F(SessionTest, RegenerateDeletesTheOldSession) {
  Session s = saved_session(Fields{{"user", "alice"}});
  const std::string old_id = s.id();
  ASSERT_TRUE(s.regenerate());
  EXPECT_NE(s.id(), old_id);
  EXPECT_FALSE(memory_.get(old_id)->has_value());
  ASSERT_TRUE(s.save());
  EXPECT_EQ((*memory_.get(s.id()))->data, (Fields{{"user", "alice"}}));
  ASSERT_TRUE(s.regenerate(false));
  ASSERT_TRUE(s.save());
  EXPECT_TRUE(s.id().empty()) << "an empty regenerated session keeps no ID";
  EXPECT_TRUE(s.cookie_changed());
}

TEST_F(SessionTest, DestroyDeletesAndClearsTheId) {
  Session s = saved_session(Fields{{"user", "alice"}});
  const std::string id = s.id();
  ASSERT_TRUE(s.destroy());
  EXPECT_TRUE(s.is_destroyed());
  EXPECT_TRUE(s.id().empty());
  EXPECT_TRUE(s.cookie_changed());
  EXPECT_FALSE(memory_.get(id)->has_value());
  ASSERT_TRUE(s.save());
  EXPECT_EQ(store_.creates, 0);
}

TEST_F(SessionTest, SaveOfAVanishedSessionDoesNotBringItBack) {
  Session s = saved_session(Fields{{"user", "alice"}});
  const std::string id = s.id();
  ASSERT_TRUE(memory_.destroy(id));  // logged out elsewhere
  s.set("theme", "dark");
  auto st = s.save();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::not_found);
  EXPECT_TRUE(s.is_new());
  EXPECT_TRUE(s.data().empty());
  EXPECT_FALSE(memory_.get(id)->has_value());
}

TEST_F(SessionTest, InvalidFieldNamesThrow) {
  Session s(store_, options());
  EXPECT_THROW(s.set("", 1), std::invalid_argument);
  EXPECT_THROW(s.set(std::string(256, 'x'), 1), std::invalid_argument);
  EXPECT_EQ(s.increment("").code(), ErrorCode::invalid_argument);
}

// The refresh pattern: `access_valid` says whether the access token is still good.
bool needs_refresh(const Session& s) { return !s.get(std::string_view("access_valid"))->as_bool(); }

TEST_F(SessionTest, RefreshWithLockSkipsWhenTheTokenIsValid) {
  Session s = saved_session(Fields{{"refresh_token", "r1"}, {"access_valid", true}});
  int calls = 0;
  auto out = s.refresh_with_lock(needs_refresh, [&](Session&) { ++calls; return Status{}; });
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->rotated);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(store_.locks, 0);
}

TEST_F(SessionTest, RefreshWithLockRotatesOnceAmongManyConcurrentCallers) {
  Session first = saved_session(Fields{{"refresh_token", "r1"}, {"access_valid", false}, {"count", 0}});
  const std::string id = first.id();
  std::atomic<int> refreshes{0}, rotated{0}, failures{0};
  std::vector<std::string> seen(50);
  std::vector<std::thread> pool;
  for (int i = 0; i < 50; ++i) {
    pool.emplace_back([&, i] {
      auto s = Session::load(store_, id, options());
      if (!s) { ++failures; return; }
      auto out = s->refresh_with_lock(needs_refresh, [&](Session& locked) {
        ++refreshes;
        std::this_thread::sleep_for(30ms);  // calling the identity provider
        locked.set("refresh_token", "r2");
        locked.set("access_valid", true);
        locked.set("count", *locked.get_int("count") + 1);
        return Status{};
      });
      if (!out) { ++failures; return; }
      if (out->rotated) ++rotated;
      seen[static_cast<std::size_t>(i)] = *s->get_string("refresh_token");
    });
  }
  for (auto& t : pool) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(refreshes.load(), 1);
  EXPECT_EQ(rotated.load(), 1);
  for (const auto& token : seen) EXPECT_EQ(token, "r2");
  auto stored = memory_.get(id);
  EXPECT_EQ((*stored)->data.at("count").as_int64(), 1);
  // The winner released the lock in the same write.
  EXPECT_TRUE(memory_.lock(id, Value("r2")));
}

TEST_F(SessionTest, RefreshWithLockTakesOverADeadHoldersLock) {
  Session s = saved_session(Fields{{"refresh_token", "r1"}, {"access_valid", false}});
  auto dead = memory_.lock(s.id(), Value("r1"));  // a holder that never comes back
  ASSERT_TRUE(dead);
  std::thread advance([&] {
    std::this_thread::sleep_for(100ms);
    clock_.advance(2'001ms);  // past max_lock_time
  });
  auto out = s.refresh_with_lock(needs_refresh, [](Session& locked) {
    locked.set("refresh_token", "r2");
    locked.set("access_valid", true);
    return Status{};
  });
  advance.join();
  ASSERT_TRUE(out) << out.error().describe();
  EXPECT_TRUE(out->rotated);
  EXPECT_TRUE(out->took_over);
  EXPECT_GT(out->lock_waits, 0);
  EXPECT_EQ((*memory_.get(s.id()))->data.at("refresh_token"), "r2");
}

TEST_F(SessionTest, ARefreshWhoseLockWasTakenOverWritesNothing) {
  Session first = saved_session(Fields{{"refresh_token", "r1"}, {"access_valid", false}});
  const std::string id = first.id();
  auto slow = Session::load(store_, id, options());
  auto out = slow->refresh_with_lock(needs_refresh, [&](Session& locked) {
    // The identity provider is slow: the lock goes stale, and another request takes it over and
    // rotates the token meanwhile.
    clock_.advance(2'001ms);
    auto fast = Session::load(store_, id, options());
    auto other = fast->refresh_with_lock(needs_refresh, [](Session& l) {
      l.set("refresh_token", "r3");
      l.set("access_valid", true);
      return Status{};
    });
    EXPECT_TRUE(other && other->rotated && other->took_over);
    locked.set("refresh_token", "r2");
    locked.set("access_valid", true);
    return Status{};
  });
  ASSERT_FALSE(out);
  EXPECT_EQ(out.code(), ErrorCode::aborted);
  EXPECT_FALSE(slow->modified()) << "nothing of the lost refresh may be saved later";
  ASSERT_TRUE(slow->save());
  EXPECT_EQ((*memory_.get(id))->data.at("refresh_token"), "r3");
  EXPECT_EQ(*slow->get_string("refresh_token"), "r3");
}

TEST_F(SessionTest, RefreshWithLockGivesUpWhenTheWaitRunsOut) {
  Session s = saved_session(Fields{{"refresh_token", "r1"}, {"access_valid", false}});
  ASSERT_TRUE(memory_.lock(s.id(), Value("r1")));
  LockWaitOptions wait;
  wait.max_wait = 100ms;
  auto out = s.refresh_with_lock(needs_refresh, [](Session&) { return Status{}; }, wait);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.code(), ErrorCode::lock_held);
}

TEST_F(SessionTest, AFailedRefreshReleasesTheLockAndWritesNothing) {
  Session s = saved_session(Fields{{"refresh_token", "r1"}, {"access_valid", false}});
  auto out = s.refresh_with_lock(needs_refresh, [](Session& locked) {
    locked.set("refresh_token", "half-done");
    return Status(Error(ErrorCode::unavailable, "identity provider down"));
  });
  ASSERT_FALSE(out);
  EXPECT_EQ(out.code(), ErrorCode::unavailable);
  EXPECT_EQ(*s.get_string("refresh_token"), "r1");
  EXPECT_TRUE(memory_.lock(s.id(), Value("r1"))) << "the lock was released";
}

}  // namespace
}  // namespace websession
