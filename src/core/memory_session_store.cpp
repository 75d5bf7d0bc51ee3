#include "websession/memory_session_store.h"

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <limits>
#include <mutex>
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
  std::int64_t expires = 0;  // epoch seconds
  std::int64_t lock_time = 0;  // epoch milliseconds; meaningful when lock_owner is set
  std::string lock_owner;
  // Intrusive least-recently-used list over the map's nodes, whose addresses are stable.
  Entry* prev = nullptr;
  Entry* next = nullptr;
  const std::string* key = nullptr;
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct Shard {
  std::mutex mu;
  std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> map;
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

Error invalid_id() { return Error(ErrorCode::invalid_argument, "session ID is malformed"); }
Error not_found() { return Error(ErrorCode::not_found, "session not found or expired"); }

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

}  // namespace

struct MemorySessionStore::Impl {
  MemorySessionStoreOptions options;
  std::vector<Shard> shards;
  std::size_t shard_mask = 0;
  // Sessions held across all shards: the bound is global, eviction per shard.
  std::atomic<std::size_t> total{0};

  // Operations by kind, for /metrics.
  enum Op { kGet, kCreate, kUpdate, kIncrement, kTouch, kDestroy, kLock, kUnlock, kOpCount };
  static constexpr const char* kOpNames[kOpCount] = {"get", "create", "update", "increment",
                                                     "touch", "destroy", "lock", "unlock"};
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

  Shard& shard_for(std::string_view id) { return shards[StringHash{}(id) & shard_mask]; }

  std::int64_t now_seconds() const { return to_epoch_seconds(options.clock()); }
  std::int64_t now_millis() const { return to_epoch_millis(options.clock()); }

  // The live entry for id, or nullptr; removes an expired one on the way. Caller holds the shard.
  Entry* find_live(Shard& shard, std::string_view id) {
    auto it = shard.map.find(id);
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

  SessionRecord record_of(std::string_view id, const Entry& e, Fields data) const {
    return SessionRecord{std::string(id), std::move(data), TimePoint(std::chrono::seconds(e.expires))};
  }

  // Applies the conditions and side effects a write's options ask for. Caller holds the shard.
  static Status check_write(Entry& e, const WriteOptions& options) {
    if (options.lock_owner && e.lock_owner != *options.lock_owner) {
      return Error(ErrorCode::aborted, "the session's lock is no longer held by this owner");
    }
    return {};
  }
  static void finish_write(Entry& e, const WriteOptions& options) {
    if (options.expires) e.expires = to_epoch_seconds(*options.expires);
    if (options.lock_owner && options.release_lock) {
      e.lock_owner.clear();
      e.lock_time = 0;
    }
  }

  // Runs a read-modify-write of an entry's fields under its shard's lock.
  template <class Fn>
  auto modify(std::string_view id, const WriteOptions& write, Fn&& fn) -> decltype(fn(std::declval<Fields&>())) {
    if (!is_valid_session_id(id)) return invalid_id();
    Shard& shard = shard_for(id);
    std::lock_guard lock(shard.mu);
    Entry* e = find_live(shard, id);
    if (e == nullptr) return not_found();
    if (auto st = check_write(*e, write); !st) return std::move(st).error();
    auto fields = parse_fields(e->data);
    if (!fields) return std::move(fields).error();
    auto result = fn(*fields);
    if (!result) return result;
    if (auto st = check_item_size(id, *fields); !st) return std::move(st).error();
    e->data = boost::json::serialize(*fields);
    finish_write(*e, write);
    return result;
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
    return removed;
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
  Shard& shard = impl_->shard_for(id);
  std::string text;
  Entry copy;
  {
    std::lock_guard lock(shard.mu);
    Entry* e = impl_->find_live(shard, id);
    if (e == nullptr) return std::optional<SessionRecord>{};
    text = e->data;
    copy.expires = e->expires;
  }
  // Parse outside the shard's lock.
  auto fields = parse_fields(text);
  if (!fields) return std::move(fields).error();
  return std::optional<SessionRecord>(impl_->record_of(id, copy, std::move(*fields)));
}

Status MemorySessionStore::create(std::string_view id, const Fields& data, TimePoint expires) {
  impl_->count(Impl::kCreate);
  if (!is_valid_session_id(id)) return invalid_id();
  if (auto st = validate_fields(data); !st) return st;
  if (auto st = check_item_size(id, data); !st) return st;
  std::string text = boost::json::serialize(data);
  Shard& shard = impl_->shard_for(id);
  std::lock_guard lock(shard.mu);
  if (impl_->find_live(shard, id) != nullptr) {
    return Error(ErrorCode::already_exists, "a session with this ID already exists");
  }
  // Full: evict this shard's least recently used. A shard with nothing to evict lets the total pass
  // the bound by at most one session per shard.
  while (impl_->total.load(std::memory_order_relaxed) >= impl_->options.max_sessions && shard.tail != nullptr) {
    impl_->erase(shard, *shard.tail);
    impl_->evictions.fetch_add(1, std::memory_order_relaxed);
  }
  auto [it, inserted] = shard.map.try_emplace(std::string(id));
  impl_->total.fetch_add(1, std::memory_order_relaxed);
  Entry& e = it->second;
  e.key = &it->first;
  e.data = std::move(text);
  e.expires = to_epoch_seconds(expires);
  shard.link_front(e);
  return {};
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
    std::int64_t current = 0;
    if (auto* v = data.if_contains(field)) {
      if (v->is_int64()) {
        current = v->get_int64();
      } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        current = static_cast<std::int64_t>(v->get_uint64());
      } else {
        return Error(ErrorCode::invalid_argument, "field '" + std::string(field) + "' is not an integer");
      }
    }
    std::int64_t next = 0;
    if (__builtin_add_overflow(current, delta, &next)) {
      return Error(ErrorCode::invalid_argument, "incrementing field '" + std::string(field) + "' overflows");
    }
    data[field] = next;
    return next;
  });
}

Status MemorySessionStore::touch(std::string_view id, TimePoint expires) {
  impl_->count(Impl::kTouch);
  if (!is_valid_session_id(id)) return invalid_id();
  Shard& shard = impl_->shard_for(id);
  std::lock_guard lock(shard.mu);
  Entry* e = impl_->find_live(shard, id);
  if (e == nullptr) return not_found();
  e->expires = to_epoch_seconds(expires);
  return {};
}

Status MemorySessionStore::destroy(std::string_view id) {
  impl_->count(Impl::kDestroy);
  if (!is_valid_session_id(id)) return invalid_id();
  Shard& shard = impl_->shard_for(id);
  std::lock_guard lock(shard.mu);
  auto it = shard.map.find(id);
  if (it != shard.map.end()) impl_->erase(shard, it->second);
  return {};
}

Result<LockGrant> MemorySessionStore::lock(std::string_view id, const Value& verification_value) {
  impl_->count(Impl::kLock);
  if (!is_valid_session_id(id)) return invalid_id();
  Shard& shard = impl_->shard_for(id);
  std::lock_guard lock(shard.mu);
  Entry* e = impl_->find_live(shard, id);
  if (e == nullptr) return not_found();
  auto fields = parse_fields(e->data);
  if (!fields) return std::move(fields).error();
  const Value* current = fields->if_contains(impl_->options.lock_verification_property);
  if (current == nullptr || *current != verification_value) {
    return Error(ErrorCode::verification_mismatch,
                 "the session's '" + impl_->options.lock_verification_property + "' has changed");
  }
  const std::int64_t now = impl_->now_millis();
  const bool locked = !e->lock_owner.empty();
  if (locked && e->lock_time > now - impl_->options.max_lock_time.count()) {
    impl_->lock_conflicts.fetch_add(1, std::memory_order_relaxed);
    return Error(ErrorCode::lock_held, "the session is locked by another request");
  }
  if (locked) impl_->lock_takeovers.fetch_add(1, std::memory_order_relaxed);
  e->lock_owner = random_token(24);
  e->lock_time = now;
  return LockGrant{impl_->record_of(id, *e, std::move(*fields)), e->lock_owner, locked};
}

Status MemorySessionStore::unlock(std::string_view id, std::string_view owner) {
  impl_->count(Impl::kUnlock);
  if (!is_valid_session_id(id)) return invalid_id();
  Shard& shard = impl_->shard_for(id);
  std::lock_guard lock(shard.mu);
  Entry* e = impl_->find_live(shard, id);
  if (e == nullptr || e->lock_owner.empty()) return {};
  if (e->lock_owner != owner) {
    return Error(ErrorCode::aborted, "the session's lock is held by another owner");
  }
  e->lock_owner.clear();
  e->lock_time = 0;
  return {};
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

std::vector<MetricSample> MemorySessionStore::metrics() const {
  auto counter = [](std::string name, std::string help, std::uint64_t v) {
    return MetricSample{std::move(name), std::move(help), {}, static_cast<double>(v), true};
  };
  std::vector<MetricSample> out;
  for (int op = 0; op < Impl::kOpCount; ++op) {
    out.push_back(MetricSample{"websession_store_operations_total", "Session store operations by kind",
                               {{"store", "memory"}, {"operation", Impl::kOpNames[op]}},
                               static_cast<double>(impl_->operations[static_cast<std::size_t>(op)].load()), true});
  }
  out.push_back(MetricSample{"websession_memory_sessions", "Sessions held by the memory store", {},
                             static_cast<double>(size()), false});
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
