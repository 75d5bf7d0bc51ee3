#include "websession/http/middleware.h"

#include <algorithm>
#include <stdexcept>

#include <boost/json/serialize.hpp>

#include "websession/log.h"
#include "websession/memory_session_store.h"
#include "websession/session_id.h"

namespace websession::http {
namespace {

void to_library_log(std::string_view line) { websession::log(LogLevel::warning, line); }

MiddlewareOptions checked(MiddlewareOptions options) {
  if (!is_cookie_name(options.cookie_name)) {
    throw std::invalid_argument("cookie_name must be a non-empty RFC 7230 token");
  }
  if (options.max_age.count() <= 0 || options.max_age > kMaxLifetime) {
    throw std::invalid_argument("max_age must be between 1 second and 10 years");
  }
  if (options.absolute_max_age.count() <= 0 || options.absolute_max_age > kMaxLifetime) {
    throw std::invalid_argument("absolute_max_age must be between 1 second and 10 years");
  }
  if (options.touch_below && (options.touch_below->count() < 0 || *options.touch_below > options.max_age)) {
    throw std::invalid_argument("touch_below must be between 0 and max_age");
  }
  if (options.production) options.cookie.secure = true;
  validate(options.cookie);
  if (options.cookie_name.starts_with("__Host-")) {
    // Browsers drop a __Host- cookie that is not Secure, has a Domain or another Path.
    if (!options.cookie.secure) throw std::invalid_argument("cookie_name: a __Host- cookie must be Secure (cookie.secure)");
    if (!options.cookie.domain.empty()) throw std::invalid_argument("cookie.domain: a __Host- cookie has no Domain");
    if (options.cookie.path != "/") throw std::invalid_argument("cookie.path: a __Host- cookie has Path=/");
  }
  if (options.cookie_name.starts_with("__Secure-") && !options.cookie.secure) {
    throw std::invalid_argument("cookie_name: a __Secure- cookie must be Secure (cookie.secure)");
  }
  if (!options.logger) options.logger = to_library_log;
  if (!options.clock) options.clock = system_now;
  return options;
}

std::shared_ptr<SessionStore> store_or_default(const MiddlewareOptions& options) {
  if (options.store) return options.store;
  if (options.production) {
    options.logger(
        "no session store configured in production; using the in-memory store, "
        "which loses sessions on restart and is not shared between instances");
  }
  MemorySessionStoreOptions memory;
  memory.clock = options.clock;
  auto store = std::make_shared<MemorySessionStore>(std::move(memory));
  if (auto st = store->init(); !st) {
    throw std::runtime_error("websession: the default memory store failed to start: " + st.error().describe());
  }
  return store;
}

}  // namespace

namespace {

SessionOptions session_options_of(const MiddlewareOptions& o) {
  SessionOptions s;
  s.max_age = o.max_age;
  s.touch_below = o.touch_below;
  s.absolute_max_age = o.absolute_max_age;
  s.max_sessions_per_owner = o.max_sessions_per_owner;
  s.clock = o.clock;
  return s;
}

CookieSigner signer_of(MiddlewareOptions& o) {
  CookieSigner signer(std::move(o.secrets));
  // The signer keeps keyed MAC states only; no copy of a secret stays in the options.
  o.secrets.clear();
  return signer;
}

}  // namespace

Middleware::Middleware(MiddlewareOptions options)
    : options_(checked(std::move(options))),
      store_(store_or_default(options_)),
      signer_(signer_of(options_)),
      session_options_(session_options_of(options_)) {}

std::optional<std::string_view> Middleware::find_verified_id(std::string_view cookie_header) const {
  std::optional<std::string_view> found;
  for (std::string_view value : cookie_values(cookie_header, options_.cookie_name)) {
    // The signature check comes first and costs one HMAC per secret; an ID-shaped value is then
    // required, so nothing but IDs we generated ever reaches the store.
    auto id = signer_.verify(options_.cookie_name, value);
    if (!id || !is_valid_session_id(*id)) continue;
    // Two validly signed sessions in one request: one of them was planted (cookie tossing from a
    // sibling subdomain, which a host-only cookie cannot prevent). Trust neither.
    if (found && *found != *id) return std::nullopt;
    found.emplace(*id);
  }
  return found;
}

std::optional<std::string> Middleware::verified_id(std::string_view cookie_header) const {
  auto id = find_verified_id(cookie_header);
  if (!id) return std::nullopt;
  return std::string(*id);
}

Result<RequestSession> Middleware::begin(std::string_view cookie_header) const {
  std::optional<std::string_view> id = find_verified_id(cookie_header);
  if (!id) return RequestSession(*this, Session(*store_, session_options_), false);
  Result<Session> loaded = Session::load(*store_, *id, session_options_);
  if (!loaded) return std::move(loaded).error();
  return RequestSession(*this, std::move(*loaded), true);
}

Task<Result<RequestSession>> Middleware::co_begin(std::string_view cookie_header) const {
  std::optional<std::string_view> id = find_verified_id(cookie_header);
  if (!id) co_return RequestSession(*this, Session(*store_, session_options_), false);
  Result<Session> loaded = co_await Session::co_load(*store_, *id, session_options_);
  if (!loaded) co_return std::move(loaded).error();
  co_return RequestSession(*this, std::move(*loaded), true);
}

std::string Middleware::session_cookie(std::string_view id, TimePoint expires) const {
  const auto left = std::chrono::ceil<std::chrono::seconds>(expires - options_.clock());
  return set_cookie_header(options_.cookie_name, signer_.sign(options_.cookie_name, id), options_.cookie,
                           std::max(left, std::chrono::seconds(0)));
}

std::string Middleware::clearing_cookie() const {
  return clear_cookie_header(options_.cookie_name, options_.cookie);
}

Result<std::optional<std::string>> RequestSession::cookie_after_save(Status saved) const {
  // A session that vanished between load and save (destroyed elsewhere, or expired) is not brought
  // back: save() made it new and empty and wrote nothing, and the cookie is cleared below.
  if (!saved && saved.code() != ErrorCode::not_found) return std::move(saved).error();
  if (session_.cookie_changed()) {
    if (!session_.id().empty()) {
      return std::optional<std::string>(middleware_->session_cookie(session_.id(), session_.expires()));
    }
    if (had_cookie_) return std::optional<std::string>(middleware_->clearing_cookie());
  }
  return std::optional<std::string>();
}

Result<std::optional<std::string>> RequestSession::finish() {
  if (session_.is_destroyed()) {
    if (had_cookie_ || session_.cookie_changed()) return std::optional<std::string>(middleware_->clearing_cookie());
    return std::optional<std::string>();
  }
  return cookie_after_save(session_.save());
}

Task<Result<std::optional<std::string>>> RequestSession::co_finish() {
  if (session_.is_destroyed()) {
    if (had_cookie_ || session_.cookie_changed()) co_return std::optional<std::string>(middleware_->clearing_cookie());
    co_return std::optional<std::string>();
  }
  co_return cookie_after_save(co_await session_.co_save());
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
