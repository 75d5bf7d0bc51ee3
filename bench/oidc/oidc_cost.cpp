// What OpenID Connect costs the demo per request: server CPU (every thread of the demo process, from
// /proc/<pid>/task/*/schedstat) and DynamoDB calls (the demo's /metrics), for
//   - a read-only request (GET /api/session) of a session signed in locally and through the provider,
//   - GET /api/me with a valid access token (one UserInfo call to the provider),
//   - GET /api/me with an expired access token (the refresh under the lock, then UserInfo).
// The demo and the development provider run as child processes, as in the end-to-end tests.
//
//   STORE=dynamodb WEBSESSION_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:PORT SERVER=httplib
//     ./build/bench/oidc/websession_oidc_cost [read-only requests, default 3000] [refreshes, default 100]
#include <dirent.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "demo_process.h"
#include "oidc/support/dev_provider.h"

namespace {

using websession::testing::DevProvider;
using websession::testing::DevProviderOptions;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// Nanoseconds on CPU of every live thread of `pid`.
double cpu_ns(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) throw std::runtime_error("cannot read " + dir);
  double total = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(dir + "/" + e->d_name + "/schedstat");
    double ns = 0;
    if (in >> ns) total += ns;
  }
  ::closedir(d);
  return total;
}

// The demo's DynamoDB calls by operation, from /metrics.
std::map<std::string, double> dynamodb_calls(const e2e::Demo& demo) {
  std::map<std::string, double> out;
  const std::string text = e2e::get(demo.url("/metrics")).body;
  const std::string prefix = "websession_dynamodb_calls_total{operation=\"";
  for (std::size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
    const std::size_t name_end = text.find('"', at + prefix.size());
    const std::string op = text.substr(at + prefix.size(), name_end - at - prefix.size());
    out[op] = std::stod(text.substr(text.find(' ', name_end) + 1));
  }
  return out;
}

struct Snapshot {
  double cpu = 0;
  std::map<std::string, double> calls;
};

Snapshot snapshot(e2e::Demo& demo) { return {cpu_ns(demo.process().pid()), dynamodb_calls(demo)}; }

// One line of the table: CPU µs per request and DynamoDB calls per request by operation.
void report(const std::string& what, const Snapshot& before, const Snapshot& after, int requests) {
  std::printf("| %-46s | %8.1f | ", what.c_str(), (after.cpu - before.cpu) / 1000.0 / requests);
  std::string calls;
  for (const auto& [op, n] : after.calls) {
    const double d = n - (before.calls.count(op) ? before.calls.at(op) : 0.0);
    if (d > 0) calls += (calls.empty() ? "" : ", ") + std::to_string(d / requests).substr(0, 5) + " " + op;
  }
  std::printf("%s |\n", calls.empty() ? "0" : calls.c_str());
}

std::string cookie_header(const std::string& cookie) { return "Cookie: sessionId=" + cookie; }

// Signs a new browser in through the provider's login page; returns its session cookie.
std::string sign_in(e2e::Demo& demo, DevProvider& op, const std::string& login) {
  e2e::HttpResponse start = e2e::get(demo.url("/signin"));
  std::string cookie = e2e::cookie_value(start.header("set-cookie"));
  std::string why;
  auto query = op.sign_in(start.header("location"), login, &why);
  if (!query) throw std::runtime_error("sign-in stopped: " + why);
  e2e::HttpResponse done = e2e::get(demo.url("/auth/callback?" + *query), 15'000, {cookie_header(cookie)});
  if (done.status != 303) throw std::runtime_error("callback: " + done.body);
  return e2e::cookie_value(done.header("set-cookie"));
}

void measure(e2e::Demo& demo, const std::string& what, const std::string& path, const std::vector<std::string>& cookies,
             int requests) {
  for (int i = 0; i < 50 && cookies.size() == 1; ++i) e2e::get(demo.url(path), 15'000, {cookie_header(cookies[0])});
  const Snapshot before = snapshot(demo);
  for (int i = 0; i < requests; ++i) {
    const auto r = e2e::get(demo.url(path), 15'000, {cookie_header(cookies[static_cast<std::size_t>(i) % cookies.size()])});
    if (r.status != 200) throw std::runtime_error(what + ": HTTP " + std::to_string(r.status) + " " + r.body);
  }
  report(what, before, snapshot(demo), requests);
}

int run(int reads, int refreshes) {
  const std::string store = env_or("STORE", "memory");
  const std::uint16_t port = e2e::free_port();
  const std::string site = "http://127.0.0.1:" + std::to_string(port);
  DevProviderOptions o;
  o.client_id = "websession-demo";
  o.client_secret = "websession-demo-secret";
  o.redirect_uris = {site + "/auth/callback"};
  o.post_logout_redirect_uris = {site + "/"};
  DevProvider op(o);
  std::map<std::string, std::string> env = {{"SERVER", env_or("SERVER", "httplib")}, {"OIDC_ISSUER", op.issuer()}};
  if (store == "dynamodb") {
    env.insert({{"SESSION_STORE", "dynamodb"}, {"SESSION_TABLE", "oidc_cost_" + std::to_string(port)},
                {"AWS_ENDPOINT_URL_DYNAMODB", env_or("WEBSESSION_TEST_DYNAMODB_ENDPOINT", "")},
                {"AWS_REGION", "us-east-1"}, {"AWS_ACCESS_KEY_ID", "x"}, {"AWS_SECRET_ACCESS_KEY", "x"}});
  }
  e2e::Demo demo(env, port);
  std::printf("store=%s server=%s\n\n| request | server CPU µs/req | DynamoDB calls/req |\n| --- | ---: | --- |\n",
              store.c_str(), env.at("SERVER").c_str());
  const e2e::HttpResponse local = e2e::post(demo.url("/api/login"), R"({"user":"carol"})", {"Content-Type: application/json"});
  measure(demo, "GET /api/session, local sign-in", "/api/session", {e2e::cookie_value(local.header("set-cookie"))}, reads);
  const std::string alice = sign_in(demo, op, "alice");
  measure(demo, "GET /api/session, OpenID sign-in", "/api/session", {alice}, reads);
  measure(demo, "GET /api/me, valid access token (+1 UserInfo)", "/api/me", {alice}, reads / 10);
  op.configure({{"access_token_ttl", 1}});
  std::vector<std::string> expiring;
  for (int i = 0; i < refreshes; ++i) expiring.push_back(sign_in(demo, op, "user" + std::to_string(i)));
  op.configure({{"access_token_ttl", 600}});
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  const auto grants = op.events().at("refresh_token").as_int64();
  measure(demo, "GET /api/me, expired: refresh (+1 token, +1 UserInfo)", "/api/me", expiring, refreshes);
  std::printf("\nrefresh grants at the provider: %lld for %d requests\n",
              static_cast<long long>(op.events().at("refresh_token").as_int64() - grants), refreshes);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc > 1 ? std::atoi(argv[1]) : 3000, argc > 2 ? std::atoi(argv[2]) : 100);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "websession_oidc_cost: %s\n", e.what());
    return 1;
  }
}
