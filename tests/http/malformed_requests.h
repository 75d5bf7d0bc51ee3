// Malformed requests for the adapter tests: binary garbage, oversized headers and cookies, bad
// chunking, bad Content-Length, invalid and deeply nested JSON, invalid UTF-8. Every case is one that
// a server must answer with a 4xx or by closing the connection, without touching a session: its HTTP
// is broken, or it targets an unknown route, or it carries a body that the test routes refuse.
//
// The test routes, the same on both adapters (see login_answer()):
//   POST /api/login  {"user": "<1 to 64 characters>"}: signs the user in (the only write).
//   GET  /api/session: 200 {"user": ...}, read-only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "websession/session.h"

namespace malformed {

/// One generated case: the bytes to send and what kind of damage it carries (for failure messages).
struct Case {
  std::string kind;
  std::string bytes;
};

/// `count` cases, from a generator seeded with `seed`: the same seed gives the same cases.
std::vector<Case> generate(std::uint32_t seed, std::size_t count);

/// The test login route: the status and JSON body to answer for `body`. Signs `session` in only for a
/// JSON object whose "user" is a string of 1 to 64 characters; anything else (invalid JSON, nesting
/// deeper than 32, invalid UTF-8, another shape) is 400 and nothing is written.
std::pair<unsigned, std::string> login_answer(std::string_view body, websession::Session& session);

/// How a server took one case.
struct Verdict {
  /// What is wrong with the answer; empty when the server answered only 4xx (a last response cut
  /// short by a reset counts by its status line) or just closed.
  std::string problem;
  /// "closed", or the status of the first response ("400", "431", ...).
  std::string outcome;
};

/// Sends `c` on a new connection to 127.0.0.1:port, ends our side, and reads until the server closes.
Verdict check(std::uint16_t port, const Case& c);

/// Runs every case against the server at `port`; returns the problems found (at most `max_problems`),
/// and fills `outcomes` with how many cases ended each way.
std::vector<std::string> run(std::uint16_t port, const std::vector<Case>& cases, std::string* outcomes,
                             std::size_t max_problems = 10);

/// A printable, cut-down view of `bytes` for failure messages.
std::string printable(std::string_view bytes, std::size_t max = 160);

}  // namespace malformed
