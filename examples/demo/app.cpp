#include "app.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <sstream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <prometheus/text_serializer.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "page.h"
#include "websession/http/middleware.h"
#include "websession/session_id.h"

namespace demo {
namespace json = boost::json;
using websession::ErrorCode;
using websession::Session;
using websession::Status;
using websession::Task;
namespace asio = boost::asio;

namespace {

constexpr std::size_t kMaxUserBytes = 64;

AppResponse json_response(unsigned status, const json::object& body) {
  return {status, "application/json", json::serialize(body), {}};
}

AppResponse error_response(unsigned status, std::string_view code, std::string_view message) {
  return {status, "application/json", websession::http::error_body(code, message), {}};
}

AppResponse store_error(const websession::Error& error) {
  return {static_cast<unsigned>(websession::http::http_status(error)), "application/json",
          websession::http::error_body(error), {}};
}

std::int64_t now_epoch() { return websession::to_epoch_seconds(websession::system_now()); }

bool access_valid(const Session& session) {
  const auto expires = session.get_int("access_expires_at");
  return expires && *expires > now_epoch();
}

bool is_json(std::string_view content_type) {
  const auto semi = content_type.find(';');
  std::string_view type = content_type.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type.size() != 16) return false;
  for (std::size_t i = 0; i < type.size(); ++i) {
    const char c = type[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != "application/json"[i]) return false;
  }
  return true;
}

bool printable_utf8(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return false;
  }
  return true;  // Boost.JSON has already refused invalid UTF-8
}

constexpr std::string_view kSessionRoutes[] = {"/",           "/api/session",  "/api/login",    "/api/views",
                                               "/api/refresh", "/api/logout",   "/api/sessions", "/api/logout-everywhere",
                                               "/signin",      "/auth/callback", "/signout",      "/api/me"};
constexpr std::string_view kPlainRoutes[] = {"/healthz", "/metrics", "/auth/backchannel-logout"};

// The page, with the OpenID Connect section shown when sign-in through a provider is configured.
std::string page(bool oidc) {
  std::string html(kPageHtml);
  if (oidc) {
    const std::string_view hidden = R"(<section id="oidc" hidden>)";
    html.replace(html.find(hidden), hidden.size(), R"(<section id="oidc">)");
  }
  return html;
}

}  // namespace

Metrics::Metrics(std::shared_ptr<const websession::SessionStore> store)
    : registry_(std::make_shared<prometheus::Registry>()),
      store_(std::move(store)),
      requests_(prometheus::BuildCounter()
                    .Name("websession_demo_http_requests_total")
                    .Help("HTTP requests served, by route and status.")
                    .Register(*registry_)),
      lock_waits_(prometheus::BuildCounter()
                      .Name("websession_demo_lock_waits_total")
                      .Help("Times a request found the session lock held and waited.")
                      .Register(*registry_)
                      .Add({})),
      rotations_(prometheus::BuildCounter()
                     .Name("websession_demo_token_rotations_total")
                     .Help("Token refreshes performed under the lock.")
                     .Register(*registry_)
                     .Add({})),
      takeovers_(prometheus::BuildCounter()
                     .Name("websession_demo_lock_takeovers_total")
                     .Help("Stale locks taken over.")
                     .Register(*registry_)
                     .Add({})) {}

void Metrics::count_request(std::string_view route, unsigned status) {
  requests_.Add({{"route", std::string(route)}, {"status", std::to_string(status)}}).Increment();
}

std::string Metrics::render() const {
  auto families = registry_->Collect();
  for (auto& f : store_.Collect()) families.push_back(std::move(f));
  return prometheus::TextSerializer().Serialize(families);
}

App::App(std::shared_ptr<websession::SessionStore> store, AppOptions options)
    : store_(std::move(store)), options_(std::move(options)), page_(page(options_.oidc != nullptr)), metrics_(store_) {}

bool App::uses_session(std::string_view path) {
  for (std::string_view r : kSessionRoutes) {
    if (r == path) return true;
  }
  return false;
}

std::string_view App::route_label(std::string_view path) {
  for (std::string_view r : kSessionRoutes) {
    if (r == path) return r;
  }
  for (std::string_view r : kPlainRoutes) {
    if (r == path) return r;
  }
  return "other";
}

Task<AppResponse> App::handle(const AppRequest& request, Session& session) {
  const std::string_view p = request.path;
  const bool get_route = p == "/" || p == "/api/session" || p == "/api/sessions" || p == "/signin" ||
                         p == "/auth/callback" || p == "/api/me";
  if (get_route) {
    if (request.method != "GET" && request.method != "HEAD") co_return error_response(405, "method_not_allowed", "use GET");
    co_return co_await handle_get(request, session);
  }
  if (request.method != "POST") co_return error_response(405, "method_not_allowed", "use POST");
  co_return co_await handle_post(request, session);
}

Task<AppResponse> App::handle_get(const AppRequest& request, Session& session) {
  const std::string_view p = request.path;
  if (p == "/") co_return AppResponse{200, "text/html; charset=utf-8", page_, {}};
  if (p == "/api/session") co_return session_state(session);
  if (p == "/api/sessions") co_return co_await list_sessions(session);
  if (p == "/signin") co_return co_await sign_in(request, session);
  if (p == "/auth/callback") co_return co_await auth_callback(request, session);
  co_return co_await me(session);
}

Task<AppResponse> App::handle_post(const AppRequest& request, Session& session) {
  const std::string_view p = request.path;
  if (p == "/api/login") co_return login(request, session);
  if (p == "/api/views") co_return co_await views(session);
  if (p == "/api/refresh") co_return co_await refresh(session);
  if (p == "/api/logout") co_return co_await logout(session);
  if (p == "/api/logout-everywhere") co_return co_await logout_everywhere(session);
  if (p == "/signout") co_return co_await sign_out(session);
  co_return error_response(404, "not_found", "no such route");
}

Task<AppResponse> App::handle_plain(const AppRequest& request) {
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (request.path == "/auth/backchannel-logout") {
    if (request.method != "POST") co_return error_response(405, "method_not_allowed", "use POST");
    co_return co_await backchannel_logout(request);
  }
  if (request.path == "/healthz") {
    if (!get) co_return error_response(405, "method_not_allowed", "use GET");
    if (Status st = co_await store_->co_ping(); !st) {
      co_return AppResponse{503, "application/json", websession::http::error_body(st.error()), {}};
    }
    co_return AppResponse{200, "application/json", R"({"status":"ok"})", {}};
  }
  if (request.path == "/metrics") {
    if (!get) co_return error_response(405, "method_not_allowed", "use GET");
    co_return AppResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render(), {}};
  }
  co_return error_response(404, "not_found", "no such route");
}

AppResponse App::session_state(const Session& session) const {
  json::object body;
  const auto user = session.get_string("user");
  body["authenticated"] = user.has_value();
  if (user) {
    body["user"] = *user;
  } else {
    body["user"] = nullptr;
  }
  const auto sub = session.get_string("sub");
  if (sub) {
    body["sub"] = *sub;
  } else {
    body["sub"] = nullptr;
  }
  const auto auth = session.get_string("auth");
  if (auth) {
    body["auth"] = *auth;
  } else {
    body["auth"] = nullptr;
  }
  body["views"] = session.get_int("views").value_or(0);
  body["refresh_count"] = session.get_int("refresh_count").value_or(0);
  body["access_valid"] = access_valid(session);
  return json_response(200, body);
}

AppResponse App::login(const AppRequest& request, Session& session) {
  if (!is_json(request.content_type)) {
    return error_response(415, "unsupported_media_type", "send Content-Type: application/json");
  }
  boost::system::error_code ec;
  json::value parsed = json::parse(request.body, ec);
  if (ec) return error_response(400, "bad_request", "the body is not valid JSON");
  const json::object* obj = parsed.if_object();
  const json::value* user_value = obj ? obj->if_contains("user") : nullptr;
  const json::string* user = user_value ? user_value->if_string() : nullptr;
  if (user == nullptr || user->empty() || user->size() > kMaxUserBytes || !printable_utf8(*user)) {
    return error_response(400, "bad_request", "\"user\" must be a string of 1 to 64 printable bytes");
  }
  if (std::string_view(*user).starts_with(websession::oidc::kOwnerPrefix)) {
    // The owners of sessions signed in through the provider start so: a local name must not pass for one.
    return error_response(400, "bad_request", "a local user name cannot start with \"oidc:\"");
  }
  // A new ID at sign-in (no session fixation); the old session is deleted once the new one exists.
  websession::SignIn who;
  who.owner = std::string(*user);
  who.user_agent = std::string(request.user_agent);
  who.keep_data = false;
  session.sign_in(std::move(who));
  session.set("user", json::string(*user));
  session.set("auth", "local");
  session.set("refresh_token", json::string(websession::random_token(32)));
  session.set("access_token", json::string(websession::random_token(32)));
  session.set("access_expires_at", now_epoch() - 1);
  session.set("views", 0);
  session.set("refresh_count", 0);
  json::object body;
  body["authenticated"] = true;
  body["user"] = *user;
  return json_response(200, body);
}

Task<AppResponse> App::views(Session& session) {
  auto n = co_await session.co_increment("views");
  if (!n) co_return store_error(n.error());
  json::object body;
  body["views"] = *n;
  co_return json_response(200, body);
}

Task<AppResponse> App::refresh(Session& session) {
  if (!session.get_string("user")) co_return error_response(401, "unauthorized", "log in first");
  const auto delay = options_.refresh_delay;
  auto outcome = co_await session.co_refresh_with_lock(
      [](const Session& s) { return !access_valid(s); },
      [delay](Session& s) -> Task<Status> {
        // Stands in for the call to the identity provider's token endpoint: a timer, not a sleep.
        asio::steady_timer provider(co_await asio::this_coro::executor, delay);
        auto [ec] = co_await provider.async_wait(asio::as_tuple(asio::use_awaitable_t<websession::Executor>{}));
        if (ec) co_return Status(websession::Error(ErrorCode::cancelled, "cancelled"));
        s.set("refresh_token", json::string(websession::random_token(32)));
        s.set("access_token", json::string(websession::random_token(32)));
        s.set("access_expires_at", now_epoch() + 3600);
        s.set("refresh_count", s.get_int("refresh_count").value_or(0) + 1);
        co_return Status{};
      });
  if (!outcome) {
    if (outcome.code() == ErrorCode::not_found) co_return error_response(401, "unauthorized", "the session ended");
    if (outcome.code() == ErrorCode::lock_held) {
      co_return error_response(503, "lock_held", "the session is being refreshed; try again");
    }
    co_return store_error(outcome.error());
  }
  metrics_.add_lock_waits(outcome->lock_waits);
  if (outcome->rotated) metrics_.count_rotation();
  if (outcome->took_over) metrics_.count_takeover();
  json::object body;
  body["rotated"] = outcome->rotated;
  body["refresh_count"] = session.get_int("refresh_count").value_or(0);
  body["access_valid"] = access_valid(session);
  co_return json_response(200, body);
}

Task<AppResponse> App::logout(Session& session) {
  if (Status st = co_await session.co_destroy(); !st) co_return store_error(st.error());
  co_return json_response(200, json::object{{"authenticated", false}});
}

Task<AppResponse> App::list_sessions(const Session& session) {
  if (session.owner().empty()) co_return error_response(401, "unauthorized", "log in first");
  const std::string owner = session.owner();
  auto listed = co_await store_->co_list_owner_sessions(owner);
  if (!listed) co_return store_error(listed.error());
  const std::string current = websession::session_key(session.id());
  json::array sessions;
  for (const websession::OwnerSession& s : *listed) {
    json::object o;
    o["current"] = s.key == current;
    o["created"] = websession::to_epoch_seconds(s.created);
    o["last_seen"] = websession::to_epoch_seconds(s.last_seen);
    o["user_agent"] = s.user_agent;
    sessions.push_back(std::move(o));
  }
  co_return json_response(200, json::object{{"sessions", std::move(sessions)}});
}

Task<AppResponse> App::logout_everywhere(Session& session) {
  if (session.owner().empty()) co_return error_response(401, "unauthorized", "log in first");
  const std::string owner = session.owner();
  auto revoked = co_await store_->co_destroy_owner_sessions(owner);
  if (!revoked) co_return store_error(revoked.error());
  // This session was among them; destroying it again only clears the cookie.
  if (Status st = co_await session.co_destroy(); !st) co_return store_error(st.error());
  co_return json_response(200, json::object{{"revoked", *revoked}});
}

}  // namespace demo
