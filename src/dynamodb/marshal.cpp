#include "dynamodb/marshal.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <utility>

namespace websession::dynamodb {

std::string_view to_string(ReturnValues v) noexcept {
  switch (v) {
    case ReturnValues::none: return "NONE";
    case ReturnValues::all_old: return "ALL_OLD";
    case ReturnValues::updated_old: return "UPDATED_OLD";
    case ReturnValues::all_new: return "ALL_NEW";
    case ReturnValues::updated_new: return "UPDATED_NEW";
  }
  return "NONE";
}

std::string_view to_string(ReturnConsumedCapacity v) noexcept {
  switch (v) {
    case ReturnConsumedCapacity::none: return "NONE";
    case ReturnConsumedCapacity::total: return "TOTAL";
    case ReturnConsumedCapacity::indexes: return "INDEXES";
  }
  return "NONE";
}

namespace detail {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::storage_ptr;
using boost::json::string;
using boost::json::value;

array strings(const std::vector<std::string>& v, const storage_ptr& sp, bool base64) {
  array out(sp);
  out.reserve(v.size());
  for (const auto& s : v) {
    if (base64) {
      out.emplace_back(string(base64_encode(s), sp));
    } else {
      out.emplace_back(string(s, sp));
    }
  }
  return out;
}

Error corrupt(std::string_view what) {
  return Error(ErrorCode::internal, "malformed DynamoDB response: " + std::string(what));
}

Result<std::vector<std::string>> strings_from(const value& v, bool base64) {
  if (!v.is_array()) return corrupt("set is not an array");
  std::vector<std::string> out;
  out.reserve(v.get_array().size());
  for (const auto& e : v.get_array()) {
    if (!e.is_string()) return corrupt("set element is not a string");
    if (base64) {
      auto bytes = base64_decode(e.get_string());
      if (!bytes) return corrupt("binary set element is not base64");
      out.push_back(std::move(*bytes));
    } else {
      out.emplace_back(e.get_string());
    }
  }
  return out;
}

void put_names(object& o, const ExpressionNames& names, const storage_ptr& sp) {
  if (names.empty()) return;
  object n(sp);
  n.reserve(names.size());
  for (const auto& [k, v] : names) n.emplace(k, string(v, sp));
  o.emplace("ExpressionAttributeNames", std::move(n));
}

void put_values(object& o, const AttributeMap& values, const storage_ptr& sp) {
  if (values.empty()) return;
  o.emplace("ExpressionAttributeValues", to_wire(values, sp));
}

void put_common(object& o, const std::optional<std::string>& condition, ReturnValues rv, ReturnConsumedCapacity rcc) {
  if (condition) o.emplace("ConditionExpression", *condition);
  if (rv != ReturnValues::none) o.emplace("ReturnValues", to_string(rv));
  if (rcc != ReturnConsumedCapacity::none) o.emplace("ReturnConsumedCapacity", to_string(rcc));
}

std::optional<double> capacity(const object& o) {
  auto it = o.find("ConsumedCapacity");
  if (it == o.end() || !it->value().is_object()) return std::nullopt;
  const auto& cc = it->value().get_object();
  auto units = cc.find("CapacityUnits");
  if (units == cc.end() || !units->value().is_number()) return std::nullopt;
  return units->value().to_number<double>();
}

// Attributes/Item of a write or read response: absent means none.
Result<std::optional<AttributeMap>> optional_map(const object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<AttributeMap>();
  auto m = map_from_wire(it->value());
  if (!m) return std::move(m).error();
  return std::optional<AttributeMap>(std::move(*m));
}

std::string get_string(const object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

Result<TableDescription> table_from(const value& v) {
  if (!v.is_object()) return corrupt("table description is not an object");
  const auto& o = v.get_object();
  TableDescription t;
  t.table_name = get_string(o, "TableName");
  t.table_status = get_string(o, "TableStatus");
  if (auto it = o.find("KeySchema"); it != o.end() && it->value().is_array()) {
    for (const auto& e : it->value().get_array()) {
      if (!e.is_object()) return corrupt("key schema element is not an object");
      t.key_schema.push_back({get_string(e.get_object(), "AttributeName"), get_string(e.get_object(), "KeyType")});
    }
  }
  if (auto it = o.find("AttributeDefinitions"); it != o.end() && it->value().is_array()) {
    for (const auto& e : it->value().get_array()) {
      if (!e.is_object()) return corrupt("attribute definition is not an object");
      t.attribute_definitions.push_back(
          {get_string(e.get_object(), "AttributeName"), get_string(e.get_object(), "AttributeType")});
    }
  }
  if (auto it = o.find("BillingModeSummary"); it != o.end() && it->value().is_object()) {
    t.billing_mode = get_string(it->value().get_object(), "BillingMode");
  }
  t.table_arn = get_string(o, "TableArn");
  return t;
}

Result<const object*> as_object(const value& body) {
  if (!body.is_object()) return corrupt("body is not a JSON object");
  return &body.get_object();
}

}  // namespace

value to_wire(const AttributeValue& a, const storage_ptr& sp) {
  object o(sp);
  switch (a.type()) {
    case AttributeType::S: o.emplace("S", string(a.as_string(), sp)); break;
    case AttributeType::N: o.emplace("N", string(a.as_number(), sp)); break;
    case AttributeType::B: o.emplace("B", string(base64_encode(a.as_binary()), sp)); break;
    case AttributeType::BOOL: o.emplace("BOOL", a.as_bool()); break;
    case AttributeType::NUL: o.emplace("NULL", true); break;
    case AttributeType::M: o.emplace("M", to_wire(a.as_map(), sp)); break;
    case AttributeType::L: {
      array l(sp);
      l.reserve(a.as_list().size());
      for (const auto& e : a.as_list()) l.push_back(to_wire(e, sp));
      o.emplace("L", std::move(l));
      break;
    }
    case AttributeType::SS: o.emplace("SS", strings(a.as_string_set(), sp, false)); break;
    case AttributeType::NS: o.emplace("NS", strings(a.as_number_set(), sp, false)); break;
    case AttributeType::BS: o.emplace("BS", strings(a.as_binary_set(), sp, true)); break;
  }
  return o;
}

value to_wire(const AttributeMap& m, const storage_ptr& sp) {
  object o(sp);
  o.reserve(m.size());
  for (const auto& [k, v] : m) o.emplace(k, to_wire(v, sp));
  return o;
}

Result<AttributeValue> from_wire(const value& v) {
  if (!v.is_object() || v.get_object().size() != 1) return corrupt("attribute value is not a one-key object");
  const auto& kv = *v.get_object().begin();
  std::string_view t = kv.key();
  const value& x = kv.value();
  if (t == "S") {
    if (!x.is_string()) return corrupt("S is not a string");
    return AttributeValue::string(std::string(x.get_string()));
  }
  if (t == "N") {
    if (!x.is_string()) return corrupt("N is not a string");
    return AttributeValue::number(std::string(x.get_string()));
  }
  if (t == "B") {
    if (!x.is_string()) return corrupt("B is not a string");
    auto bytes = base64_decode(x.get_string());
    if (!bytes) return corrupt("B is not base64");
    return AttributeValue::binary(std::move(*bytes));
  }
  if (t == "BOOL") {
    if (!x.is_bool()) return corrupt("BOOL is not a boolean");
    return AttributeValue::boolean(x.get_bool());
  }
  if (t == "NULL") return AttributeValue::null();
  if (t == "M") {
    auto m = map_from_wire(x);
    if (!m) return std::move(m).error();
    return AttributeValue::map(std::move(*m));
  }
  if (t == "L") {
    if (!x.is_array()) return corrupt("L is not an array");
    std::vector<AttributeValue> l;
    l.reserve(x.get_array().size());
    for (const auto& e : x.get_array()) {
      auto a = from_wire(e);
      if (!a) return a;
      l.push_back(std::move(*a));
    }
    return AttributeValue::list(std::move(l));
  }
  if (t == "SS" || t == "NS" || t == "BS") {
    auto s = strings_from(x, t == "BS");
    if (!s) return std::move(s).error();
    if (t == "SS") return AttributeValue::string_set(std::move(*s));
    if (t == "NS") return AttributeValue::number_set(std::move(*s));
    return AttributeValue::binary_set(std::move(*s));
  }
  return corrupt("unknown attribute type");
}

Result<AttributeMap> map_from_wire(const value& v) {
  if (!v.is_object()) return corrupt("map is not an object");
  AttributeMap m;
  for (const auto& kv : v.get_object()) {
    auto a = from_wire(kv.value());
    if (!a) return std::move(a).error();
    m.emplace_hint(m.end(), std::string(kv.key()), std::move(*a));
  }
  return m;
}

namespace {

// A JSON string literal of `s`, escaped as RFC 8259 requires (quote, backslash, control
// characters); other bytes, UTF-8 included, pass through as Boost.JSON's serializer passes them.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0x0F]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

// A key attribute's value written straight to text: key attributes are S, N or B. False (nothing
// written) for another type, which DynamoDB refuses in a key anyway.
bool append_key_value(std::string& out, const AttributeValue& v) {
  switch (v.type()) {
    case AttributeType::S: out.append(R"({"S":)"); append_json_string(out, v.as_string()); break;
    case AttributeType::N: out.append(R"({"N":)"); append_json_string(out, v.as_number()); break;
    case AttributeType::B: out.append(R"({"B":)"); append_json_string(out, base64_encode(v.as_binary())); break;
    default: return false;
  }
  out.push_back('}');
  return true;
}

std::string serialize_get_item_tree(const GetItemRequest& r, const storage_ptr& sp) {
  object o(sp);
  o.reserve(6);
  o.emplace("TableName", r.table_name);
  o.emplace("Key", to_wire(r.key, sp));
  if (r.consistent_read) o.emplace("ConsistentRead", true);
  if (r.projection_expression) o.emplace("ProjectionExpression", *r.projection_expression);
  put_names(o, r.expression_attribute_names, sp);
  if (r.return_consumed_capacity != ReturnConsumedCapacity::none) {
    o.emplace("ReturnConsumedCapacity", to_string(r.return_consumed_capacity));
  }
  return boost::json::serialize(o);
}

}  // namespace

// The hottest request, written as text directly: no JSON tree to build and then serialize.
std::string serialize(const GetItemRequest& r, const storage_ptr& sp) {
  std::string out;
  out.reserve(96 + r.table_name.size() + r.key.size() * 48);
  out.append(R"({"TableName":)");
  append_json_string(out, r.table_name);
  out.append(R"(,"Key":{)");
  for (auto it = r.key.begin(); it != r.key.end(); ++it) {
    if (it != r.key.begin()) out.push_back(',');
    append_json_string(out, it->first);
    out.push_back(':');
    if (!append_key_value(out, it->second)) return serialize_get_item_tree(r, sp);
  }
  out.push_back('}');
  if (r.consistent_read) out.append(R"(,"ConsistentRead":true)");
  if (r.projection_expression) {
    out.append(R"(,"ProjectionExpression":)");
    append_json_string(out, *r.projection_expression);
  }
  if (!r.expression_attribute_names.empty()) {
    out.append(R"(,"ExpressionAttributeNames":{)");
    for (auto it = r.expression_attribute_names.begin(); it != r.expression_attribute_names.end(); ++it) {
      if (it != r.expression_attribute_names.begin()) out.push_back(',');
      append_json_string(out, it->first);
      out.push_back(':');
      append_json_string(out, it->second);
    }
    out.push_back('}');
  }
  if (r.return_consumed_capacity != ReturnConsumedCapacity::none) {
    out.append(R"(,"ReturnConsumedCapacity":)");
    append_json_string(out, to_string(r.return_consumed_capacity));
  }
  out.push_back('}');
  return out;
}

std::string serialize(const PutItemRequest& r, const storage_ptr& sp) {
  object o(sp);
  o.reserve(7);
  o.emplace("TableName", r.table_name);
  o.emplace("Item", to_wire(r.item, sp));
  put_names(o, r.expression_attribute_names, sp);
  put_values(o, r.expression_attribute_values, sp);
  put_common(o, r.condition_expression, r.return_values, r.return_consumed_capacity);
  return boost::json::serialize(o);
}

std::string serialize(const UpdateItemRequest& r, const storage_ptr& sp) {
  object o(sp);
  o.reserve(8);
  o.emplace("TableName", r.table_name);
  o.emplace("Key", to_wire(r.key, sp));
  o.emplace("UpdateExpression", r.update_expression);
  put_names(o, r.expression_attribute_names, sp);
  put_values(o, r.expression_attribute_values, sp);
  put_common(o, r.condition_expression, r.return_values, r.return_consumed_capacity);
  return boost::json::serialize(o);
}

std::string serialize(const DeleteItemRequest& r, const storage_ptr& sp) {
  object o(sp);
  o.reserve(7);
  o.emplace("TableName", r.table_name);
  o.emplace("Key", to_wire(r.key, sp));
  put_names(o, r.expression_attribute_names, sp);
  put_values(o, r.expression_attribute_values, sp);
  put_common(o, r.condition_expression, r.return_values, r.return_consumed_capacity);
  return boost::json::serialize(o);
}

std::string serialize(const CreateTableRequest& r, const storage_ptr& sp) {
  object o(sp);
  o.emplace("TableName", r.table_name);
  array defs(sp);
  for (const auto& d : r.attribute_definitions) {
    object e(sp);
    e.emplace("AttributeName", d.attribute_name);
    e.emplace("AttributeType", d.attribute_type);
    defs.push_back(std::move(e));
  }
  o.emplace("AttributeDefinitions", std::move(defs));
  array keys(sp);
  for (const auto& k : r.key_schema) {
    object e(sp);
    e.emplace("AttributeName", k.attribute_name);
    e.emplace("KeyType", k.key_type);
    keys.push_back(std::move(e));
  }
  o.emplace("KeySchema", std::move(keys));
  o.emplace("BillingMode", r.billing_mode);
  if (r.billing_mode == "PROVISIONED") {
    object pt(sp);
    pt.emplace("ReadCapacityUnits", 1);
    pt.emplace("WriteCapacityUnits", 1);
    o.emplace("ProvisionedThroughput", std::move(pt));
  }
  return boost::json::serialize(o);
}

std::string serialize(const DescribeTableRequest& r, const storage_ptr& sp) {
  object o(sp);
  o.emplace("TableName", r.table_name);
  return boost::json::serialize(o);
}

std::string serialize(const UpdateTimeToLiveRequest& r, const storage_ptr& sp) {
  object o(sp);
  o.emplace("TableName", r.table_name);
  object spec(sp);
  spec.emplace("AttributeName", r.attribute_name);
  spec.emplace("Enabled", r.enabled);
  o.emplace("TimeToLiveSpecification", std::move(spec));
  return boost::json::serialize(o);
}

std::string serialize(const DescribeTimeToLiveRequest& r, const storage_ptr& sp) {
  object o(sp);
  o.emplace("TableName", r.table_name);
  return boost::json::serialize(o);
}

Result<GetItemResponse> parse_get_item(const value& body) {
  auto o = as_object(body);
  if (!o) return std::move(o).error();
  auto item = optional_map(**o, "Item");
  if (!item) return std::move(item).error();
  return GetItemResponse{std::move(*item), capacity(**o)};
}

template <class Response>
Result<Response> parse_write(const value& body) {
  auto o = as_object(body);
  if (!o) return std::move(o).error();
  auto attrs = optional_map(**o, "Attributes");
  if (!attrs) return std::move(attrs).error();
  return Response{std::move(*attrs), capacity(**o)};
}

Result<PutItemResponse> parse_put_item(const value& body) { return parse_write<PutItemResponse>(body); }
Result<UpdateItemResponse> parse_update_item(const value& body) { return parse_write<UpdateItemResponse>(body); }
Result<DeleteItemResponse> parse_delete_item(const value& body) { return parse_write<DeleteItemResponse>(body); }

Result<CreateTableResponse> parse_create_table(const value& body) {
  auto o = as_object(body);
  if (!o) return std::move(o).error();
  auto it = (*o)->find("TableDescription");
  if (it == (*o)->end()) return corrupt("no TableDescription");
  auto t = table_from(it->value());
  if (!t) return std::move(t).error();
  return CreateTableResponse{std::move(*t)};
}

Result<DescribeTableResponse> parse_describe_table(const value& body) {
  auto o = as_object(body);
  if (!o) return std::move(o).error();
  auto it = (*o)->find("Table");
  if (it == (*o)->end()) return corrupt("no Table");
  auto t = table_from(it->value());
  if (!t) return std::move(t).error();
  return DescribeTableResponse{std::move(*t)};
}

Result<UpdateTimeToLiveResponse> parse_update_time_to_live(const value& body) {
  auto o = as_object(body);
  if (!o) return std::move(o).error();
  auto it = (*o)->find("TimeToLiveSpecification");
  if (it == (*o)->end() || !it->value().is_object()) return corrupt("no TimeToLiveSpecification");
  const auto& spec = it->value().get_object();
  UpdateTimeToLiveResponse r;
  r.attribute_name = get_string(spec, "AttributeName");
  if (auto e = spec.find("Enabled"); e != spec.end() && e->value().is_bool()) r.enabled = e->value().get_bool();
  return r;
}

Result<DescribeTimeToLiveResponse> parse_describe_time_to_live(const value& body) {
  auto o = as_object(body);
  if (!o) return std::move(o).error();
  auto it = (*o)->find("TimeToLiveDescription");
  if (it == (*o)->end() || !it->value().is_object()) return corrupt("no TimeToLiveDescription");
  const auto& d = it->value().get_object();
  return DescribeTimeToLiveResponse{get_string(d, "TimeToLiveStatus"), get_string(d, "AttributeName")};
}

namespace {

object keys_and_attributes_to_wire(const KeysAndAttributes& k, const storage_ptr& sp) {
  object o(sp);
  array keys(sp);
  keys.reserve(k.keys.size());
  for (const auto& key : k.keys) keys.push_back(to_wire(key, sp));
  o.emplace("Keys", std::move(keys));
  if (k.consistent_read) o.emplace("ConsistentRead", true);
  if (k.projection_expression) o.emplace("ProjectionExpression", *k.projection_expression);
  put_names(o, k.expression_attribute_names, sp);
  return o;
}

Result<KeysAndAttributes> keys_and_attributes_from(const value& v) {
  if (!v.is_object()) return corrupt("KeysAndAttributes is not an object");
  const auto& o = v.get_object();
  KeysAndAttributes k;
  if (auto it = o.find("Keys"); it != o.end() && it->value().is_array()) {
    for (const auto& key : it->value().get_array()) {
      auto m = map_from_wire(key);
      if (!m) return std::move(m).error();
      k.keys.push_back(std::move(*m));
    }
  }
  if (auto it = o.find("ConsistentRead"); it != o.end() && it->value().is_bool()) k.consistent_read = it->value().get_bool();
  if (auto it = o.find("ProjectionExpression"); it != o.end() && it->value().is_string()) {
    k.projection_expression = std::string(it->value().get_string());
  }
  if (auto it = o.find("ExpressionAttributeNames"); it != o.end() && it->value().is_object()) {
    for (const auto& kv : it->value().get_object()) {
      if (kv.value().is_string()) k.expression_attribute_names.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
    }
  }
  return k;
}

object write_request_to_wire(const WriteRequest& w, const storage_ptr& sp) {
  object o(sp);
  object inner(sp);
  if (w.put_item) {
    inner.emplace("Item", to_wire(*w.put_item, sp));
    o.emplace("PutRequest", std::move(inner));
  } else {
    inner.emplace("Key", w.delete_key ? to_wire(*w.delete_key, sp) : value(object(sp)));
    o.emplace("DeleteRequest", std::move(inner));
  }
  return o;
}

Result<WriteRequest> write_request_from(const value& v) {
  if (!v.is_object()) return corrupt("write request is not an object");
  const auto& o = v.get_object();
  auto field = [&](std::string_view outer, std::string_view inner) -> Result<AttributeMap> {
    const auto& r = o.at(outer);
    if (!r.is_object() || !r.get_object().contains(inner)) return corrupt("write request lacks its item or key");
    return map_from_wire(r.get_object().at(inner));
  };
  if (o.contains("PutRequest")) {
    auto item = field("PutRequest", "Item");
    if (!item) return std::move(item).error();
    return WriteRequest::put(std::move(*item));
  }
  if (o.contains("DeleteRequest")) {
    auto key = field("DeleteRequest", "Key");
    if (!key) return std::move(key).error();
    return WriteRequest::remove(std::move(*key));
  }
  return corrupt("write request is neither a put nor a delete");
}

// An object of arrays keyed by table name, each element converted by `convert`.
template <class T, class Convert>
Result<std::map<std::string, std::vector<T>>> by_table(const object& o, std::string_view key, Convert convert) {
  std::map<std::string, std::vector<T>> out;
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return out;
  if (!it->value().is_object()) return corrupt("per-table map is not an object");
  for (const auto& kv : it->value().get_object()) {
    if (!kv.value().is_array()) return corrupt("per-table list is not an array");
    auto& list = out[std::string(kv.key())];
    for (const auto& e : kv.value().get_array()) {
      auto x = convert(e);
      if (!x) return std::move(x).error();
      list.push_back(std::move(*x));
    }
  }
  return out;
}

void put_capacity(object& o, ReturnConsumedCapacity rcc) {
  if (rcc != ReturnConsumedCapacity::none) o.emplace("ReturnConsumedCapacity", to_string(rcc));
}

Result<ContinuousBackupsDescription> continuous_backups_from(const value& body) {
  auto o = as_object(body);
  if (!o) return std::move(o).error();
  auto it = (*o)->find("ContinuousBackupsDescription");
  if (it == (*o)->end() || !it->value().is_object()) return corrupt("no ContinuousBackupsDescription");
  const auto& d = it->value().get_object();
  ContinuousBackupsDescription r;
  r.continuous_backups_status = get_string(d, "ContinuousBackupsStatus");
  if (auto p = d.find("PointInTimeRecoveryDescription"); p != d.end() && p->value().is_object()) {
    r.point_in_time_recovery_status = get_string(p->value().get_object(), "PointInTimeRecoveryStatus");
  }
  return r;
}

}  // namespace

std::string serialize(const BatchGetItemRequest& r, const storage_ptr& sp) {
  object o(sp);
  object items(sp);
  for (const auto& [table, k] : r.request_items) items.emplace(table, keys_and_attributes_to_wire(k, sp));
  o.emplace("RequestItems", std::move(items));
  put_capacity(o, r.return_consumed_capacity);
  return boost::json::serialize(o);
}

std::string serialize(const ScanRequest& r, const storage_ptr& sp) {
  object o(sp);
  o.emplace("TableName", r.table_name);
  if (r.index_name) o.emplace("IndexName", *r.index_name);
  if (r.limit) o.emplace("Limit", *r.limit);
  if (r.exclusive_start_key) o.emplace("ExclusiveStartKey", to_wire(*r.exclusive_start_key, sp));
  if (r.projection_expression) o.emplace("ProjectionExpression", *r.projection_expression);
  if (r.filter_expression) o.emplace("FilterExpression", *r.filter_expression);
  put_names(o, r.expression_attribute_names, sp);
  put_values(o, r.expression_attribute_values, sp);
  if (r.consistent_read) o.emplace("ConsistentRead", true);
  if (r.segment) o.emplace("Segment", *r.segment);
  if (r.total_segments) o.emplace("TotalSegments", *r.total_segments);
  put_capacity(o, r.return_consumed_capacity);
  return boost::json::serialize(o);
}

std::string serialize(const BatchWriteItemRequest& r, const storage_ptr& sp) {
  object o(sp);
  object items(sp);
  for (const auto& [table, writes] : r.request_items) {
    array list(sp);
    list.reserve(writes.size());
    for (const auto& w : writes) list.push_back(write_request_to_wire(w, sp));
    items.emplace(table, std::move(list));
  }
  o.emplace("RequestItems", std::move(items));
  put_capacity(o, r.return_consumed_capacity);
  return boost::json::serialize(o);
}

std::string serialize(const TagResourceRequest& r, const storage_ptr& sp) {
  object o(sp);
  o.emplace("ResourceArn", r.resource_arn);
  array tags(sp);
  for (const auto& t : r.tags) {
    object e(sp);
    e.emplace("Key", t.key);
    e.emplace("Value", t.value);
    tags.push_back(std::move(e));
  }
  o.emplace("Tags", std::move(tags));
  return boost::json::serialize(o);
}

std::string serialize(const UpdateContinuousBackupsRequest& r, const storage_ptr& sp) {
  object o(sp);
  o.emplace("TableName", r.table_name);
  object spec(sp);
  spec.emplace("PointInTimeRecoveryEnabled", r.point_in_time_recovery_enabled);
  o.emplace("PointInTimeRecoverySpecification", std::move(spec));
  return boost::json::serialize(o);
}

std::string serialize(const DescribeContinuousBackupsRequest& r, const storage_ptr& sp) {
  object o(sp);
  o.emplace("TableName", r.table_name);
  return boost::json::serialize(o);
}

Result<BatchGetItemResponse> parse_batch_get_item(const value& body) {
  auto o = as_object(body);
  if (!o) return std::move(o).error();
  auto responses = by_table<AttributeMap>(**o, "Responses", [](const value& v) { return map_from_wire(v); });
  if (!responses) return std::move(responses).error();
  BatchGetItemResponse r;
  r.responses = std::move(*responses);
  if (auto it = (*o)->find("UnprocessedKeys"); it != (*o)->end() && it->value().is_object()) {
    for (const auto& kv : it->value().get_object()) {
      auto k = keys_and_attributes_from(kv.value());
      if (!k) return std::move(k).error();
      if (!k->keys.empty()) r.unprocessed_keys.emplace(std::string(kv.key()), std::move(*k));
    }
  }
  return r;
}

Result<ScanResponse> parse_scan(const value& body) {
  auto o = as_object(body);
  if (!o) return std::move(o).error();
  ScanResponse r;
  if (auto it = (*o)->find("Items"); it != (*o)->end() && it->value().is_array()) {
    r.items.reserve(it->value().get_array().size());
    for (const auto& item : it->value().get_array()) {
      auto m = map_from_wire(item);
      if (!m) return std::move(m).error();
      r.items.push_back(std::move(*m));
    }
  }
  if (auto it = (*o)->find("Count"); it != (*o)->end() && it->value().is_number()) r.count = it->value().to_number<std::int64_t>();
  if (auto it = (*o)->find("ScannedCount"); it != (*o)->end() && it->value().is_number()) {
    r.scanned_count = it->value().to_number<std::int64_t>();
  }
  auto last = optional_map(**o, "LastEvaluatedKey");
  if (!last) return std::move(last).error();
  r.last_evaluated_key = std::move(*last);
  r.consumed_capacity_units = capacity(**o);
  return r;
}

Result<BatchWriteItemResponse> parse_batch_write_item(const value& body) {
  auto o = as_object(body);
  if (!o) return std::move(o).error();
  auto unprocessed = by_table<WriteRequest>(**o, "UnprocessedItems", [](const value& v) { return write_request_from(v); });
  if (!unprocessed) return std::move(unprocessed).error();
  BatchWriteItemResponse r;
  for (auto& [table, writes] : *unprocessed) {
    if (!writes.empty()) r.unprocessed_items.emplace(table, std::move(writes));
  }
  return r;
}

Result<TagResourceResponse> parse_tag_resource(const value&) { return TagResourceResponse{}; }

Result<UpdateContinuousBackupsResponse> parse_update_continuous_backups(const value& body) {
  auto d = continuous_backups_from(body);
  if (!d) return std::move(d).error();
  return UpdateContinuousBackupsResponse{std::move(*d)};
}

Result<DescribeContinuousBackupsResponse> parse_describe_continuous_backups(const value& body) {
  auto d = continuous_backups_from(body);
  if (!d) return std::move(d).error();
  return DescribeContinuousBackupsResponse{std::move(*d)};
}

}  // namespace detail
}  // namespace websession::dynamodb
