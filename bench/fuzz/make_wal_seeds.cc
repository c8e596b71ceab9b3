// Writes the seed corpus of wal_record_fuzz: WAL commit payloads made by the
// real encoders, shaped like real scrapes: string-table records (EncodeWalCommit,
// what the TSDB appender writes, "symbol_*") and the full-width records of
// older releases (EncodeWalCommitFullWidth). The corpus's "compact_*" seeds
// are type-2 records, written by this program before type 3 existed; keep them. Built and run by
// hand when the record format changes:
//   c++ -std=c++20 -I. bench/fuzz/make_wal_seeds.cc build/storage/wal/libstorage_wal.a
//   build/base/libbase.a -lre2 -o /tmp/seeds /tmp/seeds tests/storage/fuzz_corpus/wal_record_fuzz
#include <cstdio>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "storage/storage.h"
#include "storage/wal/wal_record.h"

namespace {

using vigil::Labels;
using vigil::storage::EncodeWalCommit;
using vigil::storage::EncodeWalCommitFullWidth;
using vigil::storage::WalSample;
using vigil::storage::WalSeries;

using Encoder = std::string (*)(std::span<const WalSeries>, std::span<const WalSample>);

void Write(const std::string& dir, const std::string& name, const std::string& payload) {
  std::ofstream(dir + "/" + name, std::ios::binary) << payload;
}

// A first scrape of a node-exporter-like target: new series and their samples.
std::string FirstScrape(Encoder encode, int series_count, int64_t t) {
  std::vector<WalSeries> series;
  std::vector<WalSample> samples;
  for (int i = 0; i < series_count; ++i) {
    const auto ref = static_cast<vigil::SeriesRef>(100 + i);
    series.push_back({ref, Labels{{"__name__", "node_cpu_seconds_total"},
                                  {"cpu", std::to_string(i % 4)},
                                  {"instance", "127.0.0.1:9100"},
                                  {"job", "node"},
                                  {"mode", i % 2 ? "user" : "idle"}}});
    samples.push_back({ref, t, 1234.5 + i});
  }
  series.push_back({1, Labels{{"__name__", "up"}, {"instance", "127.0.0.1:9100"}, {"job", "node"}}});
  samples.push_back({1, t, 1});
  return encode(series, samples);
}

// Later scrapes: samples of known series only, including a stale marker.
std::string LaterScrape(Encoder encode, int64_t t) {
  std::vector<WalSample> samples;
  for (int i = 0; i < 8; ++i) samples.push_back({static_cast<uint64_t>(100 + i), t + i, 0.25 * i});
  samples.push_back({1, t, vigil::StaleNaN()});
  samples.push_back({2, t - 15000, -0.0});  // out of order: negative delta
  for (double v : {1e9 + 4096, 12345.67, 0.1 + 0.2, -3.0, 1e300}) samples.push_back({3, t, v});
  return encode({}, samples);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int64_t t = 1700000000000;
  const std::pair<const char*, Encoder> kinds[] = {{"", EncodeWalCommitFullWidth},
                                                   {"symbol_", EncodeWalCommit}};
  for (const auto& [prefix, encode] : kinds) {
    const std::string p = prefix;
    Write(dir, p + "empty_commit.bin", encode({}, {}));
    Write(dir, p + "first_scrape_small.bin", FirstScrape(encode, 2, t));
    Write(dir, p + "first_scrape_node.bin", FirstScrape(encode, 24, t));
    Write(dir, p + "later_scrape.bin", LaterScrape(encode, t + 15000));
    Write(dir, p + "series_only.bin",
          encode(std::vector<WalSeries>{{7, Labels{{"__name__", "a"}, {"le", "+Inf"}}}}, {}));
    const std::vector<WalSample> extremes = {{3, std::numeric_limits<int64_t>::min(), 1e308},
                                             {3, std::numeric_limits<int64_t>::max(), -1e-308}};
    Write(dir, p + "extreme_times.bin", encode({}, extremes));
  }
  return 0;
}
