// Microbenchmarks of the http part: cookie verification, and a request's session load and save through
// the middleware with the memory store.
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "websession/http/cookie.h"
#include "websession/http/middleware.h"
#include "websession/memory_session_store.h"

namespace {
namespace wh = websession::http;

const std::string kSecret(32, 'b');

void BM_CookieVerify(benchmark::State& state) {
  wh::CookieSigner signer({kSecret});
  const std::string value = signer.sign("sessionId", "abcdefghijklmnopqrstuvwxyzABCDEF");
  for (auto _ : state) benchmark::DoNotOptimize(signer.verify("sessionId", value));
}
BENCHMARK(BM_CookieVerify);

void BM_CookieVerifyTampered(benchmark::State& state) {
  wh::CookieSigner signer({kSecret, std::string(40, 'c')});
  std::string value = signer.sign("sessionId", "abcdefghijklmnopqrstuvwxyzABCDEF");
  value.back() = value.back() == 'A' ? 'B' : 'A';
  for (auto _ : state) benchmark::DoNotOptimize(signer.verify("sessionId", value));
}
BENCHMARK(BM_CookieVerifyTampered);

void BM_ParseCookieHeader(benchmark::State& state) {
  const std::string header = "_ga=GA1.2.3; theme=dark; sessionId=abcdefghijklmnopqrstuvwxyzABCDEF.sig; x=y";
  for (auto _ : state) benchmark::DoNotOptimize(wh::cookie_values(header, "sessionId"));
}
BENCHMARK(BM_ParseCookieHeader);

struct Fixture {
  Fixture() {
    auto store = std::make_shared<websession::MemorySessionStore>();
    (void)store->init();
    wh::MiddlewareOptions o;
    o.store = store;
    o.secrets = {kSecret};
    mw = std::make_unique<wh::Middleware>(o);
    auto rs = mw->begin("");
    rs->session().set("user", "alice");
    rs->session().set("views", 0);
    auto set_cookie = rs->finish();
    const std::string& c = **set_cookie;
    cookie = c.substr(0, c.find(';'));
  }
  std::unique_ptr<wh::Middleware> mw;
  std::string cookie;
};

// A read-only request: verify the cookie, load the session, read a field, finish (no write).
void BM_MiddlewareReadOnlyRequest(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) {
    auto rs = f.mw->begin(f.cookie);
    benchmark::DoNotOptimize(rs->session().get_string("user"));
    benchmark::DoNotOptimize(rs->finish());
  }
}
BENCHMARK(BM_MiddlewareReadOnlyRequest)->ThreadRange(1, 2);

// A writing request: load, change a field, save it.
void BM_MiddlewareWriteRequest(benchmark::State& state) {
  Fixture f;
  std::int64_t n = 0;
  for (auto _ : state) {
    auto rs = f.mw->begin(f.cookie);
    rs->session().set("views", ++n);
    benchmark::DoNotOptimize(rs->finish());
  }
}
BENCHMARK(BM_MiddlewareWriteRequest);

// An anonymous visitor nobody writes to: no store access at all.
void BM_MiddlewareAnonymousRequest(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) {
    auto rs = f.mw->begin("");
    benchmark::DoNotOptimize(rs->finish());
  }
}
BENCHMARK(BM_MiddlewareAnonymousRequest);

}  // namespace

BENCHMARK_MAIN();
