// A SessionStore decorator that forwards to a real store and counts the calls, so that tests can
// assert how many reads and writes a request costs. Blocking and coroutine calls count alike.
#pragma once

#include <atomic>

#include "support/forwarding_store.h"

namespace websession::testing {

class CountingStore final : public ForwardingStore {
 public:
  explicit CountingStore(SessionStore& inner) : ForwardingStore(inner) {}

  std::atomic<int> gets{0}, creates{0}, updates{0}, increments{0}, touches{0}, destroys{0}, locks{0},
      unlocks{0}, renewals{0}, lists{0}, revokes{0};
  int writes() const { return creates + updates + increments + touches + destroys + locks + unlocks + renewals; }
  void reset() {
    for (auto* c : {&gets, &creates, &updates, &increments, &touches, &destroys, &locks, &unlocks, &renewals, &lists,
                    &revokes}) {
      *c = 0;
    }
  }

 protected:
  std::optional<Error> before(StoreOp op) override {
    switch (op) {
      case StoreOp::get: ++gets; break;
      case StoreOp::create: ++creates; break;
      case StoreOp::update: ++updates; break;
      case StoreOp::increment: ++increments; break;
      case StoreOp::touch: ++touches; break;
      case StoreOp::destroy: ++destroys; break;
      case StoreOp::lock: ++locks; break;
      case StoreOp::unlock: ++unlocks; break;
      case StoreOp::renew: ++renewals; break;
      case StoreOp::list: ++lists; break;
      case StoreOp::revoke: ++revokes; break;
      case StoreOp::init:
      case StoreOp::ping: break;
    }
    return std::nullopt;
  }
};

}  // namespace websession::testing
