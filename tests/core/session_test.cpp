#include "websession/session.h"

#include <atomic>
#include <thread>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include "support/counting_store.h"
#include "support/forwarding_store.h"
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

TEST_F(SessionTest, RegenerateDeletesTheOldSessionOnceTheNewOneExists) {
  Session s = saved_session(Fields{{"user", "alice"}});
  const std::string old_id = s.id();
  s.regenerate();
  EXPECT_NE(s.id(), old_id);
  EXPECT_TRUE(memory_.get(old_id)->has_value()) << "nothing is deleted before the new session is written";
  ASSERT_TRUE(s.save());
  EXPECT_FALSE(memory_.get(old_id)->has_value());
  EXPECT_EQ((*memory_.get(s.id()))->data, (Fields{{"user", "alice"}}));
  const std::string second = s.id();
  s.regenerate(false);
  ASSERT_TRUE(s.save());
  EXPECT_TRUE(s.id().empty()) << "an empty regenerated session keeps no ID";
  EXPECT_TRUE(s.cookie_changed());
  EXPECT_FALSE(memory_.get(second)->has_value());
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

TEST_F(SessionTest, RequestsOfOneProcessWaitForItsRefreshWithoutAskingTheStore) {
  Session first = saved_session(Fields{{"refresh_token", "r1"}, {"access_valid", false}});
  const std::string id = first.id();
  constexpr int kRequests = 20;
  std::atomic<int> started{0}, refreshes{0}, failures{0};
  std::vector<std::thread> pool;
  for (int i = 0; i < kRequests; ++i) {
    pool.emplace_back([&] {
      auto s = Session::load(store_, id, options());
      if (!s) { ++failures; return; }
      ++started;
      auto out = s->refresh_with_lock(needs_refresh, [&](Session& locked) {
        ++refreshes;
        // The identity provider answers once every other request is waiting.
        while (started.load() < kRequests) std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(300ms);
        locked.set("refresh_token", "r2");
        locked.set("access_valid", true);
        return Status{};
      });
      if (!out || s->get_string("refresh_token") != "r2") ++failures;
    });
  }
  for (auto& t : pool) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(refreshes.load(), 1);
  // One lock attempt in all: the others waited for the refresh of their own process, then read
  // the session once more each (a load and a reload per request).
  EXPECT_EQ(store_.locks.load(), 1);
  EXPECT_LE(store_.gets.load(), 2 * kRequests);
}

TEST_F(SessionTest, CoroutinesOfOneProcessWaitForItsRefreshWithoutAskingTheStore) {
  Session first = saved_session(Fields{{"refresh_token", "r1"}, {"access_valid", false}});
  const std::string id = first.id();
  constexpr int kRequests = 20;
  asio::io_context context;
  int started = 0, refreshes = 0, failures = 0;
  for (int i = 0; i < kRequests; ++i) {
    asio::co_spawn(
        context,
        [&]() -> Task<void> {
          auto s = co_await Session::co_load(store_, id, options());
          if (!s) { ++failures; co_return; }
          ++started;
          auto out = co_await s->co_refresh_with_lock(needs_refresh, [&](Session& locked) -> Task<Status> {
            ++refreshes;
            asio::steady_timer provider(co_await asio::this_coro::executor, 5ms);
            while (started < kRequests) co_await provider.async_wait(asio::use_awaitable_t<Executor>{});
            provider.expires_after(300ms);
            co_await provider.async_wait(asio::use_awaitable_t<Executor>{});
            locked.set("refresh_token", "r2");
            locked.set("access_valid", true);
            co_return Status{};
          });
          if (!out || s->get_string("refresh_token") != "r2") ++failures;
        },
        asio::detached);
  }
  context.run();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(refreshes, 1);
  EXPECT_EQ(store_.locks.load(), 1);
  EXPECT_LE(store_.gets.load(), 2 * kRequests);
}

TEST_F(SessionTest, ALeaderStuckLongerThanMaxLockTimeIsNotWaitedForAnyLonger) {
  // A request of this process leads a refresh and never finishes it (its lock goes stale): another
  // request waits for it at most max_lock_time, then takes the lock over through the store.
  Session first = saved_session(Fields{{"refresh_token", "r1"}, {"access_valid", false}});
  const std::string id = first.id();
  std::atomic<bool> release{false};
  std::atomic<bool> stuck_started{false};
  std::thread stuck([&] {
    auto s = Session::load(store_, id, options());
    ASSERT_TRUE(s);
    auto out = s->refresh_with_lock(needs_refresh, [&](Session&) {
      stuck_started = true;
      while (!release.load()) std::this_thread::sleep_for(5ms);
      return Status(Error(ErrorCode::unavailable, "the provider never answered"));
    });
    EXPECT_FALSE(out);
  });
  while (!stuck_started.load()) std::this_thread::sleep_for(1ms);
  auto s = Session::load(store_, id, options());
  ASSERT_TRUE(s);
  LockWaitOptions wait;
  wait.max_wait = 6s;
  wait.renew_every = 10s;  // the stuck holder does not renew: its lock goes stale
  const auto start = std::chrono::steady_clock::now();
  std::thread advance([&] {
    // The store's clock moves past max_lock_time (2 s) while the steady clock does too.
    std::this_thread::sleep_for(2'100ms);
    clock_.advance(2'100ms);
  });
  auto out = s->refresh_with_lock(needs_refresh, [](Session& locked) {
    locked.set("refresh_token", "r2");
    locked.set("access_valid", true);
    return Status{};
  }, wait);
  advance.join();
  release = true;
  stuck.join();
  ASSERT_TRUE(out) << out.error().describe();
  EXPECT_TRUE(out->rotated);
  EXPECT_TRUE(out->took_over);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 2'000ms);
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
  // Another instance of the service: the same table through another store object.
  CountingStore other_instance(memory_);
  auto out = slow->refresh_with_lock(needs_refresh, [&](Session& locked) {
    // The identity provider is slow: the lock goes stale, and a request on another instance takes it
    // over and rotates the token meanwhile.
    clock_.advance(2'001ms);
    auto fast = Session::load(other_instance, id, options());
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

MemorySessionStoreOptions memory_options_with(std::chrono::milliseconds max_lock_time) {
  MemorySessionStoreOptions o;
  o.max_lock_time = max_lock_time;
  o.sweep_interval = 0ms;
  return o;
}

// A store whose creates fail while `fail_creates` is set, and whose next two updates fail once
// `fail_updates` is set: the backend flickers.
class FlakyStore final : public testing::ForwardingStore {
 public:
  explicit FlakyStore(SessionStore& inner) : ForwardingStore(inner) {}
  bool fail_creates = false;
  bool fail_updates = false;
  int failed_updates = 0;

 protected:
  std::optional<Error> before(testing::StoreOp op) override {
    if (op == testing::StoreOp::create && fail_creates) return Error(ErrorCode::unavailable, "down");
    if (op == testing::StoreOp::update && fail_updates && failed_updates < 2) {
      ++failed_updates;
      return Error(ErrorCode::unavailable, "down");
    }
    return std::nullopt;
  }
};

TEST_F(SessionTest, AFailedSaveAfterRegenerateKeepsTheOldSession) {
  Session s = saved_session(Fields{{"user", "alice"}});
  const std::string old_id = s.id();
  FlakyStore flaky(memory_);
  auto again = Session::load(flaky, old_id, options());
  again->regenerate();
  flaky.fail_creates = true;
  ASSERT_FALSE(again->save());
  EXPECT_TRUE(memory_.get(old_id)->has_value()) << "a failed save must not log the user out";
}

TEST_F(SessionTest, UnsetThenIncrementCountsFromZeroAndKeepsTheField) {
  Session s = saved_session(Fields{{"views", 5}});
  auto loaded = Session::load(store_, s.id(), options());
  loaded->unset("views");
  auto n = loaded->increment("views");
  ASSERT_TRUE(n) << n.error().describe();
  EXPECT_EQ(*n, 1);
  ASSERT_TRUE(loaded->save());
  EXPECT_EQ((*memory_.get(s.id()))->data.at("views").as_int64(), 1) << "the pending removal must not undo it";
}

TEST_F(SessionTest, SetThenIncrementAppliesTheSetFirst) {
  Session s = saved_session(Fields{{"views", 5}});
  auto loaded = Session::load(store_, s.id(), options());
  loaded->set("views", 10);
  EXPECT_EQ(*loaded->increment("views", 2), 12);
  ASSERT_TRUE(loaded->save());
  EXPECT_EQ((*memory_.get(s.id()))->data.at("views").as_int64(), 12);
}

TEST_F(SessionTest, RefreshWithoutTheVerificationFieldFailsAtOnce) {
  Session s = saved_session(Fields{{"access_valid", false}});
  const auto start = std::chrono::steady_clock::now();
  auto out = s.refresh_with_lock(needs_refresh, [](Session&) { return Status{}; });
  ASSERT_FALSE(out);
  EXPECT_EQ(out.code(), ErrorCode::invalid_argument);
  EXPECT_NE(out.error().message.find("refresh_token"), std::string::npos);
  EXPECT_EQ(store_.locks, 0) << "no lock attempt, no polling";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST_F(SessionTest, SignInRotatesTheIdAndStartsAnOwnedSession) {
  Session s = saved_session(Fields{{"views", 3}});
  const std::string anonymous_id = s.id();
  clock_.advance(100s);
  s.sign_in(SignIn{.owner = "alice", .sid = "", .user_agent = "Browser/1.0\r\nX: y", .keep_data = true});
  EXPECT_NE(s.id(), anonymous_id);
  EXPECT_EQ(s.owner(), "alice");
  ASSERT_TRUE(s.save());
  EXPECT_FALSE(memory_.get(anonymous_id)->has_value());
  const auto stored = *memory_.get(s.id());
  EXPECT_EQ(stored->owner, "alice");
  EXPECT_EQ(stored->user_agent, "Browser/1.0X: y");
  EXPECT_EQ(stored->data.at("views").as_int64(), 3) << "the fields come along";
  EXPECT_EQ(stored->absolute_expires, floor_seconds(clock_.now() + 12h)) << "the absolute lifetime starts at sign-in";
  auto listed = memory_.list_owner_sessions("alice");
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, session_key(s.id()));
  EXPECT_THROW(s.sign_in(SignIn{.owner = "", .sid = "", .user_agent = "", .keep_data = true}), std::invalid_argument);
}

TEST_F(SessionTest, ASignedInSessionWithoutFieldsIsStillCreated) {
  Session s(store_, options());
  s.sign_in(SignIn{.owner = "bob", .sid = "", .user_agent = "", .keep_data = true});
  ASSERT_TRUE(s.save());
  EXPECT_FALSE(s.id().empty());
  EXPECT_EQ(memory_.list_owner_sessions("bob")->size(), 1u);
}

TEST_F(SessionTest, TheAbsoluteLifetimeCapsRollingExpiry) {
  SessionOptions o = options();
  o.absolute_max_age = 1800s;
  Session s(store_, o);
  s.set("a", 1);
  ASSERT_TRUE(s.save());
  const std::string id = s.id();
  for (int i = 0; i < 4; ++i) {
    clock_.advance(400s);
    auto loaded = Session::load(store_, id, o);
    ASSERT_TRUE(loaded && !loaded->is_new()) << i;
    loaded->set("a", i);
    ASSERT_TRUE(loaded->save());
    EXPECT_LE(loaded->expires(), loaded->absolute_expires());
  }
  clock_.advance(201s);  // 1801 s after creation, with a write 201 s ago
  auto late = Session::load(store_, id, o);
  EXPECT_TRUE(late->is_new()) << "however active, the session ended";
}

TEST_F(SessionTest, NoTouchOnceTheAbsoluteEndIsReached) {
  SessionOptions o = options();
  o.absolute_max_age = 1000s;
  Session s(store_, o);
  s.set("a", 1);
  ASSERT_TRUE(s.save());
  clock_.advance(900s);  // 100 s left, the idle expiry is already clamped to the absolute end
  store_.reset();
  auto loaded = Session::load(store_, s.id(), o);
  ASSERT_TRUE(loaded->save());
  EXPECT_EQ(store_.touches, 0) << "a touch could not move the expiry";
}

TEST_F(SessionTest, LifetimesHaveBounds) {
  SessionOptions too_long = options();
  too_long.max_age = std::chrono::seconds(kMaxLifetime.count() + 1);
  EXPECT_THROW(Session(store_, too_long), std::invalid_argument);
  SessionOptions absolute = options();
  absolute.absolute_max_age = 0s;
  EXPECT_THROW(Session(store_, absolute), std::invalid_argument);
}

TEST(SessionRefresh, ALiveHolderRenewsItsLockHoweverSlowTheProvider) {
  // Real time: maxLockTime 300 ms, a provider that takes a second.
  MemorySessionStore memory(memory_options_with(300ms));
  Session first(memory, SessionOptions{});
  first.set(Fields{{"refresh_token", "r1"}, {"access_valid", false}});
  ASSERT_TRUE(first.save());
  std::atomic<int> redemptions{0};
  auto refresh = [&](Session& locked) {
    ++redemptions;
    std::this_thread::sleep_for(1000ms);
    locked.set("refresh_token", "r2");
    locked.set("access_valid", true);
    return Status{};
  };
  std::optional<Result<RefreshOutcome>> holder, waiter;
  std::thread a([&] {
    auto s = Session::load(memory, first.id(), SessionOptions{});
    holder.emplace(s->refresh_with_lock(needs_refresh, refresh));
  });
  std::this_thread::sleep_for(100ms);
  std::thread b([&] {
    auto s = Session::load(memory, first.id(), SessionOptions{});
    LockWaitOptions wait;
    wait.max_wait = 3s;
    waiter.emplace(s->refresh_with_lock(needs_refresh, refresh, wait));
  });
  a.join();
  b.join();
  ASSERT_TRUE(*holder) << holder->error().describe();
  ASSERT_TRUE(*waiter) << waiter->error().describe();
  EXPECT_EQ(redemptions.load(), 1) << "the refresh token must never be redeemed twice";
  EXPECT_TRUE((*holder)->rotated);
  EXPECT_GE((*holder)->renewals, 2);
  EXPECT_FALSE((*waiter)->rotated);
  EXPECT_FALSE((*waiter)->took_over);
}

TEST(SessionRefresh, AFlickeringStoreDoesNotLoseARefreshedState) {
  MemorySessionStore memory(memory_options_with(10'000ms));
  FlakyStore flaky(memory);
  Session first(flaky, SessionOptions{});
  first.set(Fields{{"refresh_token", "r1"}, {"access_valid", false}});
  ASSERT_TRUE(first.save());
  flaky.fail_updates = true;  // the next two writes fail
  auto out = first.refresh_with_lock(needs_refresh, [](Session& locked) {
    locked.set("refresh_token", "r2");
    locked.set("access_valid", true);
    return Status{};
  });
  ASSERT_TRUE(out) << out.error().describe();
  EXPECT_TRUE(out->rotated);
  EXPECT_EQ(flaky.failed_updates, 2);
  EXPECT_EQ((*memory.get(first.id()))->data.at("refresh_token"), "r2");
}

// ---- The asynchronous API.

TEST_F(SessionTest, CoroutinesLoadIncrementAndSave) {
  asio::io_context context;
  std::string id;
  asio::co_spawn(
      context,
      [&]() -> Task<void> {
        auto s = co_await Session::co_load(store_, "", options());
        EXPECT_TRUE(s);
        EXPECT_EQ(*co_await s->co_increment("views"), 1);
        s->set("user", "alice");
        EXPECT_TRUE(co_await s->co_save());
        id = s->id();
        auto again = co_await Session::async_load(store_, id, options(), asio::use_awaitable_t<Executor>{});
        EXPECT_EQ(again->get_string("user"), "alice");
        EXPECT_TRUE(co_await again->async_destroy(asio::use_awaitable_t<Executor>{}));
      },
      asio::detached);
  context.run();
  ASSERT_FALSE(id.empty());
  EXPECT_FALSE(memory_.get(id)->has_value());
}

TEST_F(SessionTest, AsyncOperationsTakeFuturesAndCallbacks) {
  Session s(store_, options());
  s.set("a", 1);
  std::future<Status> saved = s.async_save(asio::use_future);
  ASSERT_TRUE(saved.get());
  asio::io_context context;
  std::optional<Result<std::int64_t>> got;
  s.async_increment("n", 4, asio::bind_executor(context, [&](Result<std::int64_t> r) { got.emplace(std::move(r)); }));
  context.run();
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, 4);
}

TEST_F(SessionTest, ManyCoroutinesOnOneThreadRefreshOnce) {
  Session first = saved_session(Fields{{"refresh_token", "r1"}, {"access_valid", false}});
  const std::string id = first.id();
  asio::io_context context;  // one thread: lock waits must be timers, never sleeps
  int refreshes = 0, rotated = 0, failures = 0, finished = 0;
  for (int i = 0; i < 50; ++i) {
    asio::co_spawn(
        context,
        [&]() -> Task<void> {
          auto s = co_await Session::co_load(store_, id, options());
          auto out = co_await s->co_refresh_with_lock(needs_refresh, [&](Session& locked) -> Task<Status> {
            ++refreshes;
            asio::steady_timer provider(co_await asio::this_coro::executor, 50ms);
            co_await provider.async_wait(asio::use_awaitable_t<Executor>{});
            locked.set("refresh_token", "r2");
            locked.set("access_valid", true);
            co_return Status{};
          });
          if (!out) {
            ++failures;
          } else if (out->rotated) {
            ++rotated;
          }
          EXPECT_EQ(s->get_string("refresh_token"), "r2");
          ++finished;
        },
        asio::detached);
  }
  const auto start = std::chrono::steady_clock::now();
  context.run();
  EXPECT_EQ(finished, 50);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(refreshes, 1);
  EXPECT_EQ(rotated, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(SessionRefresh, TheAsyncHolderRenewsWithTimers) {
  MemorySessionStore memory(memory_options_with(300ms));
  Session first(memory, SessionOptions{});
  first.set(Fields{{"refresh_token", "r1"}, {"access_valid", false}});
  ASSERT_TRUE(first.save());
  asio::io_context context;
  int redemptions = 0;
  std::vector<RefreshOutcome> outcomes;
  for (int i = 0; i < 5; ++i) {
    asio::co_spawn(
        context,
        [&]() -> Task<void> {
          auto s = co_await Session::co_load(memory, first.id(), SessionOptions{});
          LockWaitOptions wait;
          wait.max_wait = 3s;
          auto out = co_await s->co_refresh_with_lock(
              needs_refresh,
              [&](Session& locked) -> Task<Status> {
                ++redemptions;
                asio::steady_timer provider(co_await asio::this_coro::executor, 1000ms);
                co_await provider.async_wait(asio::use_awaitable_t<Executor>{});
                locked.set("refresh_token", "r2");
                locked.set("access_valid", true);
                co_return Status{};
              },
              wait);
          EXPECT_TRUE(out) << out.error().describe();
          if (out) outcomes.push_back(*out);
        },
        asio::detached);
  }
  context.run();
  EXPECT_EQ(redemptions, 1);
  ASSERT_EQ(outcomes.size(), 5u);
  int renewals = 0;
  for (const auto& o : outcomes) {
    EXPECT_FALSE(o.took_over);
    renewals += o.renewals;
  }
  EXPECT_GE(renewals, 2);
}

}  // namespace
}  // namespace websession