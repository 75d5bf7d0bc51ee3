// A helper process for the DynamoDB lock tests.
//
//   websession_lock_worker race ENDPOINT TABLE THREADS ID...
//     every thread tries to lock every ID once, in order; prints "won <index>" for each lock won.
//   websession_lock_worker hold ENDPOINT TABLE MAX_LOCK_MS ID
//     locks the ID, prints "locked", and waits to be killed.
//   websession_lock_worker signin ENDPOINT TABLE THREADS OWNER COUNT
//     every thread signs OWNER in COUNT times; prints "session <key>" for each session created.
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/dynalite.h"
#include "websession/dynamo_session_store.h"
#include "websession/session.h"
#include "websession/session_id.h"

using namespace websession;

namespace {

int sign_in(DynamoSessionStore& store, int threads, const std::string& owner, int count) {
  std::mutex out;
  int errors = 0;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < count; ++i) {
        Session s(store, SessionOptions{});
        s.sign_in(SignIn{owner, "", "lock-worker", true});
        s.set("user", Value(owner.c_str()));
        auto st = s.save();
        std::lock_guard lock(out);
        if (st) {
          std::printf("session %s\n", session_key(s.id()).c_str());
        } else {
          std::fprintf(stderr, "sign-in: %s\n", st.error().describe().c_str());
          ++errors;
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  std::fflush(stdout);
  return errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s race|hold ENDPOINT TABLE N ID...\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  DynamoSessionStoreOptions o;
  o.client = websession::testing::make_test_client(argv[2]);
  o.table_name = argv[3];
  o.create_table = false;
  if (mode == "hold") o.max_lock_time = std::chrono::milliseconds(std::atol(argv[4]));
  DynamoSessionStore store(o);
  if (auto st = store.init(); !st) {
    std::fprintf(stderr, "init: %s\n", st.error().describe().c_str());
    return 1;
  }
  if (mode == "hold") {
    auto grant = store.lock(argv[5], Value("r"));
    if (!grant) {
      std::fprintf(stderr, "lock: %s\n", grant.error().describe().c_str());
      return 1;
    }
    std::printf("locked\n");
    std::fflush(stdout);
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (mode == "signin") return sign_in(store, std::atoi(argv[4]), argv[5], argc > 6 ? std::atoi(argv[6]) : 1);
  const int threads = std::atoi(argv[4]);
  std::vector<std::string> ids(argv + 5, argv + argc);
  std::mutex out;
  int errors = 0;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (std::size_t i = 0; i < ids.size(); ++i) {
        auto grant = store.lock(ids[i], Value("r"));
        std::lock_guard lock(out);
        if (grant) {
          std::printf("won %zu\n", i);
        } else if (grant.code() != ErrorCode::lock_held) {
          std::fprintf(stderr, "lock: %s\n", grant.error().describe().c_str());
          ++errors;
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  std::fflush(stdout);
  return errors == 0 ? 0 : 1;
}
