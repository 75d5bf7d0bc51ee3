#include "malformed_requests.h"

#include <array>
#include <functional>
#include <random>

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include "raw_http.h"

namespace malformed {
namespace {

using Rng = std::mt19937;

std::size_t pick(Rng& rng, std::size_t lo, std::size_t hi) {
  return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
}

template <class T, std::size_t N>
const T& one_of(Rng& rng, const std::array<T, N>& items) {
  return items[pick(rng, 0, N - 1)];
}

std::string random_bytes(Rng& rng, std::size_t n) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(pick(rng, 0, 255));
  return out;
}

// A body that no prefix of, and nothing after, makes valid: the object is never closed.
const std::string kUnfinishedJson = R"({"user":"alice","x":)";

std::string post_login(std::string_view body, std::string_view extra_headers = {}) {
  std::string r = "POST /api/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n";
  r.append(extra_headers);
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  r.append(body);
  return r;
}

// A request whose HTTP may be fine but that must still be refused: an unknown route, or the login
// route with a body it refuses.
std::string refused_request(Rng& rng, std::string_view extra_headers) {
  if (pick(rng, 0, 1) == 0) {
    return "GET /nowhere HTTP/1.1\r\nHost: t\r\n" + std::string(extra_headers) + "\r\n";
  }
  return post_login(kUnfinishedJson, extra_headers);
}

Case garbage(Rng& rng) {
  static const std::array<std::string, 4> prefixes = {"", "GET ", "POST /api/login HTTP/1.1\r\n",
                                                      "GET /api/session HTTP/1.1\r\nHost: t\r\n"};
  return {"binary garbage", one_of(rng, prefixes) + random_bytes(rng, pick(rng, 1, 4096))};
}

Case oversized_header(Rng& rng) {
  std::string big(pick(rng, 17 * 1024, 128 * 1024), 'a');
  if (pick(rng, 0, 1) == 0) {
    return {"oversized header", "GET /api/session HTTP/1.1\r\nHost: t\r\nX-Big: " + big + "\r\n\r\n"};
  }
  std::string many;
  const std::size_t lines = pick(rng, 2000, 6000);
  for (std::size_t i = 0; i < lines; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  return {"too many headers", refused_request(rng, many)};
}

Case oversized_cookie(Rng& rng) {
  std::string value;
  const std::size_t size = pick(rng, 1500, 64 * 1024);
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
  for (std::size_t i = 0; i < size; ++i) value += kAlphabet[pick(rng, 0, sizeof kAlphabet - 2)];
  if (size > 17 * 1024) {
    return {"oversized cookie", "GET /api/session HTTP/1.1\r\nHost: t\r\nCookie: sessionId=" + value + "\r\n\r\n"};
  }
  std::string many = "Cookie: ";
  const std::size_t cookies = pick(rng, 50, 300);
  for (std::size_t i = 0; i < cookies; ++i) many += "sessionId=" + value.substr(0, 20) + "; ";
  many += "sessionId=" + value + "\r\n";
  return {"oversized cookie", refused_request(rng, many)};
}

Case bad_chunking(Rng& rng) {
  static const std::array<std::string, 10> bodies = {
      "zz\r\n{}\r\n0\r\n\r\n",
      "-5\r\nhello\r\n0\r\n\r\n",
      "ffffffffffffffffffffffff\r\nx\r\n0\r\n\r\n",
      "5\r\nabc\r\n0\r\n\r\n",
      "3\r\nabcdef\r\n0\r\n\r\n",
      "5\r\nhello",
      "5;\x01\x02=\x7f\r\nhello\r\n0\r\n\r\n",
      "5\r\n{\"use\r\n0\r\n\r\n",
      "8000000000000000\r\n",
      "0\r\nX-Trailer\x01: x\r\n\r\n",
  };
  static const std::array<std::string, 4> encodings = {"chunked", "chunked, identity", "gzip, chunked",
                                                        "chunked\r\nTransfer-Encoding: chunked"};
  std::string r = "POST /api/login HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: " + one_of(rng, encodings) + "\r\n\r\n";
  return {"bad chunking", r + one_of(rng, bodies)};
}

Case bad_content_length(Rng& rng) {
  static const std::array<std::string, 14> lengths = {
      "-1", "-100", "abc", "1e3", "0x10", "99999999999999999999", "18446744073709551616", "10, 20",
      "+5", "1000000000000", "4294967296", "5 5", "", "\x01"};
  std::string body = kUnfinishedJson + random_bytes(rng, pick(rng, 0, 64));
  std::string r = "POST /api/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n";
  switch (pick(rng, 0, 3)) {
    case 0:
      r += "Content-Length: " + one_of(rng, lengths) + "\r\n";
      break;
    case 1:
      r += "Content-Length: 5\r\nContent-Length: 6\r\n";
      break;
    case 2:
      r += "Content-Length: " + std::to_string(body.size() + pick(rng, 1, 1000)) + "\r\n";  // body too short
      break;
    default:
      r += "Content-Length: " + std::to_string(body.size()) + "\r\nTransfer-Encoding: chunked\r\n";
      break;
  }
  return {"bad Content-Length", r + "\r\n" + body};
}

Case invalid_json(Rng& rng) {
  static const std::array<std::string, 16> bodies = {
      R"({"user":})", R"({"user":"a")", R"({user:"a"})", R"({"user":'a'})", R"({"user":"a",})",
      "[1,2,]", "nul", R"({"user":"a"}})", R"({"user":"a"} x)", "", R"({"user":"\u12"})",
      "{\"user\":\"a\x01\"}", R"({"user":1e999999})", R"({"user":""})", R"({"user":123})",
      R"(["alice"])"};
  std::string body = one_of(rng, bodies);
  if (pick(rng, 0, 3) == 0) body = random_bytes(rng, pick(rng, 1, 512));
  if (pick(rng, 0, 5) == 0) body = R"({"user":")" + std::string(65, 'u') + R"("})";  // too long a name
  return {"invalid JSON", post_login(body)};
}

Case deep_json(Rng& rng) {
  static const std::array<std::size_t, 6> depths = {33, 100, 1000, 10000, 100000, 400000};
  const std::size_t depth = one_of(rng, depths);
  std::string body;
  switch (pick(rng, 0, 2)) {
    case 0:
      body = std::string(depth, '[') + std::string(depth, ']');
      break;
    case 1:
      for (std::size_t i = 0; i < depth; ++i) body += R"({"a":)";
      body += '1';
      body.append(depth, '}');
      break;
    default:
      for (std::size_t i = 0; i < depth; ++i) body += R"({"user":)";
      body += R"("alice")";
      body.append(depth, '}');
      break;
  }
  return {"deeply nested JSON", post_login(body)};
}

Case invalid_utf8(Rng& rng) {
  static const std::array<std::string, 9> sequences = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82",
                                                       "\xf8\x88\x80\x80\x80", "\x80", "\xf4\x90\x80\x80",
                                                       "\xc0\x80", "\xfe\xfe\xff\xff"};
  const std::string& bad = one_of(rng, sequences);
  switch (pick(rng, 0, 2)) {
    case 0:
      return {"invalid UTF-8 in JSON", post_login(R"({"user":"al)" + bad + R"(ice"})")};
    case 1:
      return {"invalid UTF-8 in the target", "GET /api/session" + bad + " HTTP/1.1\r\nHost: t\r\n\r\n"};
    default:
      return {"invalid UTF-8 in headers",
              post_login(R"({"user":")" + bad + R"("})", "User-Agent: " + bad + "\r\nCookie: sessionId=" + bad + "\r\n")};
  }
}

constexpr char kNulInMethod[] = "G\0T /api/session HTTP/1.1\r\nHost: t\r\n\r\n";

// Syntax that a lenient parser may accept (bare LF, a double space, an obs-fold, a header without a
// colon, a space before the method) goes to an unknown route, which must then refuse it.
Case bad_request_line(Rng& rng) {
  static const std::array<std::string, 12> lines = {
      "GET\r\n\r\n",
      "GET / HTTP/9.9\r\nHost: t\r\n\r\n",
      std::string(kNulInMethod, sizeof kNulInMethod - 1),
      "GET /nowhere HTTP/1.1\nHost: t\n\n",
      " GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /nowhere  HTTP/1.1\r\nHost: t\r\n\r\n",
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
      "BREW /api/login HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
      "GET /nowhere HTTP/1.1\r\nHost t\r\nBad Header: x\r\n\r\n",
      "GET http://[::1 HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /nowhere HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n",
  };
  std::string r = one_of(rng, lines);
  if (pick(rng, 0, 4) == 0) r = "GET /" + std::string(pick(rng, 9000, 100000), 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n";
  return {"bad request line or header syntax", r};
}

}  // namespace

std::vector<Case> generate(std::uint32_t seed, std::size_t count) {
  Rng rng(seed);
  const std::array<std::function<Case(Rng&)>, 10> kinds = {garbage,      oversized_header, oversized_cookie,
                                                           bad_chunking, bad_content_length, invalid_json,
                                                           deep_json,    invalid_utf8,     bad_request_line,
                                                           garbage};
  std::vector<Case> cases;
  cases.reserve(count);
  for (std::size_t i = 0; i < count; ++i) cases.push_back(kinds[i % kinds.size()](rng));
  return cases;
}

std::pair<unsigned, std::string> login_answer(std::string_view body, websession::Session& session) {
  boost::json::parse_options options;
  options.max_depth = 32;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(body, ec, {}, options);
  const auto* object = ec ? nullptr : v.if_object();
  const auto* user = object != nullptr ? object->if_contains("user") : nullptr;
  const auto* name = user != nullptr ? user->if_string() : nullptr;
  if (name == nullptr || name->empty() || name->size() > 64) {
    return {400, R"({"error":"bad_request","message":"expected {\"user\": name}"})"};
  }
  websession::SignIn who;
  who.owner = std::string(*name);
  session.sign_in(std::move(who));
  session.set("user", boost::json::value(*name));
  return {200, R"({"authenticated":true})"};
}

namespace {

bool is_4xx_status_line(std::string_view bytes) {
  return (bytes.starts_with("HTTP/1.1 4") || bytes.starts_with("HTTP/1.0 4")) && bytes.size() >= 12;
}

}  // namespace

Verdict check(std::uint16_t port, const Case& c) {
  raw_http::Socket socket(port);
  if (!socket.connected()) return {"cannot connect", "refused"};
  (void)socket.send(c.bytes);  // the server may close before reading it all
  socket.shut_write();
  bool timed_out = false;
  const std::string answer = socket.read_until_close(std::chrono::seconds(10), &timed_out);
  if (timed_out) return {"the connection stayed open 10 s after the request; answer so far: " + printable(answer), "open"};
  if (answer.empty()) return {{}, "closed"};
  // Every response in the answer (a pipelined case may get several) must be a 4xx.
  const std::string_view all = answer;
  if (!all.starts_with("HTTP/1.")) return {"answered " + printable(all.substr(0, 40)), "garbage"};
  const std::string outcome(all.substr(9, 3));
  for (std::size_t at = 0; at != std::string_view::npos; at = all.find("HTTP/1.", at + 1)) {
    if (!is_4xx_status_line(all.substr(at))) return {"answered " + printable(all.substr(at, 40)), outcome};
  }
  return {{}, outcome};
}

std::vector<std::string> run(std::uint16_t port, const std::vector<Case>& cases, std::string* outcomes,
                             std::size_t max_problems) {
  std::vector<std::string> problems;
  std::map<std::string, int> counts;
  for (std::size_t i = 0; i < cases.size() && problems.size() < max_problems; ++i) {
    Verdict v = check(port, cases[i]);
    ++counts[v.outcome];
    if (!v.problem.empty()) {
      problems.push_back("case " + std::to_string(i) + " (" + cases[i].kind + "): " + v.problem +
                         "\nsent: " + printable(cases[i].bytes));
    }
  }
  if (outcomes != nullptr) {
    outcomes->clear();
    for (const auto& [outcome, n] : counts) *outcomes += outcome + ": " + std::to_string(n) + "  ";
  }
  return problems;
}

std::string printable(std::string_view bytes, std::size_t max) {
  std::string out;
  for (unsigned char c : bytes.substr(0, max)) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (bytes.size() > max) out += "... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

}  // namespace malformed
