// Asynchronous operations, the Asio way: websession's I/O is written once, as C++20 coroutines
// (Task<T>), and offered three ways:
//
// - as an Asio initiating function, `async_x(args..., token)`, which takes any completion token:
//   a callback, `asio::use_future`, `asio::use_awaitable`, `asio::deferred`, ... The handler runs
//   on its associated executor. The I/O runs on that executor too when it is an I/O executor (an
//   io_context's, or a strand of one); otherwise (a plain callback, use_future) on the object's
//   configured executor, or, when none is configured, on default_executor().
// - as a coroutine, `co_x(args...)`, for code that already runs in a Task on an I/O executor: no
//   spawn, no allocation beyond the coroutine frame. Arguments passed by reference or view must
//   outlive the co_await.
// - blocking, `x(args...)`, for thread-per-request servers (cpp-httplib): run_blocking() drives the
//   coroutine on the calling thread's own io_context; no other thread is involved.
//
// Cancellation follows Asio: a completion handler's cancellation slot (asio::bind_cancellation_slot,
// or a coroutine's cancellation state) reaches every wait inside the operation, which then completes
// with ErrorCode::cancelled.
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/system_context.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/asio/this_coro.hpp>

#include "websession/result.h"

namespace websession {

namespace asio = boost::asio;

/// The executor websession's I/O runs on.
using Executor = asio::any_io_executor;

/// A coroutine of websession's: `co_await` it from another Task.
template <class T>
using Task = asio::awaitable<T, Executor>;

/// The executor for asynchronous calls that have none of their own (see the top of this header): a
/// process-wide io_context run by one thread that websession starts on first use and that lives
/// until the process exits. Servers that run their own io_context never need it: give that
/// context's executor to the objects you create, or call with handlers bound to it.
Executor default_executor();

namespace detail {

/// The io_context that run_blocking() drives on the calling thread: the thread's own (created on
/// first use, destroyed when the thread exits, with the keep-alive connections it holds), or a
/// fresh one when the thread is already inside run_blocking() (a nested blocking call).
class BlockingContext {
 public:
  BlockingContext();
  ~BlockingContext();
  BlockingContext(const BlockingContext&) = delete;
  BlockingContext& operator=(const BlockingContext&) = delete;

  [[nodiscard]] Executor executor() const { return context_->get_executor(); }
  /// Runs the context until it has no more work.
  void run();

 private:
  asio::io_context* context_;
  std::optional<asio::io_context> nested_;
  bool owns_thread_context_ = false;
};

/// The error a coroutine's escaped exception becomes.
Error exception_error(const std::exception_ptr& e);

/// True when `ex` can run I/O: its context is not the system context (plain callbacks and
/// use_future have system-context executors).
template <class Ex>
bool is_io_executor(const Ex& ex) {
  if constexpr (!std::is_convertible_v<Ex, Executor>) {
    return false;
  } else {
    auto& context = asio::query(ex, asio::execution::context);
    return static_cast<asio::execution_context*>(&context) !=
           static_cast<asio::execution_context*>(&asio::query(asio::system_executor(), asio::execution::context));
  }
}

/// The executor an operation started with `handler` does its I/O on: the handler's own when that is
/// an I/O executor, else `fallback`, else default_executor().
template <class Handler>
Executor io_executor_for(const Handler& handler, const Executor& fallback) {
  auto ex = asio::get_associated_executor(handler, asio::system_executor());
  if constexpr (std::is_convertible_v<decltype(ex), Executor>) {
    if (is_io_executor(ex)) return Executor(ex);
  }
  if (fallback) return fallback;
  return default_executor();
}

}  // namespace detail

/// Runs the Task that `make()` returns to completion on the calling thread, and returns its result:
/// the driver of every blocking call. The Task runs on the thread's own io_context, so I/O objects
/// it creates (pooled connections) stay with this thread. Safe to nest. Must not be called from a
/// coroutine or handler running on an io_context whose progress it would need (it would block that
/// thread until the Task is done).
template <class MakeTask>
auto run_blocking(MakeTask&& make) -> typename decltype(make())::value_type {
  using T = typename decltype(make())::value_type;
  detail::BlockingContext context;
  std::optional<T> result;
  std::exception_ptr failure;
  asio::co_spawn(
      context.executor(),
      [&]() -> Task<void> { result.emplace(co_await make()); },
      [&](std::exception_ptr e) { failure = e; });
  context.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

/// Starts the Task that `make()` returns as an asynchronous operation with completion signature
/// void(T), completing `token`. `make` is kept alive until the Task is done, so the Task may refer
/// to what `make` owns. An exception escaping the Task completes it with exception_error() when T
/// is a Result, and is rethrown from the executor's run() otherwise.
template <class T, class CompletionToken, class MakeTask>
auto async_run(Executor fallback, CompletionToken&& token, MakeTask make) {
  return asio::async_initiate<CompletionToken, void(T)>(
      [](auto handler, Executor fallback_executor, MakeTask make_task) {
        Executor io = detail::io_executor_for(handler, fallback_executor);
        auto slot = asio::get_associated_cancellation_slot(handler);
        asio::co_spawn(
            io,
            [handler = std::move(handler), make_task = std::move(make_task)]() mutable -> Task<void> {
              std::optional<T> result;
              try {
                result.emplace(co_await make_task());
              } catch (...) {
                if constexpr (std::is_constructible_v<T, Error>) {
                  result.emplace(detail::exception_error(std::current_exception()));
                } else {
                  throw;
                }
              }
              auto ex = asio::get_associated_executor(handler, co_await asio::this_coro::executor);
              asio::dispatch(ex, [handler = std::move(handler), value = std::move(*result)]() mutable {
                std::move(handler)(std::move(value));
              });
            },
            asio::bind_cancellation_slot(slot, [](std::exception_ptr e) {
              if (e) std::rethrow_exception(e);
            }));
      },
      token, std::move(fallback), std::move(make));
}

}  // namespace websession
