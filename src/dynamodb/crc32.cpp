#include "dynamodb/crc32.h"

#include <array>
#include <cstddef>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define WEBSESSION_CRC32_CLMUL 1
#endif

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

// The running (not yet inverted) CRC of `n` more bytes.
std::uint32_t update_portable(std::uint32_t c, const char* p, std::size_t n) noexcept {
  // Bytes are assembled little-endian explicitly: correct on any host byte order.
  for (; n >= 8; n -= 8, p += 8) {
    std::uint32_t lo = c ^ (byte_at(p) | byte_at(p + 1) << 8 | byte_at(p + 2) << 16 | byte_at(p + 3) << 24);
    std::uint32_t hi = byte_at(p + 4) | byte_at(p + 5) << 8 | byte_at(p + 6) << 16 | byte_at(p + 7) << 24;
    c = kTables[7][lo & 0xFFU] ^ kTables[6][(lo >> 8) & 0xFFU] ^ kTables[5][(lo >> 16) & 0xFFU] ^
        kTables[4][lo >> 24] ^ kTables[3][hi & 0xFFU] ^ kTables[2][(hi >> 8) & 0xFFU] ^
        kTables[1][(hi >> 16) & 0xFFU] ^ kTables[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) c = kTables[0][(c ^ byte_at(p)) & 0xFFU] ^ (c >> 8);
  return c;
}

#ifdef WEBSESSION_CRC32_CLMUL

// Folding with carry-less multiplication (Intel, "Fast CRC Computation for Generic Polynomials
// Using PCLMULQDQ Instruction", 2009), for the bit-reflected polynomial 0xEDB88320: four 128-bit
// lanes fold 64 bytes a round, then fold into one lane, then 16 bytes a round; a Barrett reduction
// ends it. About a seventh of the table-driven instructions for DynamoDB's kilobyte answers.
// The constants are x^k mod P(x) for the fold distances used, bit-reflected and shifted left by
// one, as that paper derives them.
constexpr long long kFold512Lo = 0x154442bd4;  // x^(4*128+32) mod P: folds 64 bytes ahead
constexpr long long kFold512Hi = 0x1c6e41596;  // x^(4*128-32) mod P
constexpr long long kFold128Lo = 0x1751997d0;  // x^(128+32) mod P: folds 16 bytes ahead
constexpr long long kFold128Hi = 0x0ccaa009e;  // x^(128-32) mod P
constexpr long long kFold64 = 0x163cd6124;     // x^64 mod P
constexpr long long kPoly = 0x1db710641;       // P(x), with its x^32 term
constexpr long long kMu = 0x1f7011641;         // floor(x^64 / P(x))

__attribute__((target("pclmul"))) inline __m128i fold(__m128i acc, __m128i k) {
  return _mm_xor_si128(_mm_clmulepi64_si128(acc, k, 0x00), _mm_clmulepi64_si128(acc, k, 0x11));
}

__attribute__((target("pclmul"))) inline __m128i load(const char* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// `n` is at least 64 and a multiple of 16.
__attribute__((target("pclmul"))) std::uint32_t update_clmul(std::uint32_t c, const char* p, std::size_t n) {
  __m128i x1 = _mm_xor_si128(load(p), _mm_cvtsi32_si128(static_cast<int>(c)));
  __m128i x2 = load(p + 16);
  __m128i x3 = load(p + 32);
  __m128i x4 = load(p + 48);
  p += 64;
  n -= 64;
  const __m128i k512 = _mm_set_epi64x(kFold512Hi, kFold512Lo);
  for (; n >= 64; n -= 64, p += 64) {
    x1 = _mm_xor_si128(fold(x1, k512), load(p));
    x2 = _mm_xor_si128(fold(x2, k512), load(p + 16));
    x3 = _mm_xor_si128(fold(x3, k512), load(p + 32));
    x4 = _mm_xor_si128(fold(x4, k512), load(p + 48));
  }
  const __m128i k128 = _mm_set_epi64x(kFold128Hi, kFold128Lo);
  x1 = _mm_xor_si128(fold(x1, k128), x2);
  x1 = _mm_xor_si128(fold(x1, k128), x3);
  x1 = _mm_xor_si128(fold(x1, k128), x4);
  for (; n >= 16; n -= 16, p += 16) x1 = _mm_xor_si128(fold(x1, k128), load(p));

  // 128 bits to 64: the low half times x^(128-32) (the fold also appends 32 zero bits).
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(k128, x1, 0x01), _mm_srli_si128(x1, 8));
  // 96 bits to 64.
  const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
  const __m128i high = _mm_srli_si128(x1, 4);
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, mask32), _mm_set_epi64x(0, kFold64), 0x00), high);
  // Barrett reduction to 32 bits.
  const __m128i barrett = _mm_set_epi64x(kMu, kPoly);
  __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), barrett, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), barrett, 0x00);
  x1 = _mm_xor_si128(x1, t);
  return static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm_srli_si128(x1, 4)));
}

bool have_clmul() noexcept {
  static const bool yes = __builtin_cpu_supports("pclmul") != 0;
  return yes;
}

#endif

}  // namespace

std::uint32_t crc32_portable(std::string_view data) noexcept {
  return update_portable(0xFFFFFFFFU, data.data(), data.size()) ^ 0xFFFFFFFFU;
}

bool crc32_is_accelerated() noexcept {
#ifdef WEBSESSION_CRC32_CLMUL
  return have_clmul();
#else
  return false;
#endif
}

std::uint32_t crc32(std::string_view data) noexcept {
#ifdef WEBSESSION_CRC32_CLMUL
  if (data.size() >= 64 && have_clmul()) {
    const std::size_t bulk = data.size() & ~std::size_t{15};
    const std::uint32_t c = update_clmul(0xFFFFFFFFU, data.data(), bulk);
    return update_portable(c, data.data() + bulk, data.size() - bulk) ^ 0xFFFFFFFFU;
  }
#endif
  return crc32_portable(data);
}

}  // namespace websession::dynamodb::detail
