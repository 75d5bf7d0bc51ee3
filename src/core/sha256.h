// SHA-256 and HMAC-SHA256 (RFC 2104) over OpenSSL's EVP, shared by SigV4 and cookie signing.
//
// OpenSSL 3's EVP_sha256() looks the algorithm up on every EVP_DigestInit_ex, and the one-shot
// HMAC() sets up an EVP_MAC per call: together about 20,000 instructions per MAC, several times the
// hashing itself. These fetch SHA-256 once and reuse a digest context per thread.
#pragma once

#include <array>
#include <initializer_list>
#include <memory>
#include <string_view>

namespace websession::detail {

using Sha256Digest = std::array<unsigned char, 32>;

/// SHA-256 of `data`. Throws std::runtime_error if OpenSSL fails.
Sha256Digest sha256(std::string_view data);

/// HMAC-SHA256 of `data` under `key`, for a key used once. Throws std::runtime_error if OpenSSL fails.
Sha256Digest hmac_sha256(std::string_view key, std::string_view data);

/// HMAC-SHA256 under one key used many times: the inner and outer SHA-256 states after the key
/// pads are computed once, so each MAC costs two state copies and the message's own hashing.
/// Immutable after construction, so one object serves many threads. The key is not kept.
class KeyedHmacSha256 {
 public:
  /// Throws std::runtime_error if OpenSSL fails.
  explicit KeyedHmacSha256(std::string_view key);
  ~KeyedHmacSha256();
  KeyedHmacSha256(const KeyedHmacSha256&) = delete;
  KeyedHmacSha256& operator=(const KeyedHmacSha256&) = delete;

  /// The MAC of the concatenation of `parts`.
  [[nodiscard]] Sha256Digest operator()(std::initializer_list<std::string_view> parts) const;

 private:
  struct States;
  std::unique_ptr<States> states_;
};

}  // namespace websession::detail
