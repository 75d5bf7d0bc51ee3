#include "aws/support/sigv4_verifier.h"

#include <algorithm>
#include <vector>

#include "websession/aws/sigv4.h"

namespace websession::testing {
namespace {

// The value of `name=` in "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
std::string field(std::string_view header, std::string_view name) {
  std::string key(name);
  key += "=";
  std::size_t at = header.find(key);
  if (at == std::string_view::npos) return {};
  at += key.size();
  std::size_t end = header.find(',', at);
  return std::string(header.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  for (;;) {
    std::size_t next = text.find(sep, pos);
    parts.emplace_back(text.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) return parts;
    pos = next + 1;
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> parse_form(std::string_view body) {
  std::map<std::string, std::string> fields;
  if (body.empty()) return fields;
  for (const std::string& pair : split(body, '&')) {
    std::size_t eq = pair.find('=');
    fields[percent_decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : percent_decode(pair.substr(eq + 1));
  }
  return fields;
}

SigV4Check verify_sigv4(const TestRequest& request, const KnownCredentials& known, std::string_view service) {
  SigV4Check check;
  const std::string authorization = request.header("authorization");
  if (!authorization.starts_with("AWS4-HMAC-SHA256 ")) return {"no SigV4 Authorization header", "", ""};
  const auto scope = split(field(authorization, "Credential"), '/');
  if (scope.size() != 5 || scope[4] != "aws4_request") return {"malformed credential scope", "", ""};
  check.access_key_id = scope[0];
  check.region = scope[2];
  if (scope[3] != service) return {"signed for service " + scope[3], check.access_key_id, check.region};
  auto it = known.find(scope[0]);
  if (it == known.end()) return {"unknown access key", check.access_key_id, check.region};
  const aws::Credentials& creds = it->second;
  const std::string signed_list = field(authorization, "SignedHeaders");
  const auto names = split(signed_list, ';');
  auto is_signed = [&](std::string_view n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  const std::string amz_date = request.header("x-amz-date");
  if (!is_signed("host") || !is_signed("x-amz-date") || !amz_date.starts_with(scope[1])) {
    return {"host or x-amz-date not signed, or a date outside the scope", check.access_key_id, check.region};
  }
  if (!creds.session_token.empty() &&
      (!is_signed("x-amz-security-token") || request.header("x-amz-security-token") != creds.session_token)) {
    return {"session token missing or not signed", check.access_key_id, check.region};
  }
  std::vector<aws::HeaderView> headers;
  for (const auto& [name, value] : request.headers) {
    if (is_signed(name)) headers.push_back({name, value});
  }
  const std::size_t q = request.target.find('?');
  const std::string path = request.target.substr(0, q);
  const std::string query = q == std::string::npos ? "" : request.target.substr(q + 1);
  const aws::SignableRequest signable{request.method, path, query, headers, request.body};
  auto canonical = aws::canonical_request(signable, aws::sha256_hex(request.body));
  if (!canonical || canonical->signed_headers != signed_list) {
    return {"cannot rebuild the canonical request", check.access_key_id, check.region};
  }
  const std::string sts = aws::string_to_sign(amz_date, aws::credential_scope(scope[1], scope[2], scope[3]),
                                              canonical->text);
  const auto key = aws::derive_signing_key(creds.secret_access_key, scope[1], scope[2], scope[3]);
  if (aws::signature(key, sts) != field(authorization, "Signature")) check.failure = "signature mismatch";
  return check;
}

}  // namespace websession::testing
