#include "websession/dynamo_session_store.h"

#include <atomic>
#include <functional>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "websession/dynamodb/client.h"
#include "websession/session_id.h"

namespace websession {
namespace {

namespace ddb = websession::dynamodb;
using ddb::AttributeMap;
using ddb::AttributeValue;

// The pinned item layout (see the header and DESIGN.md).
constexpr const char* kId = "id";
constexpr const char* kExpires = "expires";
constexpr const char* kData = "data";
constexpr const char* kLockOwner = "lock_owner";
constexpr const char* kLockTime = "lock_time";

constexpr const char* kConditionFailed = "ConditionalCheckFailedException";

bool is_condition_failure(const Error& e) { return e.service_type == kConditionFailed; }

AttributeMap key_of(std::string_view id) { return AttributeMap{{kId, AttributeValue::string(std::string(id))}}; }

Error invalid_id() { return Error(ErrorCode::invalid_argument, "session ID is malformed"); }
Error not_found() { return Error(ErrorCode::not_found, "session not found or expired"); }

// Builds UpdateItem expressions with placeholders for every name, so that no field name can clash
// with DynamoDB's reserved words or the expression syntax.
class UpdateBuilder {
 public:
  UpdateBuilder() {
    names_["#id"] = kId;
    names_["#e"] = kExpires;
    names_["#d"] = kData;
    names_["#lo"] = kLockOwner;
    names_["#lt"] = kLockTime;
  }

  std::string field(std::string_view name) {
    std::string ph = "#f" + std::to_string(next_name_++);
    names_[ph] = std::string(name);
    return ph;
  }
  std::string value(AttributeValue v) {
    std::string ph = ":v" + std::to_string(next_value_++);
    values_[ph] = std::move(v);
    return ph;
  }
  void set(std::string clause) { append(sets_, std::move(clause)); }
  void remove(std::string clause) { append(removes_, std::move(clause)); }
  void condition(std::string clause) {
    if (!condition_.empty()) condition_ += " AND ";
    condition_ += clause;
  }
  [[nodiscard]] bool empty() const { return sets_.empty() && removes_.empty(); }

  ddb::UpdateItemRequest build(const std::string& table, std::string_view id) {
    ddb::UpdateItemRequest r;
    r.table_name = table;
    r.key = key_of(id);
    if (!sets_.empty()) r.update_expression = "SET " + sets_;
    if (!removes_.empty()) {
      if (!r.update_expression.empty()) r.update_expression += ' ';
      r.update_expression += "REMOVE " + removes_;
    }
    if (!condition_.empty()) r.condition_expression = condition_;
    // DynamoDB rejects names and values the expressions do not use: send only those referenced.
    for (auto& [ph, name] : names_) {
      if (uses(r, ph)) r.expression_attribute_names.emplace(ph, name);
    }
    r.expression_attribute_values = std::move(values_);
    return r;
  }

 private:
  static void append(std::string& list, std::string clause) {
    if (!list.empty()) list += ", ";
    list += clause;
  }
  static bool uses(const ddb::UpdateItemRequest& r, const std::string& ph) {
    auto used_in = [&](const std::string& expr) {
      for (std::size_t pos = expr.find(ph); pos != std::string::npos; pos = expr.find(ph, pos + 1)) {
        const std::size_t end = pos + ph.size();
        // "#f1" must not match inside "#f12".
        if (end == expr.size() || !(std::isalnum(static_cast<unsigned char>(expr[end])) || expr[end] == '_')) {
          return true;
        }
      }
      return false;
    };
    return used_in(r.update_expression) || (r.condition_expression && used_in(*r.condition_expression));
  }

  ddb::ExpressionNames names_;
  AttributeMap values_;
  std::string sets_, removes_, condition_;
  int next_name_ = 0, next_value_ = 0;
};

}  // namespace

struct DynamoSessionStore::Impl {
  DynamoSessionStoreOptions options;
  std::shared_ptr<ddb::Client> client;

  std::atomic<std::uint64_t> lock_conflicts{0};
  std::atomic<std::uint64_t> lock_takeovers{0};
  std::atomic<std::uint64_t> corrupt_items{0};
  std::atomic<bool> corrupt_reported{false};

  std::int64_t now_seconds() const { return to_epoch_seconds(options.clock()); }
  std::int64_t now_millis() const { return to_epoch_millis(options.clock()); }

  static void warn(const std::string& message) { std::fprintf(stderr, "websession: warning: %s\n", message.c_str()); }

  // Set when no client was given and none could be configured from the environment; every call
  // then answers with it.
  std::optional<Error> client_error;

  Status usable() const {
    if (client) return {};
    return *client_error;
  }

  // A corrupted item is no session; say so once per store, without the session's ID.
  void report_corrupt(const std::string& why) {
    corrupt_items.fetch_add(1, std::memory_order_relaxed);
    if (!corrupt_reported.exchange(true)) {
      warn("table '" + options.table_name + "' holds a malformed session item (" + why +
           "); it is treated as no session. Further ones are only counted "
           "(websession_dynamodb_corrupt_items_total).");
    }
  }

  // The record in `item`, or nullopt if it is expired or malformed.
  std::optional<SessionRecord> parse_item(std::string_view id, const AttributeMap& item) {
    auto e = item.find(kExpires);
    if (e == item.end() || !e->second.is_number()) {
      report_corrupt("'expires' is missing or not a number");
      return std::nullopt;
    }
    auto expires = e->second.as_int64();
    if (!expires) {
      report_corrupt("'expires' is not an integer");
      return std::nullopt;
    }
    if (*expires <= now_seconds()) return std::nullopt;
    auto d = item.find(kData);
    if (d == item.end() || !d->second.is_map()) {
      report_corrupt("'data' is missing or not a map");
      return std::nullopt;
    }
    auto data = ddb::to_json_object(d->second.as_map());
    if (!data) {
      report_corrupt("'data' holds a value that cannot be read");
      return std::nullopt;
    }
    return SessionRecord{std::string(id), std::move(*data), TimePoint(std::chrono::seconds(*expires))};
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

  Result<std::optional<AttributeMap>> read_item(std::string_view id, bool consistent) {
    ddb::GetItemRequest req;
    req.table_name = options.table_name;
    req.key = key_of(id);
    req.consistent_read = consistent;
    auto r = client->get_item(req);
    if (!r) return item_error(std::move(r).error());
    return std::move(r->item);
  }

  // The session must exist and be unexpired for a write to apply.
  void require_live(UpdateBuilder& b) {
    b.condition("attribute_exists(#id)");
    b.condition("#e > " + b.value(AttributeValue::number(now_seconds())));
  }

  // After a write conditioned on the lock failed: was the session gone, or the lock lost? A retried
  // attempt (the first one's answer was lost) also fails its condition although the first applied:
  // `applied` says whether the item already shows this write: then the write succeeded.
  Status diagnose_write(std::string_view id, bool under_lock,
                       const std::function<bool(const AttributeMap&, const SessionRecord&)>& applied = {}) {
    if (!under_lock) return not_found();
    auto item = read_item(id, true);
    if (!item) return std::move(item).error();
    if (!*item) return not_found();
    auto record = parse_item(id, **item);
    if (!record) return not_found();
    if (applied && applied(**item, *record)) return {};
    return Error(ErrorCode::aborted, "the session's lock is no longer held by this owner", kConditionFailed);
  }

  void apply_write_options(UpdateBuilder& b, const WriteOptions& write) {
    if (write.expires) b.set("#e = " + b.value(AttributeValue::number(to_epoch_seconds(*write.expires))));
    if (write.lock_owner) {
      b.condition("#lo = " + b.value(AttributeValue::string(*write.lock_owner)));
      if (write.release_lock) {
        b.remove("#lo");
        b.remove("#lt");
      }
    }
  }

  Status wait_until_active() {
    for (int attempt = 0; attempt < options.polling_max_attempts; ++attempt) {
      auto d = client->describe_table({options.table_name});
      if (d && d->table.table_status == "ACTIVE") return {};
      if (!d && d.code() != ErrorCode::not_found) return std::move(d).error();
      std::this_thread::sleep_for(options.polling_frequency);
    }
    return Error(ErrorCode::unavailable, "table '" + options.table_name + "' did not become ACTIVE after " +
                                             std::to_string(options.polling_max_attempts) + " polls");
  }

  Status check_schema(const ddb::TableDescription& t) {
    bool ok = t.key_schema.size() == 1 && t.key_schema[0].attribute_name == kId &&
              t.key_schema[0].key_type == "HASH";
    if (ok) {
      ok = false;
      for (const auto& def : t.attribute_definitions) {
        if (def.attribute_name == kId) ok = def.attribute_type == "S";
      }
    }
    if (ok) return {};
    std::string found;
    for (const auto& k : t.key_schema) {
      std::string type = "?";
      for (const auto& def : t.attribute_definitions) {
        if (def.attribute_name == k.attribute_name) type = def.attribute_type;
      }
      if (!found.empty()) found += ", ";
      found += k.key_type + " key '" + k.attribute_name + "' (" + type + ")";
    }
    return Error(ErrorCode::invalid_argument,
                 "table '" + options.table_name + "' has key schema [" + found +
                     "]; websession expects a hash key 'id' of type S and no sort key. Use another "
                     "table name, or let websession create the table.");
  }

  Status create_table() {
    ddb::CreateTableRequest req;
    req.table_name = options.table_name;
    req.attribute_definitions = {{kId, "S"}};
    req.key_schema = {{kId, "HASH"}};
    req.billing_mode = "PAY_PER_REQUEST";
    auto created = client->create_table(req);
    // Another instance starting at the same time may have created it first: then just wait.
    if (!created && created.code() != ErrorCode::already_exists) {
      Error e = std::move(created).error();
      if (e.code == ErrorCode::permission_denied) {
        e.message = "cannot create table '" + options.table_name + "': " + e.message +
                    ". Grant dynamodb:CreateTable, or create the table yourself (hash key 'id', S) and set "
                    "create_table = false.";
      }
      return e;
    }
    if (auto st = wait_until_active(); !st) return st;
    if (created) enable_ttl();
    return {};
  }

  void enable_ttl() {
    auto ttl = client->update_time_to_live({options.table_name, kExpires, true});
    if (!ttl) {
      warn("could not enable TTL on '" + std::string(kExpires) + "' for table '" + options.table_name +
           "' (" + ttl.error().describe() + "); expired sessions are still never served, but stay in "
           "the table until deleted");
    }
  }
};

DynamoSessionStore::DynamoSessionStore(DynamoSessionStoreOptions options) {
  if (options.table_name.empty()) {
    throw std::invalid_argument("DynamoSessionStoreOptions.table_name must not be empty");
  }
  if (options.table_name.size() < 3 || options.table_name.size() > 255) {
    throw std::invalid_argument("DynamoSessionStoreOptions.table_name must be 3 to 255 characters long");
  }
  for (const char c : options.table_name) {
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
  if (!options.clock) options.clock = system_now;
  impl_ = std::make_unique<Impl>();
  impl_->client = options.client;
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
  impl_->options = std::move(options);
}

DynamoSessionStore::~DynamoSessionStore() = default;

Status DynamoSessionStore::init() {
  if (auto st = impl_->usable(); !st) return st;
  auto described = impl_->client->describe_table({impl_->options.table_name});
  if (described) {
    if (auto st = impl_->check_schema(described->table); !st) return st;
    if (described->table.table_status != "ACTIVE") return impl_->wait_until_active();
    return {};
  }
  if (described.code() != ErrorCode::not_found) {
    Error e = std::move(described).error();
    e.message = "cannot describe table '" + impl_->options.table_name + "': " + e.message;
    return e;
  }
  if (!impl_->options.create_table) {
    return Error(ErrorCode::not_found, "table '" + impl_->options.table_name +
                                           "' does not exist and create_table is off; create it with hash "
                                           "key 'id' (S), or turn create_table on",
                 "ResourceNotFoundException");
  }
  return impl_->create_table();
}

Result<std::optional<SessionRecord>> DynamoSessionStore::get(std::string_view id) {
  if (!is_valid_session_id(id)) return std::optional<SessionRecord>{};
  if (auto st = impl_->usable(); !st) return std::move(st).error();
  auto item = impl_->read_item(id, impl_->options.consistent_read);
  if (!item) return std::move(item).error();
  if (!*item) return std::optional<SessionRecord>{};
  return impl_->parse_item(id, **item);
}

Status DynamoSessionStore::create(std::string_view id, const Fields& data, TimePoint expires) {
  if (!is_valid_session_id(id)) return invalid_id();
  if (auto st = impl_->usable(); !st) return st;
  if (auto st = validate_fields(data); !st) return st;
  if (auto st = check_item_size(id, data); !st) return st;
  ddb::PutItemRequest req;
  req.table_name = impl_->options.table_name;
  req.item = key_of(id);
  req.item.emplace(kExpires, AttributeValue::number(to_epoch_seconds(expires)));
  req.item.emplace(kData, AttributeValue::map(ddb::to_attribute_map(data)));
  // Never overwrite a live session; an expired leftover that TTL has not deleted yet may go.
  req.condition_expression = "attribute_not_exists(#id) OR #e <= :now";
  req.expression_attribute_names = {{"#id", kId}, {"#e", kExpires}};
  req.expression_attribute_values = {{":now", AttributeValue::number(impl_->now_seconds())}};
  auto r = impl_->client->put_item(req);
  if (!r) {
    if (!is_condition_failure(r.error())) return impl_->item_error(std::move(r).error());
    // A retried attempt fails its condition when the first one applied but its answer was lost.
    auto existing = impl_->read_item(id, true);
    if (existing && *existing) {
      auto record = impl_->parse_item(id, **existing);
      if (record && record->data == data && record->expires == floor_seconds(expires) &&
          (*existing)->find(kLockOwner) == (*existing)->end()) {
        return {};
      }
    }
    return Error(ErrorCode::already_exists, "a session with this ID already exists", kConditionFailed);
  }
  return {};
}

Status DynamoSessionStore::update(std::string_view id, const Fields& set_fields,
                                  const std::vector<std::string>& remove_names, const WriteOptions& options) {
  if (!is_valid_session_id(id)) return invalid_id();
  if (auto st = impl_->usable(); !st) return std::move(st).error();
  if (auto st = validate_fields(set_fields); !st) return st;
  for (const std::string& name : remove_names) {
    if (auto st = validate_field_name(name); !st) return st;
  }
  // The whole item is not known here; what this write adds must fit on its own. DynamoDB refuses a
  // merged item over the limit itself (ValidationException).
  if (auto st = check_item_size(id, set_fields); !st) return st;
  UpdateBuilder b;
  for (const auto& kv : set_fields) {
    b.set("#d." + b.field(kv.key()) + " = " + b.value(ddb::to_attribute(kv.value())));
  }
  for (const std::string& name : remove_names) {
    if (!set_fields.contains(name)) b.remove("#d." + b.field(name));
  }
  impl_->apply_write_options(b, options);
  impl_->require_live(b);
  if (b.empty() && options.lock_owner) {
    // Nothing to change, but the lock must still be checked: assert it by writing it unchanged.
    b.set("#lo = " + b.value(AttributeValue::string(*options.lock_owner)));
  }
  if (b.empty()) {
    // Nothing to write: only say whether the session is there.
    auto r = get(id);
    if (!r) return std::move(r).error();
    return r->has_value() ? Status{} : Status(not_found());
  }
  auto r = impl_->client->update_item(b.build(impl_->options.table_name, id));
  if (!r) {
    if (!is_condition_failure(r.error())) return impl_->item_error(std::move(r).error());
    return impl_->diagnose_write(id, options.lock_owner.has_value(),
                                    [&](const AttributeMap& item, const SessionRecord& record) {
                                      const bool holds = item.find(kLockOwner) != item.end() &&
                                                         item.at(kLockOwner).is_string() &&
                                                         item.at(kLockOwner).as_string() == *options.lock_owner;
                                      if (options.release_lock ? item.find(kLockOwner) != item.end() : !holds) {
                                        return false;
                                      }
                                      for (const auto& kv : set_fields) {
                                        const Value* v = record.data.if_contains(kv.key());
                                        if (v == nullptr || *v != kv.value()) return false;
                                      }
                                      for (const std::string& name : remove_names) {
                                        if (!set_fields.contains(name) && record.data.contains(name)) return false;
                                      }
                                      return true;
                                    });
  }
  return {};
}

Result<std::int64_t> DynamoSessionStore::increment(std::string_view id, std::string_view field, std::int64_t delta,
                                                   const WriteOptions& options) {
  if (!is_valid_session_id(id)) return invalid_id();
  if (auto st = impl_->usable(); !st) return std::move(st).error();
  if (auto st = validate_field_name(field); !st) return std::move(st).error();
  UpdateBuilder b;
  const std::string path = "#d." + b.field(field);
  // One atomic UpdateItem; ADD does not reach into maps, so SET with if_not_exists.
  b.set(path + " = if_not_exists(" + path + ", " + b.value(AttributeValue::number(std::int64_t{0})) + ") + " +
        b.value(AttributeValue::number(delta)));
  impl_->apply_write_options(b, options);
  impl_->require_live(b);
  auto req = b.build(impl_->options.table_name, id);
  req.return_values = ddb::ReturnValues::updated_new;
  auto r = impl_->client->update_item(req);
  if (!r) {
    if (is_condition_failure(r.error())) {
      // An increment cannot tell a lost answer from a lost lock: it reports the lock lost.
      Status st = impl_->diagnose_write(id, options.lock_owner.has_value());
      return st ? Error(ErrorCode::aborted, "the session's lock is no longer held by this owner") : std::move(st).error();
    }
    Error e = impl_->item_error(std::move(r).error());
    if (e.code == ErrorCode::invalid_argument) {
      e.message = "cannot increment field '" + std::string(field) + "': " + e.message;
    }
    return e;
  }
  if (r->attributes) {
    auto d = r->attributes->find(kData);
    if (d != r->attributes->end() && d->second.is_map()) {
      auto f = d->second.as_map().find(field);
      if (f != d->second.as_map().end() && f->second.is_number()) {
        if (auto n = f->second.as_int64()) return *n;
      }
    }
  }
  return Error(ErrorCode::invalid_argument, "field '" + std::string(field) + "' is not an integer");
}

Status DynamoSessionStore::touch(std::string_view id, TimePoint expires) {
  if (!is_valid_session_id(id)) return invalid_id();
  if (auto st = impl_->usable(); !st) return st;
  UpdateBuilder b;
  b.set("#e = " + b.value(AttributeValue::number(to_epoch_seconds(expires))));
  impl_->require_live(b);
  auto r = impl_->client->update_item(b.build(impl_->options.table_name, id));
  if (!r) return is_condition_failure(r.error()) ? Status(not_found()) : Status(impl_->item_error(std::move(r).error()));
  return {};
}

Status DynamoSessionStore::destroy(std::string_view id) {
  if (!is_valid_session_id(id)) return invalid_id();
  if (auto st = impl_->usable(); !st) return st;
  ddb::DeleteItemRequest req;
  req.table_name = impl_->options.table_name;
  req.key = key_of(id);
  auto r = impl_->client->delete_item(req);
  if (!r) return impl_->item_error(std::move(r).error());
  return {};
}

Result<LockGrant> DynamoSessionStore::lock(std::string_view id, const Value& verification_value) {
  if (!is_valid_session_id(id)) return invalid_id();
  if (auto st = impl_->usable(); !st) return std::move(st).error();
  const std::int64_t now = impl_->now_millis();
  const std::string owner = random_token(24);
  UpdateBuilder b;
  b.set("#lo = " + b.value(AttributeValue::string(owner)));
  b.set("#lt = " + b.value(AttributeValue::number(now)));
  impl_->require_live(b);
  b.condition("#d." + b.field(impl_->options.lock_verification_property) + " = " +
              b.value(ddb::to_attribute(verification_value)));
  // `#lo = owner` matches only a retried attempt of this very call (the token is new): it makes the
  // lock safe to retry when the first attempt's answer was lost.
  b.condition("(attribute_not_exists(#lo) OR #lo = " + b.value(AttributeValue::string(owner)) + " OR #lt < " +
              b.value(AttributeValue::number(now - impl_->options.max_lock_time.count())) + ")");
  auto req = b.build(impl_->options.table_name, id);
  // The old image: the data is unchanged by the lock, and a lock_owner in it means a take-over.
  req.return_values = ddb::ReturnValues::all_old;
  auto r = impl_->client->update_item(req);
  if (r) {
    if (!r->attributes) return Error(ErrorCode::internal, "DynamoDB returned no item for a successful lock");
    auto record = impl_->parse_item(id, *r->attributes);
    if (!record) return Error(ErrorCode::internal, "the locked session's item is malformed");
    auto old_owner = r->attributes->find(kLockOwner);
    const bool took_over = old_owner != r->attributes->end() &&
                           !(old_owner->second.is_string() && old_owner->second.as_string() == owner);
    if (took_over) impl_->lock_takeovers.fetch_add(1, std::memory_order_relaxed);
    return LockGrant{std::move(*record), owner, took_over};
  }
  if (!is_condition_failure(r.error())) return impl_->item_error(std::move(r).error());
  // Tell the reasons apart with one strongly consistent read.
  auto item = impl_->read_item(id, true);
  if (!item) return std::move(item).error();
  if (!*item) return not_found();
  auto record = impl_->parse_item(id, **item);
  if (!record) return not_found();
  const Value* current = record->data.if_contains(impl_->options.lock_verification_property);
  if (current == nullptr || *current != verification_value) {
    return Error(ErrorCode::verification_mismatch,
                 "the session's '" + impl_->options.lock_verification_property + "' has changed", kConditionFailed);
  }
  impl_->lock_conflicts.fetch_add(1, std::memory_order_relaxed);
  return Error(ErrorCode::lock_held, "the session is locked by another request", kConditionFailed);
}

Status DynamoSessionStore::unlock(std::string_view id, std::string_view owner) {
  if (!is_valid_session_id(id)) return invalid_id();
  if (auto st = impl_->usable(); !st) return st;
  UpdateBuilder b;
  b.remove("#lo");
  b.remove("#lt");
  b.condition("#lo = " + b.value(AttributeValue::string(std::string(owner))));
  auto r = impl_->client->update_item(b.build(impl_->options.table_name, id));
  if (r) return {};
  if (!is_condition_failure(r.error())) return impl_->item_error(std::move(r).error());
  // Nothing to release (unlocked, gone or expired), or someone else's lock.
  auto item = impl_->read_item(id, true);
  if (!item) return std::move(item).error();
  if (!*item || (*item)->find(kLockOwner) == (*item)->end()) return {};
  if (!impl_->parse_item(id, **item)) return {};
  return Error(ErrorCode::aborted, "the session's lock is held by another owner", kConditionFailed);
}

Status DynamoSessionStore::ping() {
  if (auto st = impl_->usable(); !st) return st;
  // A read of a key that never exists: cheap, and it proves the table, the endpoint and the
  // credentials all answer.
  auto r = impl_->read_item("websession-health-check", false);
  if (!r) return std::move(r).error();
  return {};
}

void DynamoSessionStore::close() {}

const std::string& DynamoSessionStore::lock_verification_property() const {
  return impl_->options.lock_verification_property;
}

std::chrono::milliseconds DynamoSessionStore::max_lock_time() const { return impl_->options.max_lock_time; }

std::vector<MetricSample> DynamoSessionStore::metrics() const {
  std::vector<MetricSample> out;
  auto counter = [&](std::string name, std::string help, double v,
                     std::vector<std::pair<std::string, std::string>> labels = {}) {
    out.push_back(MetricSample{std::move(name), std::move(help), std::move(labels), v, true});
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
  }
  counter("websession_lock_conflicts_total", "Lock attempts that found the lock held",
          static_cast<double>(impl_->lock_conflicts.load()));
  counter("websession_lock_takeovers_total", "Stale locks taken over", static_cast<double>(impl_->lock_takeovers.load()));
  counter("websession_dynamodb_corrupt_items_total", "Malformed session items treated as no session",
          static_cast<double>(impl_->corrupt_items.load()));
  return out;
}

}  // namespace websession
