#include "websession/async.h"

#include <chrono>
#include <future>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

namespace websession {
namespace {

using namespace std::chrono_literals;

// A Task that waits on a timer of its own executor, then answers.
Task<Result<int>> wait_then(std::chrono::milliseconds d, int value) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable_t<Executor>{}));
  if (ec) co_return Error(ErrorCode::cancelled, "cancelled");
  co_return value;
}

TEST(RunBlocking, DrivesTheTaskOnTheCallingThread) {
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  Result<int> r = run_blocking([&]() -> Task<Result<int>> {
    ran_on = std::this_thread::get_id();
    co_return co_await wait_then(5ms, 7);
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(ran_on, caller);
}

TEST(RunBlocking, NestsInsideItself) {
  Result<int> outer = run_blocking([]() -> Task<Result<int>> {
    Result<int> inner = run_blocking([] { return wait_then(1ms, 2); });
    co_return *inner + 1;
  });
  ASSERT_TRUE(outer.ok());
  EXPECT_EQ(*outer, 3);
}

TEST(RunBlocking, RethrowsWhatTheTaskThrows) {
  EXPECT_THROW((void)run_blocking([]() -> Task<Result<int>> {
                 throw std::runtime_error("boom");
                 co_return 1;
               }),
               std::runtime_error);
}

TEST(AsyncRun, CompletesACallbackOnItsExecutor) {
  asio::io_context ioc;
  std::optional<int> got;
  std::thread::id ran_on;
  async_run<Result<int>>(Executor(), asio::bind_executor(ioc, [&](Result<int> r) {
                                       ran_on = std::this_thread::get_id();
                                       got = *r;
                                     }),
                         [] { return wait_then(1ms, 5); });
  ioc.run();
  EXPECT_EQ(got, 5);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(AsyncRun, UseFutureRunsOnTheFallbackExecutor) {
  asio::io_context ioc;
  auto work = asio::make_work_guard(ioc);
  std::thread runner([&] { ioc.run(); });
  std::future<Result<int>> f =
      async_run<Result<int>>(Executor(ioc.get_executor()), asio::use_future, [] { return wait_then(1ms, 9); });
  Result<int> r = f.get();
  work.reset();
  runner.join();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 9);
}

TEST(AsyncRun, UseFutureWithoutExecutorUsesTheDefaultOne) {
  std::future<Result<int>> f = async_run<Result<int>>(Executor(), asio::use_future, [] { return wait_then(1ms, 4); });
  EXPECT_EQ(*f.get(), 4);
}

TEST(AsyncRun, WorksFromACoroutine) {
  asio::io_context ioc;
  std::optional<int> got;
  asio::co_spawn(
      ioc,
      [&]() -> Task<void> {
        Result<int> r = co_await async_run<Result<int>>(Executor(), asio::use_awaitable_t<Executor>{},
                                                         [] { return wait_then(1ms, 11); });
        got = *r;
      },
      asio::detached);
  ioc.run();
  EXPECT_EQ(got, 11);
}

TEST(AsyncRun, CancellationReachesTheTask) {
  asio::io_context ioc;
  asio::cancellation_signal signal;
  std::optional<Result<int>> got;
  async_run<Result<int>>(Executor(), asio::bind_cancellation_slot(signal.slot(), asio::bind_executor(ioc, [&](Result<int> r) {
                                                                  got.emplace(std::move(r));
                                                                })),
                         [] { return wait_then(10s, 1); });
  asio::steady_timer t(ioc, 5ms);
  t.async_wait([&](auto) { signal.emit(asio::cancellation_type::terminal); });
  const auto start = std::chrono::steady_clock::now();
  ioc.run();
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->ok());
  EXPECT_EQ(got->code(), ErrorCode::cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(AsyncRun, AnExceptionBecomesAnInternalError) {
  asio::io_context ioc;
  std::optional<Result<int>> got;
  async_run<Result<int>>(Executor(), asio::bind_executor(ioc, [&](Result<int> r) { got.emplace(std::move(r)); }),
                         []() -> Task<Result<int>> {
                           throw std::runtime_error("boom");
                           co_return 1;
                         });
  ioc.run();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->code(), ErrorCode::internal);
}

}  // namespace
}  // namespace websession
