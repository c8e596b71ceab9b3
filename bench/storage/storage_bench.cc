// Storage micro-benchmarks. Results and the exact command: BENCHMARKS.md,
// section "Storage micro-benchmarks".
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <string>

#include "base/logger.h"
#include "storage/chunkenc/stored_chunk.h"
#include "storage/chunkenc/xor_chunk.h"
#include "storage/tsdb.h"
#include "storage/wal/wal_record.h"

namespace vigil::storage {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;
constexpr int64_t kScrapeMs = 15'000;

class BenchDir {
 public:
  BenchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vigil-bench-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<Tsdb> OpenBenchDb(const std::string& path, const TsdbTuning& tuning = {}) {
  ConfigureLogging(LogLevel::kWarn, LogFormat::kLogfmt);
  StorageOptions o;
  o.path = path;
  o.wal_sync = WalSyncPolicy::kPeriodic;  // the documented default
  auto db = Tsdb::Open(o, tuning);
  if (!db.ok()) std::abort();
  return std::move(db.value());
}

// node-exporter-like label sets: 5 labels, a handful of metric names.
Labels NodeSeries(int i) {
  static const char* kMetrics[] = {"node_cpu_seconds_total", "node_memory_MemFree_bytes",
                                   "node_network_receive_bytes_total", "node_disk_io_time_seconds_total",
                                   "node_filesystem_avail_bytes"};
  static const char* kModes[] = {"idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice"};
  return Labels{{"__name__", kMetrics[i % 5]},
                {"cpu", std::to_string((i / 5) % 8)},
                {"instance", "host-" + std::to_string(i / 320) + ":9100"},
                {"job", "node"},
                {"mode", kModes[(i / 40) % 8]}};
}

// A sample value as node-exporter would produce it for series `i` at scrape
// `k`. The mix follows a real node-exporter page: most series are constant
// (info, sizes, limits, unused devices) or rarely-moving counters (errors,
// drops); the rest are CPU-seconds counters, byte counters and gauges.
double NodeValue(int i, int k, std::mt19937_64& rng) {
  switch (i % 20) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:  // 40% constant
      return 1.0e9 + (i % 7) * 4096.0;
    case 8: case 9: case 10: case 11:  // 20% counters that rarely move
      return std::floor(k / (30.0 + i % 50));
    case 12: case 13: case 14:  // 15% CPU seconds, 2 decimals
      return std::round((k * 14.7 + static_cast<double>(rng() % 100) / 100.0) * 100) / 100;
    case 15: case 16: case 17:  // 15% byte counters
      return static_cast<double>(k) * 125'000.0 + static_cast<double>(rng() % 50'000);
    default:  // 10% gauges in 4 KiB pages
      return 8.0e9 + static_cast<double>((rng() % 2000) * 4096);
  }
}

// Scrape timestamps: the schedule plus 0-2 ms of wake-up jitter.
int64_t ScrapeTime(int k, std::mt19937_64& rng) {
  return kStart + k * kScrapeMs + static_cast<int64_t>(rng() % 3);
}

// CPU seconds of the whole process (all threads: the flusher and RocksDB's
// background work included), unlike the benchmark's own per-thread CPU time.
double ProcessCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long RssBytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, rss = 0;
  statm >> pages >> rss;
  return rss * ::sysconf(_SC_PAGESIZE);
}

// Scrapes [first, last) of every series in `labels`, in commits of 1000
// series (one commit per batch, like one scrape of a target).
void AppendScrapes(Tsdb& db, const std::vector<Labels>& labels, int first, int last, uint64_t seed) {
  const int n = static_cast<int>(labels.size());
  std::vector<SeriesRef> refs(n, 0);
  std::mt19937_64 rng(seed);
  for (int k = first; k < last; ++k) {
    for (int base = 0; base < n; base += 1000) {
      auto app = db.NewAppender();
      for (int i = base; i < std::min(n, base + 1000); ++i) {
        refs[i] = *app->Append(refs[i], labels[i], kStart + k * kScrapeMs, NodeValue(i, k, rng));
      }
      if (!app->Commit().ok()) std::abort();
    }
  }
}

std::vector<Labels> NodeSeriesSet(int n) {
  std::vector<Labels> labels;
  labels.reserve(n);
  for (int i = 0; i < n; ++i) labels.push_back(NodeSeries(i));
  return labels;
}

// Appends batches of 1000 series (one commit per batch, like one scrape).
void BM_AppendThroughput(benchmark::State& state) {
  BenchDir dir;
  auto db = OpenBenchDb(dir.path());
  constexpr int kBatch = 1000;
  std::vector<Labels> labels;
  for (int i = 0; i < kBatch; ++i) labels.push_back(NodeSeries(i));
  std::vector<SeriesRef> refs(kBatch, 0);
  std::mt19937_64 rng(1);
  int k = 0;
  const double cpu_before = ProcessCpuSeconds();
  for (auto _ : state) {
    auto app = db->NewAppender();
    const int64_t t = kStart + k * kScrapeMs;
    for (int i = 0; i < kBatch; ++i) {
      auto ref = app->Append(refs[i], labels[i], t, NodeValue(i, k, rng));
      refs[i] = *ref;
    }
    if (!app->Commit().ok()) std::abort();
    ++k;
  }
  const double cpu = ProcessCpuSeconds() - cpu_before;
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["samples_per_process_cpu_s"] = static_cast<double>(state.iterations() * kBatch) / cpu;
}
BENCHMARK(BM_AppendThroughput)->Unit(benchmark::kMillisecond)->MinTime(3);

// The kinds of series NodeValue produces, for per-kind figures.
constexpr const char* kKinds[] = {"constant", "rare_counter", "cpu_seconds", "byte_counter", "gauge"};
int KindOf(int i) {
  const int m = i % 20;
  return m < 8 ? 0 : m < 12 ? 1 : m < 15 ? 2 : m < 18 ? 3 : 4;
}

// Chunk bytes per sample on node-exporter-like data (before RocksDB
// compression), overall and per kind of series (see NodeValue).
void BM_BytesPerSample(benchmark::State& state) {
  std::mt19937_64 rng(2);
  double bytes[5] = {}, samples[5] = {};
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i) {
      XorChunkEncoder enc;
      for (int k = 0; k < kMaxChunkSamples; ++k) enc.Append(ScrapeTime(k, rng), NodeValue(i, k, rng));
      bytes[KindOf(i)] += static_cast<double>(enc.bytes().size());
      samples[KindOf(i)] += kMaxChunkSamples;
    }
  }
  double all_bytes = 0, all_samples = 0;
  for (int k = 0; k < 5; ++k) {
    state.counters[std::string("B/sample_") + kKinds[k]] = bytes[k] / samples[k];
    all_bytes += bytes[k];
    all_samples += samples[k];
  }
  state.counters["bytes/sample"] = all_bytes / all_samples;
}
BENCHMARK(BM_BytesPerSample)->Unit(benchmark::kMillisecond)->Iterations(3);

// An HTTP latency histogram's series at scrape `k`: 10 cumulative buckets,
// _sum (seconds, a sum of float latencies) and _count, per `i`.
double HistogramValue(int i, int k, std::mt19937_64& rng) {
  const int64_t count = int64_t{k} * (50 + i % 13 * 40);
  const int slot = i % 12;
  if (slot < 10)
    return static_cast<double>(count * (slot + 1) / 10 -
                               static_cast<int64_t>(rng() % 3) * (slot < 9));
  if (slot == 10)
    return static_cast<double>(count) * 0.0421 + static_cast<double>(rng() % 1000) * 1e-4;
  return static_cast<double>(count);
}

// WAL bytes per sample of later scrapes (series records excluded): commits
// of 1000 series sharing one timestamp, as one scrape of a target commits.
void BM_WalBytesPerSample(benchmark::State& state) {
  std::mt19937_64 rng(4);
  double node_bytes = 0, hist_bytes = 0, samples = 0;
  for (auto _ : state) {
    for (int k = 1; k <= 50; ++k) {
      std::vector<WalSample> node, hist;
      for (int i = 0; i < 1000; ++i) {
        node.push_back(
            {static_cast<SeriesRef>(i + 1), kStart + k * kScrapeMs, NodeValue(i, k, rng)});
        hist.push_back(
            {static_cast<SeriesRef>(i + 5001), kStart + k * kScrapeMs, HistogramValue(i, k, rng)});
      }
      node_bytes += static_cast<double>(EncodeWalCommit({}, node).size());
      hist_bytes += static_cast<double>(EncodeWalCommit({}, hist).size());
      samples += 1000;
    }
  }
  state.counters["B/sample_node"] = node_bytes / samples;
  state.counters["B/sample_histogram"] = hist_bytes / samples;
}
BENCHMARK(BM_WalBytesPerSample)->Unit(benchmark::kMillisecond)->Iterations(3);

// Decoding throughput of full chunks.
void BM_DecodeThroughput(benchmark::State& state) {
  std::mt19937_64 rng(3);
  std::vector<std::string> chunks;
  for (int i = 0; i < 1000; ++i) {
    XorChunkEncoder enc;
    for (int k = 0; k < kMaxChunkSamples; ++k) enc.Append(kStart + k * kScrapeMs, NodeValue(i, k, rng));
    chunks.push_back(enc.bytes());
  }
  int64_t n = 0;
  for (auto _ : state) {
    for (const auto& c : chunks) {
      XorChunkDecoder d(c);
      while (d.Next()) {
        benchmark::DoNotOptimize(d.At());
        ++n;
      }
    }
  }
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeThroughput)->Unit(benchmark::kMillisecond);

// Chunks as stored on disk (CompactChunk: packed where smaller than XOR):
// bytes per sample overall and per kind, and the decoding throughput of the
// stored form (what queries over flushed data pay).
void BM_StoredChunks(benchmark::State& state) {
  std::mt19937_64 rng(2);
  std::vector<std::string> chunks;
  double bytes[std::size(kKinds)] = {}, samples[std::size(kKinds)] = {};
  for (int i = 0; i < 1000; ++i) {
    XorChunkEncoder enc;
    for (int k = 0; k < kMaxChunkSamples; ++k) enc.Append(ScrapeTime(k, rng), NodeValue(i, k, rng));
    chunks.push_back(CompactChunk(enc.bytes()));
    bytes[KindOf(i)] += static_cast<double>(chunks.back().size());
    samples[KindOf(i)] += kMaxChunkSamples;
  }
  int64_t n = 0;
  for (auto _ : state) {
    for (const auto& c : chunks) {
      ChunkDecoder d(c);
      while (d.Next()) {
        benchmark::DoNotOptimize(d.At());
        ++n;
      }
    }
  }
  for (size_t k = 0; k < std::size(kKinds); ++k) {
    state.counters[std::string("B/sample_") + kKinds[k]] = bytes[k] / samples[k];
  }
  state.counters["bytes/sample"] = std::accumulate(std::begin(bytes), std::end(bytes), 0.0) /
                                   std::accumulate(std::begin(samples), std::end(samples), 0.0);
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StoredChunks)->Unit(benchmark::kMillisecond);

// Appends one sample to each of N head series by ref only (the scrape
// cache's path: no labels), in commits of 10 000 (one target's scrape).
// Measures the per-sample head cost (ref lookup, ordering check, append)
// once the series no longer fit in the CPU caches.
void BM_AppendByRef(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  constexpr int kBatch = 10'000;
  BenchDir dir;
  auto db = OpenBenchDb(dir.path());
  const std::vector<Labels> labels = NodeSeriesSet(n);
  std::vector<SeriesRef> refs(n, 0);
  for (int i = 0; i < n; i += kBatch) {
    auto app = db->NewAppender();
    for (int j = i; j < std::min(n, i + kBatch); ++j) refs[j] = *app->Append(0, labels[j], kStart, 1.0);
    if (!app->Commit().ok()) std::abort();
  }
  const Labels none;
  int k = 1;
  for (auto _ : state) {
    const int64_t t = kStart + k * kScrapeMs;
    for (int i = 0; i < n; i += kBatch) {
      auto app = db->NewAppender();
      for (int j = i; j < std::min(n, i + kBatch); ++j) {
        if (!app->Append(refs[j], none, t, static_cast<double>(k + j % 7)).ok()) std::abort();
      }
      if (!app->Commit().ok()) std::abort();
    }
    ++k;
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_AppendByRef)->Arg(1'000'000)->MinTime(5)->Unit(benchmark::kMillisecond);

// Resident memory per active series: N series with a few samples each.
void BM_MemoryPerSeries(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  double per_series = 0;
  for (auto _ : state) {
    BenchDir dir;
    auto db = OpenBenchDb(dir.path());
    const std::vector<Labels> labels = NodeSeriesSet(n);
    const long before = RssBytes();
    AppendScrapes(*db, labels, 0, 4, 4);
    per_series = static_cast<double>(RssBytes() - before) / n;
    state.PauseTiming();
    db.reset();
    state.ResumeTiming();
  }
  state.counters["bytes/series"] = per_series;
}
BENCHMARK(BM_MemoryPerSeries)->Arg(100'000)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kSecond);

// Restart after kill -9: a child process appends `scrapes` scrapes of N
// series and exits without closing the store; each iteration opens a fresh
// copy of that directory (restart time in the side-by-side harness). With a
// third argument K > 0 the child writes a head checkpoint after K scrapes, so
// Open loads the checkpoint's open chunks and replays only the WAL after it;
// without, Open replays the whole WAL.
void BM_ReopenAfterKill(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int scrapes = static_cast<int>(state.range(1));
  const int checkpoint_after = static_cast<int>(state.range(2));
  BenchDir dir;
  TsdbTuning tuning;
  tuning.checkpoint_wal_bytes = int64_t{1} << 40;  // no checkpoint unless asked for
  const pid_t pid = ::fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    auto db = OpenBenchDb(dir.path(), tuning);
    const auto labels = NodeSeriesSet(n);
    if (checkpoint_after > 0) {
      AppendScrapes(*db, labels, 0, checkpoint_after, 6);
      if (!db->Checkpoint().ok()) std::abort();
    }
    AppendScrapes(*db, labels, checkpoint_after, scrapes, 6);
    ::_exit(0);  // like kill -9: no Close, no closing checkpoint
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) std::abort();
  // Wall and CPU seconds of all threads (replay workers, RocksDB) per open.
  double open_cpu = 0, open_wall = 0;
  for (auto _ : state) {
    state.PauseTiming();
    BenchDir copy;
    std::filesystem::copy(dir.path(), copy.path(), std::filesystem::copy_options::recursive |
                                                       std::filesystem::copy_options::overwrite_existing);
    const double cpu_before = ProcessCpuSeconds();
    const auto wall_before = std::chrono::steady_clock::now();
    state.ResumeTiming();
    auto db = OpenBenchDb(copy.path(), tuning);
    state.PauseTiming();
    open_cpu += ProcessCpuSeconds() - cpu_before;
    open_wall +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
    db.reset();  // the closing checkpoint is not part of a restart
    state.ResumeTiming();
  }
  state.counters["samples"] = static_cast<double>(int64_t{n} * scrapes);
  state.counters["open_wall_s"] = open_wall / static_cast<double>(state.iterations());
  state.counters["open_cpu_s"] = open_cpu / static_cast<double>(state.iterations());
  uintmax_t wal_bytes = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(std::filesystem::path(dir.path()) / "wal")) {
    wal_bytes += e.file_size();
  }
  state.counters["wal_B/sample"] =
      static_cast<double>(wal_bytes) / static_cast<double>(int64_t{n} * scrapes);
}
BENCHMARK(BM_ReopenAfterKill)
    ->Args({100'000, 100, 0})
    ->Args({100'000, 300, 0})
    ->Args({100'000, 300, 240})
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

// A store of `n` node-exporter-like series with `scrapes` samples each (the
// first 120 in a chunk already in RocksDB, the rest in the head), built once
// per process: at 1 M series the setup takes minutes, the Select milliseconds.
Tsdb& SelectStore(int n, int scrapes) {
  struct Store {
    BenchDir dir;
    std::unique_ptr<Tsdb> db;
  };
  static std::map<std::pair<int, int>, std::unique_ptr<Store>> stores;
  auto& store = stores[{n, scrapes}];
  if (!store) {
    store = std::make_unique<Store>();
    store->db = OpenBenchDb(store->dir.path());
    AppendScrapes(*store->db, NodeSeriesSet(n), 0, scrapes, 5);
    if (!store->db->FlushClosedChunks().ok()) std::abort();
  }
  return *store->db;
}

// Select latency of a 5-matcher dashboard-like query over N series: the last
// 15 minutes (60 scrapes), read in full.
void BM_Select5Matchers(benchmark::State& state) {
  const int scrapes = static_cast<int>(state.range(1));
  Tsdb& db = SelectStore(static_cast<int>(state.range(0)), scrapes);
  const LabelMatchers matchers = {
      LabelMatcher::Make(MatchType::kEqual, "__name__", "node_cpu_seconds_total").value(),
      LabelMatcher::Make(MatchType::kEqual, "job", "node").value(),
      LabelMatcher::Make(MatchType::kRegexMatch, "instance", "host-1.*").value(),
      LabelMatcher::Make(MatchType::kNotEqual, "mode", "idle").value(),
      LabelMatcher::Make(MatchType::kRegexMatch, "cpu", "[0-3]").value()};
  size_t series = 0, samples = 0;
  for (auto _ : state) {
    auto q = db.NewQuerier();
    auto list = (*q)->Select(kStart + (scrapes - 60) * kScrapeMs, kStart + scrapes * kScrapeMs, matchers);
    series = list->size();
    samples = 0;
    for (const auto& s : *list) {
      auto it = s->Iterator();
      while (it->Next()) ++samples;
    }
  }
  state.counters["series"] = static_cast<double>(series);
  state.counters["samples"] = static_cast<double>(samples);
}
// {series, scrapes}: 1 h of scrapes at 100 k series; at 1 M series 130
// scrapes still put the queried window across a RocksDB chunk and the head.
BENCHMARK(BM_Select5Matchers)
    ->Args({100'000, 240})
    ->Args({1'000'000, 130})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2);

}  // namespace
}  // namespace vigil::storage

BENCHMARK_MAIN();
