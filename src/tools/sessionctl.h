// sessionctl, the operator's command line for the session table and users' sessions (DESIGN.md,
// "sessionctl"). The commands are functions over a DynamoDB client and an output stream, so that the
// tests run them in-process against dynalite; main() only parses arguments and prints.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "websession/dynamodb/client.h"
#include "websession/result.h"

namespace websession::tools {

/// A parsed command line.
struct Command {
  std::string name;  ///< create-table, check, list-user, revoke-user, stats
  std::string table;
  std::string user;
  bool point_in_time_recovery = false;  ///< create-table --pitr
  std::vector<std::pair<std::string, std::string>> tags;  ///< create-table --tag KEY=VALUE
};

/// The usage text.
std::string usage();

/// Parses argv (without the program name). invalid_argument with a one-line reason.
Result<Command> parse_command_line(const std::vector<std::string>& args);

/// What `stats` counts in one pass over the table.
struct TableStats {
  std::int64_t live_sessions = 0;
  std::int64_t expired_sessions = 0;  ///< past their expiry, not yet deleted by TTL
  std::int64_t revoked = 0;           ///< tombstones of revoked sessions
  std::int64_t users = 0;             ///< owners with at least one index entry
  std::int64_t other_items = 0;       ///< items websession did not write
  std::int64_t bytes = 0;             ///< the items' size as DynamoDB counts it
};

/// Adds one scanned item to `stats` (pure; `now` in epoch seconds).
void count_item(const dynamodb::AttributeMap& item, std::int64_t now, TableStats& stats);

/// Runs a command, writing its answer to `out`. Errors carry the one-line reason to print.
Status run(const Command& command, const std::shared_ptr<dynamodb::Client>& client, std::ostream& out);

}  // namespace websession::tools
