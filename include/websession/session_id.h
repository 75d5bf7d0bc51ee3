// Session IDs: 192 bits from the operating system's random source, base64url without padding.
#pragma once

#include <string>
#include <string_view>

namespace websession {

/// The length of a generated session ID: 32 base64url characters (192 random bits).
inline constexpr std::size_t kSessionIdLength = 32;

/// A new session ID: 192 bits from getrandom(2), base64url-encoded, 32 characters.
/// Throws std::system_error if the OS random source fails (it does not on Linux once booted).
std::string generate_session_id();

/// Random bytes from the OS random source, base64url-encoded: for lock owner tokens and demo tokens.
/// `bytes` random bytes give ceil(bytes * 4 / 3) characters.
std::string random_token(std::size_t bytes);

/// The length of session_key(): 43 base64url characters.
inline constexpr std::size_t kSessionKeyLength = 43;

/// What stores keep instead of the ID: SHA-256 of the ID, base64url without padding. One-way, so
/// whoever reads the table, a backup or a stream cannot turn it back into a cookie; 192 random bits
/// need no key or salt against guessing.
std::string session_key(std::string_view id);

/// True when `id` has the shape of a generated ID: exactly kSessionIdLength base64url characters.
/// Stores and middleware refuse anything else without a lookup.
bool is_valid_session_id(std::string_view id) noexcept;

}  // namespace websession
