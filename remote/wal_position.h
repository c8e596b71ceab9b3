// The read position of a remote write queue in the WAL, and the small file
// that keeps it across restarts (<data>/remote_write/<queue>.position).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"

namespace vigil::remote {

// A byte in a WAL segment: commits before it have been read.
struct WalPosition {
  uint32_t segment = 0;
  int64_t offset = 0;

  auto operator<=>(const WalPosition&) const = default;
};

// One queue's position file. Writes go to a temporary file renamed over the
// old one, so a kill -9 leaves either the old or the new position.
class PositionFile {
 public:
  PositionFile() = default;
  explicit PositionFile(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  // The saved position; nullopt when there is none (or it is unreadable).
  std::optional<WalPosition> Load() const;
  [[nodiscard]] Status Save(const WalPosition& position) const;
  void Remove() const;

 private:
  std::string path_;
};

}  // namespace vigil::remote
