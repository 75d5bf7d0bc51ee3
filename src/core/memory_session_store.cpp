#include "websession/memory_session_store.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/exact_json.h"
#include "websession/session_id.h"

namespace websession {
namespace {

// Sessions are kept serialised: a 200-byte session costs about 200 bytes rather than the several
// hundred a boost::json::object spends on its table and values, and a read parses it in about a
// microsecond.
struct Entry {
  std::string data;  // the session's fields as a JSON object text
  std::int64_t expires = 0;  // epoch seconds, never after absolute
  std::int64_t absolute = 0;  // epoch seconds
  std::int64_t created = 0;  // epoch milliseconds
  std::int64_t last_seen = 0;  // epoch seconds
  std::int64_t lock_time = 0;  // epoch milliseconds; meaningful when lock_token is set
  std::string lock_token;
  std::string owner;
  std::string sid;
  std::string user_agent;
  // Intrusive least-recently-used list over the map's nodes, whose addresses are stable.
  Entry* prev = nullptr;
  Entry* next = nullptr;
  const std::string* key = nullptr;
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct Shard {
  std::mutex mu;
  StringMap<Entry> map;
  Entry* head = nullptr;  // most recently used
  Entry* tail = nullptr;  // least recently used

  void link_front(Entry& e) {
    e.prev = nullptr;
    e.next = head;
    if (head != nullptr) head->prev = &e;
    head = &e;
    if (tail == nullptr) tail = &e;
  }
  void unlink(Entry& e) {
    if (e.prev != nullptr) e.prev->next = e.next; else head = e.next;
    if (e.next != nullptr) e.next->prev = e.prev; else tail = e.prev;
    e.prev = e.next = nullptr;
  }
  void touch(Entry& e) {
    if (head == &e) return;
    unlink(e);
    link_front(e);
  }
  void erase(Entry& e) {
    unlink(e);
    map.erase(*e.key);
  }
};

// An owner's (or a sid's) index: the keys of its sessions, and when its sessions were last revoked.
struct Index {
  std::set<std::string, std::less<>> keys;
  std::int64_t revoked_at = std::numeric_limits<std::int64_t>::min();  // epoch milliseconds
};

Error invalid_id() { return Error(ErrorCode::invalid_argument, "session ID is malformed"); }
Error not_found() { return Error(ErrorCode::not_found, "session not found or expired"); }
Error lock_lost() { return Error(ErrorCode::aborted, "the session's lock is no longer held by this token"); }

Result<Fields> parse_fields(const std::string& text) {
  boost::system::error_code ec;
  // Exact numbers: with boost::json::parse about one stored double in ten read back changed.
  // Depth: validate_fields() lets values nest 32 levels inside the fields object, 33 in all, one
  // more than Boost.JSON's default limit; any limit above that reads back what was written.
  boost::json::parse_options options;
  options.max_depth = 64;
  Value v = detail::parse_json_exact(text, ec, options);
  if (ec || !v.is_object()) return Error(ErrorCode::internal, "stored session data is corrupt");
  return std::move(v.get_object());
}

Result<std::int64_t> integer_of(const Value* v, std::string_view field) {
  if (v == nullptr) return std::int64_t{0};
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  return Error(ErrorCode::invalid_argument, "field '" + std::string(field) + "' is not an integer");
}

}  // namespace

struct MemorySessionStore::Impl {
  MemorySessionStoreOptions options;
  std::vector<Shard> shards;
  std::size_t shard_mask = 0;
  // Sessions held across all shards: the bound is global, eviction per shard.
  std::atomic<std::size_t> total{0};

  // The owners' and sids' indexes. Lock order: index_mu before any shard's mutex.
  mutable std::mutex index_mu;
  StringMap<Index> owners;
  StringMap<Index> sids;

  // Operations by kind, for /metrics.
  enum Op { kGet, kCreate, kUpdate, kIncrement, kTouch, kDestroy, kLock, kUnlock, kRenew, kList, kRevoke, kOpCount };
  static constexpr const char* kOpNames[kOpCount] = {"get",  "create", "update", "increment", "touch", "destroy",
                                                     "lock", "unlock", "renew_lock", "list_owner", "revoke"};
  std::array<std::atomic<std::uint64_t>, kOpCount> operations{};
  void count(Op op) { operations[op].fetch_add(1, std::memory_order_relaxed); }

  std::atomic<std::uint64_t> evictions{0};
  std::atomic<std::uint64_t> expired_removed{0};
  std::atomic<std::uint64_t> lock_takeovers{0};
  std::atomic<std::uint64_t> lock_conflicts{0};

  std::mutex sweeper_mu;
  std::condition_variable sweeper_cv;
  bool stopping = false;
  std::thread sweeper;

  explicit Impl(MemorySessionStoreOptions o) : options(std::move(o)) {
    if (!options.clock) options.clock = system_now;
    // Small stores get one shard so that eviction is exactly least-recently-used; large ones spread
    // over 16 to keep lock contention low, with LRU kept per shard.
    const std::size_t count = options.max_sessions < 4096 ? 1 : 16;
    shards = std::vector<Shard>(count);
    shard_mask = count - 1;
  }

  void erase(Shard& shard, Entry& e) {
    shard.erase(e);
    total.fetch_sub(1, std::memory_order_relaxed);
  }

  Shard& shard_for(std::string_view key) { return shards[StringHash{}(key) & shard_mask]; }

  std::int64_t now_seconds() const { return to_epoch_seconds(options.clock()); }
  std::int64_t now_millis() const { return to_epoch_millis(options.clock()); }

  // The live entry for key, or nullptr; removes an ended one on the way. Caller holds the shard.
  Entry* find_live(Shard& shard, std::string_view key) {
    auto it = shard.map.find(key);
    if (it == shard.map.end()) return nullptr;
    Entry& e = it->second;
    if (e.expires <= now_seconds()) {
      erase(shard, e);
      expired_removed.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    shard.touch(e);
    return &e;
  }

  // Whether the session `key` is live, and when it was created (for the cap). Caller holds index_mu.
  std::optional<OwnerSession> live_entry(std::string_view key) {
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mu);
    auto it = shard.map.find(key);
    if (it == shard.map.end() || it->second.expires <= now_seconds()) return std::nullopt;
    const Entry& e = it->second;
    return OwnerSession{std::string(key), from_epoch_millis(e.created), from_epoch_seconds(e.last_seen),
                        from_epoch_seconds(e.expires), from_epoch_seconds(e.absolute), e.user_agent, e.sid};
  }

  // Removes the session `key` if present; true if it was live. Caller may hold index_mu.
  bool remove(std::string_view key) {
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mu);
    auto it = shard.map.find(key);
    if (it == shard.map.end()) return false;
    const bool live = it->second.expires > now_seconds();
    erase(shard, it->second);
    return live;
  }

  static SessionRecord record_of(std::string_view id, const Entry& e, Fields data) {
    return SessionRecord{std::string(id),          std::move(data),
                         from_epoch_seconds(e.expires), from_epoch_seconds(e.absolute),
                         from_epoch_millis(e.created),  from_epoch_seconds(e.last_seen),
                         e.owner,                       e.sid,
                         e.user_agent};
  }

  // Applies a write's options once its change is known to fit. Caller holds the shard.
  void finish_write(Entry& e, const WriteOptions& write) const {
    if (write.expires) {
      e.expires = std::min(to_epoch_seconds(*write.expires), e.absolute);
      e.last_seen = now_seconds();
    }
    if (write.lock_token && write.release_lock) {
      e.lock_token.clear();
      e.lock_time = 0;
    }
  }

  // Runs a read-modify-write of a session's fields under its shard's lock.
  template <class Fn>
  auto modify(std::string_view id, const WriteOptions& write, Fn&& fn) -> decltype(fn(std::declval<Fields&>())) {
    if (!is_valid_session_id(id)) return invalid_id();
    const std::string key = session_key(id);
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mu);
    Entry* e = find_live(shard, key);
    if (e == nullptr) return not_found();
    if (write.lock_token && e->lock_token != *write.lock_token) return lock_lost();
    auto fields = parse_fields(e->data);
    if (!fields) return std::move(fields).error();
    auto result = fn(*fields);
    if (!result) return result;
    if (auto st = check_item_size(key, *fields); !st) return std::move(st).error();
    e->data = boost::json::serialize(*fields);
    finish_write(*e, write);
    return result;
  }

  // The owner's live sessions, pruning its index of ended ones. Caller holds index_mu.
  std::vector<OwnerSession> live_sessions(Index& index) {
    std::vector<OwnerSession> out;
    for (auto it = index.keys.begin(); it != index.keys.end();) {
      if (auto s = live_entry(*it)) {
        out.push_back(std::move(*s));
        ++it;
      } else {
        it = index.keys.erase(it);
      }
    }
    std::sort(out.begin(), out.end(), [](const OwnerSession& a, const OwnerSession& b) { return a.created < b.created; });
    return out;
  }

  // Ends the oldest of the owner's sessions until one more fits under the cap. Caller holds index_mu.
  void enforce_cap(Index& index, std::size_t cap) {
    std::vector<OwnerSession> live = live_sessions(index);
    for (std::size_t i = 0; live.size() - i >= cap && i < live.size(); ++i) {
      remove(live[i].key);
      index.keys.erase(live[i].key);
      unindex_sid(live[i].sid, live[i].key);
    }
  }

  void unindex_sid(std::string_view sid, std::string_view key) {
    if (sid.empty()) return;
    auto it = sids.find(sid);
    if (it == sids.end()) return;
    if (auto k = it->second.keys.find(key); k != it->second.keys.end()) it->second.keys.erase(k);
    if (it->second.keys.empty()) sids.erase(it);
  }

  void unindex(const std::string& owner, const std::string& sid, std::string_view key) {
    if (owner.empty()) return;
    std::lock_guard lock(index_mu);
    if (auto it = owners.find(owner); it != owners.end()) {
      if (auto k = it->second.keys.find(key); k != it->second.keys.end()) it->second.keys.erase(k);
      if (it->second.keys.empty() && it->second.revoked_at == std::numeric_limits<std::int64_t>::min()) {
        owners.erase(it);
      }
    }
    unindex_sid(sid, key);
  }

  Status insert(const std::string& key, const NewSession& s) {
    std::string text = boost::json::serialize(s.data);
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mu);
    if (find_live(shard, key) != nullptr) {
      return Error(ErrorCode::already_exists, "a session with this ID already exists");
    }
    if (auto it = shard.map.find(key); it != shard.map.end()) erase(shard, it->second);  // an ended leftover
    // Full: evict this shard's least recently used. A shard with nothing to evict lets the total pass
    // the bound by at most one session per shard.
    while (total.load(std::memory_order_relaxed) >= options.max_sessions && shard.tail != nullptr) {
      erase(shard, *shard.tail);
      evictions.fetch_add(1, std::memory_order_relaxed);
    }
    auto [it, inserted] = shard.map.try_emplace(key);
    total.fetch_add(1, std::memory_order_relaxed);
    Entry& e = it->second;
    e.key = &it->first;
    e.data = std::move(text);
    e.absolute = to_epoch_seconds(s.absolute_expires);
    e.expires = std::min(to_epoch_seconds(s.expires), e.absolute);
    e.created = to_epoch_millis(s.created);
    e.last_seen = now_seconds();
    e.owner = s.owner;
    e.sid = s.sid;
    e.user_agent = clean_user_agent(s.user_agent);
    shard.link_front(e);
    return {};
  }

  // Creates an owned session: registered in the owner's (and sid's) index in the same critical
  // section, so a concurrent revocation either sees it or refuses it.
  Status create_owned(const std::string& key, const NewSession& s) {
    std::lock_guard lock(index_mu);
    Index& index = owners[s.owner];
    if (index.revoked_at >= to_epoch_millis(s.created)) {
      return Error(ErrorCode::aborted, "the owner's sessions were revoked while this session was being created");
    }
    if (s.max_sessions_per_owner > 0) enforce_cap(index, s.max_sessions_per_owner);
    if (auto st = insert(key, s); !st) return st;
    index.keys.insert(key);
    if (!s.sid.empty()) sids[s.sid].keys.insert(key);
    return {};
  }

  std::size_t revoke(StringMap<Index>& map, std::string_view name, bool mark) {
    std::lock_guard lock(index_mu);
    auto it = map.find(name);
    if (it == map.end()) {
      if (!mark) return 0;
      it = map.try_emplace(std::string(name)).first;
    }
    if (mark) it->second.revoked_at = now_millis();
    const std::set<std::string, std::less<>> keys = std::move(it->second.keys);
    it->second.keys.clear();
    std::size_t ended = 0;
    for (const std::string& key : keys) {
      if (remove(key)) ++ended;
    }
    if (!mark) map.erase(it);
    return ended;
  }

  void sweep_loop() {
    std::unique_lock lock(sweeper_mu);
    while (!stopping) {
      sweeper_cv.wait_for(lock, options.sweep_interval, [&] { return stopping; });
      if (stopping) break;
      lock.unlock();
      sweep_all();
      lock.lock();
    }
  }

  std::size_t sweep_all() {
    std::size_t removed = 0;
    const std::int64_t now = now_seconds();
    for (Shard& shard : shards) {
      std::lock_guard lock(shard.mu);
      for (auto it = shard.map.begin(); it != shard.map.end();) {
        if (it->second.expires <= now) {
          shard.unlink(it->second);
          it = shard.map.erase(it);
          total.fetch_sub(1, std::memory_order_relaxed);
          ++removed;
        } else {
          ++it;
        }
      }
    }
    expired_removed.fetch_add(removed, std::memory_order_relaxed);
    prune_indexes();
    return removed;
  }

  // Drops index entries of sessions that ended, and indexes left empty. A revocation mark is kept
  // for an hour: long enough for any sign-in that began before it to have finished.
  void prune_indexes() {
    std::lock_guard lock(index_mu);
    const std::int64_t forget_before = now_millis() - 3600 * 1000;
    for (StringMap<Index>* map : {&owners, &sids}) {
      for (auto it = map->begin(); it != map->end();) {
        Index& index = it->second;
        for (auto k = index.keys.begin(); k != index.keys.end();) {
          k = live_entry(*k) ? std::next(k) : index.keys.erase(k);
        }
        const bool marked = index.revoked_at >= forget_before;
        it = index.keys.empty() && !marked ? map->erase(it) : std::next(it);
      }
    }
  }

  void stop_sweeper() {
    {
      std::lock_guard lock(sweeper_mu);
      stopping = true;
    }
    sweeper_cv.notify_all();
    if (sweeper.joinable()) sweeper.join();
  }
};

MemorySessionStore::MemorySessionStore(MemorySessionStoreOptions options) {
  if (options.max_sessions == 0) {
    throw std::invalid_argument("MemorySessionStoreOptions.max_sessions must be greater than 0");
  }
  if (options.max_lock_time <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("MemorySessionStoreOptions.max_lock_time must be greater than 0");
  }
  if (options.lock_verification_property.empty()) {
    throw std::invalid_argument("MemorySessionStoreOptions.lock_verification_property must not be empty");
  }
  if (auto st = validate_field_name(options.lock_verification_property); !st) {
    throw std::invalid_argument("MemorySessionStoreOptions.lock_verification_property: " + st.error().message);
  }
  if (options.sweep_interval < std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("MemorySessionStoreOptions.sweep_interval must not be negative");
  }
  impl_ = std::make_unique<Impl>(std::move(options));
  if (impl_->options.sweep_interval > std::chrono::milliseconds::zero()) {
    impl_->sweeper = std::thread([impl = impl_.get()] { impl->sweep_loop(); });
  }
}

MemorySessionStore::~MemorySessionStore() { close(); }

Status MemorySessionStore::init() { return {}; }

Result<std::optional<SessionRecord>> MemorySessionStore::get(std::string_view id) {
  impl_->count(Impl::kGet);
  if (!is_valid_session_id(id)) return std::optional<SessionRecord>{};
  const std::string key = session_key(id);
  Shard& shard = impl_->shard_for(key);
  std::string text;
  Entry copy;
  {
    std::lock_guard lock(shard.mu);
    Entry* e = impl_->find_live(shard, key);
    if (e == nullptr) return std::optional<SessionRecord>{};
    text = e->data;
    copy.expires = e->expires;
    copy.absolute = e->absolute;
    copy.created = e->created;
    copy.last_seen = e->last_seen;
    copy.owner = e->owner;
    copy.sid = e->sid;
    copy.user_agent = e->user_agent;
  }
  // Parse outside the shard's lock.
  auto fields = parse_fields(text);
  if (!fields) return std::move(fields).error();
  return std::optional<SessionRecord>(Impl::record_of(id, copy, std::move(*fields)));
}

Status MemorySessionStore::create(std::string_view id, const NewSession& session) {
  impl_->count(Impl::kCreate);
  if (!is_valid_session_id(id)) return invalid_id();
  if (auto st = validate_new_session(session); !st) return st;
  const std::string key = session_key(id);
  if (auto st = check_item_size(key, session.data); !st) return st;
  if (session.owner.empty()) return impl_->insert(key, session);
  return impl_->create_owned(key, session);
}

Status MemorySessionStore::update(std::string_view id, const Fields& set_fields,
                                  const std::vector<std::string>& remove_names, const WriteOptions& options) {
  impl_->count(Impl::kUpdate);
  if (auto st = validate_fields(set_fields); !st) return st;
  for (const std::string& name : remove_names) {
    if (auto st = validate_field_name(name); !st) return st;
  }
  return impl_->modify(id, options, [&](Fields& data) -> Status {
    for (const std::string& name : remove_names) data.erase(name);
    for (const auto& kv : set_fields) data[kv.key()] = kv.value();
    return {};
  });
}

Result<std::int64_t> MemorySessionStore::increment(std::string_view id, std::string_view field,
                                                   std::int64_t delta, const WriteOptions& options) {
  impl_->count(Impl::kIncrement);
  if (auto st = validate_field_name(field); !st) return std::move(st).error();
  return impl_->modify(id, options, [&](Fields& data) -> Result<std::int64_t> {
    auto current = integer_of(data.if_contains(field), field);
    if (!current) return current;
    std::int64_t next = 0;
    if (__builtin_add_overflow(*current, delta, &next)) {
      return Error(ErrorCode::invalid_argument, "incrementing field '" + std::string(field) + "' overflows");
    }
    data[field] = next;
    return next;
  });
}

Status MemorySessionStore::touch(std::string_view id, TimePoint expires) {
  impl_->count(Impl::kTouch);
  if (!is_valid_session_id(id)) return invalid_id();
  const std::string key = session_key(id);
  Shard& shard = impl_->shard_for(key);
  std::lock_guard lock(shard.mu);
  Entry* e = impl_->find_live(shard, key);
  if (e == nullptr) return not_found();
  impl_->finish_write(*e, WriteOptions{expires, std::nullopt, false});
  return {};
}

Status MemorySessionStore::destroy(std::string_view id) {
  impl_->count(Impl::kDestroy);
  if (!is_valid_session_id(id)) return invalid_id();
  const std::string key = session_key(id);
  std::string owner, sid;
  {
    Shard& shard = impl_->shard_for(key);
    std::lock_guard lock(shard.mu);
    auto it = shard.map.find(key);
    if (it == shard.map.end()) return {};
    owner = std::move(it->second.owner);
    sid = std::move(it->second.sid);
    impl_->erase(shard, it->second);
  }
  impl_->unindex(owner, sid, key);
  return {};
}

Result<LockGrant> MemorySessionStore::lock(std::string_view id, const Value& verification_value) {
  impl_->count(Impl::kLock);
  if (!is_valid_session_id(id)) return invalid_id();
  const std::string key = session_key(id);
  Shard& shard = impl_->shard_for(key);
  std::lock_guard lock(shard.mu);
  Entry* e = impl_->find_live(shard, key);
  if (e == nullptr) return not_found();
  auto fields = parse_fields(e->data);
  if (!fields) return std::move(fields).error();
  const Value* current = fields->if_contains(impl_->options.lock_verification_property);
  if (current == nullptr || *current != verification_value) {
    return Error(ErrorCode::verification_mismatch,
                 "the session's '" + impl_->options.lock_verification_property + "' has changed");
  }
  const std::int64_t now = impl_->now_millis();
  const bool locked = !e->lock_token.empty();
  if (locked && e->lock_time > now - impl_->options.max_lock_time.count()) {
    impl_->lock_conflicts.fetch_add(1, std::memory_order_relaxed);
    return Error(ErrorCode::lock_held, "the session is locked by another request");
  }
  if (locked) impl_->lock_takeovers.fetch_add(1, std::memory_order_relaxed);
  e->lock_token = random_token(24);
  e->lock_time = now;
  return LockGrant{Impl::record_of(id, *e, std::move(*fields)), e->lock_token, locked};
}

Status MemorySessionStore::unlock(std::string_view id, std::string_view token) {
  impl_->count(Impl::kUnlock);
  if (!is_valid_session_id(id)) return invalid_id();
  const std::string key = session_key(id);
  Shard& shard = impl_->shard_for(key);
  std::lock_guard lock(shard.mu);
  Entry* e = impl_->find_live(shard, key);
  if (e == nullptr || e->lock_token.empty()) return {};
  if (e->lock_token != token) return Error(ErrorCode::aborted, "the session's lock is held by another token");
  e->lock_token.clear();
  e->lock_time = 0;
  return {};
}

Status MemorySessionStore::renew_lock(std::string_view id, std::string_view token) {
  impl_->count(Impl::kRenew);
  if (!is_valid_session_id(id)) return invalid_id();
  const std::string key = session_key(id);
  Shard& shard = impl_->shard_for(key);
  std::lock_guard lock(shard.mu);
  Entry* e = impl_->find_live(shard, key);
  if (e == nullptr) return not_found();
  if (e->lock_token.empty() || e->lock_token != token) return lock_lost();
  e->lock_time = impl_->now_millis();
  return {};
}

Result<std::vector<OwnerSession>> MemorySessionStore::list_owner_sessions(std::string_view owner) {
  impl_->count(Impl::kList);
  std::lock_guard lock(impl_->index_mu);
  auto it = impl_->owners.find(owner);
  if (it == impl_->owners.end()) return std::vector<OwnerSession>{};
  return impl_->live_sessions(it->second);
}

Result<std::size_t> MemorySessionStore::destroy_owner_sessions(std::string_view owner) {
  impl_->count(Impl::kRevoke);
  if (owner.empty()) return Error(ErrorCode::invalid_argument, "owner must not be empty");
  return impl_->revoke(impl_->owners, owner, true);
}

Result<std::size_t> MemorySessionStore::destroy_sid_sessions(std::string_view sid) {
  impl_->count(Impl::kRevoke);
  if (sid.empty()) return Error(ErrorCode::invalid_argument, "sid must not be empty");
  return impl_->revoke(impl_->sids, sid, false);
}

Status MemorySessionStore::ping() { return {}; }

void MemorySessionStore::close() {
  if (!impl_) return;
  impl_->stop_sweeper();
}

const std::string& MemorySessionStore::lock_verification_property() const {
  return impl_->options.lock_verification_property;
}

std::chrono::milliseconds MemorySessionStore::max_lock_time() const { return impl_->options.max_lock_time; }

std::size_t MemorySessionStore::size() const {
  std::size_t n = 0;
  for (Shard& shard : impl_->shards) {
    std::lock_guard lock(shard.mu);
    n += shard.map.size();
  }
  return n;
}

std::size_t MemorySessionStore::sweep() { return impl_->sweep_all(); }

std::size_t MemorySessionStore::owner_index_size(std::string_view owner) const {
  std::lock_guard lock(impl_->index_mu);
  auto it = impl_->owners.find(owner);
  return it == impl_->owners.end() ? 0 : it->second.keys.size();
}

std::vector<MetricSample> MemorySessionStore::metrics() const {
  auto sample = [](std::string name, std::string help, double v, MetricKind kind = MetricKind::counter) {
    MetricSample m;
    m.name = std::move(name);
    m.help = std::move(help);
    m.value = v;
    m.kind = kind;
    return m;
  };
  auto counter = [&](std::string name, std::string help, std::uint64_t v) {
    return sample(std::move(name), std::move(help), static_cast<double>(v));
  };
  std::vector<MetricSample> out;
  for (int op = 0; op < Impl::kOpCount; ++op) {
    MetricSample m = counter("websession_store_operations_total", "Session store operations by kind",
                             impl_->operations[static_cast<std::size_t>(op)].load());
    m.labels = {{"store", "memory"}, {"operation", Impl::kOpNames[op]}};
    out.push_back(std::move(m));
  }
  out.push_back(sample("websession_memory_sessions", "Sessions held by the memory store",
                       static_cast<double>(size()), MetricKind::gauge));
  out.push_back(counter("websession_memory_evictions_total",
                        "Sessions evicted because the memory store was full", impl_->evictions.load()));
  out.push_back(counter("websession_memory_expired_removed_total", "Expired sessions removed",
                        impl_->expired_removed.load()));
  out.push_back(counter("websession_lock_conflicts_total", "Lock attempts that found the lock held",
                        impl_->lock_conflicts.load()));
  out.push_back(counter("websession_lock_takeovers_total", "Stale locks taken over",
                        impl_->lock_takeovers.load()));
  return out;
}

}  // namespace websession
