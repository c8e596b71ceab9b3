// Storage::Open: the RocksDB-backed engine (Tsdb).
#include "storage/tsdb.h"

namespace vigil::storage {

Result<std::unique_ptr<Storage>> Storage::Open(const StorageOptions& options) {
  auto db = Tsdb::Open(options);
  if (!db.ok()) return db.status();
  return std::unique_ptr<Storage>(std::move(db.value()));
}

}  // namespace vigil::storage
