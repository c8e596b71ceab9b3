#include "base/sample.h"

#include <bit>

namespace vigil {

double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }
bool IsStaleNaN(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }

}  // namespace vigil
