// CRC-32 (the zlib / IEEE 802.3 polynomial), for DynamoDB's x-amz-crc32 response header. Our own
// table-driven implementation, so the client needs no zlib.
#pragma once

#include <cstdint>
#include <string_view>

namespace websession::dynamodb::detail {

/// CRC-32 of `data`, as zlib's crc32(0, data, size).
[[nodiscard]] std::uint32_t crc32(std::string_view data) noexcept;

}  // namespace websession::dynamodb::detail
