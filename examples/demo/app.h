// The demo's application logic, independent of the HTTP framework: main.cpp plugs it into the
// cpp-httplib or the Beast adapter. Every route is a coroutine: the Beast server awaits it on the
// connection's strand, the cpp-httplib server runs it to completion on its worker thread
// (websession::run_blocking).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "websession/async.h"
#include "websession/oidc/relying_party.h"
#include "websession/session.h"
#include "websession/session_store.h"

namespace demo {

struct AppRequest {
  std::string_view method;
  std::string_view path;   // without the query string
  std::string_view query;  // after '?', undecoded
  std::string_view content_type;
  std::string_view user_agent;
  std::string_view body;
};

struct AppResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  /// Further headers (Location for redirects).
  std::vector<std::pair<std::string, std::string>> headers;
};

struct AppOptions {
  std::chrono::milliseconds refresh_delay{100};
  /// OpenID Connect sign-in (/signin, /auth/callback, /signout, /auth/backchannel-logout,
  /// /api/me); null: those routes answer 404.
  std::shared_ptr<websession::oidc::RelyingParty> oidc;
};

/// Requests by route and status, and lock waits, for /metrics.
class Metrics {
 public:
  /// `route` must outlive the Metrics (App::route_label() gives static strings).
  void count_request(std::string_view route, unsigned status);
  void add_lock_waits(int waits) { lock_waits_ += static_cast<std::uint64_t>(waits); }
  void count_rotation() { ++rotations_; }
  void count_takeover() { ++takeovers_; }
  /// Prometheus text exposition of these counters and the store's metrics.
  [[nodiscard]] std::string render(const websession::SessionStore& store) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string_view, unsigned>, std::uint64_t> requests_;
  std::atomic<std::uint64_t> lock_waits_{0};
  std::atomic<std::uint64_t> rotations_{0};
  std::atomic<std::uint64_t> takeovers_{0};
};

class App {
 public:
  App(std::shared_ptr<websession::SessionStore> store, AppOptions options);

  /// The routes that use the session. /healthz and /metrics do not (no cookie is read, no session
  /// loaded).
  [[nodiscard]] static bool uses_session(std::string_view path);
  /// The route label for metrics: the path of a known route, else "other".
  [[nodiscard]] static std::string_view route_label(std::string_view path);

  /// Serves a session route.
  websession::Task<AppResponse> handle(const AppRequest& request, websession::Session& session);
  /// Serves /healthz, /metrics, /auth/backchannel-logout and unknown paths.
  websession::Task<AppResponse> handle_plain(const AppRequest& request);
  /// True for the routes that may call the OpenID provider (they wait on the network).
  [[nodiscard]] static bool calls_provider(std::string_view path);

  Metrics& metrics() noexcept { return metrics_; }

 private:
  websession::Task<AppResponse> handle_get(const AppRequest& request, websession::Session& session);
  websession::Task<AppResponse> handle_post(const AppRequest& request, websession::Session& session);
  AppResponse session_state(const websession::Session& session) const;
  AppResponse login(const AppRequest& request, websession::Session& session);
  websession::Task<AppResponse> views(websession::Session& session);
  websession::Task<AppResponse> refresh(websession::Session& session);
  websession::Task<AppResponse> logout(websession::Session& session);
  websession::Task<AppResponse> list_sessions(const websession::Session& session);
  websession::Task<AppResponse> logout_everywhere(websession::Session& session);
  // OpenID Connect (app_oidc.cpp).
  websession::Task<AppResponse> sign_in(const AppRequest& request, websession::Session& session);
  websession::Task<AppResponse> auth_callback(const AppRequest& request, websession::Session& session);
  websession::Task<AppResponse> sign_out(websession::Session& session);
  websession::Task<AppResponse> me(websession::Session& session);
  websession::Task<AppResponse> backchannel_logout(const AppRequest& request);

  std::shared_ptr<websession::SessionStore> store_;
  AppOptions options_;
  std::string page_;
  Metrics metrics_;
};

}  // namespace demo
