// The table's item layout (documented in the README, "The item"): one table, hash key `id` (S), and
// two kinds of items in it.
//
// A session item, keyed by session_key(id) (43 characters of base64url):
//   expires (N, epoch s; the TTL attribute; never after expires_absolute), expires_absolute (N, epoch s),
//   created (N, epoch ms), last_seen (N, epoch s), data (M), owner (S), sid (S), user_agent (S),
//   lock_owner (S) and lock_time (N, epoch ms) while locked.
// A revoked session is replaced by a tombstone until its sign-in can no longer be pending:
//   expires (N), revoked (BOOL true); no data.
// An index item, keyed "owner#<hash>" or "sid#<hash>" (the hash: SHA-256 of the owner or sid,
// base64url; never a session key, which has no '#'):
//   expires (N; TTL), sessions (M: session key -> M {c: created ms, a: expires_absolute s}),
//   revoked_at (N, epoch ms; the last "log out everywhere").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace websession::dynamo {

inline constexpr const char* kId = "id";
inline constexpr const char* kExpires = "expires";
inline constexpr const char* kAbsolute = "expires_absolute";
inline constexpr const char* kCreated = "created";
inline constexpr const char* kLastSeen = "last_seen";
inline constexpr const char* kData = "data";
inline constexpr const char* kOwner = "owner";
inline constexpr const char* kSid = "sid";
inline constexpr const char* kUserAgent = "user_agent";
inline constexpr const char* kLockOwner = "lock_owner";
inline constexpr const char* kLockTime = "lock_time";
inline constexpr const char* kRevoked = "revoked";
inline constexpr const char* kSessions = "sessions";
inline constexpr const char* kRevokedAt = "revoked_at";
inline constexpr const char* kEntryCreated = "c";
inline constexpr const char* kEntryAbsolute = "a";

inline constexpr const char* kConditionFailed = "ConditionalCheckFailedException";

/// How long a tombstone and a revocation mark are kept: far longer than a sign-in takes.
inline constexpr std::int64_t kRevocationMemorySeconds = 3600;

/// The index item of an owner, or of a provider session.
std::string owner_index_key(std::string_view owner);
std::string sid_index_key(std::string_view sid);

}  // namespace websession::dynamo
