// Shared pieces of the adapter tests: a store that can be made to fail, and a middleware over it.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "websession/http/middleware.h"
#include "websession/memory_session_store.h"

namespace adapter_test {

/// A MemorySessionStore behind a switch that makes every call fail as unavailable, counting reads.
class FlakyStore : public websession::SessionStore {
 public:
  using Status = websession::Status;
  template <class T>
  using Result = websession::Result<T>;

  Status init() override { return inner_.init(); }
  Result<std::optional<websession::SessionRecord>> get(std::string_view id) override {
    ++gets;
    if (fail) return down();
    return inner_.get(id);
  }
  Status create(std::string_view id, const websession::Fields& data, websession::TimePoint expires) override {
    if (fail) return down();
    return inner_.create(id, data, expires);
  }
  Status update(std::string_view id, const websession::Fields& set_fields, const std::vector<std::string>& remove,
                const websession::WriteOptions& o) override {
    if (fail) return down();
    return inner_.update(id, set_fields, remove, o);
  }
  Result<std::int64_t> increment(std::string_view id, std::string_view field, std::int64_t delta,
                                 const websession::WriteOptions& o) override {
    if (fail) return down();
    return inner_.increment(id, field, delta, o);
  }
  Status touch(std::string_view id, websession::TimePoint expires) override {
    if (fail) return down();
    return inner_.touch(id, expires);
  }
  Status destroy(std::string_view id) override {
    if (fail) return down();
    return inner_.destroy(id);
  }
  Result<websession::LockGrant> lock(std::string_view id, const websession::Value& v) override {
    if (fail) return down();
    return inner_.lock(id, v);
  }
  Status unlock(std::string_view id, std::string_view owner) override {
    if (fail) return down();
    return inner_.unlock(id, owner);
  }
  Status ping() override {
    if (fail) return down();
    return inner_.ping();
  }
  void close() override { inner_.close(); }
  [[nodiscard]] const std::string& lock_verification_property() const override {
    return inner_.lock_verification_property();
  }
  [[nodiscard]] std::chrono::milliseconds max_lock_time() const override { return inner_.max_lock_time(); }

  [[nodiscard]] std::size_t size() const { return inner_.size(); }

  std::atomic<bool> fail{false};
  std::atomic<int> gets{0};

 private:
  static websession::Error down() { return websession::Error(websession::ErrorCode::unavailable, "store down"); }
  websession::MemorySessionStore inner_;
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
