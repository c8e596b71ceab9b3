// bench_target: a synthetic scrape target for the side-by-side benchmarks.
//
// Serve mode: `--targets T` HTTP servers on consecutive loopback ports from
// `--base-port`, each exposing `--series-per-target` series at /metrics, plus a
// control server on `--control-port`:
//   GET /churn/start  starts churn now (a slice of series replaced every period)
//   GET /stats        renders, scrapes and bytes served so far
// Dataset mode: `--openmetrics-out FILE --start-ms A --end-ms B` writes the same
// population as OpenMetrics history and exits.
#include <httplib.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/target/exposition_cache.h"
#include "bench/target/openmetrics_dataset.h"

namespace vigil::bench {
namespace {

struct Flags {
  ModelOptions model;
  int targets = 10;
  int base_port = 21000;
  int control_port = 0;  // 0 = no control server
  std::string host = "127.0.0.1";
  int64_t step_ms = 15000;
  int64_t churn_period_ms = 600000;
  int threads_per_target = 2;
  std::string openmetrics_out;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

constexpr std::string_view kUsage =
    "usage: bench_target [--targets=N] [--series-per-target=N] [--base-port=P]\n"
    "  [--control-port=P] [--host=127.0.0.1] [--seed=N] [--step-ms=MS]\n"
    "  [--churn-fraction=F] [--churn-period-ms=MS] [--threads-per-target=N]\n"
    "  [--model=inventory|kube]\n"
    "  [--openmetrics-out=FILE --start-ms=MS --end-ms=MS]\n";

template <typename T>
bool ParseNumber(std::string_view text, T& out) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

bool ParseShape(std::string_view text, ModelShape& out) {
  if (text == "inventory") {
    out = ModelShape::kInventory;
  } else if (text == "kube") {
    out = ModelShape::kKube;
  } else {
    return false;
  }
  return true;
}

// Parses --name=value flags; returns nullopt (after printing why) on any error.
std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const size_t eq = arg.find('=');
    if (!arg.starts_with("--") || eq == std::string_view::npos) {
      std::fprintf(stderr, "bad argument %s\n%s", argv[i], kUsage.data());
      return std::nullopt;
    }
    const std::string_view name = arg.substr(2, eq - 2);
    const std::string_view value = arg.substr(eq + 1);
    bool ok = true;
    if (name == "targets")
      ok = ParseNumber(value, f.targets);
    else if (name == "series-per-target")
      ok = ParseNumber(value, f.model.series_per_target);
    else if (name == "base-port")
      ok = ParseNumber(value, f.base_port);
    else if (name == "control-port")
      ok = ParseNumber(value, f.control_port);
    else if (name == "host")
      f.host = std::string(value);
    else if (name == "seed")
      ok = ParseNumber(value, f.model.seed);
    else if (name == "step-ms")
      ok = ParseNumber(value, f.step_ms) && f.step_ms > 0;
    else if (name == "churn-fraction")
      ok = ParseNumber(value, f.model.churn_fraction);
    else if (name == "churn-period-ms")
      ok = ParseNumber(value, f.churn_period_ms) && f.churn_period_ms > 0;
    else if (name == "model")
      ok = ParseShape(value, f.model.shape);
    else if (name == "threads-per-target")
      ok = ParseNumber(value, f.threads_per_target);
    else if (name == "openmetrics-out")
      f.openmetrics_out = std::string(value);
    else if (name == "start-ms")
      ok = ParseNumber(value, f.start_ms);
    else if (name == "end-ms")
      ok = ParseNumber(value, f.end_ms);
    else
      ok = false;
    if (!ok) {
      std::fprintf(stderr, "bad flag %s\n%s", argv[i], kUsage.data());
      return std::nullopt;
    }
  }
  return f;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

// Churn starts when the harness asks for it, so steady and churn phases can
// share one target process (and one pair of servers).
class ChurnSchedule {
 public:
  explicit ChurnSchedule(int64_t period_ms) : period_ms_(period_ms) {}
  void Start(int64_t now_ms) { start_ms_.store(now_ms); }
  int64_t PeriodAt(int64_t now_ms) const {
    const int64_t start = start_ms_.load();
    return start < 0 || now_ms < start ? 0 : (now_ms - start) / period_ms_;
  }

 private:
  const int64_t period_ms_;
  std::atomic<int64_t> start_ms_{-1};
};

struct ServeCounters {
  std::atomic<int64_t> scrapes{0};
  std::atomic<int64_t> bytes{0};
};

// One HTTP server per target port, each with a small thread pool.
class TargetServers {
 public:
  TargetServers(const Flags& flags, const ChurnSchedule& churn, ServeCounters& counters)
      : flags_(flags), churn_(churn), counters_(counters) {}

  bool Start() {
    for (int t = 0; t < flags_.targets; ++t) {
      auto exposition = std::make_unique<TargetExposition>(flags_.model, t, flags_.step_ms);
      auto server = std::make_unique<httplib::Server>();
      const int threads = flags_.threads_per_target;
      // httplib's hook wants an owning raw pointer (the server deletes it).
      server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
      TargetExposition* exp = exposition.get();
      server->Get("/metrics", [this, exp](const httplib::Request& req, httplib::Response& res) {
        Serve(*exp, req, res);
      });
      if (!server->bind_to_port(flags_.host.c_str(), flags_.base_port + t)) {
        std::fprintf(stderr, "cannot bind %s:%d\n", flags_.host.c_str(), flags_.base_port + t);
        return false;
      }
      expositions_.push_back(std::move(exposition));
      servers_.push_back(std::move(server));
    }
    for (auto& server : servers_) {
      threads_.emplace_back([s = server.get()] { s->listen_after_bind(); });
    }
    return true;
  }

  void Stop() {
    for (auto& server : servers_) server->stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }

  int64_t Renders() const {
    int64_t total = 0;
    for (const auto& e : expositions_) total += e->renders();
    return total;
  }

 private:
  void Serve(TargetExposition& exp, const httplib::Request& req, httplib::Response& res) {
    const int64_t now = NowMs();
    const std::shared_ptr<const RenderedBody> body = exp.Get(now, churn_.PeriodAt(now));
    const bool gzip = req.get_header_value("Accept-Encoding").find("gzip") != std::string::npos;
    const std::string& bytes = gzip ? body->gzip : body->text;
    // The body is a shared, pre-rendered buffer: hand httplib a view of it
    // instead of copying megabytes per scrape. A non-text content type keeps
    // httplib from compressing it a second time; Prometheus picks its text
    // parser for anything that is not OpenMetrics.
    if (gzip) res.set_header("Content-Encoding", "gzip");
    res.set_content_provider(bytes.size(), "application/octet-stream; version=0.0.4",
                             [body, &bytes](size_t offset, size_t length, httplib::DataSink& sink) {
                               return sink.write(bytes.data() + offset, length);
                             });
    counters_.scrapes.fetch_add(1);
    counters_.bytes.fetch_add(static_cast<int64_t>(bytes.size()));
  }

  const Flags& flags_;
  const ChurnSchedule& churn_;
  ServeCounters& counters_;
  std::vector<std::unique_ptr<TargetExposition>> expositions_;
  std::vector<std::unique_ptr<httplib::Server>> servers_;
  std::vector<std::thread> threads_;
};

int Serve(const Flags& flags) {
  ChurnSchedule churn(flags.churn_period_ms);
  ServeCounters counters;
  TargetServers targets(flags, churn, counters);
  if (!targets.Start()) return 1;

  httplib::Server control;
  control.Get("/churn/start", [&](const httplib::Request&, httplib::Response& res) {
    churn.Start(NowMs());
    res.set_content("churn started\n", "text/plain");
  });
  control.Get("/stats", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content("renders " + std::to_string(targets.Renders()) + "\nscrapes " +
                        std::to_string(counters.scrapes.load()) + "\nbytes " +
                        std::to_string(counters.bytes.load()) + "\nchurn_period " +
                        std::to_string(churn.PeriodAt(NowMs())) + "\n",
                    "text/plain");
  });
  std::thread control_thread;
  if (flags.control_port > 0) {
    if (!control.bind_to_port(flags.host.c_str(), flags.control_port)) {
      std::fprintf(stderr, "cannot bind control port %d\n", flags.control_port);
      targets.Stop();
      return 1;
    }
    control_thread = std::thread([&] { control.listen_after_bind(); });
  }
  std::fprintf(stderr, "bench_target: %d targets x %d series on %s:%d..%d\n", flags.targets,
               flags.model.series_per_target, flags.host.c_str(), flags.base_port,
               flags.base_port + flags.targets - 1);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  control.stop();
  if (control_thread.joinable()) control_thread.join();
  targets.Stop();
  return 0;
}

int WriteDataset(const Flags& flags) {
  DatasetOptions options;
  options.model = flags.model;
  options.targets = flags.targets;
  options.start_ms = flags.start_ms;
  options.end_ms = flags.end_ms;
  options.step_ms = flags.step_ms;
  if (options.end_ms <= options.start_ms) {
    std::fprintf(stderr, "--end-ms must be after --start-ms\n");
    return 1;
  }
  const int64_t samples = WriteOpenMetricsDataset(options, flags.openmetrics_out);
  if (samples < 0) return 1;
  std::printf("%lld\n", static_cast<long long>(samples));
  return 0;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  const std::optional<vigil::bench::Flags> flags = vigil::bench::ParseFlags(argc, argv);
  if (!flags) return 2;
  if (!flags->openmetrics_out.empty()) return vigil::bench::WriteDataset(*flags);
  return vigil::bench::Serve(*flags);
}
