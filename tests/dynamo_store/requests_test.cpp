// The DynamoDB store's pure layer: requests and the interpretation of answers, without a server.
#include "dynamo_store/requests.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "dynamo_store/layout.h"
#include "websession/session_id.h"

namespace websession::dynamo {
namespace {

using namespace std::chrono_literals;
using ddb::AttributeMap;
using ddb::AttributeValue;

const Now kNow{1'700'000'000, 1'700'000'000'123};

Requests requests() { return Requests("sessions", "refresh_token", 10'000ms); }

AttributeMap session_item(std::int64_t expires, AttributeMap data) {
  return AttributeMap{{kId, AttributeValue::string("k")},
                      {kExpires, AttributeValue::number(expires)},
                      {kAbsolute, AttributeValue::number(expires + 100)},
                      {kCreated, AttributeValue::number(kNow.millis - 5000)},
                      {kLastSeen, AttributeValue::number(kNow.seconds - 5)},
                      {kData, AttributeValue::map(std::move(data))}};
}

TEST(Requests, AWriteIsConditionedOnALiveSessionAndTheAbsoluteEnd) {
  WriteOptions write;
  write.expires = TimePoint(std::chrono::seconds(kNow.seconds + 600));
  auto r = requests().update("k", Fields{{"a", 1}}, {"b"}, write, kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->key.at(kId).as_string(), "k");
  EXPECT_NE(r->update_expression.find("SET #d.#f0 = :v0"), std::string::npos) << r->update_expression;
  EXPECT_NE(r->update_expression.find("REMOVE #d.#f1"), std::string::npos) << r->update_expression;
  ASSERT_TRUE(r->condition_expression);
  EXPECT_NE(r->condition_expression->find("attribute_exists(#d)"), std::string::npos);
  EXPECT_NE(r->condition_expression->find("#ab >= "), std::string::npos);
  EXPECT_EQ(r->expression_attribute_names.at("#f0"), "a");
  EXPECT_EQ(r->expression_attribute_names.count("#lo"), 0u) << "unused names are not sent";
}

TEST(Requests, NothingToWriteIsNoRequest) {
  EXPECT_FALSE(requests().update("k", Fields{}, {}, WriteOptions{}, kNow));
  WriteOptions locked;
  locked.lock_token = "t";
  auto r = requests().update("k", Fields{}, {}, locked, kNow);
  ASSERT_TRUE(r) << "a lock-only write still checks the lock";
  EXPECT_NE(r->update_expression.find("#lo = "), std::string::npos);
}

TEST(Requests, ACreateNeverReplacesALiveOrRevokedSession) {
  NewSession s;
  s.data = Fields{{"a", 1}};
  s.created = TimePoint(std::chrono::milliseconds(kNow.millis));
  s.expires = TimePoint(std::chrono::seconds(kNow.seconds + 6000));
  s.absolute_expires = TimePoint(std::chrono::seconds(kNow.seconds + 600));
  s.owner = "alice";
  s.user_agent = "UA\x01";
  auto r = requests().create("k", s, kNow);
  EXPECT_EQ(r.item.at(kExpires).as_number(), std::to_string(kNow.seconds + 600)) << "clamped to the absolute end";
  EXPECT_EQ(r.item.at(kOwner).as_string(), "alice");
  EXPECT_EQ(r.item.at(kUserAgent).as_string(), "UA");
  ASSERT_TRUE(r.condition_expression);
  EXPECT_NE(r.condition_expression->find("attribute_not_exists(#rv)"), std::string::npos);
}

TEST(Requests, IndexKeysAreHashedAndNeverLookLikeSessionKeys) {
  const std::string k = owner_index_key("alice@example.com");
  EXPECT_EQ(k.rfind("owner#", 0), 0u);
  EXPECT_EQ(k.find("alice"), std::string::npos);
  EXPECT_NE(owner_index_key("x"), sid_index_key("x"));
  EXPECT_EQ(session_key(generate_session_id()).find('#'), std::string::npos);
}

TEST(Requests, AnIndexEntryIsRefusedAfterARevocation) {
  NewSession s;
  s.created = TimePoint(std::chrono::milliseconds(kNow.millis));
  s.absolute_expires = TimePoint(std::chrono::seconds(kNow.seconds + 600));
  auto r = requests().index_add("owner#x", "k", s);
  EXPECT_EQ(r.return_values, ddb::ReturnValues::all_old);
  ASSERT_TRUE(r.condition_expression);
  EXPECT_NE(r.condition_expression->find("#ra < "), std::string::npos);
  EXPECT_EQ(r.expression_attribute_names.at("#f0"), "s:k");
}

TEST(Decode, ReadsLiveEndedRevokedAndCorruptItems) {
  EXPECT_EQ(decode_session("id", std::nullopt, kNow).state, Decoded::State::absent);
  auto live = decode_session("id", session_item(kNow.seconds + 10, {{"a", AttributeValue::number(std::int64_t{1})}}), kNow);
  ASSERT_EQ(live.state, Decoded::State::live);
  EXPECT_EQ(live.record.id, "id");
  EXPECT_EQ(live.record.data.at("a").as_int64(), 1);
  EXPECT_EQ(decode_session("id", session_item(kNow.seconds, {}), kNow).state, Decoded::State::ended);
  AttributeMap tomb{{kId, AttributeValue::string("k")}, {kRevoked, AttributeValue::boolean(true)},
                    {kExpires, AttributeValue::number(kNow.seconds + 3600)}};
  EXPECT_EQ(decode_session("id", tomb, kNow).state, Decoded::State::revoked);
  AttributeMap corrupt{{kId, AttributeValue::string("k")}, {kExpires, AttributeValue::string("soon")}};
  EXPECT_EQ(decode_session("id", corrupt, kNow).state, Decoded::State::corrupt);
}

TEST(Decode, AnExpiryInMillisecondsDoesNotOverflow) {
  // Another tool wrote epoch milliseconds where seconds belong: far in the future, but readable.
  auto d = decode_session("id", session_item(std::int64_t{9'000'000'000'000'000'000}, {}), kNow);
  EXPECT_EQ(d.state, Decoded::State::live);
  EXPECT_GT(d.record.expires, TimePoint(std::chrono::seconds(kNow.seconds)));
}

TEST(Diagnose, NumbersCompareByValueAsDynamoDbStoresThem) {
  // DynamoDB normalizes 3.0 to 3: a retried write of 3.0 finds 3 stored, and that is its own write.
  EXPECT_TRUE(same_stored_value(Value(3.0), Value(3)));
  EXPECT_TRUE(same_stored_value(boost::json::parse(R"({"a":[1.0,{"b":2.50}]})"),
                                boost::json::parse(R"({"a":[1,{"b":2.5}]})")));
  EXPECT_FALSE(same_stored_value(Value(3.5), Value(3)));
  EXPECT_FALSE(same_stored_value(Value("3"), Value(3)));
  Decoded d = decode_session("id", session_item(kNow.seconds + 10, {{"x", AttributeValue::number(std::int64_t{3})}}), kNow);
  WriteOptions released;
  released.lock_token = "t";
  released.release_lock = true;
  EXPECT_TRUE(shows_write(d, Fields{{"x", 3.0}}, {}, released));
  EXPECT_EQ(diagnose_write(d, released, true).kind, WriteVerdict::Kind::ok);
}

TEST(Diagnose, AWriteBeyondTheAbsoluteEndIsRetriedClamped) {
  Decoded d = decode_session("id", session_item(kNow.seconds + 10, {}), kNow);
  WriteOptions write;
  write.expires = TimePoint(std::chrono::seconds(kNow.seconds + 10'000));
  const WriteVerdict v = diagnose_write(d, write, false);
  EXPECT_EQ(v.kind, WriteVerdict::Kind::retry_clamped);
  EXPECT_EQ(v.expires, d.record.absolute_expires);
  WriteOptions lost;
  lost.lock_token = "mine";
  EXPECT_EQ(diagnose_write(d, lost, false).kind, WriteVerdict::Kind::aborted);
  EXPECT_EQ(diagnose_write(Decoded{}, write, false).kind, WriteVerdict::Kind::not_found);
}

TEST(Diagnose, ALockRefusalSaysWhy) {
  Decoded d = decode_session("id", session_item(kNow.seconds + 10, {{"refresh_token", AttributeValue::string("r1")}}), kNow);
  EXPECT_EQ(refused_lock(d, "refresh_token", Value("r1")).code, ErrorCode::lock_held);
  EXPECT_EQ(refused_lock(d, "refresh_token", Value("r2")).code, ErrorCode::verification_mismatch);
  EXPECT_EQ(refused_lock(Decoded{}, "refresh_token", Value("r1")).code, ErrorCode::not_found);
}

TEST(Diagnose, ACreateRecognisesItsOwnEarlierAttempt) {
  NewSession s;
  s.data = Fields{{"n", 1.0}};
  s.created = TimePoint(std::chrono::milliseconds(kNow.millis - 5000));
  Decoded d = decode_session("id", session_item(kNow.seconds + 10, {{"n", AttributeValue::number(std::int64_t{1})}}), kNow);
  EXPECT_TRUE(diagnose_create(d, s));
  s.created += 1ms;
  EXPECT_EQ(diagnose_create(d, s).code(), ErrorCode::already_exists);
}

TEST(Diagnose, ACreateThatFindsATombstoneWasRevokedWhileBeingCreated) {
  // destroy_owner_sessions() read the index (which holds the session before it exists) and wrote
  // the session's tombstone first: the sign-in lost the race to the revocation.
  AttributeMap tomb{{kId, AttributeValue::string("k")}, {kRevoked, AttributeValue::boolean(true)},
                    {kExpires, AttributeValue::number(kNow.seconds + 3600)}};
  NewSession s;
  s.owner = "alice";
  const Status st = diagnose_create(decode_session("id", tomb, kNow), s);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::aborted);
}

TEST(Decode, IndexEntriesComeOldestFirst) {
  AttributeMap item{{kId, AttributeValue::string("owner#x")},
                    {kRevokedAt, AttributeValue::number(std::int64_t{5})},
                    {"s:new", AttributeValue::map({{"c", AttributeValue::number(std::int64_t{20})},
                                                   {"a", AttributeValue::number(std::int64_t{99})}})},
                    {"s:old", AttributeValue::map({{"c", AttributeValue::number(std::int64_t{10})},
                                                   {"a", AttributeValue::number(std::int64_t{98})}})}};
  Index index = decode_index(item);
  ASSERT_EQ(index.entries.size(), 2u);
  EXPECT_EQ(index.entries[0].key, "old");
  EXPECT_EQ(index.entries[1].absolute, 99);
  EXPECT_EQ(index.revoked_at, 5);
}

}  // namespace
}  // namespace websession::dynamo
