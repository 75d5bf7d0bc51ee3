// DynamoSessionStore: sessions in a DynamoDB table, shared by every instance of a service.
//
// The item (pinned; other tools read it):
//   id         S  the session ID (hash key; no sort key)
//   expires    N  epoch seconds; TTL attribute
//   data       M  the session's fields as typed DynamoDB values
//   lock_owner S  the lock holder's token (absent when unlocked)
//   lock_time  N  epoch milliseconds when the lock was taken (absent when unlocked)
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "websession/session_store.h"

namespace websession {

namespace dynamodb {
class Client;
}

struct DynamoSessionStoreOptions {
  /// The table's name. Required.
  std::string table_name;
  /// The DynamoDB client; default (nullptr): a client configured from the environment (region,
  /// endpoint and credentials as the AWS SDKs find them).
  std::shared_ptr<dynamodb::Client> client;
  /// How long a lock may be held before another caller may take it over. Must be > 0.
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
  /// The clock; default the system clock.
  Clock clock;
};

class DynamoSessionStore final : public SessionStore {
 public:
  /// Throws std::invalid_argument naming the option when an option is invalid. Performs no I/O;
  /// call init().
  explicit DynamoSessionStore(DynamoSessionStoreOptions options);
  ~DynamoSessionStore() override;

  Status init() override;
  Result<std::optional<SessionRecord>> get(std::string_view id) override;
  Status create(std::string_view id, const Fields& data, TimePoint expires) override;
  Status update(std::string_view id, const Fields& set_fields, const std::vector<std::string>& remove_names,
                const WriteOptions& options = {}) override;
  Result<std::int64_t> increment(std::string_view id, std::string_view field, std::int64_t delta,
                                 const WriteOptions& options = {}) override;
  Status touch(std::string_view id, TimePoint expires) override;
  Status destroy(std::string_view id) override;
  Result<LockGrant> lock(std::string_view id, const Value& verification_value) override;
  Status unlock(std::string_view id, std::string_view owner) override;
  Status ping() override;
  void close() override;
  [[nodiscard]] const std::string& lock_verification_property() const override;
  [[nodiscard]] std::chrono::milliseconds max_lock_time() const override;
  [[nodiscard]] std::vector<MetricSample> metrics() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace websession
