// Shared pieces of the adapter tests: stores that can be made to fail or that count calls, and a
// middleware over them.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "support/counting_store.h"
#include "support/forwarding_store.h"
#include "websession/http/middleware.h"
#include "websession/memory_session_store.h"

namespace adapter_test {

/// A MemorySessionStore behind a switch that makes every call fail as unavailable, counting reads. It
/// says it does not answer inline, as a remote store would.
class FlakyStore : public websession::testing::ForwardingStore {
 public:
  FlakyStore() : ForwardingStore(memory_) {}

  [[nodiscard]] std::size_t size() const { return memory_.size(); }
  /// Like a remote store: the adapters take their asynchronous path (co_begin, co_finish).
  [[nodiscard]] bool answers_inline() const override { return false; }

  std::atomic<bool> fail{false};
  std::atomic<int> gets{0};

 protected:
  std::optional<websession::Error> before(websession::testing::StoreOp op) override {
    if (op == websession::testing::StoreOp::get) ++gets;
    if (fail) return websession::Error(websession::ErrorCode::unavailable, "store down");
    return std::nullopt;
  }

 private:
  websession::MemorySessionStore memory_;
};

/// A CountingStore over its own MemorySessionStore (no sweeper thread).
inline std::shared_ptr<websession::testing::CountingStore> counting_memory_store() {
  struct Both {
    static websession::MemorySessionStoreOptions no_sweeper() {
      websession::MemorySessionStoreOptions o;
      o.sweep_interval = {};
      return o;
    }
    websession::MemorySessionStore memory{no_sweeper()};
    websession::testing::CountingStore counting{memory};
  };
  auto both = std::make_shared<Both>();
  return {both, &both->counting};
}

inline std::shared_ptr<websession::http::Middleware> make_middleware(std::shared_ptr<websession::SessionStore> store) {
  websession::http::MiddlewareOptions o;
  o.store = std::move(store);
  o.secrets = {std::string(32, 'z')};
  return std::make_shared<websession::http::Middleware>(o);
}

/// "sessionId=<value>" from a Set-Cookie header.
inline std::string cookie_pair(const std::string& set_cookie) { return set_cookie.substr(0, set_cookie.find(';')); }

/// The Set-Cookie value in a raw response head, or empty.
inline std::string set_cookie_of(const std::string& raw_response) {
  const auto at = raw_response.find("Set-Cookie: ");
  if (at == std::string::npos) return {};
  return raw_response.substr(at + 12, raw_response.find("\r\n", at) - at - 12);
}

}  // namespace adapter_test
