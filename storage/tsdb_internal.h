// Pieces shared by the files that implement Tsdb (tsdb*.cc, retention.cc):
// column family indices and RocksDB status conversion. Not a public header.
#pragma once

#include <rocksdb/options.h>
#include <rocksdb/status.h>

#include <memory>
#include <string>

#include "storage/status.h"

namespace vigil::storage {

// Position of each column family in Tsdb::cfs_ (the order they are opened).
enum CfIndex : int { kCfDefault = 0, kCfSeries, kCfPostings, kCfChunks, kCfMeta, kCfHead, kNumCfs };

// Converts a RocksDB status, prefixing what we were doing.
Status FromRocks(const rocksdb::Status& s, const std::string& what);

// Options of every RocksDB write of a running store. RocksDB's own WAL is
// off: the Vigil WAL holds every sample until a checkpoint has flushed the
// memtables (atomic_flush keeps the column families consistent), and no
// write can go through a RocksDB WAL writer that already failed (RocksDB
// 7.8 aborts on an assertion when it does, e.g. after ENOSPC).
inline rocksdb::WriteOptions StoreWrite() {
  rocksdb::WriteOptions o;
  o.disableWAL = true;
  return o;
}

// RocksDB's info log into Vigil's log, not a LOG file (tsdb_write_health.cc).
std::shared_ptr<rocksdb::Logger> NewRocksInfoLogger();

class Tsdb;
// RocksDB background errors -> Tsdb::BlockWrites (tsdb_write_health.cc).
std::shared_ptr<rocksdb::EventListener> NewRocksErrorListener(Tsdb* db);

}  // namespace vigil::storage
