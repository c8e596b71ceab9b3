// Foundation placeholder: Storage::Open returns the in-memory store until the
// RocksDB-backed engine (the Storage issue) replaces this file.
#include "storage/memory_storage.h"

namespace vigil::storage {

Result<std::unique_ptr<Storage>> Storage::Open(const StorageOptions& options) {
  return std::unique_ptr<Storage>(std::make_unique<MemoryStorage>(options.clock));
}

}  // namespace vigil::storage
