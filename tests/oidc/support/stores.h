// The stores the relying party's tests run against: the memory store, and the DynamoDB store on
// dynalite (WEBSESSION_TEST_DYNAMODB_ENDPOINT, which ./scripts/test sets), each on a table of its own.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "support/dynalite.h"
#include "websession/dynamo_session_store.h"
#include "websession/memory_session_store.h"

namespace websession::testing {

/// A ready store of `kind` ("memory" or "dynamodb"). Call WEBSESSION_REQUIRE_DYNALITE() first for
/// "dynamodb".
inline std::shared_ptr<SessionStore> make_store(const std::string& kind, Clock clock = {},
                                                std::chrono::milliseconds max_lock_time = std::chrono::seconds(10)) {
  std::shared_ptr<SessionStore> store;
  if (kind == "memory") {
    MemorySessionStoreOptions o;
    o.max_lock_time = max_lock_time;
    o.clock = std::move(clock);
    store = std::make_shared<MemorySessionStore>(o);
  } else {
    DynamoSessionStoreOptions o;
    o.table_name = unique_table_name("oidc");
    o.client = make_test_client(dynalite_endpoint());
    o.max_lock_time = max_lock_time;
    o.clock = std::move(clock);
    store = std::make_shared<DynamoSessionStore>(o);
  }
  if (auto st = store->init(); !st) throw std::runtime_error("store init: " + st.error().describe());
  return store;
}

}  // namespace websession::testing
