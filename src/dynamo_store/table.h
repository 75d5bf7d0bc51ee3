// The table's administration: describe, create, wait until ACTIVE, TTL. Pure checks here, the
// coroutine that drives them in table.cpp.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "websession/async.h"
#include "websession/dynamodb/client.h"
#include "websession/result.h"

namespace websession::dynamo {

/// invalid_argument naming the schema websession expects when `t` has another key schema.
Status check_schema(const std::string& table, const dynamodb::TableDescription& t);

/// The CreateTable request of a session table: hash key `id` (S), on-demand.
dynamodb::CreateTableRequest create_table_request(const std::string& table);

struct TableSetup {
  std::string table;
  bool create = true;
  std::chrono::milliseconds polling_frequency{1000};
  int polling_max_attempts = 60;
  std::function<void(std::string_view)> warn;
};

/// Makes the table ready: checks an existing one's schema (and warns when TTL is not enabled on
/// `expires`), or creates it, waits until ACTIVE and enables TTL. Instances starting at once all
/// succeed: one creates, the others see ResourceInUse and wait.
Task<Status> co_prepare_table(dynamodb::Client& client, const TableSetup& setup);

}  // namespace websession::dynamo
