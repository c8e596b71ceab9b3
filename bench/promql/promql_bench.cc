// PromQL engine benchmarks: the reference query (rate summed by a
// label over 10 000 series x 1 h at a 15 s step) and the seed dashboard's
// panels, evaluated in-process against MemoryStorage.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>

#include "promql/engine.h"
#include "tests/support/memory_storage.h"

namespace vigil::promql {
namespace {

constexpr int64_t kStart = 1'600'000'000'000;
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kScrape = 15'000;

// 10 000 `bench_requests_total` counters (100 jobs x 100 instances) plus a
// small copy of the inventory app's and node-exporter's metrics.
storage::MemoryStorage& Data() {
  static const std::unique_ptr<storage::MemoryStorage> db = [] {
    auto s = std::make_unique<storage::MemoryStorage>();
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> inc(0, 10);
    auto add_counter = [&](const Labels& l) {
      double v = 0;
      for (int64_t t = kStart - 10 * 60'000; t <= kStart + kHour; t += kScrape) {
        v += inc(rng);
        (void)s->AddSample(l, t, v);
      }
    };
    for (int job = 0; job < 100; ++job) {
      for (int inst = 0; inst < 100; ++inst) {
        add_counter(Labels{{"__name__", "bench_requests_total"},
                           {"job", "job" + std::to_string(job)},
                           {"instance", "host" + std::to_string(inst)}});
      }
    }
    for (const char* endpoint : {"/api/items", "/api/items/:id", "/metrics", "/health"}) {
      for (const char* status : {"200", "404", "500"}) {
        add_counter(Labels{{"__name__", "inventory_requests_total"}, {"endpoint", endpoint},
                           {"method", "GET"}, {"status", status}});
      }
    }
    for (const char* le : {"0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "+Inf"}) {
      add_counter(Labels{{"__name__", "inventory_request_duration_seconds_bucket"}, {"le", le}});
    }
    for (const char* name : {"inventory_cache_hits_total", "inventory_cache_misses_total",
                             "inventory_db_errors_total", "inventory_items_total",
                             "node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes"}) {
      add_counter(Labels{{"__name__", name}});
    }
    for (int cpu = 0; cpu < 8; ++cpu) {
      for (const char* mode : {"idle", "user", "system"}) {
        add_counter(Labels{{"__name__", "node_cpu_seconds_total"}, {"cpu", std::to_string(cpu)},
                           {"mode", mode}});
      }
    }
    return s;
  }();
  return *db;
}

void RangeQuery(benchmark::State& state, const std::string& query, int64_t step) {
  Engine engine(EngineOptions{});
  storage::MemoryStorage& db = Data();
  for (auto _ : state) {
    auto r = engine.RangeQuery(db, query, kStart, kStart + kHour, step);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(r->value.matrix.size());
  }
}

void BM_RateSumBy_10kSeries_1h_15s(benchmark::State& state) {
  RangeQuery(state, "sum by (job) (rate(bench_requests_total[5m]))", kScrape);
}
BENCHMARK(BM_RateSumBy_10kSeries_1h_15s)->Unit(benchmark::kMillisecond);

// The harness's "series per metric" shape: a selector matching every series,
// counted by name (range-evaluates the selector, then the aggregation).
void BM_CountByName_10kSeries_1h_15s(benchmark::State& state) {
  RangeQuery(state, "count by (__name__) ({__name__=~\".+\"})", kScrape);
}
BENCHMARK(BM_CountByName_10kSeries_1h_15s)->Unit(benchmark::kMillisecond);

void BM_Dashboard(benchmark::State& state, const char* query) { RangeQuery(state, query, kScrape); }
BENCHMARK_CAPTURE(BM_Dashboard, RequestRate, "sum by (endpoint)(rate(inventory_requests_total[5m]))")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dashboard, LatencyP95,
                  "histogram_quantile(0.95, sum by (le)(rate(inventory_request_duration_seconds_bucket[5m])))")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dashboard, ErrorRatio,
                  "sum(rate(inventory_requests_total{status=~\"4..|5..\"}[5m])) / "
                  "sum(rate(inventory_requests_total[5m])) * 100")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dashboard, CacheHits, "rate(inventory_cache_hits_total[5m])")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dashboard, Cpu,
                  "100 - avg(rate(node_cpu_seconds_total{mode=\"idle\"}[5m]))*100")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dashboard, Memory, "node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dashboard, Items, "inventory_items_total")->Unit(benchmark::kMillisecond);

void BM_Parse(benchmark::State& state) {
  for (auto _ : state) {
    auto r = FormatQuery(
        "histogram_quantile(0.95, sum by (le)(rate(inventory_request_duration_seconds_bucket[5m])))");
    benchmark::DoNotOptimize(r.ok());
  }
}
BENCHMARK(BM_Parse);

}  // namespace
}  // namespace vigil::promql

BENCHMARK_MAIN();
