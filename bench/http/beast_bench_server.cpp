// The Beast adapter's throughput against the hello-world Beast server (bench/hello): the adapter, the
// memory store and one signed-in session, answering GET /api/session with the same JSON body as the
// hello world, read from the session. bench/http/adapter_bench.sh drives both with wrk.
//
//   PORT=8080 THREADS=2 HANDLER=coroutine|blocking websession-beast-bench
//
// It prints the session cookie to send on its first line ("Cookie: sessionId=..."), then serves until
// SIGINT or SIGTERM.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "websession/http/beast.h"
#include "websession/memory_session_store.h"

namespace {

namespace wh = websession::http;
namespace wb = websession::http::beast;

// The body of the hello world, built from the session: the same bytes for the same session.
std::string session_json(const websession::Session& s) {
  const auto user = s.get_string("user");
  std::string body;
  body.reserve(128);
  body.append(R"({"authenticated":)").append(user ? "true" : "false").append(R"(,"user":)");
  if (user) {
    body.append(1, '"').append(*user).append(1, '"');
  } else {
    body.append("null");
  }
  body.append(R"(,"views":)").append(std::to_string(s.get_int("views").value_or(0)));
  body.append(R"(,"refresh_count":)").append(std::to_string(s.get_int("refresh_count").value_or(0)));
  body.append(R"(,"access_valid":false})");
  return body;
}

wb::Response answer(const wb::Request& req, const websession::Session& s) {
  if (req.target() != "/api/session") return wb::make_response(req, 404, R"({"error":"not_found"})");
  return wb::make_response(req, 200, session_json(s));
}

// A signed-in session with the fields the route reads; returns its cookie.
std::string sign_in(const wh::Middleware& mw) {
  auto rs = mw.begin("");
  if (!rs) throw std::runtime_error("cannot start a session");
  websession::SignIn who;
  who.owner = "alice";
  rs->session().sign_in(std::move(who));
  rs->session().set("user", "alice");
  rs->session().set("views", 0);
  rs->session().set("refresh_count", 0);
  auto cookie = rs->finish();
  if (!cookie || !*cookie) throw std::runtime_error("cannot save the session");
  return (**cookie).substr(0, (**cookie).find(';'));
}

unsigned env_number(const char* name, unsigned fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? static_cast<unsigned>(std::strtoul(v, nullptr, 10)) : fallback;
}

}  // namespace

int main() {
  const unsigned port = env_number("PORT", 8080);
  const char* handler_env = std::getenv("HANDLER");
  const std::string handler = handler_env != nullptr ? handler_env : "coroutine";
  if (port == 0 || port > 65535 || (handler != "coroutine" && handler != "blocking")) {
    std::cerr << "websession-beast-bench: PORT must be 1 to 65535, HANDLER coroutine or blocking\n";
    return 2;
  }
  auto store = std::make_shared<websession::MemorySessionStore>();
  wh::MiddlewareOptions o;
  o.store = store;
  o.secrets = {std::string(32, 'b')};
  auto mw = std::make_shared<wh::Middleware>(o);
  std::cout << "Cookie: " << sign_in(*mw) << std::endl;

  wb::ServerOptions options;
  options.port = static_cast<std::uint16_t>(port);
  options.io_threads = env_number("THREADS", 0);
  std::unique_ptr<wb::Server> server;
  if (handler == "blocking") {
    server = std::make_unique<wb::Server>(options, wb::with_session(mw, [](const wb::Request& req, websession::Session& s) {
                                            return answer(req, s);
                                          }));
  } else {
    server = std::make_unique<wb::Server>(
        options, wb::with_session(mw, [](const wb::Request& req, websession::Session& s) -> websession::Task<wb::Response> {
          co_return answer(req, s);
        }));
  }
  if (auto started = server->start(); !started) {
    std::cerr << "websession-beast-bench: " << started.error().describe() << "\n";
    return 1;
  }
  server->shutdown_on_signals();
  server->wait();
  return 0;
}
