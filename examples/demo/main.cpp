// websession-demo: the demo server. Configuration by environment (see DESIGN.md, "The demo server"):
// PORT, SERVER (httplib|beast), SESSION_STORE (memory|dynamodb), SESSION_TABLE, SESSION_SECRET,
// APP_ENV, SESSION_MAX_AGE, SESSION_MAX_LOCK_TIME, REFRESH_DELAY_MS, the OIDC_* variables of the
// OpenID provider, and the AWS_* variables.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <pthread.h>

#include "app.h"
#include "websession/async.h"
#include "websession/http/beast.h"
#include "websession/http/httplib.h"
#include "websession/http/middleware.h"
#include "websession/memory_session_store.h"
#include "websession/oidc/relying_party.h"
#include "websession/session_id.h"
#include "websession/dynamo_session_store.h"
#include "websession/dynamodb/client.h"

namespace {

namespace wh = websession::http;

struct Config {
  std::uint16_t port = 8080;
  std::string server = "httplib";
  std::string store = "memory";
  std::string table = "sessions";
  std::string secret;
  bool secret_given = false;
  bool production = false;
  std::string cookie_name = "sessionId";
  long max_age = 1200;
  long absolute_max_age = 43200;
  long max_per_user = 0;
  long max_lock_time = 10;
  long refresh_delay_ms = 100;
  // OpenID Connect; an empty issuer: none.
  std::string oidc_issuer;
  std::string oidc_client_id;
  std::string oidc_client_secret;
  std::string oidc_redirect_uri;
  std::string oidc_post_logout_redirect_uri;
  std::string oidc_scopes;
  std::string oidc_ca_file;
  long oidc_timeout_ms = 10'000;
  std::vector<std::pair<std::string, std::string>> oidc_authorization_params;
  std::vector<std::pair<std::string, std::string>> oidc_end_session_params;
};

// A configuration mistake: the message is printed and the process exits non-zero.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

long env_long(const char* name, long fallback, long min, long max) {
  const auto v = env(name);
  if (!v || v->empty()) return fallback;
  try {
    std::size_t used = 0;
    const long n = std::stol(*v, &used);
    if (used != v->size() || n < min || n > max) throw std::out_of_range(name);
    return n;
  } catch (const std::exception&) {
    throw ConfigError(std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
                      std::to_string(max));
  }
}

std::string env_or(const char* name, const std::string& fallback) {
  const auto v = env(name);
  return v && !v->empty() ? *v : fallback;
}

// "name=value&name2=value2" (values form-encoded) as pairs.
std::vector<std::pair<std::string, std::string>> parse_params(const std::string& text, const char* variable) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('&', start), text.size());
    const std::string piece = text.substr(start, end - start);
    start = end + 1;
    const std::string name = piece.substr(0, piece.find('='));
    auto value = websession::oidc::form_parameter(piece, name);
    if (name.empty() || !value || !*value) throw ConfigError(std::string(variable) + " must be name=value&...");
    out.emplace_back(name, **value);
  }
  return out;
}

// OIDC_ISSUER unset, empty or "off": no sign-in through a provider. The defaults are those of the
// development provider that ./scripts/demo starts.
void read_oidc_config(Config& c) {
  c.oidc_issuer = env_or("OIDC_ISSUER", "");
  if (c.oidc_issuer == "off") c.oidc_issuer.clear();
  if (c.oidc_issuer.empty()) return;
  const std::string site = "http://127.0.0.1:" + std::to_string(c.port);
  c.oidc_client_id = env_or("OIDC_CLIENT_ID", "websession-demo");
  c.oidc_client_secret = env_or("OIDC_CLIENT_SECRET", "websession-demo-secret");
  c.oidc_redirect_uri = env_or("OIDC_REDIRECT_URI", site + "/auth/callback");
  c.oidc_post_logout_redirect_uri = env_or("OIDC_POST_LOGOUT_REDIRECT_URI", site + "/");
  c.oidc_scopes = env_or("OIDC_SCOPES", "openid profile email offline_access");
  c.oidc_ca_file = env_or("OIDC_CA_FILE", "");
  c.oidc_timeout_ms = env_long("OIDC_TIMEOUT_MS", 10'000, 100, 120'000);
  c.oidc_authorization_params = parse_params(env_or("OIDC_AUTHORIZATION_PARAMS", ""), "OIDC_AUTHORIZATION_PARAMS");
  c.oidc_end_session_params = parse_params(env_or("OIDC_END_SESSION_PARAMS", ""), "OIDC_END_SESSION_PARAMS");
  if (c.port == 0 && (!env("OIDC_REDIRECT_URI") || !env("OIDC_POST_LOGOUT_REDIRECT_URI"))) {
    throw ConfigError("with PORT=0, set OIDC_REDIRECT_URI and OIDC_POST_LOGOUT_REDIRECT_URI");
  }
}

Config read_config() {
  Config c;
  c.port = static_cast<std::uint16_t>(env_long("PORT", 8080, 0, 65535));
  c.server = env("SERVER").value_or("httplib");
  if (c.server.empty()) c.server = "httplib";
  if (c.server != "httplib" && c.server != "beast") throw ConfigError("SERVER must be httplib or beast");
  c.store = env("SESSION_STORE").value_or("memory");
  if (c.store.empty()) c.store = "memory";
  if (c.store != "memory" && c.store != "dynamodb") throw ConfigError("SESSION_STORE must be memory or dynamodb");
  c.table = env("SESSION_TABLE").value_or("sessions");
  if (c.table.empty()) c.table = "sessions";
  const std::string app_env = env("APP_ENV").value_or("development");
  c.production = app_env == "production";
  if (!c.production && !app_env.empty() && app_env != "development") {
    throw ConfigError("APP_ENV must be development or production");
  }
  // In production the cookie is __Host- prefixed: Secure, host-only, Path=/, so that no sibling
  // subdomain can plant one (cookie tossing).
  c.cookie_name = env("SESSION_COOKIE_NAME").value_or(c.production ? "__Host-sessionId" : "sessionId");
  if (c.cookie_name.empty()) c.cookie_name = c.production ? "__Host-sessionId" : "sessionId";
  c.secret = env("SESSION_SECRET").value_or("");
  c.secret_given = !c.secret.empty();
  if (c.production && !c.secret_given) {
    throw ConfigError("APP_ENV=production requires SESSION_SECRET (at least 32 bytes)");
  }
  if (c.secret_given && c.secret.size() < wh::CookieSigner::kMinSecretBytes) {
    throw ConfigError("SESSION_SECRET must be at least 32 bytes");
  }
  if (!c.secret_given) c.secret = websession::random_token(48);
  c.max_age = env_long("SESSION_MAX_AGE", 1200, 1, 400L * 24 * 3600);
  c.absolute_max_age = env_long("SESSION_ABSOLUTE_MAX_AGE", 43200, 1, 400L * 24 * 3600);
  c.max_per_user = env_long("SESSION_MAX_PER_USER", 0, 0, 10'000);
  c.max_lock_time = env_long("SESSION_MAX_LOCK_TIME", 10, 1, 3600);
  c.refresh_delay_ms = env_long("REFRESH_DELAY_MS", 100, 0, 60'000);
  read_oidc_config(c);
  return c;
}

std::shared_ptr<websession::SessionStore> make_store(const Config& c) {
  const std::chrono::milliseconds lock_time{c.max_lock_time * 1000};
  std::shared_ptr<websession::SessionStore> store;
  if (c.store == "memory") {
    websession::MemorySessionStoreOptions options;
    options.max_lock_time = lock_time;
    store = std::make_shared<websession::MemorySessionStore>(options);
  } else {
    // Bounded calls: a store that does not answer gives 503 well within 10 seconds, even for a
    // request that makes two calls.
    websession::dynamodb::ClientOptions client_options;
    client_options.connect_timeout = std::chrono::milliseconds(1000);
    client_options.call_timeout = std::chrono::milliseconds(3000);
    auto client = websession::dynamodb::Client::create(client_options);
    if (!client) throw ConfigError("DynamoDB client: " + client.error().describe());
    websession::DynamoSessionStoreOptions options;
    options.table_name = c.table;
    options.client = *client;
    options.max_lock_time = lock_time;
    store = std::make_shared<websession::DynamoSessionStore>(options);
  }
  if (auto st = store->init(); !st) {
    if (st.code() != websession::ErrorCode::unavailable) {
      throw ConfigError("the session store failed to start: " + st.error().describe());
    }
    // DynamoDB does not answer yet: serve (503 from the store's calls) and keep trying, so that the
    // demo comes up by itself when DynamoDB does.
    std::fprintf(stderr, "websession-demo: the session store is unavailable (%s); retrying in the background\n",
                 st.error().describe().c_str());
    std::thread([weak = std::weak_ptr<websession::SessionStore>(store)] {
      for (;;) {
        std::this_thread::sleep_for(std::chrono::seconds(2));
        auto live = weak.lock();
        if (!live || live->init()) return;
      }
    }).detach();
  }
  return store;
}

std::shared_ptr<websession::oidc::RelyingParty> make_relying_party(const Config& c,
                                                                   std::shared_ptr<websession::SessionStore> store) {
  if (c.oidc_issuer.empty()) return nullptr;
  websession::oidc::RelyingPartyOptions o;
  o.issuer = c.oidc_issuer;
  o.client_id = c.oidc_client_id;
  o.client_secret = c.oidc_client_secret;
  o.redirect_uri = c.oidc_redirect_uri;
  o.post_logout_redirect_uri = c.oidc_post_logout_redirect_uri;
  o.scopes = c.oidc_scopes;
  o.authorization_params = c.oidc_authorization_params;
  o.end_session_params = c.oidc_end_session_params;
  o.tls.ca_file = c.oidc_ca_file;
  o.token_timeout = std::chrono::milliseconds(c.oidc_timeout_ms);
  o.request_timeout = std::chrono::milliseconds(std::min(c.oidc_timeout_ms, 5'000L));
  o.store = std::move(store);
  try {
    return std::make_shared<websession::oidc::RelyingParty>(std::move(o));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("OpenID Connect: ") + e.what());
  }
}

// Blocks SIGINT and SIGTERM in every thread started after this call; wait_for_signal() takes them.
sigset_t block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int wait_for_signal(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

void log_startup(const Config& c, std::uint16_t port) {
  // One line; never the secret or a session ID.
  std::cerr << "websession-demo: listening on http://127.0.0.1:" << port << "/ (server=" << c.server
            << ", store=" << c.store << (c.store == "dynamodb" ? ", table=" + c.table : std::string())
            << ", env=" << (c.production ? "production" : "development")
            << ", secret=" << (c.secret_given ? "from SESSION_SECRET" : "random per start")
            << ", max_age=" << c.max_age << "s"
            << ", oidc=" << (c.oidc_issuer.empty() ? std::string("off") : c.oidc_issuer) << ")" << std::endl;
}

std::string_view header_of(const httplib::Request& req, const char* name) {
  const auto it = req.headers.find(name);
  return it == req.headers.end() ? std::string_view() : std::string_view(it->second);
}

demo::AppRequest app_request(const httplib::Request& req) {
  const std::string_view target = req.target;
  const auto q = target.find('?');
  return {req.method,
          req.path,
          q == std::string_view::npos ? std::string_view() : target.substr(q + 1),
          header_of(req, "Content-Type"),
          header_of(req, "User-Agent"),
          req.body};
}

void apply(const demo::AppResponse& r, httplib::Response& res) {
  res.status = static_cast<int>(r.status);
  for (const auto& [name, value] : r.headers) res.set_header(name, value);
  res.set_content(r.body, r.content_type);
}

int run_httplib(const Config& c, demo::App& app, const std::shared_ptr<const wh::Middleware>& mw,
                const sigset_t& signals) {
  httplib::Server server;
  // One thread per open connection: enough for many keep-alive clients and for requests that wait
  // on the session lock or on DynamoDB.
  wh::httplib::ServerOptions options;
  options.max_body_bytes = 64 * 1024;
  options.threads = 128;
  options.logger = [&app](const httplib::Request& req, const httplib::Response& res) {
    app.metrics().count_request(demo::App::route_label(req.path), static_cast<unsigned>(res.status));
  };
  const wh::httplib::GracefulShutdown graceful = wh::httplib::configure(server, options);
  // The routes are coroutines; cpp-httplib's worker thread runs each to completion.
  auto session_route = wh::httplib::with_session(
      mw, [&app](const httplib::Request& req, httplib::Response& res, websession::Session& s) {
        const demo::AppRequest r = app_request(req);
        apply(websession::run_blocking([&] { return app.handle(r, s); }), res);
      });
  auto plain_route = [&app](const httplib::Request& req, httplib::Response& res) {
    const demo::AppRequest r = app_request(req);
    apply(websession::run_blocking([&] { return app.handle_plain(r); }), res);
  };
  // Both methods on every session route, so that the app answers a wrong method with 405 as the
  // Beast server does.
  for (const char* path : {"/", "/api/session", "/api/login", "/api/views", "/api/refresh", "/api/logout",
                           "/api/sessions", "/api/logout-everywhere", "/signin", "/auth/callback", "/signout",
                           "/api/me"}) {
    server.Get(path, session_route);
    server.Post(path, session_route);
  }
  server.Get("/healthz", plain_route);
  server.Get("/metrics", plain_route);
  server.Get("/auth/backchannel-logout", plain_route);
  server.Post("/auth/backchannel-logout", plain_route);
  const int port = wh::httplib::bind(server, "127.0.0.1", c.port);
  if (port <= 0) {
    std::cerr << "websession-demo: cannot listen on 127.0.0.1:" << c.port << '\n';
    return 1;
  }
  // SIGTERM or SIGINT: stop accepting, let the requests in flight finish (up to 10 s), then return.
  std::thread stopper([&graceful, &signals] {
    wait_for_signal(signals);
    graceful.shutdown(std::chrono::seconds(10));
  });
  log_startup(c, static_cast<std::uint16_t>(port));
  server.listen_after_bind();
  // listen_after_bind() returned: either the signal thread stopped it, or it failed.
  if (stopper.joinable()) {
    pthread_kill(stopper.native_handle(), SIGTERM);
    stopper.join();
  }
  return 0;
}

namespace wb = websession::http::beast;

std::string_view path_of(const wb::Request& req) {
  const std::string_view target(req.target().data(), req.target().size());
  return target.substr(0, target.find('?'));
}

std::string_view field_of(const wb::Request& req, boost::beast::http::field f) {
  const auto it = req.find(f);
  return it == req.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
}

demo::AppRequest app_request(const wb::Request& req) {
  const std::string_view target(req.target().data(), req.target().size());
  const auto q = target.find('?');
  return {std::string_view(req.method_string().data(), req.method_string().size()),
          path_of(req),
          q == std::string_view::npos ? std::string_view() : target.substr(q + 1),
          field_of(req, boost::beast::http::field::content_type),
          field_of(req, boost::beast::http::field::user_agent),
          req.body()};
}

wb::Response to_beast(const wb::Request& req, demo::AppResponse r) {
  wb::Response res = wb::make_response(req, r.status, std::move(r.body), r.content_type);
  for (auto& [name, value] : r.headers) res.set(name, value);
  return res;
}

int run_beast(const Config& c, demo::App& app, const std::shared_ptr<const wh::Middleware>& mw,
              const sigset_t& signals) {
  wb::ServerOptions options;
  options.address = "127.0.0.1";
  options.port = c.port;
  options.max_body_bytes = 64 * 1024;
  // Every route is a coroutine on its connection's strand: store calls, lock waits and the simulated
  // identity provider are awaited, so the I/O threads are the only threads.
  auto session_handler = wb::with_session(
      mw, [&app](const wb::Request& req, websession::Session& s) -> websession::Task<wb::Response> {
        const demo::AppRequest r = app_request(req);
        demo::AppResponse answer = co_await app.handle(r, s);
        co_return to_beast(req, std::move(answer));
      });
  wb::Server server(options, [&app, session_handler](const wb::Request& req) -> websession::Task<wb::Response> {
    const std::string_view path = path_of(req);
    wb::Response res;
    if (demo::App::uses_session(path)) {
      res = co_await session_handler(req);
    } else {
      const demo::AppRequest r = app_request(req);
      demo::AppResponse answer = co_await app.handle_plain(r);
      res = to_beast(req, std::move(answer));
    }
    app.metrics().count_request(demo::App::route_label(path), res.result_int());
    co_return res;
  });
  auto port = server.start();
  if (!port) {
    std::cerr << "websession-demo: " << port.error().describe() << '\n';
    return 1;
  }
  log_startup(c, *port);
  // SIGTERM or SIGINT: stop accepting, let the requests in flight finish (up to 10 s), then return.
  wait_for_signal(signals);
  server.shutdown(std::chrono::seconds(10));
  return 0;
}

}  // namespace

int main() {
  const sigset_t signals = block_shutdown_signals();
  try {
    const Config c = read_config();
    std::shared_ptr<websession::SessionStore> store = make_store(c);
    wh::MiddlewareOptions mo;
    mo.store = store;
    mo.max_age = std::chrono::seconds(c.max_age);
    mo.absolute_max_age = std::chrono::seconds(c.absolute_max_age);
    mo.max_sessions_per_owner = static_cast<std::size_t>(c.max_per_user);
    mo.secrets = {c.secret};
    mo.production = c.production;
    mo.cookie_name = c.cookie_name;
    auto middleware = std::make_shared<const wh::Middleware>(std::move(mo));
    demo::App app(store, demo::AppOptions{std::chrono::milliseconds(c.refresh_delay_ms), make_relying_party(c, store)});
    const int rc = c.server == "beast" ? run_beast(c, app, middleware, signals)
                                       : run_httplib(c, app, middleware, signals);
    store->close();
    std::cerr << "websession-demo: stopped" << std::endl;
    return rc;
  } catch (const ConfigError& e) {
    std::cerr << "websession-demo: " << e.what() << std::endl;
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "websession-demo: invalid configuration: " << e.what() << std::endl;
    return 2;
  }
}
