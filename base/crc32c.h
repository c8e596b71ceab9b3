// CRC-32C (Castagnoli), the checksum of WAL records.
#pragma once

#include <cstdint>
#include <string_view>

namespace vigil {

// Uses the CPU's crc32 instruction where it has one (x86-64 with SSE 4.2).
uint32_t Crc32c(std::string_view data);

namespace internal {
// The table-driven path alone, for tests comparing the two.
uint32_t Crc32cPortable(std::string_view data);
}  // namespace internal

}  // namespace vigil
