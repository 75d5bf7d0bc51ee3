// The DynamoDB store's driver: each operation sends what requests.h builds and does what it decides.
#include "websession/dynamo_session_store.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "dynamo_store/layout.h"
#include "dynamo_store/requests.h"
#include "dynamo_store/table.h"
#include "websession/dynamodb/client.h"
#include "websession/log.h"
#include "websession/session_id.h"

namespace websession {
namespace {

namespace ddb = websession::dynamodb;
using ddb::AttributeMap;
using dynamo::Decoded;
using dynamo::Now;

bool is_condition_failure(const Error& e) { return e.service_type == dynamo::kConditionFailed; }

Error invalid_id() { return Error(ErrorCode::invalid_argument, "session ID is malformed"); }
Error not_found() { return Error(ErrorCode::not_found, "session not found or expired"); }
Error lock_lost() {
  return Error(ErrorCode::aborted, "the session's lock is no longer held by this token", dynamo::kConditionFailed);
}

// Index entries are removed at most this many per UpdateItem (expression size).
constexpr std::size_t kRemoveBatch = 50;
// An index is pruned of entries past their absolute end once it has more than this many.
constexpr std::size_t kPruneAbove = 20;
// BatchGetItem reads at most 100 keys; unprocessed ones are sent again this many times at most.
constexpr std::size_t kBatchGetKeys = 100;
constexpr int kBatchRounds = 8;

void check_options(const DynamoSessionStoreOptions& options) {
  const std::string& t = options.table_name;
  if (t.size() < 3 || t.size() > 255) {
    throw std::invalid_argument("DynamoSessionStoreOptions.table_name must be 3 to 255 characters long");
  }
  for (const char c : t) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      throw std::invalid_argument(
          "DynamoSessionStoreOptions.table_name may contain only letters, digits, '_', '-' and '.'");
    }
  }
  if (options.max_lock_time <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("DynamoSessionStoreOptions.max_lock_time must be greater than 0");
  }
  if (options.lock_verification_property.empty()) {
    throw std::invalid_argument("DynamoSessionStoreOptions.lock_verification_property must not be empty");
  }
  if (auto st = validate_field_name(options.lock_verification_property); !st) {
    throw std::invalid_argument("DynamoSessionStoreOptions.lock_verification_property: " + st.error().message);
  }
  if (options.polling_frequency <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("DynamoSessionStoreOptions.polling_frequency must be greater than 0");
  }
  if (options.polling_max_attempts <= 0) {
    throw std::invalid_argument("DynamoSessionStoreOptions.polling_max_attempts must be greater than 0");
  }
}

}  // namespace

struct DynamoSessionStore::Impl {
  DynamoSessionStoreOptions options;
  std::shared_ptr<ddb::Client> client;
  // Set when no client was given and none could be configured from the environment; every call
  // then answers with it.
  std::optional<Error> client_error;
  dynamo::Requests requests;

  std::atomic<std::uint64_t> lock_conflicts{0};
  std::atomic<std::uint64_t> lock_takeovers{0};
  std::atomic<std::uint64_t> corrupt_items{0};
  std::atomic<bool> corrupt_reported{false};

  explicit Impl(DynamoSessionStoreOptions o)
      : options(std::move(o)),
        requests(options.table_name, options.lock_verification_property, options.max_lock_time) {}

  Now now() const { return Now::of(options.clock()); }
  void warn(const std::string& message) const { options.logger(message); }

  Status usable() const {
    if (client) return {};
    return *client_error;
  }

  // A missing table is an outage, not a missing session: answering "not found" would log every user
  // out and recreate their sessions under new IDs.
  Error item_error(Error e) const {
    if (e.service_type == "ResourceNotFoundException") {
      e.code = ErrorCode::unavailable;
      e.message = "table '" + options.table_name + "' does not exist (" + e.message + "); call init() to create it";
    }
    return e;
  }

  // A corrupted item is no session; say so once per store, without the session's key.
  Decoded decode(std::string_view id, const std::optional<AttributeMap>& item) {
    Decoded d = dynamo::decode_session(id, item, now());
    if (d.state == Decoded::State::corrupt) {
      corrupt_items.fetch_add(1, std::memory_order_relaxed);
      if (!corrupt_reported.exchange(true)) {
        warn("table '" + options.table_name + "' holds a malformed session item (" + d.why +
             "); it is treated as no session. Further ones are only counted "
             "(websession_dynamodb_corrupt_items_total).");
      }
    }
    return d;
  }

  Task<Result<std::optional<AttributeMap>>> co_read(const std::string& key, bool consistent) {
    const auto request = requests.get(key, consistent);
    auto r = co_await client->co_get_item(request);
    if (!r) co_return item_error(std::move(r).error());
    co_return std::move(r->item);
  }

  // A fresh, strongly consistent look at a session after one of its writes failed its condition.
  Task<Result<Decoded>> co_reread(std::string_view id, const std::string& key) {
    auto item = co_await co_read(key, true);
    if (!item) co_return std::move(item).error();
    co_return decode(id, *item);
  }

  Task<Status> co_update(std::string_view id, const Fields& set_fields, const std::vector<std::string>& remove_names,
                         WriteOptions write);
  Task<Status> co_enter_index(const std::string& index_key, const std::string& key, const NewSession& s,
                              std::size_t cap);
  Task<Status> co_shrink_index(const std::string& index_key, const std::vector<dynamo::IndexEntry>& entries,
                               std::size_t cap);
  Task<Result<std::vector<OwnerSession>>> co_live(const std::vector<dynamo::IndexEntry>& entries,
                                                  std::vector<std::string>& dead);
  Task<Status> co_batch_read(const std::vector<std::string>& keys, std::map<std::string, AttributeMap, std::less<>>& found);
  Task<void> co_remove_entries(const std::string& index_key, const std::vector<std::string>& keys);
  Task<Result<std::size_t>> co_revoke(const std::string& index_key);
  Task<Result<bool>> co_end(const std::string& key);
};

DynamoSessionStore::DynamoSessionStore(DynamoSessionStoreOptions options) {
  check_options(options);
  if (!options.clock) options.clock = system_now;
  if (!options.logger) options.logger = [](std::string_view line) { websession::log(LogLevel::warning, line); };
  impl_ = std::make_unique<Impl>(std::move(options));
  impl_->client = impl_->options.client;
  if (!impl_->client) {
    // Configuring a client reads the environment and files but makes no request.
    auto created = ddb::Client::create();
    if (created) {
      impl_->client = std::move(*created);
    } else {
      Error e = std::move(created).error();
      e.message = "cannot configure the DynamoDB client from the environment: " + e.message;
      impl_->client_error = std::move(e);
    }
  }
}

DynamoSessionStore::~DynamoSessionStore() = default;

Task<Status> DynamoSessionStore::co_init() {
  if (auto st = impl_->usable(); !st) co_return st;
  dynamo::TableSetup setup{impl_->options.table_name, impl_->options.create_table, impl_->options.polling_frequency,
                           impl_->options.polling_max_attempts,
                           [impl = impl_.get()](std::string_view m) { impl->warn(std::string(m)); }};
  co_return co_await dynamo::co_prepare_table(*impl_->client, setup);
}

Task<Result<std::optional<SessionRecord>>> DynamoSessionStore::co_get(std::string_view id) {
  if (!is_valid_session_id(id)) co_return std::optional<SessionRecord>{};
  if (auto st = impl_->usable(); !st) co_return std::move(st).error();
  const std::string key = session_key(id);
  auto item = co_await impl_->co_read(key, impl_->options.consistent_read);
  if (!item) co_return std::move(item).error();
  Decoded d = impl_->decode(id, *item);
  if (d.state != Decoded::State::live) co_return std::optional<SessionRecord>{};
  co_return std::optional<SessionRecord>(std::move(d.record));
}

Task<Status> DynamoSessionStore::co_create(std::string_view id, const NewSession& session) {
  if (!is_valid_session_id(id)) co_return invalid_id();
  if (auto st = impl_->usable(); !st) co_return st;
  if (auto st = validate_new_session(session); !st) co_return st;
  const std::string key = session_key(id);
  if (auto st = check_item_size(key, session.data); !st) co_return st;
  // An owned session is entered in its indexes before it exists, so it is never missing from them.
  if (!session.owner.empty()) {
    const std::string owner_key = dynamo::owner_index_key(session.owner);
    auto st = co_await impl_->co_enter_index(owner_key, key, session, session.max_sessions_per_owner);
    if (st && !session.sid.empty()) {
      const std::string sid_key = dynamo::sid_index_key(session.sid);
      st = co_await impl_->co_enter_index(sid_key, key, session, 0);
    }
    if (!st) co_return st;
  }
  const auto request = impl_->requests.create(key, session, impl_->now());
  auto r = co_await impl_->client->co_put_item(request);
  if (r) co_return Status{};
  if (!is_condition_failure(r.error())) co_return impl_->item_error(std::move(r).error());
  auto now_item = co_await impl_->co_reread(id, key);
  if (!now_item) co_return std::move(now_item).error();
  co_return dynamo::diagnose_create(*now_item, session);
}

Task<Status> DynamoSessionStore::Impl::co_enter_index(const std::string& index_key, const std::string& key,
                                                      const NewSession& s, std::size_t cap) {
  const auto request = requests.index_add(index_key, key, s);
  auto r = co_await client->co_update_item(request);
  if (!r) {
    if (is_condition_failure(r.error())) {
      co_return Error(ErrorCode::aborted, "the owner's sessions were revoked while this session was being created",
                      dynamo::kConditionFailed);
    }
    co_return item_error(std::move(r).error());
  }
  const dynamo::Index old = dynamo::decode_index(r->attributes);
  const std::int64_t ours = to_epoch_seconds(s.absolute_expires) + dynamo::kRevocationMemorySeconds;
  if (old.expires && *old.expires > ours) {
    // Another session of this index lives longer: the index must not expire before it.
    const auto keep = requests.index_keep_until(index_key, *old.expires);
    (void)co_await client->co_update_item(keep);
  }
  co_return co_await co_shrink_index(index_key, old.entries, cap);
}

// Keeps an index within the cap (ending the oldest live sessions) and prunes it of entries that
// ended. Costs nothing below the cap and while the index is small.
Task<Status> DynamoSessionStore::Impl::co_shrink_index(const std::string& index_key,
                                                       const std::vector<dynamo::IndexEntry>& entries,
                                                       std::size_t cap) {
  std::vector<std::string> remove;
  if (cap > 0 && entries.size() + 1 > cap) {
    auto live = co_await co_live(entries, remove);
    if (!live) co_return std::move(live).error();
    for (std::size_t i = 0; live->size() - i + 1 > cap && i < live->size(); ++i) {
      auto ended = co_await co_end((*live)[i].key);
      if (!ended) co_return std::move(ended).error();
      remove.push_back((*live)[i].key);
    }
  } else if (entries.size() > kPruneAbove) {
    const std::int64_t now_s = now().seconds;
    for (const auto& e : entries) {
      if (e.absolute <= now_s) remove.push_back(e.key);
    }
  }
  co_await co_remove_entries(index_key, remove);
  co_return Status{};
}

Task<Result<std::vector<OwnerSession>>> DynamoSessionStore::Impl::co_live(const std::vector<dynamo::IndexEntry>& entries,
                                                                          std::vector<std::string>& dead) {
  const Now at = now();
  std::vector<std::string> keys;
  for (const auto& e : entries) {
    // Past its absolute end an entry is dead without asking.
    (e.absolute <= at.seconds ? dead : keys).push_back(e.key);
  }
  std::map<std::string, AttributeMap, std::less<>> found;
  for (std::size_t i = 0; i < keys.size(); i += kBatchGetKeys) {
    const std::vector<std::string> chunk(keys.begin() + static_cast<std::ptrdiff_t>(i),
                                         keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), i + kBatchGetKeys)));
    if (auto st = co_await co_batch_read(chunk, found); !st) co_return std::move(st).error();
  }
  std::vector<OwnerSession> live;
  for (const std::string& k : keys) {
    auto it = found.find(k);
    std::optional<AttributeMap> item;
    if (it != found.end()) item = std::move(it->second);
    if (auto s = dynamo::decode_listing(k, item, at)) {
      live.push_back(std::move(*s));
    } else {
      dead.push_back(k);
    }
  }
  std::sort(live.begin(), live.end(), [](const OwnerSession& a, const OwnerSession& b) { return a.created < b.created; });
  co_return live;
}

// One BatchGetItem of up to 100 sessions, sending again what DynamoDB left unprocessed.
Task<Status> DynamoSessionStore::Impl::co_batch_read(const std::vector<std::string>& keys,
                                                     std::map<std::string, AttributeMap, std::less<>>& found) {
  ddb::BatchGetItemRequest request = requests.listing_batch(keys);
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (int round = 0; round < kBatchRounds; ++round) {
    auto r = co_await client->co_batch_get_item(request);
    if (!r) co_return item_error(std::move(r).error());
    for (auto& item : r->responses[options.table_name]) {
      auto id = item.find(dynamo::kId);
      if (id != item.end() && id->second.is_string()) found.emplace(id->second.as_string(), std::move(item));
    }
    if (r->unprocessed_keys.empty()) co_return Status{};
    request.request_items = std::move(r->unprocessed_keys);
    pause.expires_after(std::chrono::milliseconds(20) * (round + 1));
    auto [ec] = co_await pause.async_wait(asio::as_tuple(asio::use_awaitable_t<Executor>{}));
    if (ec) co_return Error(ErrorCode::cancelled, "cancelled while reading sessions");
  }
  co_return Error(ErrorCode::unavailable, "DynamoDB kept leaving session reads unprocessed", "UnprocessedKeys");
}

// Best effort: an entry left behind is pruned by the next listing.
Task<void> DynamoSessionStore::Impl::co_remove_entries(const std::string& index_key, const std::vector<std::string>& keys) {
  for (std::size_t i = 0; i < keys.size(); i += kRemoveBatch) {
    std::vector<std::string> batch(keys.begin() + static_cast<std::ptrdiff_t>(i),
                                   keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), i + kRemoveBatch)));
    const auto request = requests.index_remove(index_key, batch);
    (void)co_await client->co_update_item(request);
  }
}

// Ends one session for good: a tombstone refuses a sign-in that is still being written. True when a
// live session ended.
Task<Result<bool>> DynamoSessionStore::Impl::co_end(const std::string& key) {
  const Now at = now();
  const auto request = requests.tombstone(key, at);
  auto r = co_await client->co_put_item(request);
  if (!r) co_return item_error(std::move(r).error());
  co_return dynamo::decode_session("", r->attributes, at).state == Decoded::State::live;
}

Task<Result<std::size_t>> DynamoSessionStore::Impl::co_revoke(const std::string& index_key) {
  // The mark and the list in one atomic write: a sign-in entered before it is listed here, and one
  // that began before it but comes later is refused by the mark.
  const auto request = requests.index_revoke(index_key, now());
  auto r = co_await client->co_update_item(request);
  if (!r) co_return item_error(std::move(r).error());
  const dynamo::Index old = dynamo::decode_index(r->attributes);
  std::size_t ended = 0;
  std::vector<std::string> keys;
  for (const auto& e : old.entries) {
    auto live = co_await co_end(e.key);
    if (!live) co_return std::move(live).error();  // retrying lists the rest again
    if (*live) ++ended;
    keys.push_back(e.key);
  }
  co_await co_remove_entries(index_key, keys);
  co_return ended;
}

Task<Result<std::vector<OwnerSession>>> DynamoSessionStore::co_list_owner_sessions(std::string_view owner) {
  if (auto st = impl_->usable(); !st) co_return std::move(st).error();
  const std::string index_key = dynamo::owner_index_key(owner);
  auto item = co_await impl_->co_read(index_key, true);
  if (!item) co_return std::move(item).error();
  std::vector<std::string> dead;
  const dynamo::Index index = dynamo::decode_index(*item);
  auto live = co_await impl_->co_live(index.entries, dead);
  if (live && !dead.empty()) co_await impl_->co_remove_entries(index_key, dead);
  co_return live;
}

Task<Result<std::size_t>> DynamoSessionStore::co_destroy_owner_sessions(std::string_view owner) {
  if (owner.empty()) co_return Error(ErrorCode::invalid_argument, "owner must not be empty");
  if (auto st = impl_->usable(); !st) co_return std::move(st).error();
  const std::string index_key = dynamo::owner_index_key(owner);
  co_return co_await impl_->co_revoke(index_key);
}

Task<Result<std::size_t>> DynamoSessionStore::co_destroy_sid_sessions(std::string_view sid) {
  if (sid.empty()) co_return Error(ErrorCode::invalid_argument, "sid must not be empty");
  if (auto st = impl_->usable(); !st) co_return std::move(st).error();
  const std::string index_key = dynamo::sid_index_key(sid);
  co_return co_await impl_->co_revoke(index_key);
}

Task<Status> DynamoSessionStore::co_update(std::string_view id, const Fields& set_fields,
                                           const std::vector<std::string>& remove_names, const WriteOptions& options) {
  if (!is_valid_session_id(id)) co_return invalid_id();
  if (auto st = impl_->usable(); !st) co_return st;
  if (auto st = validate_fields(set_fields); !st) co_return st;
  for (const std::string& name : remove_names) {
    if (auto st = validate_field_name(name); !st) co_return st;
  }
  // The whole item is not known here; what this write adds must fit on its own. DynamoDB refuses a
  // merged item over the limit itself (ValidationException).
  if (auto st = check_item_size(session_key(id), set_fields); !st) co_return st;
  co_return co_await impl_->co_update(id, set_fields, remove_names, options);
}

Task<Status> DynamoSessionStore::Impl::co_update(std::string_view id, const Fields& set_fields,
                                                 const std::vector<std::string>& remove_names, WriteOptions write) {
  const std::string key = session_key(id);
  for (int attempt = 0;; ++attempt) {
    auto req = requests.update(key, set_fields, remove_names, write, now());
    if (!req) {
      // Nothing to write: only say whether the session is there.
      auto d = co_await co_reread(id, key);
      if (!d) co_return std::move(d).error();
      co_return d->state == Decoded::State::live ? Status{} : Status(not_found());
    }
    auto r = co_await client->co_update_item(*req);
    if (r) co_return Status{};
    if (!is_condition_failure(r.error())) co_return item_error(std::move(r).error());
    auto d = co_await co_reread(id, key);
    if (!d) co_return std::move(d).error();
    const bool applied = write.lock_token && dynamo::shows_write(*d, set_fields, remove_names, write);
    const dynamo::WriteVerdict verdict = dynamo::diagnose_write(*d, write, applied);
    switch (verdict.kind) {
      case dynamo::WriteVerdict::Kind::ok: co_return Status{};
      case dynamo::WriteVerdict::Kind::not_found: co_return not_found();
      case dynamo::WriteVerdict::Kind::aborted: co_return lock_lost();
      case dynamo::WriteVerdict::Kind::retry_clamped:
        if (attempt > 0) co_return not_found();
        write.expires = verdict.expires;
        break;
    }
  }
}

Task<Result<std::int64_t>> DynamoSessionStore::co_increment(std::string_view id, std::string_view field,
                                                            std::int64_t delta, const WriteOptions& options) {
  if (!is_valid_session_id(id)) co_return invalid_id();
  if (auto st = impl_->usable(); !st) co_return std::move(st).error();
  if (auto st = validate_field_name(field); !st) co_return std::move(st).error();
  const std::string key = session_key(id);
  WriteOptions write = options;
  for (int attempt = 0;; ++attempt) {
    const auto request = impl_->requests.increment(key, field, delta, write, impl_->now());
    auto r = co_await impl_->client->co_update_item(request);
    if (r) {
      const auto* data = r->attributes ? &*r->attributes : nullptr;
      auto d = data != nullptr ? data->find(dynamo::kData) : AttributeMap::const_iterator{};
      if (data != nullptr && d != data->end() && d->second.is_map()) {
        auto f = d->second.as_map().find(field);
        if (f != d->second.as_map().end() && f->second.is_number()) {
          if (auto n = f->second.as_int64()) co_return *n;
        }
      }
      co_return Error(ErrorCode::invalid_argument, "field '" + std::string(field) + "' is not an integer");
    }
    if (!is_condition_failure(r.error())) {
      Error e = impl_->item_error(std::move(r).error());
      if (e.code == ErrorCode::invalid_argument) e.message = "cannot increment field '" + std::string(field) + "': " + e.message;
      co_return e;
    }
    auto now_item = co_await impl_->co_reread(id, key);
    if (!now_item) co_return std::move(now_item).error();
    // An increment cannot tell a lost answer from a lost lock: it reports the lock lost.
    const dynamo::WriteVerdict verdict = dynamo::diagnose_write(*now_item, write, false);
    if (verdict.kind == dynamo::WriteVerdict::Kind::retry_clamped && attempt == 0) {
      write.expires = verdict.expires;
      continue;
    }
    co_return verdict.kind == dynamo::WriteVerdict::Kind::aborted ? lock_lost() : not_found();
  }
}

Task<Status> DynamoSessionStore::co_touch(std::string_view id, TimePoint expires) {
  if (!is_valid_session_id(id)) co_return invalid_id();
  if (auto st = impl_->usable(); !st) co_return st;
  const Fields none;
  const std::vector<std::string> no_names;
  co_return co_await impl_->co_update(id, none, no_names, WriteOptions{expires, std::nullopt, false});
}

Task<Status> DynamoSessionStore::co_destroy(std::string_view id) {
  if (!is_valid_session_id(id)) co_return invalid_id();
  if (auto st = impl_->usable(); !st) co_return st;
  const std::string key = session_key(id);
  const auto request = impl_->requests.destroy(key);
  auto r = co_await impl_->client->co_delete_item(request);
  if (!r) {
    // A tombstone: the session was revoked already, and the tombstone stays.
    if (is_condition_failure(r.error())) co_return Status{};
    co_return impl_->item_error(std::move(r).error());
  }
  if (!r->attributes) co_return Status{};
  const Decoded old = dynamo::decode_session(id, r->attributes, impl_->now());
  const std::vector<std::string> entry{key};
  if (!old.record.owner.empty()) {
    const std::string owner_key = dynamo::owner_index_key(old.record.owner);
    co_await impl_->co_remove_entries(owner_key, entry);
  }
  if (!old.record.sid.empty()) {
    const std::string sid_key = dynamo::sid_index_key(old.record.sid);
    co_await impl_->co_remove_entries(sid_key, entry);
  }
  co_return Status{};
}

Task<Result<LockGrant>> DynamoSessionStore::co_lock(std::string_view id, const Value& verification_value) {
  if (!is_valid_session_id(id)) co_return invalid_id();
  if (auto st = impl_->usable(); !st) co_return std::move(st).error();
  const std::string key = session_key(id);
  const std::string token = random_token(24);
  const Now at = impl_->now();
  const auto request = impl_->requests.lock(key, verification_value, token, at);
  auto r = co_await impl_->client->co_update_item(request);
  if (r) {
    auto grant = dynamo::granted_lock(id, r->attributes, token, at);
    if (grant && grant->took_over) impl_->lock_takeovers.fetch_add(1, std::memory_order_relaxed);
    co_return grant;
  }
  if (!is_condition_failure(r.error())) co_return impl_->item_error(std::move(r).error());
  // Tell the reasons apart with one strongly consistent read.
  auto now_item = co_await impl_->co_reread(id, key);
  if (!now_item) co_return std::move(now_item).error();
  Error e = dynamo::refused_lock(*now_item, impl_->options.lock_verification_property, verification_value);
  if (e.code == ErrorCode::lock_held) impl_->lock_conflicts.fetch_add(1, std::memory_order_relaxed);
  co_return e;
}

Task<Status> DynamoSessionStore::co_unlock(std::string_view id, std::string_view token) {
  if (!is_valid_session_id(id)) co_return invalid_id();
  if (auto st = impl_->usable(); !st) co_return st;
  const std::string key = session_key(id);
  const auto request = impl_->requests.unlock(key, token);
  auto r = co_await impl_->client->co_update_item(request);
  if (r) co_return Status{};
  if (!is_condition_failure(r.error())) co_return impl_->item_error(std::move(r).error());
  // Nothing to release (unlocked, gone or expired), or someone else's lock.
  auto now_item = co_await impl_->co_reread(id, key);
  if (!now_item) co_return std::move(now_item).error();
  if (now_item->state != Decoded::State::live || now_item->lock_owner.empty()) co_return Status{};
  co_return Error(ErrorCode::aborted, "the session's lock is held by another token", dynamo::kConditionFailed);
}

Task<Status> DynamoSessionStore::co_renew_lock(std::string_view id, std::string_view token) {
  if (!is_valid_session_id(id)) co_return invalid_id();
  if (auto st = impl_->usable(); !st) co_return st;
  const std::string key = session_key(id);
  const auto request = impl_->requests.renew(key, token, impl_->now());
  auto r = co_await impl_->client->co_update_item(request);
  if (r) co_return Status{};
  if (!is_condition_failure(r.error())) co_return impl_->item_error(std::move(r).error());
  auto now_item = co_await impl_->co_reread(id, key);
  if (!now_item) co_return std::move(now_item).error();
  co_return now_item->state == Decoded::State::live ? Status(lock_lost()) : Status(not_found());
}

Task<Status> DynamoSessionStore::co_ping() {
  if (auto st = impl_->usable(); !st) co_return st;
  // A read of a key that never exists: cheap, and it proves the table, the endpoint and the
  // credentials all answer.
  const std::string probe = "websession-health-check";
  auto r = co_await impl_->co_read(probe, false);
  if (!r) co_return std::move(r).error();
  co_return Status{};
}

void DynamoSessionStore::close() {}

const std::string& DynamoSessionStore::lock_verification_property() const {
  return impl_->options.lock_verification_property;
}

std::chrono::milliseconds DynamoSessionStore::max_lock_time() const { return impl_->options.max_lock_time; }

Executor DynamoSessionStore::executor() const { return impl_->options.executor; }

const std::shared_ptr<ddb::Client>& DynamoSessionStore::client() const noexcept { return impl_->client; }

std::vector<MetricSample> DynamoSessionStore::metrics() const {
  std::vector<MetricSample> out;
  auto counter = [&](std::string name, std::string help, double v,
                     std::vector<std::pair<std::string, std::string>> labels = {}) {
    MetricSample m;
    m.name = std::move(name);
    m.help = std::move(help);
    m.labels = std::move(labels);
    m.value = v;
    out.push_back(std::move(m));
  };
  if (impl_->client) {
    const ddb::ClientMetrics m = impl_->client->metrics();
    for (const auto& [op, n] : m.calls_by_operation) {
      counter("websession_dynamodb_calls_total", "DynamoDB calls by operation", static_cast<double>(n),
              {{"operation", op}});
    }
    counter("websession_dynamodb_attempts_total", "HTTP attempts, retries included", static_cast<double>(m.attempts));
    counter("websession_dynamodb_retries_total", "Retried attempts", static_cast<double>(m.retries));
    counter("websession_dynamodb_throttles_total", "Throttled attempts", static_cast<double>(m.throttles));
    counter("websession_dynamodb_conditional_check_failures_total", "Conditional writes that did not apply",
            static_cast<double>(m.conditional_check_failures));
    counter("websession_dynamodb_errors_total", "Calls that failed", static_cast<double>(m.errors));
    counter("websession_dynamodb_retry_quota_exhausted_total", "Retries refused because the retry quota was empty",
            static_cast<double>(m.retry_quota_exhausted));
    for (const auto& [op, h] : m.latency_by_operation) {
      MetricSample sample;
      sample.name = "websession_dynamodb_call_duration_seconds";
      sample.help = "DynamoDB call latency by operation, retries included";
      sample.labels = {{"operation", op}};
      sample.kind = MetricKind::histogram;
      sample.value = h.sum_seconds;
      sample.count = h.count;
      for (std::size_t i = 0; i < h.upper_bounds.size() && i < h.cumulative_counts.size(); ++i) {
        sample.buckets.emplace_back(h.upper_bounds[i], h.cumulative_counts[i]);
      }
      out.push_back(std::move(sample));
    }
  }
  counter("websession_lock_conflicts_total", "Lock attempts that found the lock held",
          static_cast<double>(impl_->lock_conflicts.load()));
  counter("websession_lock_takeovers_total", "Stale locks taken over", static_cast<double>(impl_->lock_takeovers.load()));
  counter("websession_dynamodb_corrupt_items_total", "Malformed session items treated as no session",
          static_cast<double>(impl_->corrupt_items.load()));
  return out;
}

}  // namespace websession
