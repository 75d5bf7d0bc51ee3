#include "websession/async.h"

#include <thread>

#include <boost/asio/executor_work_guard.hpp>

namespace websession {
namespace {

// One per thread, created on first use; its pooled connections close when the thread exits.
struct ThreadContext {
  asio::io_context context{1};
  bool running = false;
};

ThreadContext& thread_context() {
  thread_local ThreadContext context;
  return context;
}

// The fallback I/O thread. Deliberately never destroyed: it may still hold connections when static
// destructors run, and the OS reclaims all of it at exit.
struct DefaultContext {
  asio::io_context context{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{context.get_executor()};
  std::thread thread{[this] { context.run(); }};
};

}  // namespace

Executor default_executor() {
  static DefaultContext* context = [] {
    auto* c = new DefaultContext;  // NOLINT(cppcoreguidelines-owning-memory): lives until exit
    c->thread.detach();
    return c;
  }();
  return context->context.get_executor();
}

namespace detail {

BlockingContext::BlockingContext() {
  ThreadContext& tc = thread_context();
  if (tc.running) {
    nested_.emplace(1);
    context_ = &*nested_;
  } else {
    tc.running = true;
    owns_thread_context_ = true;
    context_ = &tc.context;
  }
}

BlockingContext::~BlockingContext() {
  if (owns_thread_context_) thread_context().running = false;
}

void BlockingContext::run() {
  context_->restart();
  context_->run();
}

Error exception_error(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return Error(ErrorCode::internal, std::string("unexpected exception: ") + ex.what());
  } catch (...) {
    return Error(ErrorCode::internal, "unexpected exception");
  }
}

}  // namespace detail
}  // namespace websession
