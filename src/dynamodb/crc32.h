// CRC-32 (the zlib / IEEE 802.3 polynomial), for DynamoDB's x-amz-crc32 response header. Our own
// table-driven implementation, so the client needs no zlib.
#pragma once

#include <cstdint>
#include <string_view>

namespace websession::dynamodb::detail {

/// CRC-32 of `data`, as zlib's crc32(0, data, size). Uses carry-less multiplication (PCLMULQDQ)
/// where the CPU has it, for inputs of 64 bytes and more.
[[nodiscard]] std::uint32_t crc32(std::string_view data) noexcept;

/// The same CRC by tables alone (slicing-by-8), on any CPU.
[[nodiscard]] std::uint32_t crc32_portable(std::string_view data) noexcept;

/// Whether crc32() uses carry-less multiplication on this CPU.
[[nodiscard]] bool crc32_is_accelerated() noexcept;

}  // namespace websession::dynamodb::detail
