// DynamoSessionStore without I/O: every request the store sends is built here, and every answer (or
// conditional failure) is interpreted here, as pure functions of their inputs and the time. The
// store's coroutines only send what these build and pass on what these decide; the tests of this
// file need no server.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "websession/dynamodb/attribute_value.h"
#include "websession/dynamodb/operations.h"
#include "websession/result.h"
#include "websession/session_store.h"

namespace websession::dynamo {

namespace ddb = websession::dynamodb;

/// The time a request is built at.
struct Now {
  std::int64_t seconds = 0;
  std::int64_t millis = 0;
  static Now of(TimePoint t) { return Now{to_epoch_seconds(t), to_epoch_millis(t)}; }
};

/// What an item turned out to be.
struct Decoded {
  enum class State { absent, live, ended, revoked, corrupt };
  State state = State::absent;
  SessionRecord record;  ///< when live (and, for ended ones, as far as it could be read)
  std::string why;       ///< when corrupt: what is wrong, without the item's key or values
  std::string lock_owner;  ///< when live and locked
};

/// Reads a session item. `id` is the caller's session ID (records carry it; the item has its key).
Decoded decode_session(std::string_view id, const std::optional<ddb::AttributeMap>& item, Now now);

/// One entry of an index item.
struct IndexEntry {
  std::string key;  ///< the session's key
  std::int64_t created_ms = 0;
  std::int64_t absolute = 0;  ///< epoch seconds
};

/// The entries of an index item (attributes named "s:<key>"), and its revocation mark.
struct Index {
  std::vector<IndexEntry> entries;
  std::optional<std::int64_t> revoked_at;  ///< epoch ms
  std::optional<std::int64_t> expires;     ///< epoch s
};
Index decode_index(const std::optional<ddb::AttributeMap>& item);

/// A listed session, if `item` (read with listing_projection()) is a live session.
std::optional<OwnerSession> decode_listing(const std::string& key, const std::optional<ddb::AttributeMap>& item, Now now);

/// The requests of one store (its table and lock settings).
class Requests {
 public:
  Requests(std::string table, std::string lock_property, std::chrono::milliseconds max_lock_time);

  [[nodiscard]] ddb::GetItemRequest get(const std::string& key, bool consistent) const;
  /// A session read of the attributes a listing shows.
  [[nodiscard]] ddb::GetItemRequest listing_get(const std::string& key) const;
  /// The same for up to 100 sessions at once (strongly consistent).
  [[nodiscard]] ddb::BatchGetItemRequest listing_batch(const std::vector<std::string>& keys) const;
  [[nodiscard]] ddb::PutItemRequest create(const std::string& key, const NewSession& s, Now now) const;
  /// The write of set_fields/remove_names; nullopt when there is nothing to write (no fields, no lock).
  [[nodiscard]] std::optional<ddb::UpdateItemRequest> update(const std::string& key, const Fields& set_fields,
                                                             const std::vector<std::string>& remove_names,
                                                             const WriteOptions& write, Now now) const;
  [[nodiscard]] ddb::UpdateItemRequest increment(const std::string& key, std::string_view field, std::int64_t delta,
                                                 const WriteOptions& write, Now now) const;
  [[nodiscard]] ddb::UpdateItemRequest touch(const std::string& key, TimePoint expires, Now now) const;
  [[nodiscard]] ddb::DeleteItemRequest destroy(const std::string& key) const;
  [[nodiscard]] ddb::UpdateItemRequest lock(const std::string& key, const Value& verification_value,
                                            const std::string& token, Now now) const;
  [[nodiscard]] ddb::UpdateItemRequest unlock(const std::string& key, std::string_view token) const;
  [[nodiscard]] ddb::UpdateItemRequest renew(const std::string& key, std::string_view token, Now now) const;

  /// Enters a session in an index, unless the index was revoked at or after the sign-in began.
  /// Returns the index's old image (ALL_OLD).
  [[nodiscard]] ddb::UpdateItemRequest index_add(const std::string& index_key, const std::string& session_key,
                                                 const NewSession& s) const;
  /// Keeps the index item from expiring before `expires` (after index_add found it later than ours).
  [[nodiscard]] ddb::UpdateItemRequest index_keep_until(const std::string& index_key, std::int64_t expires) const;
  /// Removes entries (at most 50) from an existing index item.
  [[nodiscard]] ddb::UpdateItemRequest index_remove(const std::string& index_key,
                                                    const std::vector<std::string>& session_keys) const;
  /// Marks the index revoked now, returning its old image: the sessions to end.
  [[nodiscard]] ddb::UpdateItemRequest index_revoke(const std::string& index_key, Now now) const;
  /// Replaces a session with a tombstone, returning the old item.
  [[nodiscard]] ddb::PutItemRequest tombstone(const std::string& key, Now now) const;

  [[nodiscard]] const std::string& table() const noexcept { return table_; }
  [[nodiscard]] const std::string& lock_property() const noexcept { return lock_property_; }

 private:
  std::string table_;
  std::string lock_property_;
  std::chrono::milliseconds max_lock_time_;
};

/// What to do after a write's condition failed, given a fresh strongly consistent read of the item.
struct WriteVerdict {
  enum class Kind { ok, not_found, aborted, retry_clamped };
  Kind kind = Kind::not_found;
  /// For retry_clamped: write again with this expiry (the session's absolute end).
  TimePoint expires;
};

/// A write (update, increment or touch) whose condition failed: was the session gone, the lock lost,
/// or the expiry past the absolute end? `applied` says whether the item already shows this very
/// write (an earlier attempt whose answer was lost).
WriteVerdict diagnose_write(const Decoded& now_item, const WriteOptions& write, bool applied);

/// Whether a session item already shows a write of set_fields/remove_names (and the lock state it
/// asked for). Numbers compare by value: DynamoDB stores 3.0 as 3.
bool shows_write(const Decoded& item, const Fields& set_fields, const std::vector<std::string>& remove_names,
                 const WriteOptions& write);

/// Whether two session values are the same once stored (numbers by value, recursively).
bool same_stored_value(const Value& a, const Value& b);

/// A lock attempt's outcome from the old image of a successful conditional write.
Result<LockGrant> granted_lock(std::string_view id, const std::optional<ddb::AttributeMap>& old_image,
                               const std::string& token, Now now);
/// A lock attempt whose condition failed, from a fresh read: not_found, verification_mismatch or
/// lock_held.
Error refused_lock(const Decoded& now_item, const std::string& property, const Value& verification_value);

/// The error a failed create gets, given a fresh read of the key: success when the item is this very
/// create's earlier attempt; aborted when a sign-in (a session with an owner) finds a tombstone (a
/// revocation of the owner's sessions ended it while it was being created); already_exists otherwise.
Status diagnose_create(const Decoded& now_item, const NewSession& s);

}  // namespace websession::dynamo
