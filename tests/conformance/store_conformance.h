// The store conformance suite: one set of tests, written against the SessionStore interface, run
// against every store. A store's test file instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance, ::testing::Values(StoreFactory{...}),
//                            StoreFactoryName{});
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

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

/// gtest prints the parameter by its name, not its bytes.
inline void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }

struct StoreFactoryName {
  std::string operator()(const ::testing::TestParamInfo<StoreFactory>& info) const { return info.param.name; }
};

class StoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// A new session with `data`, expiring in an hour; returns its ID.
  std::string make_session(const Fields& data);
  TimePoint in(std::chrono::seconds s) const { return floor_seconds(clock_.now() + s); }

  FakeClock clock_;
  std::unique_ptr<SessionStore> store_;
};

}  // namespace websession::testing
