// Scrape-path micro-benchmark: ScrapeLoop::ScrapeOnce against a loopback HTTP
// target serving bench_target's synthetic body, appending into a store whose
// appender only hands out refs, so the figure is the scraper's own cost
// (fetch, parse, scrape cache, staleness) and not a storage engine's.
//
//   cmake -S . -B build-bench -DVIGIL_BUILD_BENCH=ON
//   cmake --build build-bench --target scrape_bench -j2
//   build-bench/bench/scrape/scrape_bench
//
// BM_CacheHitBody is the parse and scrape-cache part of it alone, in process.
#include <benchmark/benchmark.h>
#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "bench/target/exposition_cache.h"
#include "bench/target/series_model.h"
#include "config/config.h"
#include "scraper/exposition_parser.h"
#include "scraper/scrape_cache.h"
#include "scraper/scrape_loop.h"
#include "tests/support/memory_storage.h"

namespace vigil::scraper {
namespace {

constexpr int64_t kStepMs = 15'000;
constexpr int kBodies = 4;  // distinct value sets served in turn

// A store whose appender accepts everything and keeps nothing: a new series
// gets the next ref, a known ref is returned as is.
class RefOnlyStorage : public storage::MemoryStorage {
 public:
  std::unique_ptr<storage::Appender> NewAppender() override {
    return std::make_unique<RefOnlyAppender>(&next_ref_);
  }
  SeriesRef series() const { return next_ref_; }  // refs handed out so far

 private:
  class RefOnlyAppender final : public storage::Appender {
   public:
    explicit RefOnlyAppender(SeriesRef* next) : next_(next) {}
    Result<SeriesRef> Append(SeriesRef ref, const Labels&, int64_t, double) override {
      return ref != 0 ? ref : ++*next_;
    }
    Status Commit() override { return Status::OK(); }
    void Rollback() override {}

   private:
    SeriesRef* next_;
  };
  SeriesRef next_ref_ = 0;
};

// A loopback target serving `series` series, a different value set each request.
class BenchTarget {
 public:
  explicit BenchTarget(int series) {
    bench::ModelOptions options;
    options.series_per_target = series;
    const bench::TargetSeries model = bench::BuildTargetSeries(options, 0, 0, "");
    for (int i = 0; i < kBodies; ++i) bodies_.push_back(bench::RenderExposition(model, i, 15));
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      const std::string& body = bodies_[next_++ % bodies_.size()];
      // Not text/*: httplib would gzip it, and the figure is not about zlib.
      res.set_content(body, "application/octet-stream; version=0.0.4");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~BenchTarget() {
    server_.stop();
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  size_t body_bytes() const { return bodies_[0].size(); }

 private:
  std::vector<std::string> bodies_;
  size_t next_ = 0;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

std::unique_ptr<ScrapeLoop> MakeLoop(const std::string& address, storage::Storage* db,
                                     const Clock* clock) {
  auto c = config::LoadConfigString(
      "scrape_configs:\n  - job_name: bench\n    scrape_interval: 15s\n"
      "    scrape_timeout: 10s\n    body_size_limit: 1GB\n",
      "bench.yml");
  if (!c.ok()) std::abort();
  auto scrape_config = std::make_shared<const config::ScrapeConfig>(c->scrape_configs[0]);
  TargetSet set;
  TargetsFromGroup({{address}, {}, "0", {}}, *scrape_config, set);
  if (set.targets.size() != 1) std::abort();
  return std::make_unique<ScrapeLoop>(db, scrape_config, set.targets[0], clock);
}

// Steady state: the same series every scrape, in the same order (the cache's
// best and most common case), values changing.
void BM_ScrapeOnce(benchmark::State& state) {
  const int series = static_cast<int>(state.range(0));
  BenchTarget target(series);
  RefOnlyStorage db;
  ManualClock clock(1'000'000);
  auto loop = MakeLoop(target.address(), &db, &clock);
  int64_t t = 1'000'000;
  loop->ScrapeOnce(t);  // fills the cache
  const SeriesRef series_before = db.series();
  for (auto _ : state) {
    t += kStepMs;
    loop->ScrapeOnce(t);
  }
  if (loop->Status().health != "up") state.SkipWithError(loop->Status().last_error.c_str());
  state.SetItemsProcessed(state.iterations() * series);
  state.counters["body_bytes"] = static_cast<double>(target.body_bytes());
  // 0 when every scrape after the first found all its series in the cache.
  state.counters["new_series_per_scrape"] =
      static_cast<double>(db.series() - series_before) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ScrapeOnce)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond)->MinTime(3);

// The scrape loop's per-line work on a steady body without fetch or storage:
// parse each line and find its series in a warm scrape cache (every line a
// hit, in cached order). Arg 1 reads lines with Next() (labels parsed on every
// line, as before the lazy label check), 0 with NextSeries() (labels parsed on
// a cache miss only, as ScrapeLoop does).
void BM_CacheHitBody(benchmark::State& state) {
  const int series = static_cast<int>(state.range(0));
  const bool full = state.range(1) != 0;
  bench::ModelOptions options;
  options.series_per_target = series;
  const bench::TargetSeries model = bench::BuildTargetSeries(options, 0, 0, "");
  std::vector<std::string> bodies;
  for (int i = 0; i < kBodies; ++i) bodies.push_back(bench::RenderExposition(model, i, 15));
  ScrapeCache cache;
  double sum = 0;
  size_t next = 0;
  int64_t lines = 0;
  auto scrape = [&] {
    cache.BeginScrape();
    ExpositionParser parser(bodies[next++ % bodies.size()], ExpositionFormat::kPrometheusText);
    while (true) {
      auto more = full ? parser.Next() : parser.NextSeries(cache.Guess());
      if (!more.ok()) std::abort();
      if (!*more) break;
      ScrapeCache::Entry* e = cache.Find(parser.series());
      if (!e) {
        if (!parser.CheckLabels().ok()) std::abort();
        e = cache.Add(parser.series(), parser.labels()->Hash());
      }
      cache.Hold(*e);
      sum += parser.value();
      ++lines;
    }
    cache.EndScrape(true, [](std::string_view, ScrapeCache::Entry&) {});
  };
  scrape();  // fills the cache
  lines = 0;
  for (auto _ : state) scrape();
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(lines);
  state.counters["cached_series"] = static_cast<double>(cache.size());
}
BENCHMARK(BM_CacheHitBody)
    ->ArgNames({"series", "full"})
    ->Args({10'000, 0})
    ->Args({10'000, 1})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vigil::scraper

BENCHMARK_MAIN();
