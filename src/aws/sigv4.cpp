#include "websession/aws/sigv4.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <span>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/sha256.h"
#include "core/text.h"

namespace websession::aws {
namespace {

bool is_unreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and only them: '+' stays '+', as in the SDKs' canonicalization).
std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Trims and collapses runs of spaces and tabs to one space, as SigV4 requires of header values.
// Line breaks are refused before this (see canonical_request).
void append_trimmed(std::string_view value, std::string& out) {
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  std::size_t b = 0;
  std::size_t e = value.size();
  while (b < e && is_space(value[b])) ++b;
  while (e > b && is_space(value[e - 1])) --e;
  // Most values need nothing collapsed: copied whole.
  bool plain = true;
  for (std::size_t i = b; i < e && plain; ++i) {
    plain = value[i] != '\t' && !(value[i] == ' ' && is_space(value[i + 1]));
  }
  if (plain) {
    out.append(value.substr(b, e - b));
    return;
  }
  bool in_space = false;
  for (std::size_t i = b; i < e; ++i) {
    if (is_space(value[i])) {
      if (!in_space) out.push_back(' ');
      in_space = true;
    } else {
      out.push_back(value[i]);
      in_space = false;
    }
  }
}

bool has_line_break(std::string_view s) noexcept { return ::websession::detail::has_cr_lf_nul(s); }

// Removes "." and ".." segments and empty segments, keeping a trailing slash, as the SDKs
// normalize paths for every service except S3.
std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view seg = path.substr(pos, next - pos);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    pos = next + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(segments[i]);
  }
  bool trailing = path.size() > 1 && (path.back() == '/' || path.ends_with("/.") || path.ends_with("/.."));
  if (trailing && out.size() > 1) out.push_back('/');
  return out;
}

}  // namespace

Sha256Digest sha256(std::string_view data) { return detail::sha256(data); }

Sha256Digest hmac_sha256(std::string_view key, std::string_view data) { return detail::hmac_sha256(key, data); }

namespace {

// Lower-case hex of a digest into a buffer of its own: the signer's intermediate hex strings need
// no heap.
using DigestHex = std::array<char, 2 * std::tuple_size_v<Sha256Digest>>;

void hex_into(std::span<const unsigned char> bytes, char* out) noexcept {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0x0f];
  }
}

DigestHex digest_hex(const Sha256Digest& digest) noexcept {
  DigestHex out;
  hex_into(digest, out.data());
  return out;
}

std::string_view view(const DigestHex& h) noexcept { return {h.data(), h.size()}; }

}  // namespace

std::string hex(std::span<const unsigned char> bytes) {
  std::string out(bytes.size() * 2, '\0');
  hex_into(bytes, out.data());
  return out;
}

std::string sha256_hex(std::string_view data) { return hex(sha256(data)); }

void uri_encode(std::string_view in, std::string& out, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0x0f]);
    }
  }
}

namespace {

// The canonical URI. The fast path ("/", DynamoDB's only path) skips normalization.
void append_canonical_uri(std::string_view path, std::string& out) {
  if (path.empty() || path == "/") {
    out.push_back('/');
  } else {
    uri_encode(normalize_path(path), out, /*keep_slash=*/true);
  }
}

// The canonical query: decoded, re-encoded, sorted by name then value.
void append_canonical_query(std::string_view query, std::string& out) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    std::size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view param = query.substr(pos, amp - pos);
    if (!param.empty()) {
      std::size_t eq = param.find('=');
      std::string name;
      std::string value;
      uri_encode(percent_decode(param.substr(0, eq)), name);
      if (eq != std::string_view::npos) uri_encode(percent_decode(param.substr(eq + 1)), value);
      params.emplace_back(std::move(name), std::move(value));
    }
    pos = amp + 1;
  }
  std::sort(params.begin(), params.end());
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i > 0) out.push_back('&');
    out.append(params[i].first).push_back('=');
    out.append(params[i].second);
  }
}

// The canonical headers: lower-case names, sorted (stably, so repeated names keep their order and
// are then joined with commas), values trimmed with inner runs of spaces collapsed; the signed
// header list alongside.
void append_canonical_headers(std::span<const HeaderView> headers, std::string& out, std::string& signed_headers) {
  struct Entry {
    std::string name;
    std::string_view value;
  };
  // The handful of headers a request signs fit on the stack.
  std::array<Entry, 8> on_stack;
  std::vector<Entry> on_heap;
  if (headers.size() > on_stack.size()) on_heap.resize(headers.size());
  const std::span<Entry> entries = on_heap.empty() ? std::span<Entry>(on_stack.data(), headers.size())
                                                   : std::span<Entry>(on_heap);
  for (std::size_t i = 0; i < headers.size(); ++i) {
    entries[i].name.resize(headers[i].name.size());
    std::transform(headers[i].name.begin(), headers[i].name.end(), entries[i].name.begin(), lower);
    entries[i].value = headers[i].value;
  }
  // Insertion sort: stable, and without the buffer std::stable_sort allocates, for the handful of
  // headers a request signs.
  for (std::size_t i = 1; i < entries.size(); ++i) {
    for (std::size_t j = i; j > 0 && entries[j].name < entries[j - 1].name; --j) std::swap(entries[j], entries[j - 1]);
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0 && entries[i].name == entries[i - 1].name) {
      out.push_back(',');
    } else {
      if (i > 0) {
        out.push_back('\n');
        signed_headers.push_back(';');
      }
      out.append(entries[i].name).push_back(':');
      signed_headers.append(entries[i].name);
    }
    append_trimmed(entries[i].value, out);
  }
}

}  // namespace

Result<CanonicalRequest> canonical_request(const SignableRequest& request, std::string_view payload_hash) {
  // A line break would end the header early on the wire (header injection); collapsing it into a
  // space would sign something other than what is sent. Either way: refused.
  for (const HeaderView& h : request.headers) {
    if (has_line_break(h.name) || has_line_break(h.value)) {
      return Error(ErrorCode::invalid_argument, "a header to sign contains CR, LF or NUL");
    }
  }
  CanonicalRequest result;
  std::string& out = result.text;
  out.reserve(256 + request.path.size() + request.query.size() + request.headers.size() * 48);
  out.append(request.method).push_back('\n');
  append_canonical_uri(request.path, out);
  out.push_back('\n');
  append_canonical_query(request.query, out);
  out.push_back('\n');
  append_canonical_headers(request.headers, out, result.signed_headers);
  out.append("\n\n").append(result.signed_headers).push_back('\n');
  out.append(payload_hash);
  return result;
}

std::string credential_scope(std::string_view date, std::string_view region, std::string_view service) {
  std::string out;
  out.reserve(date.size() + region.size() + service.size() + 16);
  out.append(date).append("/").append(region).append("/").append(service).append("/aws4_request");
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request_text) {
  std::string out;
  out.reserve(32 + amz_date.size() + scope.size() + 64);
  out.append("AWS4-HMAC-SHA256\n").append(amz_date).append("\n").append(scope).append("\n");
  out.append(view(digest_hex(sha256(canonical_request_text))));
  return out;
}

Sha256Digest derive_signing_key(std::string_view secret_access_key, std::string_view date,
                                std::string_view region, std::string_view service) {
  std::string k_secret;
  k_secret.reserve(4 + secret_access_key.size());
  k_secret.append("AWS4").append(secret_access_key);
  auto as_view = [](const Sha256Digest& d) {
    return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
  };
  Sha256Digest k_date = hmac_sha256(k_secret, date);
  // Wipe the copy of the secret; the key chain below is derived material only.
  std::fill(k_secret.begin(), k_secret.end(), '\0');
  Sha256Digest k_region = hmac_sha256(as_view(k_date), region);
  Sha256Digest k_service = hmac_sha256(as_view(k_region), service);
  return hmac_sha256(as_view(k_service), "aws4_request");
}

std::string signature(const Sha256Digest& signing_key, std::string_view string_to_sign_text) {
  return hex(hmac_sha256(std::string_view(reinterpret_cast<const char*>(signing_key.data()), signing_key.size()),
                         string_to_sign_text));
}

std::string authorization_header(std::string_view access_key_id, std::string_view scope,
                                 std::string_view signed_headers, std::string_view signature_hex) {
  std::string out;
  out.reserve(64 + access_key_id.size() + scope.size() + signed_headers.size() + signature_hex.size());
  out.append("AWS4-HMAC-SHA256 Credential=").append(access_key_id).append("/").append(scope);
  out.append(", SignedHeaders=").append(signed_headers).append(", Signature=").append(signature_hex);
  return out;
}

std::string format_amz_date(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  auto day = floor<days>(time);
  year_month_day ymd{day};
  hh_mm_ss hms{floor<seconds>(time - day)};
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                        static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                        static_cast<int>(hms.seconds().count()));
  return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

Signer::Signer(std::string region, std::string service, SystemClock clock)
    : region_(std::move(region)), service_(std::move(service)), clock_(std::move(clock)) {}

std::chrono::system_clock::time_point Signer::now() const {
  return clock_ ? clock_() : std::chrono::system_clock::now();
}

Signer::DayKey::DayKey(std::unique_ptr<const detail::KeyedHmacSha256> m, std::string s)
    : mac(std::move(m)), scope(std::move(s)) {}

Signer::DayKey::~DayKey() = default;

std::shared_ptr<const Signer::DayKey> Signer::day_key(std::string_view secret, std::string_view date) {
  std::lock_guard lock(mutex_);
  if (!cached_key_ || cached_date_ != date || cached_secret_ != secret) {
    Sha256Digest key = derive_signing_key(secret, date, region_, service_);
    auto mac = std::make_unique<const detail::KeyedHmacSha256>(
        std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
    std::fill(key.begin(), key.end(), 0);
    cached_key_ = std::make_shared<const DayKey>(std::move(mac), credential_scope(date, region_, service_));
    cached_secret_.assign(secret);
    cached_date_.assign(date);
  }
  return cached_key_;
}

Result<std::string> Signer::authorization(const Credentials& credentials, const SignableRequest& request,
                                          std::string_view amz_date) {
  std::string_view date = amz_date.substr(0, 8);
  auto creq = canonical_request(request, view(digest_hex(sha256(request.payload))));
  if (!creq) return std::move(creq).error();
  const auto key = day_key(credentials.secret_access_key, date);
  std::string sts = string_to_sign(amz_date, key->scope, creq->text);
  return authorization_header(credentials.access_key_id, key->scope, creq->signed_headers,
                              view(digest_hex((*key->mac)({sts}))));
}

}  // namespace websession::aws
