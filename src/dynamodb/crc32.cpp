#include "dynamodb/crc32.h"

#include <array>
#include <cstddef>

namespace websession::dynamodb::detail {
namespace {

using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

// Slicing-by-8 tables: kTables[0] is the classic byte table; kTables[k][i] is the CRC of byte i
// followed by k zero bytes, so eight input bytes fold in with eight independent lookups (about 1
// instruction per byte instead of 4-5 for the byte-at-a-time loop).
constexpr Tables make_tables() {
  Tables t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t i = 0; i < 256; ++i) {
    for (std::size_t k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFFU];
  }
  return t;
}

// Computed at compile time: no mutable global state.
constexpr Tables kTables = make_tables();

std::uint32_t byte_at(const char* p) noexcept { return static_cast<unsigned char>(*p); }

}  // namespace

std::uint32_t crc32(std::string_view data) noexcept {
  std::uint32_t c = 0xFFFFFFFFU;
  const char* p = data.data();
  std::size_t n = data.size();
  // Bytes are assembled little-endian explicitly: correct on any host byte order.
  for (; n >= 8; n -= 8, p += 8) {
    std::uint32_t lo = c ^ (byte_at(p) | byte_at(p + 1) << 8 | byte_at(p + 2) << 16 | byte_at(p + 3) << 24);
    std::uint32_t hi = byte_at(p + 4) | byte_at(p + 5) << 8 | byte_at(p + 6) << 16 | byte_at(p + 7) << 24;
    c = kTables[7][lo & 0xFFU] ^ kTables[6][(lo >> 8) & 0xFFU] ^ kTables[5][(lo >> 16) & 0xFFU] ^
        kTables[4][lo >> 24] ^ kTables[3][hi & 0xFFU] ^ kTables[2][(hi >> 8) & 0xFFU] ^
        kTables[1][(hi >> 16) & 0xFFU] ^ kTables[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) c = kTables[0][(c ^ byte_at(p)) & 0xFFU] ^ (c >> 8);
  return c ^ 0xFFFFFFFFU;
}

}  // namespace websession::dynamodb::detail
