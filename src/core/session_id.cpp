#include "websession/session_id.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <system_error>

#include "core/base64url.h"
#include "core/sha256.h"

namespace websession {
namespace {

// getrandom(2) blocks only until the kernel's pool is first initialised, never afterwards, and can
// return fewer bytes than asked only when interrupted by a signal; loop until filled.
void fill_random(unsigned char* out, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::getrandom(out + done, n - done, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    done += static_cast<std::size_t>(got);
  }
}

}  // namespace

std::string random_token(std::size_t bytes) {
  std::string raw(bytes, '\0');
  fill_random(reinterpret_cast<unsigned char*>(raw.data()), raw.size());
  return detail::base64url_encode(raw);
}

std::string generate_session_id() {
  static_assert(kSessionIdLength == 32, "24 random bytes encode to 32 base64url characters");
  return random_token(24);
}

std::string session_key(std::string_view id) {
  const detail::Sha256Digest digest = detail::sha256(id);
  return detail::base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

bool is_valid_session_id(std::string_view id) noexcept {
  if (id.size() != kSessionIdLength) return false;
  for (const char c : id) {
    if (!detail::is_base64url_char(c)) return false;
  }
  return true;
}

}  // namespace websession
