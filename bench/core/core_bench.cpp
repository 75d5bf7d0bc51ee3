// Microbenchmarks of the core hot paths: the memory store's reads and writes, and a request's worth
// of Session work (load, read, save with nothing changed).
#include <benchmark/benchmark.h>

#include <vector>

#include "websession/memory_session_store.h"
#include "websession/session.h"
#include "websession/session_id.h"

namespace {

using namespace websession;
using namespace std::chrono_literals;

Fields typical_session() {
  return Fields{{"user", "alice"},
                {"refresh_token", random_token(32)},
                {"access_token", random_token(32)},
                {"access_expires_at", 1700000000},
                {"views", 12},
                {"refresh_count", 1}};
}

NewSession new_session(Fields data, TimePoint expires) {
  NewSession s;
  s.data = std::move(data);
  s.expires = expires;
  s.absolute_expires = expires;
  s.created = system_now();
  return s;
}

void BM_GenerateSessionId(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(generate_session_id());
}
BENCHMARK(BM_GenerateSessionId);

void BM_MemoryStoreGet(benchmark::State& state) {
  MemorySessionStore store;
  std::vector<std::string> ids;
  for (int i = 0; i < 10'000; ++i) {
    ids.push_back(generate_session_id());
    (void)store.create(ids.back(), new_session(typical_session(), system_now() + 3600s));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = store.get(ids[i++ % ids.size()]);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_MemoryStoreGet)->Threads(1)->Threads(2);

void BM_MemoryStoreIncrement(benchmark::State& state) {
  MemorySessionStore store;
  const std::string id = generate_session_id();
  (void)store.create(id, new_session(typical_session(), system_now() + 3600s));
  for (auto _ : state) benchmark::DoNotOptimize(store.increment(id, "views", 1));
}
BENCHMARK(BM_MemoryStoreIncrement);

void BM_SessionReadOnlyRequest(benchmark::State& state) {
  MemorySessionStore store;
  Session first(store, {});
  first.set(typical_session());
  (void)first.save();
  for (auto _ : state) {
    auto s = Session::load(store, first.id(), {});
    benchmark::DoNotOptimize(s->get_string("user"));
    benchmark::DoNotOptimize(s->save());
  }
}
BENCHMARK(BM_SessionReadOnlyRequest);

}  // namespace

BENCHMARK_MAIN();
