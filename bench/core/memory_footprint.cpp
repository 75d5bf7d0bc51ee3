// Fills a MemorySessionStore with N sessions of about 200 bytes of data each and prints the memory
// the process gained (resident set), per session and in total.
//
//   websession_memory_footprint [N=1000000]
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <boost/json/serialize.hpp>

#include "websession/memory_session_store.h"
#include "websession/session_id.h"

namespace {

long resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace websession;
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1'000'000;
  MemorySessionStoreOptions options;
  options.max_sessions = n;
  options.sweep_interval = std::chrono::milliseconds(0);
  MemorySessionStore store(options);
  // Six fields whose JSON text is 200 bytes.
  Fields data{{"user", "alice@example.com"},
              {"refresh_token", std::string(43, 'r')},
              {"access_token", std::string(43, 'a')},
              {"access_expires_at", 1700000000},
              {"views", 12},
              {"refresh_count", 1}};
  std::string text = boost::json::serialize(data);
  data["pad"] = std::string(text.size() + 9 < 200 ? 200 - 9 - text.size() : 1, 'p');  // ,"pad":"..."
  const std::size_t data_bytes = boost::json::serialize(data).size();
  const long before = resident_kib();
  NewSession session;
  session.data = data;
  session.created = system_now();
  session.expires = session.created + std::chrono::hours(1);
  session.absolute_expires = session.created + std::chrono::hours(12);
  for (std::size_t i = 0; i < n; ++i) {
    if (!store.create(generate_session_id(), session)) {
      std::fprintf(stderr, "create failed at %zu\n", i);
      return 1;
    }
  }
  const long after = resident_kib();
  const double mib = static_cast<double>(after - before) / 1024.0;
  std::printf("sessions: %zu\ndata per session: %zu bytes of JSON\nresident growth: %.1f MiB (%.0f bytes per session)\n",
              store.size(), data_bytes, mib, static_cast<double>(after - before) * 1024.0 / static_cast<double>(n));
  return store.size() == n ? 0 : 1;
}
