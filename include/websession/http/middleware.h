// The framework-neutral session middleware: reads the signed session cookie, loads the session,
// hands it to the request handler, saves what changed and says which Set-Cookie header to send.
// The cpp-httplib and Boost.Beast adapters (httplib.h, beast.h) are thin layers over this.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "websession/async.h"
#include "websession/http/cookie.h"
#include "websession/result.h"
#include "websession/session.h"
#include "websession/session_store.h"

namespace websession::http {

/// Receives the middleware's warnings (one line each, never containing secrets or session IDs).
using Logger = std::function<void(std::string_view)>;

struct MiddlewareOptions {
  /// Where sessions live. Default (nullptr): a MemorySessionStore, fine for development and tests;
  /// with `production` set a warning says to configure a shared store.
  std::shared_ptr<SessionStore> store;
  /// The cookie's name; an RFC 7230 token. A name starting with "__Host-" makes the browser refuse
  /// the cookie unless it is Secure, host-only and for Path=/ (so no sibling subdomain can plant
  /// one): the middleware then requires `cookie.secure` (or `production`), an empty `cookie.domain`
  /// and `cookie.path` "/". Recommended in production.
  std::string cookie_name = "sessionId";
  /// A session's idle lifetime after its last write or touch (the cookie's Max-Age follows the
  /// session's expiry). 1 s to kMaxLifetime.
  std::chrono::seconds max_age{1200};
  /// A session's absolute lifetime from its creation or sign-in (see SessionOptions).
  std::chrono::seconds absolute_max_age{12 * 3600};
  /// At most this many sessions per owner; 0: no cap (see SessionOptions).
  std::size_t max_sessions_per_owner = 0;
  /// Rolling expiry is lazy: a request that changes nothing rewrites the expiry only when less than
  /// this much lifetime is left. Default: three quarters of max_age (see SessionOptions).
  std::optional<std::chrono::seconds> touch_below;
  /// Path, Domain, HttpOnly, SameSite. `cookie.secure` is forced on when `production` is set.
  CookieAttributes cookie;
  /// Cookie signing secrets, each at least 32 bytes: the first signs, all verify. Required. The
  /// middleware keeps only keyed MAC states, never the secrets: Middleware::options() has this empty.
  std::vector<std::string> secrets;
  /// Production mode: Secure cookies, and a warning for the default memory store.
  bool production = false;
  /// Where warnings go. Default: the library's log (websession/log.h), as warnings.
  Logger logger;
  /// The clock for expiry; the store's clock should be the same. Default: the system clock.
  Clock clock;
};

class Middleware;

/// One request's session, from Middleware::begin() to finish(). Movable, not thread-safe.
class RequestSession {
 public:
  /// The session: read it, change it, regenerate(), destroy(), increment(), refresh_with_lock().
  [[nodiscard]] Session& session() noexcept { return session_; }
  [[nodiscard]] const Session& session() const noexcept { return session_; }
  Session* operator->() noexcept { return &session_; }
  Session& operator*() noexcept { return session_; }

  /// True when the request carried a validly signed session cookie (whether or not the session
  /// still exists).
  [[nodiscard]] bool had_cookie() const noexcept { return had_cookie_; }

  /// Saves what the handler changed (nothing when nothing did, except a lazy touch) and returns the
  /// Set-Cookie header value to send, if any: the signed ID when the session is new or its expiry
  /// moved, a clearing cookie (Max-Age=0) after destroy(). A session that vanished from the store
  /// meanwhile (destroyed elsewhere, or expired) is not brought back: this request's changes to it
  /// are dropped and the cookie is cleared. Errors: the store's (unavailable: answer 503).
  Result<std::optional<std::string>> finish();
  /// finish() for code in a Task.
  Task<Result<std::optional<std::string>>> co_finish();
  /// finish() as an Asio initiating function; the RequestSession must outlive the operation.
  template <class CompletionToken>
  auto async_finish(CompletionToken&& token) {
    return async_run<Result<std::optional<std::string>>>(session_.store().executor(),
                                                         std::forward<CompletionToken>(token),
                                                         [this] { return co_finish(); });
  }

 private:
  friend class Middleware;
  Result<std::optional<std::string>> cookie_after_save(Status saved) const;
  RequestSession(const Middleware& middleware, Session session, bool had_cookie)
      : middleware_(&middleware), session_(std::move(session)), had_cookie_(had_cookie) {}

  const Middleware* middleware_;
  Session session_;
  bool had_cookie_;
};

/// Thread-safe: one Middleware serves every request.
///
///   Middleware mw({.store = store, .secrets = {secret}});
///   auto rs = mw.begin(request.header("Cookie"));
///   if (!rs) return respond(503, error_body(rs.error()));
///   rs->session().set("user", "alice");
///   auto cookie = rs->finish();
///   if (!cookie) return respond(503, error_body(cookie.error()));
///   if (*cookie) response.add_header("Set-Cookie", **cookie);
class Middleware {
 public:
  /// Validates the options; throws std::invalid_argument naming the option ("secrets",
  /// "cookie_name", "max_age", "cookie.path", ...) when one is invalid. Initializes the default
  /// memory store.
  explicit Middleware(MiddlewareOptions options);

  /// Starts a request: finds the session cookie in `cookie_header` (the Cookie header; several
  /// headers joined with "; "), verifies its signature and loads the session. A missing, tampered,
  /// malformed or oversized cookie gives a new, empty session without any store read; a valid one
  /// whose session is gone or expired gives a new one too (its ID is never adopted). Several cookies
  /// of our name that are validly signed for different IDs are ambiguous (one may have been planted
  /// by a sibling subdomain): none counts. Errors: the store's.
  [[nodiscard]] Result<RequestSession> begin(std::string_view cookie_header) const;
  /// begin() for code in a Task; `cookie_header` must outlive the co_await.
  [[nodiscard]] Task<Result<RequestSession>> co_begin(std::string_view cookie_header) const;
  /// begin() as an Asio initiating function; the header is copied.
  template <class CompletionToken>
  auto async_begin(std::string_view cookie_header, CompletionToken&& token) const {
    return async_run<Result<RequestSession>>(store_->executor(), std::forward<CompletionToken>(token),
                                             [this, header = std::string(cookie_header)] { return co_begin(header); });
  }

  /// The ID inside the request's session cookie if exactly one ID is validly signed and well-formed
  /// (no store read).
  [[nodiscard]] std::optional<std::string> verified_id(std::string_view cookie_header) const;

  [[nodiscard]] SessionStore& store() const noexcept { return *store_; }
  [[nodiscard]] const std::shared_ptr<SessionStore>& store_ptr() const noexcept { return store_; }
  [[nodiscard]] const MiddlewareOptions& options() const noexcept { return options_; }
  [[nodiscard]] const CookieSigner& signer() const noexcept { return signer_; }
  /// The options every request's Session gets.
  [[nodiscard]] const SessionOptions& session_options() const noexcept { return session_options_; }

  /// The Set-Cookie value that carries `id`, signed, with the configured attributes and a Max-Age
  /// that ends with the session (`expires`).
  [[nodiscard]] std::string session_cookie(std::string_view id, TimePoint expires) const;
  /// The Set-Cookie value that clears the session cookie.
  [[nodiscard]] std::string clearing_cookie() const;

 private:
  /// verified_id() as a view into `cookie_header`.
  [[nodiscard]] std::optional<std::string_view> find_verified_id(std::string_view cookie_header) const;

  MiddlewareOptions options_;
  std::shared_ptr<SessionStore> store_;
  CookieSigner signer_;
  SessionOptions session_options_;
};

/// The HTTP status an error should produce: unavailable and cancelled 503, invalid_argument 400, not_found 404,
/// lock_held / verification_mismatch / aborted / already_exists 409, permission_denied and internal
/// 500 (a misconfigured store is the server's fault, not the client's).
int http_status(const Error& error) noexcept;

/// A JSON error body: {"error": code, "message": message}.
std::string error_body(std::string_view code, std::string_view message);
/// A JSON error body for a store error: {"error": "unavailable", "message": "..."}.
std::string error_body(const Error& error);

}  // namespace websession::http
