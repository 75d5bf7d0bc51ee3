#include "conformance/store_conformance.h"

#include <atomic>
#include <barrier>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "websession/session_id.h"

namespace websession::testing {
namespace {

using namespace std::chrono_literals;

Fields obj(std::string_view json) { return boost::json::parse(json).as_object(); }

// Runs one asynchronous operation to completion on a fresh io_context of the calling thread.
template <class T, class Start>
T drive(Start start) {
  asio::io_context context;
  std::optional<T> out;
  start(asio::bind_executor(context, [&](T r) { out.emplace(std::move(r)); }));
  context.run();
  if (!out) return Error(ErrorCode::internal, "the asynchronous operation never completed");
  return std::move(*out);
}

}  // namespace

::testing::internal::ParamGenerator<ConformanceParam> conformance_params(const StoreFactory& factory) {
  return ::testing::Values(ConformanceParam{factory, ApiMode::blocking}, ConformanceParam{factory, ApiMode::async});
}

void PrintTo(const ConformanceParam& param, std::ostream* os) {
  *os << param.factory.name << (param.mode == ApiMode::async ? "/async" : "/blocking");
}

std::string ConformanceParamName::operator()(const ::testing::TestParamInfo<ConformanceParam>& info) const {
  return info.param.factory.name + (info.param.mode == ApiMode::async ? "_Async" : "_Blocking");
}

Result<std::optional<SessionRecord>> StoreApi::get(std::string_view id) {
  if (mode_ == ApiMode::blocking) return store_.get(id);
  return drive<Result<std::optional<SessionRecord>>>([&](auto h) { store_.async_get(id, std::move(h)); });
}

Status StoreApi::create(std::string_view id, const NewSession& session) {
  if (mode_ == ApiMode::blocking) return store_.create(id, session);
  return drive<Status>([&](auto h) { store_.async_create(id, session, std::move(h)); });
}

Status StoreApi::update(std::string_view id, const Fields& set_fields, const std::vector<std::string>& remove_names,
                        const WriteOptions& options) {
  if (mode_ == ApiMode::blocking) return store_.update(id, set_fields, remove_names, options);
  return drive<Status>([&](auto h) { store_.async_update(id, set_fields, remove_names, options, std::move(h)); });
}

Result<std::int64_t> StoreApi::increment(std::string_view id, std::string_view field, std::int64_t delta,
                                         const WriteOptions& options) {
  if (mode_ == ApiMode::blocking) return store_.increment(id, field, delta, options);
  return drive<Result<std::int64_t>>([&](auto h) { store_.async_increment(id, field, delta, options, std::move(h)); });
}

Status StoreApi::touch(std::string_view id, TimePoint expires) {
  if (mode_ == ApiMode::blocking) return store_.touch(id, expires);
  return drive<Status>([&](auto h) { store_.async_touch(id, expires, std::move(h)); });
}

Status StoreApi::destroy(std::string_view id) {
  if (mode_ == ApiMode::blocking) return store_.destroy(id);
  return drive<Status>([&](auto h) { store_.async_destroy(id, std::move(h)); });
}

Result<LockGrant> StoreApi::lock(std::string_view id, const Value& verification_value) {
  if (mode_ == ApiMode::blocking) return store_.lock(id, verification_value);
  return drive<Result<LockGrant>>([&](auto h) { store_.async_lock(id, verification_value, std::move(h)); });
}

Status StoreApi::unlock(std::string_view id, std::string_view token) {
  if (mode_ == ApiMode::blocking) return store_.unlock(id, token);
  return drive<Status>([&](auto h) { store_.async_unlock(id, token, std::move(h)); });
}

Status StoreApi::renew_lock(std::string_view id, std::string_view token) {
  if (mode_ == ApiMode::blocking) return store_.renew_lock(id, token);
  return drive<Status>([&](auto h) { store_.async_renew_lock(id, token, std::move(h)); });
}

Result<std::vector<OwnerSession>> StoreApi::list_owner_sessions(std::string_view owner) {
  if (mode_ == ApiMode::blocking) return store_.list_owner_sessions(owner);
  return drive<Result<std::vector<OwnerSession>>>([&](auto h) { store_.async_list_owner_sessions(owner, std::move(h)); });
}

Result<std::size_t> StoreApi::destroy_owner_sessions(std::string_view owner) {
  if (mode_ == ApiMode::blocking) return store_.destroy_owner_sessions(owner);
  return drive<Result<std::size_t>>([&](auto h) { store_.async_destroy_owner_sessions(owner, std::move(h)); });
}

Result<std::size_t> StoreApi::destroy_sid_sessions(std::string_view sid) {
  if (mode_ == ApiMode::blocking) return store_.destroy_sid_sessions(sid);
  return drive<Result<std::size_t>>([&](auto h) { store_.async_destroy_sid_sessions(sid, std::move(h)); });
}

std::string StoreConformance::user(const std::string& name) const { return name + "-" + run_; }

void StoreConformance::SetUp() {
  run_ = random_token(6);
  store_ = GetParam().factory.make(StoreTestOptions{clock_.clock(), 10'000ms});
  if (!store_) {
    const char* skip = std::getenv("WEBSESSION_SKIP_DYNAMODB_TESTS");
    if (skip != nullptr && std::string(skip) == "1") GTEST_SKIP() << "WEBSESSION_SKIP_DYNAMODB_TESTS=1";
    FAIL() << GetParam().factory.name << " is not available: run ./scripts/test";
  }
  auto st = store_->init();
  ASSERT_TRUE(st) << "init failed: " << (st ? "" : st.error().describe());
  api_ = std::make_unique<StoreApi>(*store_, GetParam().mode);
}

void StoreConformance::TearDown() {
  if (store_) store_->close();
}

NewSession StoreConformance::anonymous(const Fields& data, TimePoint expires) const {
  NewSession s;
  s.data = data;
  s.expires = expires;
  s.created = clock_.now();
  s.absolute_expires = in(12h);
  return s;
}

NewSession StoreConformance::owned(const std::string& owner, const Fields& data, const std::string& sid) const {
  NewSession s = anonymous(data, in(3600s));
  s.owner = owner;
  s.sid = sid;
  s.user_agent = "conformance/1.0 (" + owner + ")";
  return s;
}

std::string StoreConformance::make_session(const Fields& data) {
  std::string id = generate_session_id();
  auto st = api_->create(id, anonymous(data, in(3600s)));
  EXPECT_TRUE(st) << (st ? "" : st.error().describe());
  return id;
}

std::string StoreConformance::make_owned(const std::string& owner, const std::string& sid, std::size_t cap) {
  std::string id = generate_session_id();
  NewSession s = owned(owner, obj(R"({"user":"x"})"), sid);
  s.max_sessions_per_owner = cap;
  auto st = api_->create(id, s);
  EXPECT_TRUE(st) << (st ? "" : st.error().describe());
  return id;
}

TEST_P(StoreConformance, CreateThenGetReturnsDataAndExpiry) {
  const auto expires = in(600s);
  const std::string id = generate_session_id();
  ASSERT_TRUE(api_->create(id, anonymous(obj(R"({"user":"alice","views":3})"), expires)));
  auto got = api_->get(id);
  ASSERT_TRUE(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->id, id);
  EXPECT_EQ((*got)->data, obj(R"({"user":"alice","views":3})"));
  EXPECT_EQ((*got)->expires, expires);
}

TEST_P(StoreConformance, GetOfMissingOrMalformedIdIsNone) {
  auto missing = api_->get(generate_session_id());
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto malformed = api_->get("not-a-session-id");
  ASSERT_TRUE(malformed);
  EXPECT_FALSE(malformed->has_value());
}

TEST_P(StoreConformance, CreateNeverOverwritesALiveSession) {
  const std::string id = make_session(obj(R"({"user":"alice"})"));
  auto st = api_->create(id, anonymous(obj(R"({"user":"mallory"})"), in(600s)));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::already_exists);
  EXPECT_EQ((*api_->get(id))->data, obj(R"({"user":"alice"})"));
}

TEST_P(StoreConformance, CreateMayReplaceAnExpiredLeftover) {
  const std::string id = generate_session_id();
  ASSERT_TRUE(api_->create(id, anonymous(obj(R"({"old":true})"), in(10s))));
  clock_.advance(11s);
  ASSERT_TRUE(api_->create(id, anonymous(obj(R"({"new":true})"), in(600s))));
  EXPECT_EQ((*api_->get(id))->data, obj(R"({"new":true})"));
}

TEST_P(StoreConformance, ExpiryIsEnforcedOnEveryRead) {
  const std::string id = generate_session_id();
  ASSERT_TRUE(api_->create(id, anonymous(obj(R"({"user":"alice"})"), in(60s))));
  clock_.advance(59s);
  EXPECT_TRUE(api_->get(id)->has_value());
  clock_.advance(1s);  // expires <= now: gone
  EXPECT_FALSE(api_->get(id)->has_value());
  EXPECT_EQ(api_->set(id, obj(R"({"a":1})")).code(), ErrorCode::not_found);
  EXPECT_EQ(api_->increment(id, "views", 1).code(), ErrorCode::not_found);
  EXPECT_EQ(api_->touch(id, in(600s)).code(), ErrorCode::not_found);
  EXPECT_EQ(api_->lock(id, Value(nullptr)).code(), ErrorCode::not_found);
}

TEST_P(StoreConformance, SetChangesOnlyTheGivenFields) {
  const std::string id = make_session(obj(R"({"a":1,"b":"two"})"));
  ASSERT_TRUE(api_->set(id, obj(R"({"b":"deux","c":[1,2]})")));
  EXPECT_EQ((*api_->get(id))->data, obj(R"({"a":1,"b":"deux","c":[1,2]})"));
}

TEST_P(StoreConformance, SetOfMissingSessionIsNotFoundAndCreatesNothing) {
  const std::string id = generate_session_id();
  EXPECT_EQ(api_->set(id, obj(R"({"a":1})")).code(), ErrorCode::not_found);
  EXPECT_FALSE(api_->get(id)->has_value());
}

TEST_P(StoreConformance, UnsetRemovesFieldsAndIgnoresAbsentOnes) {
  const std::string id = make_session(obj(R"({"a":1,"b":2,"c":3})"));
  ASSERT_TRUE(api_->unset(id, {"a", "zzz"}));
  EXPECT_EQ((*api_->get(id))->data, obj(R"({"b":2,"c":3})"));
  EXPECT_EQ(api_->unset(generate_session_id(), {"a"}).code(), ErrorCode::not_found);
}

TEST_P(StoreConformance, UpdateSetsAndRemovesInOneWrite) {
  const std::string id = make_session(obj(R"({"a":1,"b":2})"));
  ASSERT_TRUE(api_->update(id, obj(R"({"c":3})"), {"a"}));
  EXPECT_EQ((*api_->get(id))->data, obj(R"({"b":2,"c":3})"));
}

TEST_P(StoreConformance, WriteOptionsMoveTheExpiry) {
  const std::string id = make_session(obj(R"({"a":1})"));
  const auto later = in(7200s);
  ASSERT_TRUE(api_->set(id, obj(R"({"a":2})"), WriteOptions{later, std::nullopt, false}));
  EXPECT_EQ((*api_->get(id))->expires, later);
  const auto later_still = in(9000s);
  ASSERT_TRUE(api_->increment(id, "n", 1, WriteOptions{later_still, std::nullopt, false}));
  EXPECT_EQ((*api_->get(id))->expires, later_still);
}

TEST_P(StoreConformance, IncrementIsAtomicAddStartingFromZero) {
  const std::string id = make_session(obj(R"({"views":5,"name":"x"})"));
  auto r = api_->increment(id, "views", 3);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 8);
  auto fresh = api_->increment(id, "clicks", -2);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(*fresh, -2);
  EXPECT_EQ(api_->increment(id, "name", 1).code(), ErrorCode::invalid_argument);
  EXPECT_EQ((*api_->get(id))->data, obj(R"({"views":8,"name":"x","clicks":-2})"));
  EXPECT_EQ(api_->increment(generate_session_id(), "views", 1).code(), ErrorCode::not_found);
}

TEST_P(StoreConformance, TouchMovesTheExpiry) {
  const std::string id = make_session(obj(R"({"a":1})"));
  const auto later = in(5000s);
  ASSERT_TRUE(api_->touch(id, later));
  EXPECT_EQ((*api_->get(id))->expires, later);
  EXPECT_EQ((*api_->get(id))->data, obj(R"({"a":1})"));
  EXPECT_EQ(api_->touch(generate_session_id(), later).code(), ErrorCode::not_found);
}

TEST_P(StoreConformance, DestroyDeletesAndIsIdempotent) {
  const std::string id = make_session(obj(R"({"a":1})"));
  ASSERT_TRUE(api_->destroy(id));
  EXPECT_FALSE(api_->get(id)->has_value());
  EXPECT_TRUE(api_->destroy(id));
  EXPECT_TRUE(api_->destroy(generate_session_id()));
}

TEST_P(StoreConformance, ValuesRoundTripWithTheirTypes) {
  const Fields data = obj(R"({
    "s": "héllo ✓", "empty": "", "i": 42, "neg": -7, "big": 9007199254740993, "min": -9223372036854775808,
    "d": 0.5, "tiny": 1.25e-7, "t": true, "f": false, "n": null,
    "list": [1, "two", [3.5], {"k": null}], "map": {"nested": {"deep": [true]}}, "emptylist": [], "emptymap": {}
  })");
  const std::string id = make_session(data);
  auto got = api_->get(id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->data, data);
  EXPECT_TRUE((*got)->data.at("i").is_int64());
  EXPECT_TRUE((*got)->data.at("big").is_int64());
  EXPECT_TRUE((*got)->data.at("d").is_double());
}

// Found by fuzz/session_values_fuzz: the memory store keeps sessions as JSON text, and Boost.JSON
// 1.81's parser read about one stored double in ten back off by an ulp or two.
TEST_P(StoreConformance, DoublesReadBackExactly) {
  Fields data;
  data["a"] = -957951.54316654592;
  data["b"] = 9.0071999223372027e34;
  data["c"] = -214952.13815883046;
  data["d"] = 0.1 + 0.2;
  const std::string id = make_session(data);
  ASSERT_TRUE(api_->set(id, Fields{{"e", 2.0 / 3.0}}));
  data["e"] = 2.0 / 3.0;
  auto got = api_->get(id);
  ASSERT_TRUE(got && got->has_value());
  for (const auto& kv : data) {
    ASSERT_TRUE((*got)->data.contains(kv.key()));
    EXPECT_EQ((*got)->data.at(kv.key()).as_double(), kv.value().as_double()) << kv.key();
  }
}

TEST_P(StoreConformance, InvalidFieldNamesAreRefused) {
  const std::string id = make_session(obj(R"({"a":1})"));
  Fields bad;
  bad[""] = 1;
  EXPECT_EQ(api_->set(id, bad).code(), ErrorCode::invalid_argument);
  Fields control;
  control["bad\nname"] = 1;
  EXPECT_EQ(api_->set(id, control).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(api_->create(generate_session_id(), anonymous(control, in(60s))).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(api_->increment(id, std::string(300, 'x'), 1).code(), ErrorCode::invalid_argument);
  EXPECT_EQ((*api_->get(id))->data, obj(R"({"a":1})"));
}

TEST_P(StoreConformance, OversizedItemsAreRefusedWithTheirSize) {
  const std::string id = make_session(obj(R"({"a":1})"));
  Fields big;
  big["blob"] = std::string(kMaxItemBytes, 'x');
  auto st = api_->set(id, big);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::invalid_argument);
  EXPECT_NE(st.error().message.find(std::to_string(kMaxItemBytes) + " bytes"), std::string::npos)
      << st.error().message;
  EXPECT_EQ((*api_->get(id))->data, obj(R"({"a":1})"));
  const std::string fresh = generate_session_id();
  auto created = api_->create(fresh, anonymous(big, in(60s)));
  ASSERT_FALSE(created);
  EXPECT_EQ(created.code(), ErrorCode::invalid_argument);
  EXPECT_NE(created.error().message.find(std::to_string(session_item_size(session_key(fresh), big)) + " bytes"),
            std::string::npos)
      << created.error().message;
  EXPECT_FALSE(api_->get(fresh)->has_value());
}

TEST_P(StoreConformance, LockSucceedsOnceAndReturnsFreshData) {
  const std::string id = make_session(obj(R"({"refresh_token":"r1","user":"alice"})"));
  auto grant = api_->lock(id, Value("r1"));
  ASSERT_TRUE(grant) << grant.error().describe();
  EXPECT_EQ(grant->record.data, obj(R"({"refresh_token":"r1","user":"alice"})"));
  EXPECT_FALSE(grant->token.empty());
  EXPECT_FALSE(grant->took_over);
  auto second = api_->lock(id, Value("r1"));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.code(), ErrorCode::lock_held);
}

TEST_P(StoreConformance, LockTellsTheReasonsApart) {
  const std::string id = make_session(obj(R"({"refresh_token":"r1"})"));
  EXPECT_EQ(api_->lock(id, Value("other")).code(), ErrorCode::verification_mismatch);
  EXPECT_EQ(api_->lock(generate_session_id(), Value("r1")).code(), ErrorCode::not_found);
  const std::string no_token = make_session(obj(R"({"user":"bob"})"));
  EXPECT_EQ(api_->lock(no_token, Value("r1")).code(), ErrorCode::verification_mismatch);
}

TEST_P(StoreConformance, StaleLockIsTakenOverAfterMaxLockTimeAndNotBefore) {
  const std::string id = make_session(obj(R"({"refresh_token":"r1"})"));
  auto first = api_->lock(id, Value("r1"));
  ASSERT_TRUE(first);
  clock_.advance(9'999ms);
  EXPECT_EQ(api_->lock(id, Value("r1")).code(), ErrorCode::lock_held);
  clock_.advance(2ms);
  auto second = api_->lock(id, Value("r1"));
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_TRUE(second->took_over);
  EXPECT_NE(second->token, first->token);
  // The first holder can neither release nor write under the lock it lost.
  EXPECT_EQ(api_->unlock(id, first->token).code(), ErrorCode::aborted);
  EXPECT_EQ(api_->set(id, obj(R"({"refresh_token":"stale"})"), WriteOptions{std::nullopt, first->token, true})
                .code(),
            ErrorCode::aborted);
  EXPECT_EQ(api_->lock(id, Value("r1")).code(), ErrorCode::lock_held);
  EXPECT_EQ((*api_->get(id))->data, obj(R"({"refresh_token":"r1"})"));
}

TEST_P(StoreConformance, UnlockReleasesOnlyTheOwnersLock) {
  const std::string id = make_session(obj(R"({"refresh_token":"r1"})"));
  auto grant = api_->lock(id, Value("r1"));
  ASSERT_TRUE(grant);
  EXPECT_EQ(api_->unlock(id, "someone-else").code(), ErrorCode::aborted);
  EXPECT_EQ(api_->lock(id, Value("r1")).code(), ErrorCode::lock_held);
  ASSERT_TRUE(api_->unlock(id, grant->token));
  auto again = api_->lock(id, Value("r1"));
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->took_over);
  EXPECT_TRUE(api_->unlock(generate_session_id(), "x"));
}

TEST_P(StoreConformance, WritesUnderTheLockCanReleaseIt) {
  const std::string id = make_session(obj(R"({"refresh_token":"r1","n":0})"));
  auto grant = api_->lock(id, Value("r1"));
  ASSERT_TRUE(grant);
  ASSERT_TRUE(api_->set(id, obj(R"({"refresh_token":"r2"})"), WriteOptions{std::nullopt, grant->token, false}));
  EXPECT_EQ(api_->lock(id, Value("r2")).code(), ErrorCode::lock_held);
  ASSERT_TRUE(api_->increment(id, "n", 1, WriteOptions{std::nullopt, grant->token, true}));
  auto next = api_->lock(id, Value("r2"));
  ASSERT_TRUE(next) << next.error().describe();
  EXPECT_EQ(next->record.data, obj(R"({"refresh_token":"r2","n":1})"));
}

TEST_P(StoreConformance, AWriteThatOnlyChecksTheLockFailsWhenTheLockIsLost) {
  const std::string id = make_session(obj(R"({"refresh_token":"r1"})"));
  auto first = api_->lock(id, Value("r1"));
  ASSERT_TRUE(first);
  EXPECT_TRUE(api_->update(id, Fields{}, {}, WriteOptions{std::nullopt, first->token, false}));
  clock_.advance(10'001ms);
  ASSERT_TRUE(api_->lock(id, Value("r1")));
  EXPECT_EQ(api_->update(id, Fields{}, {}, WriteOptions{std::nullopt, first->token, false}).code(),
            ErrorCode::aborted);
}

TEST_P(StoreConformance, UnlockOfAnExpiredSessionSucceeds) {
  const std::string id = generate_session_id();
  ASSERT_TRUE(api_->create(id, anonymous(obj(R"({"refresh_token":"r1"})"), in(20s))));
  auto grant = api_->lock(id, Value("r1"));
  ASSERT_TRUE(grant);
  clock_.advance(21s);
  EXPECT_TRUE(api_->unlock(id, "someone-else")) << "a session that is gone has no lock to keep";
  EXPECT_TRUE(api_->unlock(id, grant->token));
}

TEST_P(StoreConformance, DeeplyNestedValuesRoundTrip) {
  Value deep = "bottom";
  for (int i = 0; i < 31; ++i) deep = boost::json::object{{"level", deep}};
  Fields data;
  data["profile"] = deep;
  const std::string id = make_session(data);
  auto got = api_->get(id);
  ASSERT_TRUE(got) << got.error().describe();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->data, data);
}

// Found while writing fuzz/session_values_fuzz (its round-trip check covers it): a value nested as
// deep as validate_fields() allows was stored, but the memory store could not parse it back, so
// every read of the session failed as corrupt.
TEST_P(StoreConformance, ValuesAsDeepAsAllowedReadBack) {
  Value deepest = boost::json::array{};
  for (int depth = 1; depth < 32; ++depth) deepest = boost::json::array{deepest};
  Fields data;
  data["deepest"] = deepest;
  ASSERT_TRUE(validate_fields(data));
  const std::string id = make_session(data);
  auto got = api_->get(id);
  ASSERT_TRUE(got) << got.error().describe();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->data, data);
  Fields deeper;
  deeper["deeper"] = boost::json::array{deepest};
  EXPECT_EQ(api_->set(id, deeper).code(), ErrorCode::invalid_argument);
}

TEST_P(StoreConformance, ConcurrentIncrementsAreAllCounted) {
  const int threads = GetParam().factory.threads;
  const int iterations = GetParam().factory.iterations;
  const std::string id = make_session(obj(R"({"n":0})"));
  std::atomic<int> failures{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < iterations; ++i) {
        if (!api_->increment(id, "n", 1)) ++failures;
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ((*api_->get(id))->data.at("n").as_int64(), threads * iterations);
}

TEST_P(StoreConformance, ConcurrentSetsOfDifferentFieldsAllSurvive) {
  const int threads = GetParam().factory.threads;
  const int iterations = GetParam().factory.iterations / 5 + 1;
  const std::string id = make_session(obj(R"({})"));
  std::vector<std::thread> pool;
  std::atomic<int> failures{0};
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < iterations; ++i) {
        Fields f;
        f["field" + std::to_string(t)] = i;
        if (!api_->set(id, f)) ++failures;
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(failures.load(), 0);
  const Fields data = (*api_->get(id))->data;
  ASSERT_EQ(data.size(), static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) EXPECT_EQ(data.at("field" + std::to_string(t)).as_int64(), iterations - 1);
}

TEST_P(StoreConformance, ExactlyOneOfManyRacersWinsTheLockEachRound) {
  const int threads = GetParam().factory.threads;
  const int rounds = GetParam().factory.lock_rounds;
  const std::string id = make_session(obj(R"({"refresh_token":"r"})"));
  std::vector<int> winners(static_cast<std::size_t>(rounds), 0);
  std::vector<std::string> owners(static_cast<std::size_t>(rounds));
  std::atomic<int> unexpected{0};
  std::barrier sync(threads, [] () noexcept {});
  std::vector<std::thread> pool;
  std::mutex mu;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int r = 0; r < rounds; ++r) {
        sync.arrive_and_wait();
        auto grant = api_->lock(id, Value("r"));
        if (grant) {
          std::lock_guard lock(mu);
          ++winners[static_cast<std::size_t>(r)];
          owners[static_cast<std::size_t>(r)] = grant->token;
        } else if (grant.code() != ErrorCode::lock_held) {
          ++unexpected;
        }
        sync.arrive_and_wait();  // everyone has tried
        if (grant && !api_->unlock(id, grant->token)) ++unexpected;
        sync.arrive_and_wait();  // released before the next round
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(unexpected.load(), 0);
  for (int r = 0; r < rounds; ++r) EXPECT_EQ(winners[static_cast<std::size_t>(r)], 1) << "round " << r;
  std::set<std::string> distinct(owners.begin(), owners.end());
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(rounds)) << "owner tokens must be unique";
}

TEST_P(StoreConformance, StoresNeverKeepTheIdItself) {
  const std::string id = make_session(obj(R"({"a":1})"));
  EXPECT_EQ(session_key(id).size(), kSessionKeyLength);
  EXPECT_EQ(session_key(id), session_key(id));
  EXPECT_NE(session_key(id), session_key(generate_session_id()));
  EXPECT_EQ(session_key(id).find(id), std::string::npos);
  // The record still carries the caller's ID, so that a Session knows its own.
  EXPECT_EQ((*api_->get(id))->id, id);
}

TEST_P(StoreConformance, RecordsCarryTheSessionsMetadata) {
  const std::string id = generate_session_id();
  NewSession s = owned(user("alice"), obj(R"({"a":1})"), user("issuer sid-1"));
  ASSERT_TRUE(api_->create(id, s));
  auto got = *api_->get(id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->owner, user("alice"));
  EXPECT_EQ(got->sid, user("issuer sid-1"));
  EXPECT_EQ(got->user_agent, "conformance/1.0 (" + user("alice") + ")");
  EXPECT_EQ(std::chrono::floor<std::chrono::milliseconds>(got->created),
            std::chrono::floor<std::chrono::milliseconds>(s.created));
  EXPECT_EQ(got->absolute_expires, s.absolute_expires);
  EXPECT_EQ(got->last_seen, floor_seconds(clock_.now()));
  const auto anonymous_id = make_session(obj(R"({"a":1})"));
  EXPECT_TRUE((*api_->get(anonymous_id))->owner.empty());
}

TEST_P(StoreConformance, TheAbsoluteLifetimeEndsASessionHoweverActive) {
  const std::string id = generate_session_id();
  NewSession s = anonymous(obj(R"({"n":0})"), in(600s));
  s.absolute_expires = in(900s);
  ASSERT_TRUE(api_->create(id, s));
  for (int i = 0; i < 8; ++i) {
    clock_.advance(100s);
    // Every write asks for another ten minutes; none may go past the absolute end.
    ASSERT_TRUE(api_->increment(id, "n", 1, WriteOptions{in(600s), std::nullopt, false}));
    const auto got = *api_->get(id);
    ASSERT_TRUE(got.has_value()) << "after " << (i + 1) * 100 << " s";
    EXPECT_LE(got->expires, got->absolute_expires);
  }
  ASSERT_TRUE(api_->touch(id, in(600s)));
  EXPECT_EQ((*api_->get(id))->expires, s.absolute_expires);
  clock_.advance(100s);  // 900 s after creation
  EXPECT_FALSE(api_->get(id)->has_value());
  EXPECT_EQ(api_->touch(id, in(600s)).code(), ErrorCode::not_found);
  EXPECT_EQ(api_->set(id, obj(R"({"n":1})"), WriteOptions{in(600s), std::nullopt, false}).code(), ErrorCode::not_found);
  EXPECT_EQ(api_->lock(id, Value(nullptr)).code(), ErrorCode::not_found);
}

TEST_P(StoreConformance, ACreateIsClampedToTheAbsoluteLifetime) {
  const std::string id = generate_session_id();
  NewSession s = anonymous(obj(R"({"a":1})"), in(600s));
  s.absolute_expires = in(60s);
  ASSERT_TRUE(api_->create(id, s));
  EXPECT_EQ((*api_->get(id))->expires, s.absolute_expires);
}

TEST_P(StoreConformance, RenewingTheLockKeepsALiveHolderFromBeingTakenOver) {
  const std::string id = make_session(obj(R"({"refresh_token":"r1"})"));
  auto grant = api_->lock(id, Value("r1"));
  ASSERT_TRUE(grant);
  for (int i = 0; i < 5; ++i) {
    clock_.advance(6'000ms);  // 30 s in all: three times maxLockTime
    ASSERT_TRUE(api_->renew_lock(id, grant->token)) << "renewal " << i;
    EXPECT_EQ(api_->lock(id, Value("r1")).code(), ErrorCode::lock_held);
  }
  EXPECT_EQ(api_->renew_lock(id, "someone-else").code(), ErrorCode::aborted);
  clock_.advance(10'001ms);  // the holder stopped renewing: it is dead
  auto taker = api_->lock(id, Value("r1"));
  ASSERT_TRUE(taker);
  EXPECT_TRUE(taker->took_over);
  EXPECT_EQ(api_->renew_lock(id, grant->token).code(), ErrorCode::aborted);
  EXPECT_EQ(api_->renew_lock(generate_session_id(), grant->token).code(), ErrorCode::not_found);
}

TEST_P(StoreConformance, AnOwnersSessionsAreListedOldestFirstWithoutTheirIds) {
  const std::string first = make_owned(user("alice"));
  clock_.advance(5s);
  const std::string second = make_owned(user("alice"));
  make_owned(user("bob"));
  make_session(obj(R"({"user":"alice"})"));  // anonymous: not alice's
  auto listed = api_->list_owner_sessions(user("alice"));
  ASSERT_TRUE(listed) << listed.error().describe();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].key, session_key(first));
  EXPECT_EQ((*listed)[1].key, session_key(second));
  EXPECT_LT((*listed)[0].created, (*listed)[1].created);
  EXPECT_EQ((*listed)[0].user_agent, "conformance/1.0 (" + user("alice") + ")");
  for (const OwnerSession& s : *listed) {
    EXPECT_EQ(s.key.find(first), std::string::npos);
    EXPECT_EQ(s.key.find(second), std::string::npos);
  }
  EXPECT_TRUE(api_->list_owner_sessions(user("nobody"))->empty());
}

TEST_P(StoreConformance, LastSeenMovesWithWritesNotReads) {
  const std::string id = make_owned(user("alice"));
  const auto created = floor_seconds(clock_.now());
  clock_.advance(30s);
  ASSERT_TRUE(api_->get(id)->has_value());
  EXPECT_EQ((*api_->list_owner_sessions(user("alice")))[0].last_seen, created);
  ASSERT_TRUE(api_->touch(id, in(3600s)));
  EXPECT_EQ((*api_->list_owner_sessions(user("alice")))[0].last_seen, floor_seconds(clock_.now()));
}

TEST_P(StoreConformance, ListingLeavesOutSessionsThatEnded) {
  const std::string destroyed = make_owned(user("alice"));
  const std::string expiring = generate_session_id();
  NewSession s = owned(user("alice"));
  s.expires = in(60s);
  ASSERT_TRUE(api_->create(expiring, s));
  const std::string live = make_owned(user("alice"));
  ASSERT_TRUE(api_->destroy(destroyed));
  clock_.advance(61s);
  auto listed = api_->list_owner_sessions(user("alice"));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, session_key(live));
}

TEST_P(StoreConformance, DestroyingAnOwnersSessionsEndsThemAllAndNoOneElses) {
  const std::string a1 = make_owned(user("alice"));
  const std::string a2 = make_owned(user("alice"));
  const std::string b1 = make_owned(user("bob"));
  const std::string anon = make_session(obj(R"({"user":"alice"})"));
  auto ended = api_->destroy_owner_sessions(user("alice"));
  ASSERT_TRUE(ended) << ended.error().describe();
  EXPECT_EQ(*ended, 2u);
  EXPECT_FALSE(api_->get(a1)->has_value());
  EXPECT_FALSE(api_->get(a2)->has_value());
  EXPECT_TRUE(api_->get(b1)->has_value());
  EXPECT_TRUE(api_->get(anon)->has_value());
  EXPECT_TRUE(api_->list_owner_sessions(user("alice"))->empty());
  EXPECT_EQ(*api_->destroy_owner_sessions(user("alice")), 0u);
  EXPECT_EQ(*api_->destroy_owner_sessions(user("nobody")), 0u);
  // Signing in again afterwards works.
  clock_.advance(1s);
  const std::string again = make_owned(user("alice"));
  EXPECT_TRUE(api_->get(again)->has_value());
}

TEST_P(StoreConformance, DestroyingBySidEndsOnlyThatProviderSession) {
  const std::string s1 = make_owned(user("alice"), user("https://issuer sid-1"));
  const std::string s1b = make_owned(user("alice"), user("https://issuer sid-1"));
  const std::string s2 = make_owned(user("alice"), user("https://issuer sid-2"));
  auto ended = api_->destroy_sid_sessions(user("https://issuer sid-1"));
  ASSERT_TRUE(ended) << ended.error().describe();
  EXPECT_EQ(*ended, 2u);
  EXPECT_FALSE(api_->get(s1)->has_value());
  EXPECT_FALSE(api_->get(s1b)->has_value());
  EXPECT_TRUE(api_->get(s2)->has_value());
  EXPECT_EQ(*api_->destroy_sid_sessions(user("https://issuer sid-1")), 0u);
  ASSERT_EQ(api_->list_owner_sessions(user("alice"))->size(), 1u);
}

TEST_P(StoreConformance, TheCapPerOwnerEndsTheOldest) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(make_owned(user("alice"), {}, 3));
    clock_.advance(1s);
  }
  ids.push_back(make_owned(user("alice"), {}, 3));
  EXPECT_FALSE(api_->get(ids[0])->has_value()) << "the oldest ends";
  for (int i = 1; i < 4; ++i) EXPECT_TRUE(api_->get(ids[static_cast<std::size_t>(i)])->has_value()) << i;
  auto listed = *api_->list_owner_sessions(user("alice"));
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].key, session_key(ids[1]));
  EXPECT_EQ(listed.back().key, session_key(ids[3]));
}

TEST_P(StoreConformance, TheCapCountsOnlyLiveSessions) {
  const std::string gone = make_owned(user("alice"), {}, 2);
  const std::string kept = make_owned(user("alice"), {}, 2);
  ASSERT_TRUE(api_->destroy(gone));
  const std::string fresh = make_owned(user("alice"), {}, 2);
  EXPECT_TRUE(api_->get(kept)->has_value());
  EXPECT_TRUE(api_->get(fresh)->has_value());
}

TEST_P(StoreConformance, ASignInThatBeganBeforeARevocationIsRefused) {
  const std::string id = generate_session_id();
  NewSession s = owned(user("alice"));  // the sign-in begins now...
  ASSERT_TRUE(api_->destroy_owner_sessions(user("alice")));  // ...and the user logs out everywhere meanwhile
  auto st = api_->create(id, s);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::aborted);
  EXPECT_FALSE(api_->get(id)->has_value());
  clock_.advance(1s);
  EXPECT_TRUE(api_->create(generate_session_id(), owned(user("alice")))) << "a later sign-in is not affected";
}

TEST_P(StoreConformance, SignInsRacingARevocationAreRefusedOrRevokedNeverLeftAlive) {
  // The clock stands still: every sign-in begins no later than the revocation, so none may survive it.
  const int threads = GetParam().factory.threads;
  const int per_thread = std::max(2, GetParam().factory.iterations / 10);
  std::mutex mu;
  std::vector<std::string> created;
  std::atomic<int> unexpected{0};
  std::barrier sync(threads + 1, []() noexcept {});
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      sync.arrive_and_wait();
      for (int i = 0; i < per_thread; ++i) {
        const std::string id = generate_session_id();
        auto st = api_->create(id, owned(user("alice")));
        if (st) {
          std::lock_guard lock(mu);
          created.push_back(id);
        } else if (st.code() != ErrorCode::aborted) {
          ADD_FAILURE() << "a sign-in racing the revocation failed with " << st.error().describe();
          ++unexpected;
        }
      }
    });
  }
  sync.arrive_and_wait();
  auto revoked = api_->destroy_owner_sessions(user("alice"));
  for (auto& th : pool) th.join();
  ASSERT_TRUE(revoked) << revoked.error().describe();
  EXPECT_EQ(unexpected.load(), 0);
  for (const std::string& id : created) EXPECT_FALSE(api_->get(id)->has_value());
  EXPECT_TRUE(api_->list_owner_sessions(user("alice"))->empty());
}

TEST_P(StoreConformance, ConcurrentSignInsOfOneOwnerAreAllIndexed) {
  const int threads = GetParam().factory.threads;
  const int per_thread = std::max(2, GetParam().factory.iterations / 10);
  std::mutex mu;
  std::set<std::string> keys;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        const std::string id = make_owned(user("carol"));
        std::lock_guard lock(mu);
        keys.insert(session_key(id));
      }
    });
  }
  for (auto& th : pool) th.join();
  auto listed = api_->list_owner_sessions(user("carol"));
  ASSERT_TRUE(listed);
  std::set<std::string> listed_keys;
  for (const OwnerSession& s : *listed) listed_keys.insert(s.key);
  EXPECT_EQ(listed_keys, keys);
  EXPECT_EQ(*api_->destroy_owner_sessions(user("carol")), keys.size());
}

TEST_P(StoreConformance, OwnerAndSidAreChecked) {
  NewSession long_owner = owned(std::string(kMaxOwnerBytes + 1, 'a'));
  EXPECT_EQ(api_->create(generate_session_id(), long_owner).code(), ErrorCode::invalid_argument);
  NewSession sid_alone = anonymous(obj(R"({"a":1})"), in(60s));
  sid_alone.sid = "x";
  EXPECT_EQ(api_->create(generate_session_id(), sid_alone).code(), ErrorCode::invalid_argument);
  NewSession control = owned("al\nice-" + run_);
  EXPECT_EQ(api_->create(generate_session_id(), control).code(), ErrorCode::invalid_argument);
}

}  // namespace websession::testing
