// DynamoSessionStore: sessions in a DynamoDB table, shared by every instance of a service.
//
// The table has the hash key `id` (S) and nothing else; it holds session items (keyed by
// session_key(id), never the ID itself), tombstones of revoked sessions, and the owners' and
// provider sessions' index items. The README ("The item") documents every attribute, and what each
// operation costs in DynamoDB calls.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "websession/session_store.h"

namespace websession {

namespace dynamodb {
class Client;
}

struct DynamoSessionStoreOptions {
  /// The table's name. Required: 3 to 255 letters, digits, '_', '-' or '.'.
  std::string table_name;
  /// The DynamoDB client; default (nullptr): a client configured from the environment (region,
  /// endpoint and credentials as the AWS SDKs find them).
  std::shared_ptr<dynamodb::Client> client;
  /// How long a lock may be held without renewal before another caller may take it over. Must be > 0.
  std::chrono::milliseconds max_lock_time{10'000};
  /// The field lock() verifies. Must not be empty.
  std::string lock_verification_property = "refresh_token";
  /// init() creates the table when it is missing (PAY_PER_REQUEST, then waits for ACTIVE and enables
  /// TTL on `expires`). When false, a missing table fails init().
  bool create_table = true;
  /// How often init() polls DescribeTable while the table is being created, and how many times.
  std::chrono::milliseconds polling_frequency{1'000};
  int polling_max_attempts = 60;
  /// Strongly consistent reads for get(). Default on: a session written by one instance is seen by
  /// the next request on another.
  bool consistent_read = true;
  /// The executor for asynchronous calls whose handler has none (see async.h); default: websession's.
  Executor executor;
  /// Where warnings go (a missing TTL setting, a malformed item): one line each, never containing a
  /// session ID, key or value. Default: the library's log (websession/log.h), as warnings.
  std::function<void(std::string_view)> logger;
  /// The clock; default the system clock.
  Clock clock;
};

class DynamoSessionStore final : public SessionStore {
 public:
  /// Throws std::invalid_argument naming the option when an option is invalid. Performs no I/O;
  /// call init().
  explicit DynamoSessionStore(DynamoSessionStoreOptions options);
  ~DynamoSessionStore() override;

  Task<Status> co_init() override;
  Task<Result<std::optional<SessionRecord>>> co_get(std::string_view id) override;
  Task<Status> co_create(std::string_view id, const NewSession& session) override;
  Task<Status> co_update(std::string_view id, const Fields& set_fields, const std::vector<std::string>& remove_names,
                         const WriteOptions& options) override;
  Task<Result<std::int64_t>> co_increment(std::string_view id, std::string_view field, std::int64_t delta,
                                          const WriteOptions& options) override;
  Task<Status> co_touch(std::string_view id, TimePoint expires) override;
  Task<Status> co_destroy(std::string_view id) override;
  Task<Result<LockGrant>> co_lock(std::string_view id, const Value& verification_value) override;
  Task<Status> co_unlock(std::string_view id, std::string_view token) override;
  Task<Status> co_renew_lock(std::string_view id, std::string_view token) override;
  Task<Result<std::vector<OwnerSession>>> co_list_owner_sessions(std::string_view owner) override;
  Task<Result<std::size_t>> co_destroy_owner_sessions(std::string_view owner) override;
  Task<Result<std::size_t>> co_destroy_sid_sessions(std::string_view sid) override;
  Task<Status> co_ping() override;

  void close() override;
  [[nodiscard]] const std::string& lock_verification_property() const override;
  [[nodiscard]] std::chrono::milliseconds max_lock_time() const override;
  [[nodiscard]] Executor executor() const override;
  [[nodiscard]] std::vector<MetricSample> metrics() const override;

  /// The client it uses.
  [[nodiscard]] const std::shared_ptr<dynamodb::Client>& client() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace websession
