// The store conformance suite: one set of tests, written against the SessionStore interface, run
// against every store, through the blocking API and through the asynchronous one (Asio initiating
// functions completing on an io_context). A store's test file instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance, conformance_params(StoreFactory{...}),
//                            ConformanceParamName{});
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/fake_clock.h"
#include "websession/session_store.h"

namespace websession::testing {

struct StoreTestOptions {
  Clock clock;
  std::chrono::milliseconds max_lock_time{10'000};
};

struct StoreFactory {
  std::string name;
  /// A new store, or nullptr when its backend is not available (the tests then fail, or skip when
  /// WEBSESSION_SKIP_DYNAMODB_TESTS=1).
  std::function<std::unique_ptr<SessionStore>(const StoreTestOptions&)> make;
  /// Scale for the concurrency tests (threads x iterations): lower for slower backends.
  int threads = 8;
  int iterations = 50;
  int lock_rounds = 30;
};

/// Which API the tests call.
enum class ApiMode { blocking, async };

struct ConformanceParam {
  StoreFactory factory;
  ApiMode mode = ApiMode::blocking;
};

/// The factory through both APIs.
::testing::internal::ParamGenerator<ConformanceParam> conformance_params(const StoreFactory& factory);

/// gtest prints the parameter by its name, not its bytes.
void PrintTo(const ConformanceParam& param, std::ostream* os);

struct ConformanceParamName {
  std::string operator()(const ::testing::TestParamInfo<ConformanceParam>& info) const;
};

/// The store's operations through one API: blocking calls, or async_x() with a handler bound to a
/// fresh io_context that the calling thread runs until the operation completes. Thread-safe.
class StoreApi {
 public:
  StoreApi(SessionStore& store, ApiMode mode) : store_(store), mode_(mode) {}

  Result<std::optional<SessionRecord>> get(std::string_view id);
  Status create(std::string_view id, const NewSession& session);
  Status update(std::string_view id, const Fields& set_fields, const std::vector<std::string>& remove_names,
                const WriteOptions& options = {});
  Status set(std::string_view id, const Fields& fields, const WriteOptions& options = {}) {
    return update(id, fields, {}, options);
  }
  Status unset(std::string_view id, const std::vector<std::string>& names) { return update(id, Fields{}, names); }
  Result<std::int64_t> increment(std::string_view id, std::string_view field, std::int64_t delta,
                                 const WriteOptions& options = {});
  Status touch(std::string_view id, TimePoint expires);
  Status destroy(std::string_view id);
  Result<LockGrant> lock(std::string_view id, const Value& verification_value);
  Status unlock(std::string_view id, std::string_view token);
  Status renew_lock(std::string_view id, std::string_view token);
  Result<std::vector<OwnerSession>> list_owner_sessions(std::string_view owner);
  Result<std::size_t> destroy_owner_sessions(std::string_view owner);
  Result<std::size_t> destroy_sid_sessions(std::string_view sid);

 private:
  SessionStore& store_;
  ApiMode mode_;
};

class StoreConformance : public ::testing::TestWithParam<ConformanceParam> {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// An anonymous session with `data`: idle expiry `expires`, absolute in 12 hours.
  NewSession anonymous(const Fields& data, TimePoint expires) const;
  /// A session of `owner` created now, expiring in an hour.
  NewSession owned(const std::string& owner, const Fields& data = {}, const std::string& sid = {}) const;
  /// A new anonymous session with `data`, expiring in an hour; returns its ID.
  std::string make_session(const Fields& data);
  /// A new session of `owner`; returns its ID.
  std::string make_owned(const std::string& owner, const std::string& sid = {}, std::size_t cap = 0);
  TimePoint in(std::chrono::seconds s) const { return floor_seconds(clock_.now() + s); }
  /// `name` made unique to this test run: backends shared by many tests keep owners apart.
  std::string user(const std::string& name) const;

  FakeClock clock_;
  std::unique_ptr<SessionStore> store_;
  std::unique_ptr<StoreApi> api_;
  std::string run_;
};

}  // namespace websession::testing
