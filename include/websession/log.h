// The library's log hook. websession reports what an operator should know (a table without TTL, a
// malformed item, a production setup on the memory store) through one process-wide sink; by default
// warnings and errors go to standard error. Messages never contain secrets, credentials, tokens or
// session IDs.
//
//   websession::set_log_sink([](websession::LogLevel level, std::string_view message) {
//     spdlog::log(level == websession::LogLevel::error ? spdlog::level::err : spdlog::level::warn, "{}", message);
//   });
#pragma once

#include <functional>
#include <string_view>

namespace websession {

enum class LogLevel { debug, info, warning, error };

/// "debug", "info", "warning" or "error".
std::string_view to_string(LogLevel level) noexcept;

/// Receives one message at a time (a line without its newline). Called from any thread; must be
/// thread-safe and should not block for long.
using LogSink = std::function<void(LogLevel level, std::string_view message)>;

/// Replaces the sink; an empty one restores the default (warnings and errors to standard error).
/// Thread-safe.
void set_log_sink(LogSink sink);

/// Messages below this level are dropped before reaching the sink (default: info).
void set_log_level(LogLevel level);

/// Sends a message to the sink.
void log(LogLevel level, std::string_view message);

}  // namespace websession
