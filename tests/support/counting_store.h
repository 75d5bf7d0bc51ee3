// A SessionStore decorator that forwards to a real store and counts the calls, so that tests can
// assert how many reads and writes a request costs.
#pragma once

#include <atomic>
#include <memory>

#include "websession/session_store.h"

namespace websession::testing {

class CountingStore final : public SessionStore {
 public:
  explicit CountingStore(SessionStore& inner) : inner_(inner) {}

  std::atomic<int> gets{0}, creates{0}, updates{0}, increments{0}, touches{0}, destroys{0}, locks{0},
      unlocks{0};
  int writes() const { return creates + updates + increments + touches + destroys + locks + unlocks; }
  void reset() {
    for (auto* c : {&gets, &creates, &updates, &increments, &touches, &destroys, &locks, &unlocks}) *c = 0;
  }

  Status init() override { return inner_.init(); }
  Result<std::optional<SessionRecord>> get(std::string_view id) override {
    ++gets;
    return inner_.get(id);
  }
  Status create(std::string_view id, const Fields& data, TimePoint expires) override {
    ++creates;
    return inner_.create(id, data, expires);
  }
  Status update(std::string_view id, const Fields& set_fields, const std::vector<std::string>& remove_names,
                const WriteOptions& options = {}) override {
    ++updates;
    return inner_.update(id, set_fields, remove_names, options);
  }
  Result<std::int64_t> increment(std::string_view id, std::string_view field, std::int64_t delta,
                                 const WriteOptions& options = {}) override {
    ++increments;
    return inner_.increment(id, field, delta, options);
  }
  Status touch(std::string_view id, TimePoint expires) override {
    ++touches;
    return inner_.touch(id, expires);
  }
  Status destroy(std::string_view id) override {
    ++destroys;
    return inner_.destroy(id);
  }
  Result<LockGrant> lock(std::string_view id, const Value& v) override {
    ++locks;
    return inner_.lock(id, v);
  }
  Status unlock(std::string_view id, std::string_view owner) override {
    ++unlocks;
    return inner_.unlock(id, owner);
  }
  Status ping() override { return inner_.ping(); }
  void close() override { inner_.close(); }
  const std::string& lock_verification_property() const override { return inner_.lock_verification_property(); }
  std::chrono::milliseconds max_lock_time() const override { return inner_.max_lock_time(); }

 private:
  SessionStore& inner_;
};

}  // namespace websession::testing
