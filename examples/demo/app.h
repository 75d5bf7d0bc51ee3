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

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "websession/async.h"
#include "websession/metrics/prometheus.h"
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

/// Requests by route and status, lock waits and refreshes, and the store's metrics, for /metrics:
/// one prometheus-cpp registry.
class Metrics {
 public:
  explicit Metrics(std::shared_ptr<const websession::SessionStore> store);
  void count_request(std::string_view route, unsigned status);
  void add_lock_waits(int waits) { lock_waits_.Increment(waits); }
  void count_rotation() { rotations_.Increment(); }
  void count_takeover() { takeovers_.Increment(); }
  /// The Prometheus text exposition.
  [[nodiscard]] std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  websession::metrics::StoreCollectable store_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Counter& lock_waits_;
  prometheus::Counter& rotations_;
  prometheus::Counter& takeovers_;
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
