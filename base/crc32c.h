// CRC-32C (Castagnoli), the checksum of WAL records.
#pragma once

#include <cstdint>
#include <string_view>

namespace vigil {

uint32_t Crc32c(std::string_view data);

}  // namespace vigil
