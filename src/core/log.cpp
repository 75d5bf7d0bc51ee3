#include "websession/log.h"

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>

namespace websession {
namespace {

void to_stderr(LogLevel level, std::string_view message) {
  if (level < LogLevel::warning) return;
  std::fprintf(stderr, "websession: %s: %.*s\n", to_string(level).data(), static_cast<int>(message.size()),
               message.data());
}

struct Hook {
  std::mutex mutex;
  std::shared_ptr<const LogSink> sink = std::make_shared<const LogSink>(to_stderr);
  std::atomic<LogLevel> level{LogLevel::info};
};

Hook& hook() {
  static Hook* h = new Hook;  // NOLINT(cppcoreguidelines-owning-memory): used until exit, from any thread
  return *h;
}

}  // namespace

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
  }
  return "unknown";
}

void set_log_sink(LogSink sink) {
  auto next = std::make_shared<const LogSink>(sink ? std::move(sink) : LogSink(to_stderr));
  std::lock_guard lock(hook().mutex);
  hook().sink = std::move(next);
}

void set_log_level(LogLevel level) { hook().level.store(level, std::memory_order_relaxed); }

void log(LogLevel level, std::string_view message) {
  Hook& h = hook();
  if (level < h.level.load(std::memory_order_relaxed)) return;
  std::shared_ptr<const LogSink> sink;
  {
    std::lock_guard lock(h.mutex);
    sink = h.sink;
  }
  (*sink)(level, message);
}

}  // namespace websession
