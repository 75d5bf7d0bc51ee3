// SigV4 canonicalization of strings that come from outside: the path and query of an endpoint or a
// credentials URL, and header values (canonical_request, uri_encode, Signer::authorization).
// Input: "<method>\n<path>\n<query>\n<header name>:<value>\n...".
//
// Invariants: the canonical URI is normalized ('/'-rooted, no empty, "." or ".." segments) and
// percent-encoded; the canonical query is sorted, encoded, and canonicalizes to itself; the
// canonical request has exactly one line per distinct header name; uri_encode() decodes back to
// its input; the Authorization header ends with a 64-digit hex signature; a header name or value holding
// CR, LF or NUL makes both refuse the request (invalid_argument) instead of folding it; each
// canonical header line is what a plain reference of SigV4's trimming and joining gives.
#include <algorithm>
#include <tuple>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "websession/aws/sigv4.h"

namespace {

namespace aws = websession::aws;

struct Input {
  std::string_view method, path, query;
  std::vector<aws::HeaderView> headers;
};

Input read_input(std::string_view text) {
  Input in;
  std::tie(in.method, text) = websession::fuzz::split_line(text);
  std::tie(in.path, text) = websession::fuzz::split_line(text);
  std::tie(in.query, text) = websession::fuzz::split_line(text);
  while (!text.empty()) {
    std::string_view line;
    std::tie(line, text) = websession::fuzz::split_line(text);
    const auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) continue;
    in.headers.push_back({line.substr(0, colon), line.substr(colon + 1)});
  }
  return in;
}

bool is_hex_upper(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Text made only of unreserved characters, `extra` and %XX escapes.
bool encoded(std::string_view s, std::string_view extra) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !is_hex_upper(s[i + 1]) || !is_hex_upper(s[i + 2])) return false;
      i += 2;
    } else if (!is_unreserved(s[i]) && extra.find(s[i]) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

int hex_value(char c) { return c <= '9' ? c - '0' : c - 'A' + 10; }

// Decodes the %XX escapes of text that encoded() accepted.
std::string decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) return out;
    text = text.substr(nl + 1);
  }
}

bool has_line_break_in_values(const std::vector<aws::HeaderView>& headers) {
  for (const auto& h : headers) {
    const std::string_view breaks("\r\n\0", 3);
    if (h.name.find_first_of(breaks) != std::string_view::npos) return true;
    if (h.value.find_first_of(breaks) != std::string_view::npos) return true;
  }
  return false;
}

// A header value as SigV4 canonicalizes it, written the plain way: no leading or trailing spaces
// or tabs, each run of them one space.
std::string trimmed(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (const char c : v) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

void check_uri(std::string_view uri) {
  FUZZ_CHECK(uri.starts_with('/') && encoded(uri, "/"));
  const std::string path = decode(uri);
  FUZZ_CHECK(path.find("//") == std::string::npos);
  FUZZ_CHECK(path.find("/./") == std::string::npos && path.find("/../") == std::string::npos);
  FUZZ_CHECK(!path.ends_with("/.") && !path.ends_with("/.."));
}

void check_query(std::string_view query) {
  if (query.empty()) return;
  FUZZ_CHECK(encoded(query, "=&"));
  aws::SignableRequest again{.method = "GET", .query = query};
  const auto canonical = aws::canonical_request(again, "hash");
  FUZZ_CHECK(canonical.ok());  // an encoded query holds no CR, LF or NUL
  FUZZ_CHECK(lines(canonical->text).at(2) == query);
}

void check_canonical(const Input& in) {
  const aws::SignableRequest request{in.method, in.path, in.query, in.headers, ""};
  const auto canonical = aws::canonical_request(request, "payload-hash");
  // Header values with CR, LF or NUL are refused, not folded into something else that gets signed.
  FUZZ_CHECK(canonical.ok() == !has_line_break_in_values(in.headers));
  if (!canonical) {
    FUZZ_CHECK(canonical.error().code == websession::ErrorCode::invalid_argument);
    return;
  }
  const aws::CanonicalRequest& c = *canonical;
  std::vector<std::string> names;
  for (const auto& h : in.headers) {
    std::string n(h.name);
    std::transform(n.begin(), n.end(), n.begin(), [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; });
    names.push_back(std::move(n));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  const auto text_lines = lines(c.text);
  // Method, URI, query, one line per header name (an empty one when there is none: every real
  // request signs `host`), a blank line, the signed headers and the payload hash.
  FUZZ_CHECK(text_lines.size() == 6 + std::max<std::size_t>(names.size(), 1));
  FUZZ_CHECK(text_lines.back() == "payload-hash");
  check_uri(text_lines[1]);
  check_query(text_lines[2]);
  // Each header line is the name, then the values of that name in their order, each trimmed with
  // its runs of spaces and tabs collapsed to one space, joined with commas.
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::string expected = names[i] + ':';
    bool first = true;
    for (const auto& h : in.headers) {
      std::string n(h.name);
      std::transform(n.begin(), n.end(), n.begin(), [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; });
      if (n != names[i]) continue;
      if (!first) expected.push_back(',');
      first = false;
      expected += trimmed(h.value);
    }
    FUZZ_CHECK(text_lines[3 + i] == expected);
  }
}

void check_encoding(std::string_view text) {
  std::string out;
  aws::uri_encode(text, out, false);
  FUZZ_CHECK(encoded(out, "") && decode(out) == text);
}

void check_signer(const Input& in) {
  static aws::Signer signer("us-east-1", "dynamodb");
  const aws::Credentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}};
  const aws::SignableRequest request{in.method, in.path, in.query, in.headers, in.query};
  const auto signed_header = signer.authorization(credentials, request, "20150830T123600Z");
  FUZZ_CHECK(signed_header.ok() == !has_line_break_in_values(in.headers));
  if (!signed_header) return;
  const std::string& header = *signed_header;
  FUZZ_CHECK(header.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/"));
  const auto sig = header.rfind("Signature=");
  FUZZ_CHECK(sig != std::string::npos && header.size() - sig == 10 + 64);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = websession::fuzz::as_text(data, size);
  const Input in = read_input(text);
  check_canonical(in);
  check_encoding(text);
  check_signer(in);
  return 0;
}
