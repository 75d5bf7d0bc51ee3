#include "websession/http/middleware.h"

#include <iostream>
#include <stdexcept>

#include <boost/json/serialize.hpp>

#include "websession/memory_session_store.h"
#include "websession/session_id.h"

namespace websession::http {
namespace {

void log_to_stderr(std::string_view line) { std::cerr << line << '\n'; }

MiddlewareOptions checked(MiddlewareOptions options) {
  if (!is_cookie_name(options.cookie_name)) {
    throw std::invalid_argument("cookie_name must be a non-empty RFC 7230 token");
  }
  if (options.max_age.count() <= 0) throw std::invalid_argument("max_age must be > 0");
  if (options.touch_below && (options.touch_below->count() < 0 || *options.touch_below > options.max_age)) {
    throw std::invalid_argument("touch_below must be between 0 and max_age");
  }
  if (options.production) options.cookie.secure = true;
  validate(options.cookie);
  if (!options.logger) options.logger = log_to_stderr;
  if (!options.clock) options.clock = system_now;
  return options;
}

std::shared_ptr<SessionStore> store_or_default(const MiddlewareOptions& options) {
  if (options.store) return options.store;
  if (options.production) {
    options.logger(
        "websession: warning: no session store configured in production; using the in-memory store, "
        "which loses sessions on restart and is not shared between instances");
  }
  auto store = std::make_shared<MemorySessionStore>(MemorySessionStoreOptions{.clock = options.clock});
  if (auto st = store->init(); !st) {
    throw std::runtime_error("websession: the default memory store failed to start: " + st.error().describe());
  }
  return store;
}

}  // namespace

Middleware::Middleware(MiddlewareOptions options)
    : options_(checked(std::move(options))),
      store_(store_or_default(options_)),
      signer_(options_.secrets),
      session_options_{options_.max_age, options_.touch_below, options_.clock} {}

std::optional<std::string> Middleware::verified_id(std::string_view cookie_header) const {
  for (std::string_view value : cookie_values(cookie_header, options_.cookie_name)) {
    // The signature check comes first and costs one HMAC per secret; an ID-shaped value is then
    // required, so nothing but IDs we generated ever reaches the store.
    if (auto id = signer_.verify(options_.cookie_name, value); id && is_valid_session_id(*id)) {
      return std::string(*id);
    }
  }
  return std::nullopt;
}

Result<RequestSession> Middleware::begin(std::string_view cookie_header) const {
  std::optional<std::string> id = verified_id(cookie_header);
  if (!id) return RequestSession(*this, Session(*store_, session_options_), false);
  Result<Session> loaded = Session::load(*store_, *id, session_options_);
  if (!loaded) return std::move(loaded).error();
  return RequestSession(*this, std::move(*loaded), true);
}

std::string Middleware::session_cookie(std::string_view id) const {
  return set_cookie_header(options_.cookie_name, signer_.sign(options_.cookie_name, id), options_.cookie,
                           options_.max_age);
}

std::string Middleware::clearing_cookie() const {
  return clear_cookie_header(options_.cookie_name, options_.cookie);
}

Result<std::optional<std::string>> RequestSession::finish() {
  if (session_.is_destroyed()) {
    if (had_cookie_ || session_.cookie_changed()) return std::optional<std::string>(middleware_->clearing_cookie());
    return std::optional<std::string>();
  }
  Status saved = session_.save();
  // A session that vanished between load and save (destroyed elsewhere, or expired) is not brought
  // back: save() made it new and empty and wrote nothing, and the cookie is cleared below.
  if (!saved && saved.code() != ErrorCode::not_found) return std::move(saved).error();
  if (session_.cookie_changed()) {
    if (!session_.id().empty()) return std::optional<std::string>(middleware_->session_cookie(session_.id()));
    if (had_cookie_) return std::optional<std::string>(middleware_->clearing_cookie());
  }
  return std::optional<std::string>();
}

int http_status(const Error& error) noexcept {
  switch (error.code) {
    case ErrorCode::unavailable:
    case ErrorCode::cancelled:
      return 503;
    case ErrorCode::invalid_argument:
      return 400;
    case ErrorCode::not_found:
      return 404;
    case ErrorCode::lock_held:
    case ErrorCode::verification_mismatch:
    case ErrorCode::aborted:
    case ErrorCode::already_exists:
      return 409;
    case ErrorCode::permission_denied:
    case ErrorCode::internal:
      return 500;
  }
  return 500;
}

std::string error_body(std::string_view code, std::string_view message) {
  boost::json::object o;
  o["error"] = code;
  o["message"] = message;
  return boost::json::serialize(o);
}

std::string error_body(const Error& error) {
  // Clients get a stable code and a generic message; the store's own message (table names,
  // endpoints) stays in the server's logs.
  std::string_view message;
  switch (error.code) {
    case ErrorCode::unavailable:
      message = "the session store is unavailable; try again later";
      break;
    case ErrorCode::invalid_argument:
      message = "the session data was refused";
      break;
    case ErrorCode::lock_held:
      message = "the session is busy; try again";
      break;
    default:
      message = "the session could not be processed";
      break;
  }
  return error_body(to_string(error.code), message);
}

}  // namespace websession::http
