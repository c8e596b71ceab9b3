// DataDirLock: an exclusive flock() on <data dir>/LOCK, so two processes (or
// two Storage objects) never write the same directory.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"

namespace vigil::storage {

class DataDirLock {
 public:
  // Fails with a message naming the lock file when someone else holds it.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace vigil::storage
