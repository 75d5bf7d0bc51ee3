// GetItem's answer decoded straight into an AttributeMap by a streaming (SAX) handler: no JSON
// tree is built and then walked, which halves the work of the hottest answer (see BENCHMARKS.md).
#include <boost/json/basic_parser_impl.hpp>

#include <optional>
#include <utility>
#include <vector>

#include "dynamodb/marshal.h"
#include "websession/dynamodb/errors.h"

namespace websession::dynamodb::detail {
namespace {

using boost::system::error_code;
using json_string_view = boost::json::string_view;

// The attribute types of the wire format ({"S": ...}, {"M": ...}, ...).
enum class Wire { none, S, N, B, BOOL, NUL, M, L, SS, NS, BS };

Wire wire_type(std::string_view t) noexcept {
  if (t.size() == 1) {
    switch (t[0]) {
      case 'S': return Wire::S;
      case 'N': return Wire::N;
      case 'B': return Wire::B;
      case 'M': return Wire::M;
      case 'L': return Wire::L;
      default: return Wire::none;
    }
  }
  if (t == "BOOL") return Wire::BOOL;
  if (t == "NULL") return Wire::NUL;
  if (t == "SS") return Wire::SS;
  if (t == "NS") return Wire::NS;
  if (t == "BS") return Wire::BS;
  return Wire::none;
}

// Builds the item while the parser reads it. Frames are reused, never reallocated per value; maps,
// lists and sets under construction live on their own stacks and are moved, not copied, into place.
class GetItemHandler {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_comment_part(json_string_view, error_code&) { return true; }
  bool on_comment(json_string_view, error_code&) { return true; }
  bool on_number_part(json_string_view, error_code&) { return true; }
  bool on_key_part(json_string_view s, std::size_t, error_code&) { return text_.append(s.data(), s.size()), true; }
  bool on_string_part(json_string_view s, std::size_t, error_code&) { return text_.append(s.data(), s.size()), true; }

  bool on_object_begin(error_code& ec);
  bool on_object_end(std::size_t, error_code& ec);
  bool on_array_begin(error_code& ec);
  bool on_array_end(std::size_t, error_code& ec);
  bool on_key(json_string_view s, std::size_t, error_code& ec);
  bool on_string(json_string_view s, std::size_t, error_code& ec);
  bool on_int64(std::int64_t i, json_string_view, error_code& ec) { return on_number(static_cast<double>(i), ec); }
  bool on_uint64(std::uint64_t u, json_string_view, error_code& ec) { return on_number(static_cast<double>(u), ec); }
  bool on_double(double d, json_string_view, error_code& ec) { return on_number(d, ec); }
  bool on_bool(bool b, error_code& ec);
  bool on_null(error_code& ec) { return scalar_ignored(ec) || fail(ec, "unexpected null"); }

  /// The wrong shape, when the JSON was valid but not DynamoDB's.
  std::optional<std::string> shape_error;
  std::optional<AttributeMap> item;
  std::optional<double> capacity;

 private:
  enum class Kind { top, item, capacity, wrapper, map, list, set };
  struct Frame {
    Kind kind = Kind::top;
    Wire type = Wire::none;  // wrapper
    bool has_value = false;  // wrapper
    std::string key;  // top, capacity: the current member; map, item: the pending attribute name
  };

  bool fail(error_code& ec, const char* what) {
    if (!shape_error) shape_error = what;
    ec = boost::json::error::syntax;
    return false;
  }
  void push(Kind kind) {
    if (depth_ == frames_.size()) frames_.emplace_back();
    Frame& f = frames_[depth_++];
    f.kind = kind;
    f.type = Wire::none;
    f.has_value = false;
    f.key.clear();
  }
  Frame& top() { return frames_[depth_ - 1]; }
  // The text of a key or string: its parts, if it came in several.
  std::string take(json_string_view s) {
    if (text_.empty()) return std::string(s.data(), s.size());
    text_.append(s.data(), s.size());
    std::string out = std::move(text_);
    text_.clear();
    return out;
  }
  // True (and ec untouched) when a scalar here is not read: in a skipped member, or a member of
  // the envelope or of ConsumedCapacity.
  bool scalar_ignored(error_code& ec) {
    if (depth_ == 0) return !fail(ec, "body is not a JSON object") && false;
    return skip_ > 0 || top().kind == Kind::top || top().kind == Kind::capacity;
  }
  bool on_number(double d, error_code& ec);
  bool set_value(AttributeValue&& v, error_code& ec);
  bool deliver(AttributeValue&& v, error_code& ec);

  std::vector<Frame> frames_;
  std::size_t depth_ = 0;
  std::vector<AttributeMap> maps_;
  std::vector<std::vector<AttributeValue>> lists_;
  std::vector<std::vector<std::string>> sets_;
  std::string text_;
  int skip_ = 0;  // depth inside a member that is not read
};

bool GetItemHandler::on_object_begin(error_code& ec) {
  if (skip_ > 0) return ++skip_, true;
  if (depth_ == 0) return push(Kind::top), true;
  Frame& f = top();
  switch (f.kind) {
    case Kind::top:
      if (f.key == "Item") {
        maps_.emplace_back();
        return push(Kind::item), true;
      }
      if (f.key == "ConsumedCapacity") return push(Kind::capacity), true;
      return skip_ = 1, true;
    case Kind::capacity:
      return skip_ = 1, true;
    case Kind::item:
    case Kind::map:
    case Kind::list:
      return push(Kind::wrapper), true;
    case Kind::wrapper:
      if (f.type != Wire::M || f.has_value) break;
      maps_.emplace_back();
      return push(Kind::map), true;
    case Kind::set:
      break;
  }
  return fail(ec, "unexpected object");
}

bool GetItemHandler::on_object_end(std::size_t, error_code& ec) {
  if (skip_ > 0) return --skip_, true;
  const Frame& f = frames_[--depth_];
  switch (f.kind) {
    case Kind::top:
    case Kind::capacity:
      return true;
    case Kind::item:
      item = std::move(maps_.back());
      maps_.pop_back();
      return true;
    case Kind::map: {
      AttributeValue v = AttributeValue::map(std::move(maps_.back()));
      maps_.pop_back();
      return set_value(std::move(v), ec);
    }
    case Kind::wrapper:
      if (!f.has_value) return fail(ec, "attribute value without a value");
      return true;  // its value was delivered when it was read
    default:
      return fail(ec, "unbalanced object");
  }
}

bool GetItemHandler::on_array_begin(error_code& ec) {
  if (skip_ > 0) return ++skip_, true;
  if (depth_ == 0) return fail(ec, "body is not a JSON object");
  Frame& f = top();
  if (f.kind == Kind::top || f.kind == Kind::capacity) return skip_ = 1, true;
  if (f.kind != Kind::wrapper || f.has_value) return fail(ec, "unexpected array");
  if (f.type == Wire::L) {
    lists_.emplace_back();
    return push(Kind::list), true;
  }
  if (f.type == Wire::SS || f.type == Wire::NS || f.type == Wire::BS) {
    sets_.emplace_back();
    return push(Kind::set), true;
  }
  return fail(ec, "unexpected array in an attribute value");
}

bool GetItemHandler::on_array_end(std::size_t, error_code& ec) {
  if (skip_ > 0) return --skip_, true;
  const Kind kind = frames_[--depth_].kind;
  if (kind == Kind::list) {
    AttributeValue v = AttributeValue::list(std::move(lists_.back()));
    lists_.pop_back();
    return set_value(std::move(v), ec);
  }
  if (kind != Kind::set || depth_ == 0) return fail(ec, "unbalanced array");
  std::vector<std::string> set = std::move(sets_.back());
  sets_.pop_back();
  const Wire type = top().type;
  if (type == Wire::SS) return set_value(AttributeValue::string_set(std::move(set)), ec);
  if (type == Wire::NS) return set_value(AttributeValue::number_set(std::move(set)), ec);
  for (std::string& e : set) {
    auto bytes = base64_decode(e);
    if (!bytes) return fail(ec, "binary set element is not base64");
    e = std::move(*bytes);
  }
  return set_value(AttributeValue::binary_set(std::move(set)), ec);
}

bool GetItemHandler::on_key(json_string_view s, std::size_t, error_code& ec) {
  if (skip_ > 0) return text_.clear(), true;
  if (depth_ == 0) return fail(ec, "body is not a JSON object");
  Frame& f = top();
  if (f.kind != Kind::wrapper) {
    if (text_.empty()) {
      f.key.assign(s.data(), s.size());  // in the string the frame already has
    } else {
      f.key = take(s);
    }
    return true;
  }
  if (f.type != Wire::none) return fail(ec, "attribute value is not a one-key object");
  f.type = wire_type(text_.empty() ? std::string_view(s.data(), s.size()) : std::string_view(take(s)));
  text_.clear();
  return f.type != Wire::none || fail(ec, "unknown attribute type");
}

bool GetItemHandler::on_string(json_string_view s, std::size_t, error_code& ec) {
  if (scalar_ignored(ec) || ec) return text_.clear(), !ec;
  Frame& f = top();
  if (f.kind == Kind::set) return sets_.back().push_back(take(s)), true;
  if (f.kind != Kind::wrapper || f.has_value) return fail(ec, "unexpected string");
  switch (f.type) {
    case Wire::S: return set_value(AttributeValue::string(take(s)), ec);
    case Wire::N: return set_value(AttributeValue::number(take(s)), ec);
    case Wire::B: {
      auto bytes = base64_decode(take(s));
      if (!bytes) return fail(ec, "B is not base64");
      return set_value(AttributeValue::binary(std::move(*bytes)), ec);
    }
    default: return fail(ec, "unexpected string in an attribute value");
  }
}

bool GetItemHandler::on_bool(bool b, error_code& ec) {
  if (scalar_ignored(ec) || ec) return !ec;
  Frame& f = top();
  if (f.kind != Kind::wrapper || f.has_value) return fail(ec, "unexpected boolean");
  if (f.type == Wire::BOOL) return set_value(AttributeValue::boolean(b), ec);
  if (f.type == Wire::NUL) return set_value(AttributeValue::null(), ec);
  return fail(ec, "unexpected boolean in an attribute value");
}

bool GetItemHandler::on_number(double d, error_code& ec) {
  if (scalar_ignored(ec) || ec) {
    if (!ec && skip_ == 0 && top().kind == Kind::capacity && top().key == "CapacityUnits") capacity = d;
    return !ec;
  }
  return fail(ec, "unexpected number");
}

// A wrapper's value: marks the wrapper read and hands the value to the container around it.
bool GetItemHandler::set_value(AttributeValue&& v, error_code& ec) {
  if (depth_ == 0 || top().kind != Kind::wrapper || top().has_value) return fail(ec, "misplaced attribute value");
  top().has_value = true;
  return deliver(std::move(v), ec);
}

bool GetItemHandler::deliver(AttributeValue&& v, error_code& ec) {
  if (depth_ < 2) return fail(ec, "misplaced attribute value");
  Frame& parent = frames_[depth_ - 2];
  if (parent.kind == Kind::list) return lists_.back().push_back(std::move(v)), true;
  if (parent.kind == Kind::map || parent.kind == Kind::item) {
    // Attributes often arrive in name order (as they were written from a map): then the end is the
    // place, without a search. A repeated name keeps the last value, as the tree decoder does.
    AttributeMap& m = maps_.back();
    if (m.empty() || m.rbegin()->first < parent.key) {
      m.emplace_hint(m.end(), std::move(parent.key), std::move(v));
    } else {
      m.insert_or_assign(std::move(parent.key), std::move(v));
    }
    return true;
  }
  return fail(ec, "misplaced attribute value");
}

}  // namespace

Result<GetItemResponse> decode_get_item(unsigned status, std::string_view body) {
  boost::json::parse_options limits;
  limits.max_depth = 2 * 32 + 16;  // DynamoDB's 32 levels, two JSON levels each, and the envelope
  boost::json::basic_parser<GetItemHandler> parser(limits);
  error_code ec;
  const std::string_view text = body.empty() ? std::string_view("{}") : body;
  parser.write_some(false, text.data(), text.size(), ec);
  GetItemHandler& h = parser.handler();
  if (h.shape_error) return Error(ErrorCode::internal, "malformed DynamoDB response: " + *h.shape_error);
  if (ec || !parser.done()) {
    return Error(ErrorCode::unavailable, "malformed response body (HTTP " + std::to_string(status) + ")",
                 std::string(kMalformedResponse));
  }
  return GetItemResponse{std::move(h.item), h.capacity};
}

}  // namespace websession::dynamodb::detail
