// Shared pieces of the adapter tests: a store that can be made to fail, and a middleware over it.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "support/forwarding_store.h"
#include "websession/http/middleware.h"
#include "websession/memory_session_store.h"

namespace adapter_test {

/// A MemorySessionStore behind a switch that makes every call fail as unavailable, counting reads.
class FlakyStore : public websession::testing::ForwardingStore {
 public:
  FlakyStore() : ForwardingStore(memory_) {}

  [[nodiscard]] std::size_t size() const { return memory_.size(); }

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

inline std::shared_ptr<websession::http::Middleware> make_middleware(const std::shared_ptr<FlakyStore>& store) {
  websession::http::MiddlewareOptions o;
  o.store = store;
  o.secrets = {std::string(32, 'z')};
  return std::make_shared<websession::http::Middleware>(o);
}

/// "sessionId=<value>" from a Set-Cookie header.
inline std::string cookie_pair(const std::string& set_cookie) { return set_cookie.substr(0, set_cookie.find(';')); }

}  // namespace adapter_test
