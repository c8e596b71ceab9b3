// Pieces shared by the files that implement Tsdb (tsdb*.cc, retention.cc):
// column family indices and RocksDB status conversion. Not a public header.
#pragma once

#include <rocksdb/status.h>

#include <string>

#include "storage/status.h"

namespace vigil::storage {

// Position of each column family in Tsdb::cfs_ (the order they are opened).
enum CfIndex : int { kCfDefault = 0, kCfSeries, kCfPostings, kCfChunks, kCfMeta, kCfHead, kNumCfs };

// Converts a RocksDB status, prefixing what we were doing.
Status FromRocks(const rocksdb::Status& s, const std::string& what);

}  // namespace vigil::storage
