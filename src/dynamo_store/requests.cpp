#include "dynamo_store/requests.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/base64url.h"
#include "core/sha256.h"
#include "dynamo_store/layout.h"

namespace websession::dynamo {
namespace {

using ddb::AttributeMap;
using ddb::AttributeValue;

constexpr std::string_view kEntryPrefix = "s:";

AttributeMap key_of(const std::string& key) { return AttributeMap{{kId, AttributeValue::string(key)}}; }

std::string hashed_key(std::string_view kind, std::string_view name) {
  std::string input(kind);
  input += '\n';
  input += name;
  const auto digest = websession::detail::sha256(input);
  return std::string(kind) + "#" +
         websession::detail::base64url_encode(
             std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

// Builds update and condition expressions with placeholders for every name, so that no field name
// can clash with DynamoDB's reserved words or the expression syntax.
class Builder {
 public:
  Builder() {
    names_["#id"] = kId;
    names_["#e"] = kExpires;
    names_["#ab"] = kAbsolute;
    names_["#ls"] = kLastSeen;
    names_["#d"] = kData;
    names_["#lo"] = kLockOwner;
    names_["#lt"] = kLockTime;
    names_["#rv"] = kRevoked;
    names_["#ra"] = kRevokedAt;
  }

  std::string name(std::string_view n) {
    std::string ph = "#f" + std::to_string(next_name_++);
    names_[ph] = std::string(n);
    return ph;
  }
  std::string value(AttributeValue v) {
    std::string ph = ":v" + std::to_string(next_value_++);
    values_[ph] = std::move(v);
    return ph;
  }
  void set(const std::string& clause) { append(sets_, clause); }
  void remove(const std::string& clause) { append(removes_, clause); }
  void condition(const std::string& clause) {
    if (!condition_.empty()) condition_ += " AND ";
    condition_ += clause;
  }
  [[nodiscard]] bool empty() const { return sets_.empty() && removes_.empty(); }

  ddb::UpdateItemRequest update(const std::string& table, const std::string& key) {
    ddb::UpdateItemRequest r;
    r.table_name = table;
    r.key = key_of(key);
    if (!sets_.empty()) r.update_expression = "SET " + sets_;
    if (!removes_.empty()) {
      if (!r.update_expression.empty()) r.update_expression += ' ';
      r.update_expression += "REMOVE " + removes_;
    }
    if (!condition_.empty()) r.condition_expression = condition_;
    r.expression_attribute_names = used_names(r.update_expression + " " + condition_);
    r.expression_attribute_values = std::move(values_);
    return r;
  }

  // The condition alone, for a PutItem or DeleteItem.
  template <class Request>
  void apply_condition(Request& r) {
    if (condition_.empty()) return;
    r.condition_expression = condition_;
    r.expression_attribute_names = used_names(condition_);
    r.expression_attribute_values = std::move(values_);
  }

 private:
  static void append(std::string& list, const std::string& clause) {
    if (!list.empty()) list += ", ";
    list += clause;
  }
  // DynamoDB rejects names the expressions do not use: send only those referenced.
  ddb::ExpressionNames used_names(const std::string& expr) const {
    ddb::ExpressionNames used;
    for (const auto& [ph, n] : names_) {
      for (std::size_t pos = expr.find(ph); pos != std::string::npos; pos = expr.find(ph, pos + 1)) {
        const std::size_t end = pos + ph.size();
        // "#f1" must not match inside "#f12".
        if (end == expr.size() || !(std::isalnum(static_cast<unsigned char>(expr[end])) || expr[end] == '_')) {
          used.emplace(ph, n);
          break;
        }
      }
    }
    return used;
  }

  ddb::ExpressionNames names_;
  AttributeMap values_;
  std::string sets_, removes_, condition_;
  int next_name_ = 0, next_value_ = 0;
};

std::optional<std::int64_t> int_attr(const AttributeMap& item, const char* name) {
  auto it = item.find(name);
  if (it == item.end() || !it->second.is_number()) return std::nullopt;
  return it->second.as_int64();
}

std::string string_attr(const AttributeMap& item, const char* name) {
  auto it = item.find(name);
  return it != item.end() && it->second.is_string() ? it->second.as_string() : std::string();
}

// The session must exist (a tombstone has no data) and be unexpired for a write to apply.
void require_live(Builder& b, Now now) {
  b.condition("attribute_exists(#d)");
  b.condition("#e > " + b.value(AttributeValue::number(now.seconds)));
}

void apply_write_options(Builder& b, const WriteOptions& write, Now now) {
  if (write.expires) {
    const std::string exp = b.value(AttributeValue::number(to_epoch_seconds(*write.expires)));
    b.set("#e = " + exp);
    b.set("#ls = " + b.value(AttributeValue::number(now.seconds)));
    // Never past the absolute end: a write that asks for more fails and is retried clamped.
    b.condition("#ab >= " + exp);
  }
  if (write.lock_token) {
    b.condition("#lo = " + b.value(AttributeValue::string(*write.lock_token)));
    if (write.release_lock) {
      b.remove("#lo");
      b.remove("#lt");
    }
  }
}

double number_of(const Value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

}  // namespace

std::string owner_index_key(std::string_view owner) { return hashed_key("owner", owner); }
std::string sid_index_key(std::string_view sid) { return hashed_key("sid", sid); }

Decoded decode_session(std::string_view id, const std::optional<AttributeMap>& item, Now now) {
  Decoded out;
  if (!item) return out;
  if (item->find(kRevoked) != item->end()) {
    out.state = Decoded::State::revoked;
    return out;
  }
  const auto expires = int_attr(*item, kExpires);
  if (!expires) {
    out.state = Decoded::State::corrupt;
    out.why = "'expires' is missing or not an integer";
    return out;
  }
  const auto d = item->find(kData);
  if (d == item->end() || !d->second.is_map()) {
    out.state = Decoded::State::corrupt;
    out.why = "'data' is missing or not a map";
    return out;
  }
  SessionRecord& r = out.record;
  r.id = std::string(id);
  r.absolute_expires = from_epoch_seconds(int_attr(*item, kAbsolute).value_or(*expires));
  r.expires = std::min(from_epoch_seconds(*expires), r.absolute_expires);
  r.created = from_epoch_millis(int_attr(*item, kCreated).value_or(0));
  r.last_seen = from_epoch_seconds(int_attr(*item, kLastSeen).value_or(0));
  r.owner = string_attr(*item, kOwner);
  r.sid = string_attr(*item, kSid);
  r.user_agent = string_attr(*item, kUserAgent);
  out.lock_owner = string_attr(*item, kLockOwner);
  if (to_epoch_seconds(r.expires) <= now.seconds) {
    out.state = Decoded::State::ended;
    return out;
  }
  auto data = ddb::to_json_object(d->second.as_map());
  if (!data) {
    out.state = Decoded::State::corrupt;
    out.why = "'data' holds a value that cannot be read";
    return out;
  }
  r.data = std::move(*data);
  out.state = Decoded::State::live;
  return out;
}

Index decode_index(const std::optional<AttributeMap>& item) {
  Index index;
  if (!item) return index;
  index.revoked_at = int_attr(*item, kRevokedAt);
  index.expires = int_attr(*item, kExpires);
  for (const auto& [name, value] : *item) {
    if (!name.starts_with(kEntryPrefix) || !value.is_map()) continue;
    IndexEntry e;
    e.key = name.substr(kEntryPrefix.size());
    e.created_ms = int_attr(value.as_map(), kEntryCreated).value_or(0);
    e.absolute = int_attr(value.as_map(), kEntryAbsolute).value_or(0);
    index.entries.push_back(std::move(e));
  }
  std::sort(index.entries.begin(), index.entries.end(),
            [](const IndexEntry& a, const IndexEntry& b) { return a.created_ms < b.created_ms; });
  return index;
}

std::optional<OwnerSession> decode_listing(const std::string& key, const std::optional<AttributeMap>& item, Now now) {
  if (!item || item->find(kRevoked) != item->end()) return std::nullopt;
  const auto expires = int_attr(*item, kExpires);
  if (!expires || *expires <= now.seconds) return std::nullopt;
  OwnerSession s;
  s.key = key;
  s.expires = from_epoch_seconds(*expires);
  s.absolute_expires = from_epoch_seconds(int_attr(*item, kAbsolute).value_or(*expires));
  s.created = from_epoch_millis(int_attr(*item, kCreated).value_or(0));
  s.last_seen = from_epoch_seconds(int_attr(*item, kLastSeen).value_or(0));
  s.user_agent = string_attr(*item, kUserAgent);
  s.sid = string_attr(*item, kSid);
  return s;
}

Requests::Requests(std::string table, std::string lock_property, std::chrono::milliseconds max_lock_time)
    : table_(std::move(table)), lock_property_(std::move(lock_property)), max_lock_time_(max_lock_time) {}

ddb::GetItemRequest Requests::get(const std::string& key, bool consistent) const {
  ddb::GetItemRequest r;
  r.table_name = table_;
  r.key = key_of(key);
  r.consistent_read = consistent;
  return r;
}

ddb::GetItemRequest Requests::listing_get(const std::string& key) const {
  ddb::GetItemRequest r = get(key, true);
  r.projection_expression = "#e, #ab, #c, #ls, #ua, #s, #rv";
  r.expression_attribute_names = {{"#e", kExpires}, {"#ab", kAbsolute}, {"#c", kCreated}, {"#ls", kLastSeen},
                                  {"#ua", kUserAgent}, {"#s", kSid},      {"#rv", kRevoked}};
  return r;
}

ddb::BatchGetItemRequest Requests::listing_batch(const std::vector<std::string>& keys) const {
  const ddb::GetItemRequest one = listing_get("");
  ddb::KeysAndAttributes ka;
  ka.consistent_read = true;
  ka.projection_expression = "#id, " + *one.projection_expression;
  ka.expression_attribute_names = one.expression_attribute_names;
  ka.expression_attribute_names.emplace("#id", kId);
  for (const std::string& k : keys) ka.keys.push_back(key_of(k));
  ddb::BatchGetItemRequest r;
  r.request_items.emplace(table_, std::move(ka));
  return r;
}

ddb::PutItemRequest Requests::create(const std::string& key, const NewSession& s, Now now) const {
  ddb::PutItemRequest r;
  r.table_name = table_;
  const std::int64_t absolute = to_epoch_seconds(s.absolute_expires);
  r.item = key_of(key);
  r.item.emplace(kExpires, AttributeValue::number(std::min(to_epoch_seconds(s.expires), absolute)));
  r.item.emplace(kAbsolute, AttributeValue::number(absolute));
  r.item.emplace(kCreated, AttributeValue::number(to_epoch_millis(s.created)));
  r.item.emplace(kLastSeen, AttributeValue::number(now.seconds));
  r.item.emplace(kData, AttributeValue::map(ddb::to_attribute_map(s.data)));
  if (!s.owner.empty()) r.item.emplace(kOwner, AttributeValue::string(s.owner));
  if (!s.sid.empty()) r.item.emplace(kSid, AttributeValue::string(s.sid));
  const std::string ua = clean_user_agent(s.user_agent);
  if (!ua.empty()) r.item.emplace(kUserAgent, AttributeValue::string(ua));
  Builder b;
  // Never over a live session; an expired leftover may be replaced, a revoked one never.
  b.condition("(attribute_not_exists(#id) OR (#e <= " + b.value(AttributeValue::number(now.seconds)) +
              " AND attribute_not_exists(#rv)))");
  b.apply_condition(r);
  return r;
}

std::optional<ddb::UpdateItemRequest> Requests::update(const std::string& key, const Fields& set_fields,
                                                       const std::vector<std::string>& remove_names,
                                                       const WriteOptions& write, Now now) const {
  Builder b;
  for (const auto& kv : set_fields) {
    b.set("#d." + b.name(kv.key()) + " = " + b.value(ddb::to_attribute(kv.value())));
  }
  for (const std::string& n : remove_names) {
    if (!set_fields.contains(n)) b.remove("#d." + b.name(n));
  }
  if (b.empty() && !write.lock_token && !write.expires) return std::nullopt;
  apply_write_options(b, write, now);
  require_live(b, now);
  if (b.empty()) {
    // Nothing to change, but the lock must still be checked: assert it by writing it unchanged.
    b.set("#lo = " + b.value(AttributeValue::string(*write.lock_token)));
  }
  return b.update(table_, key);
}

ddb::UpdateItemRequest Requests::increment(const std::string& key, std::string_view field, std::int64_t delta,
                                           const WriteOptions& write, Now now) const {
  Builder b;
  const std::string path = "#d." + b.name(field);
  // One atomic UpdateItem; ADD does not reach into maps, so SET with if_not_exists.
  b.set(path + " = if_not_exists(" + path + ", " + b.value(AttributeValue::number(std::int64_t{0})) + ") + " +
        b.value(AttributeValue::number(delta)));
  apply_write_options(b, write, now);
  require_live(b, now);
  ddb::UpdateItemRequest r = b.update(table_, key);
  r.return_values = ddb::ReturnValues::updated_new;
  return r;
}

ddb::UpdateItemRequest Requests::touch(const std::string& key, TimePoint expires, Now now) const {
  Builder b;
  apply_write_options(b, WriteOptions{expires, std::nullopt, false}, now);
  require_live(b, now);
  return b.update(table_, key);
}

ddb::DeleteItemRequest Requests::destroy(const std::string& key) const {
  ddb::DeleteItemRequest r;
  r.table_name = table_;
  r.key = key_of(key);
  // The old image names the indexes to leave. A tombstone stays: it refuses a pending sign-in.
  r.return_values = ddb::ReturnValues::all_old;
  Builder b;
  b.condition("attribute_not_exists(#rv)");
  b.apply_condition(r);
  return r;
}

ddb::UpdateItemRequest Requests::lock(const std::string& key, const Value& verification_value,
                                      const std::string& token, Now now) const {
  Builder b;
  const std::string tok = b.value(AttributeValue::string(token));
  b.set("#lo = " + tok);
  b.set("#lt = " + b.value(AttributeValue::number(now.millis)));
  require_live(b, now);
  b.condition("#d." + b.name(lock_property_) + " = " + b.value(ddb::to_attribute(verification_value)));
  // `#lo = token` matches only a retried attempt of this very call (the token is new): it makes the
  // lock safe to retry when the first attempt's answer was lost.
  b.condition("(attribute_not_exists(#lo) OR #lo = " + tok + " OR #lt < " +
              b.value(AttributeValue::number(now.millis - max_lock_time_.count())) + ")");
  ddb::UpdateItemRequest r = b.update(table_, key);
  // The old image: the data is unchanged by the lock, and a lock_owner in it means a take-over.
  r.return_values = ddb::ReturnValues::all_old;
  return r;
}

ddb::UpdateItemRequest Requests::unlock(const std::string& key, std::string_view token) const {
  Builder b;
  b.remove("#lo");
  b.remove("#lt");
  b.condition("#lo = " + b.value(AttributeValue::string(std::string(token))));
  return b.update(table_, key);
}

ddb::UpdateItemRequest Requests::renew(const std::string& key, std::string_view token, Now now) const {
  Builder b;
  b.set("#lt = " + b.value(AttributeValue::number(now.millis)));
  b.condition("#lo = " + b.value(AttributeValue::string(std::string(token))));
  require_live(b, now);
  return b.update(table_, key);
}

ddb::UpdateItemRequest Requests::index_add(const std::string& index_key, const std::string& session_key,
                                           const NewSession& s) const {
  Builder b;
  const std::int64_t absolute = to_epoch_seconds(s.absolute_expires);
  AttributeMap entry{{kEntryCreated, AttributeValue::number(to_epoch_millis(s.created))},
                     {kEntryAbsolute, AttributeValue::number(absolute)}};
  b.set(b.name(std::string(kEntryPrefix) + session_key) + " = " + b.value(AttributeValue::map(std::move(entry))));
  b.set("#e = " + b.value(AttributeValue::number(absolute + kRevocationMemorySeconds)));
  b.condition("(attribute_not_exists(#ra) OR #ra < " + b.value(AttributeValue::number(to_epoch_millis(s.created))) +
              ")");
  ddb::UpdateItemRequest r = b.update(table_, index_key);
  r.return_values = ddb::ReturnValues::all_old;
  return r;
}

ddb::UpdateItemRequest Requests::index_keep_until(const std::string& index_key, std::int64_t expires) const {
  Builder b;
  const std::string e = b.value(AttributeValue::number(expires));
  b.set("#e = " + e);
  b.condition("attribute_exists(#id) AND #e < " + e);
  return b.update(table_, index_key);
}

ddb::UpdateItemRequest Requests::index_remove(const std::string& index_key,
                                              const std::vector<std::string>& session_keys) const {
  Builder b;
  for (const std::string& k : session_keys) b.remove(b.name(std::string(kEntryPrefix) + k));
  // An UpdateItem of a missing key would create an empty item.
  b.condition("attribute_exists(#id)");
  return b.update(table_, index_key);
}

ddb::UpdateItemRequest Requests::index_revoke(const std::string& index_key, Now now) const {
  Builder b;
  b.set("#ra = " + b.value(AttributeValue::number(now.millis)));
  b.set("#e = " + b.value(AttributeValue::number(now.seconds + kRevocationMemorySeconds)));
  ddb::UpdateItemRequest r = b.update(table_, index_key);
  r.return_values = ddb::ReturnValues::all_old;
  return r;
}

ddb::PutItemRequest Requests::tombstone(const std::string& key, Now now) const {
  ddb::PutItemRequest r;
  r.table_name = table_;
  r.item = key_of(key);
  r.item.emplace(kExpires, AttributeValue::number(now.seconds + kRevocationMemorySeconds));
  r.item.emplace(kRevoked, AttributeValue::boolean(true));
  r.return_values = ddb::ReturnValues::all_old;
  return r;
}

bool same_stored_value(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (!a.is_double() && !b.is_double()) {
      if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
      if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
    }
    return number_of(a) == number_of(b);
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!same_stored_value(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& kv : x) {
      const Value* other = y.if_contains(kv.key());
      if (other == nullptr || !same_stored_value(kv.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

bool shows_write(const Decoded& item, const Fields& set_fields, const std::vector<std::string>& remove_names,
                 const WriteOptions& write) {
  if (item.state != Decoded::State::live) return false;
  if (write.lock_token) {
    const bool holds = item.lock_owner == *write.lock_token;
    if (write.release_lock ? !item.lock_owner.empty() : !holds) return false;
  }
  for (const auto& kv : set_fields) {
    const Value* v = item.record.data.if_contains(kv.key());
    if (v == nullptr || !same_stored_value(*v, kv.value())) return false;
  }
  for (const std::string& n : remove_names) {
    if (!set_fields.contains(n) && item.record.data.contains(n)) return false;
  }
  return true;
}

WriteVerdict diagnose_write(const Decoded& now_item, const WriteOptions& write, bool applied) {
  WriteVerdict v;
  if (now_item.state != Decoded::State::live) return v;  // not_found
  if (applied) {
    v.kind = WriteVerdict::Kind::ok;
    return v;
  }
  if (write.lock_token && now_item.lock_owner != *write.lock_token) {
    v.kind = WriteVerdict::Kind::aborted;
    return v;
  }
  if (write.expires && *write.expires > now_item.record.absolute_expires) {
    v.kind = WriteVerdict::Kind::retry_clamped;
    v.expires = now_item.record.absolute_expires;
    return v;
  }
  // Live, the lock (if any) held, the expiry allowed: the session ended between the write and the
  // read, or the write raced a revocation. Either way there is no session to write to.
  return v;
}

Result<LockGrant> granted_lock(std::string_view id, const std::optional<AttributeMap>& old_image,
                               const std::string& token, Now now) {
  Decoded d = decode_session(id, old_image, now);
  if (d.state != Decoded::State::live) {
    return Error(ErrorCode::internal, "the locked session's item is malformed");
  }
  const bool took_over = !d.lock_owner.empty() && d.lock_owner != token;
  return LockGrant{std::move(d.record), token, took_over};
}

Error refused_lock(const Decoded& now_item, const std::string& property, const Value& verification_value) {
  if (now_item.state != Decoded::State::live) return Error(ErrorCode::not_found, "session not found or expired");
  const Value* current = now_item.record.data.if_contains(property);
  if (current == nullptr || !same_stored_value(*current, verification_value)) {
    return Error(ErrorCode::verification_mismatch, "the session's '" + property + "' has changed", kConditionFailed);
  }
  return Error(ErrorCode::lock_held, "the session is locked by another request", kConditionFailed);
}

Status diagnose_create(const Decoded& now_item, const NewSession& s) {
  if (now_item.state == Decoded::State::live &&
      to_epoch_millis(now_item.record.created) == to_epoch_millis(s.created) && now_item.record.owner == s.owner &&
      same_stored_value(Value(now_item.record.data), Value(s.data))) {
    return {};  // our own earlier attempt, whose answer was lost
  }
  if (now_item.state == Decoded::State::revoked && !s.owner.empty()) {
    // A sign-in under a fresh random ID meets a tombstone: a revocation of the owner's sessions found
    // this session in the index (it is entered before it is created) and ended it before it existed.
    return Error(ErrorCode::aborted, "the owner's sessions were revoked while this session was being created",
                 kConditionFailed);
  }
  if (now_item.state == Decoded::State::revoked) {
    return Error(ErrorCode::already_exists, "the session ID was revoked", kConditionFailed);
  }
  return Error(ErrorCode::already_exists, "a session with this ID already exists", kConditionFailed);
}

}  // namespace websession::dynamo
