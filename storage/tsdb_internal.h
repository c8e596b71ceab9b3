// Pieces shared by the files that implement Tsdb (tsdb*.cc, write_health.cc):
// column family indices, RocksDB status conversion and write options, the
// querier's view of the store. Not a public header.
#pragma once

#include <rocksdb/options.h>
#include <rocksdb/status.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "storage/head.h"
#include "storage/partition_set.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

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

// What a querier reads of the store (Tsdb::ReadView, tsdb_querier.cc): the
// head, RocksDB's series, postings and chunk column families, the partitions
// on disk and the time bounds that decide whether the head answers a range.
// Pointers into the Tsdb, which outlives its queriers.
struct TsdbReadView {
  const Head* head;
  rocksdb::DB* db;
  rocksdb::ColumnFamilyHandle* series;
  rocksdb::ColumnFamilyHandle* postings;
  rocksdb::ColumnFamilyHandle* chunks;
  int64_t partition_ms;
  const PartitionSet* partitions;
  const std::atomic<int64_t>* head_min_time;  // Tsdb::head_min_time_
  const std::atomic<int64_t>* max_time;       // newest sample in the store
};

// RocksDB's info log into Vigil's log, not a LOG file (tsdb_write_health.cc).
std::shared_ptr<rocksdb::Logger> NewRocksInfoLogger();

}  // namespace vigil::storage
