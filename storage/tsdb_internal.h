// Pieces shared by the files that implement Tsdb (tsdb*.cc, retention.cc):
// column family indices and RocksDB status conversion. Not a public header.
#pragma once

#include <rocksdb/options.h>
#include <rocksdb/status.h>

#include <memory>
#include <string>

#include "base/status.h"

namespace vigil::storage {

// Position of each column family in Tsdb::cfs_ (the order they are opened).
enum CfIndex : int { kCfDefault = 0, kCfSeries, kCfPostings, kCfChunks, kCfMeta, kCfHead, kNumCfs };

// Converts a RocksDB status, prefixing what we were doing.
Status FromRocks(const rocksdb::Status& s, const std::string& what);

// Options of every RocksDB write of a running store. RocksDB's own WAL stays
// on (not synced): with it off, a chunk the flusher had written only to a
// memtable was lost by a kill -9 in Crash.KillDuringAppends (one chunk of
// every series, 1 run in ~10), although checkpoints flush the memtables
// before deleting Vigil WAL segments; the cause is not yet understood, so
// the safer setting stays until it is. Writes stop while writes are blocked
// (tsdb_write_health.cc), so nothing goes through a writer that failed.
inline rocksdb::WriteOptions StoreWrite() {
  rocksdb::WriteOptions o;
  o.disableWAL = false;
  return o;
}

// RocksDB's info log into Vigil's log, not a LOG file (tsdb_write_health.cc).
std::shared_ptr<rocksdb::Logger> NewRocksInfoLogger();

}  // namespace vigil::storage
