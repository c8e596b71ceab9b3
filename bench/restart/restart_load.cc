// restart_load: loads "N series with H hours of head data" into a server
// through its remote write receiver, time-ordered as a scrape would have
// written them: timestamps end-H .. end at --step-ms, all series of one
// window of --window-steps steps before the next window, so every sample is
// inside the appendable window of Prometheus's head and Vigil's.
//
// The series are bench_target's kube model (bench/target/series_model.h):
// --series / 10 000 targets (job="restart", instance="target-<i>") of
// node-exporter, kube-state-metrics and HTTP histogram families; values are
// that model's counters and gauges at each step, so two runs with the same
// flags send identical data.
//
//   restart_load --url=http://127.0.0.1:9090/api/v1/write --series=1000000
//     --hours=2 --end-ms=1765000000000
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/target/series_model.h"
#include "remote/remote_protocol.h"

namespace vigil::bench {
namespace {

struct Flags {
  std::string url;
  int64_t series = 10000;
  int series_per_target = 10000;
  double hours = 2;
  int64_t step_ms = 15000;
  int64_t end_ms = 0;  // 0: now, rounded down to the step
  int window_steps = 20;
  int batch_series = 500;
  int threads = 2;
};

constexpr std::string_view kUsage =
    "usage: restart_load --url=http://HOST:PORT/api/v1/write [--series=N]\n"
    "  [--series-per-target=N] [--hours=H] [--step-ms=MS] [--end-ms=MS]\n"
    "  [--window-steps=N] [--batch-series=N] [--threads=N]\n";

template <typename T>
bool ParseNumber(std::string_view text, T& out) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

bool ApplyFlag(Flags& f, std::string_view name, std::string_view value) {
  if (name == "url") {
    f.url = std::string(value);
    return true;
  }
  if (name == "series") return ParseNumber(value, f.series) && f.series > 0;
  if (name == "series-per-target")
    return ParseNumber(value, f.series_per_target) && f.series_per_target > 0;
  if (name == "hours") return ParseNumber(value, f.hours) && f.hours > 0;
  if (name == "step-ms") return ParseNumber(value, f.step_ms) && f.step_ms > 0;
  if (name == "end-ms") return ParseNumber(value, f.end_ms);
  if (name == "window-steps") return ParseNumber(value, f.window_steps) && f.window_steps > 0;
  if (name == "batch-series") return ParseNumber(value, f.batch_series) && f.batch_series > 0;
  if (name == "threads") return ParseNumber(value, f.threads) && f.threads > 0;
  return false;
}

std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const size_t eq = arg.find('=');
    if (!arg.starts_with("--") || eq == std::string_view::npos ||
        !ApplyFlag(f, arg.substr(2, eq - 2), arg.substr(eq + 1))) {
      std::fprintf(stderr, "bad argument %s\n%s", argv[i], kUsage.data());
      return std::nullopt;
    }
  }
  if (f.url.empty()) {
    std::fprintf(stderr, "--url is required\n%s", kUsage.data());
    return std::nullopt;
  }
  return f;
}

// `name{a="x",b="y"} ` (a SeriesSpec prefix) as labels, __name__ first.
std::vector<Label> PrefixLabels(std::string_view prefix) {
  std::vector<Label> out;
  const size_t brace = prefix.find('{');
  out.push_back({"__name__", std::string(prefix.substr(0, std::min(brace, prefix.find(' '))))});
  if (brace == std::string_view::npos) return out;
  size_t i = brace + 1;
  while (i < prefix.size() && prefix[i] != '}') {
    const size_t eq = prefix.find('=', i);
    Label l{std::string(prefix.substr(i, eq - i)), ""};
    for (i = eq + 2; i < prefix.size() && prefix[i] != '"'; ++i) {
      if (prefix[i] == '\\' && i + 1 < prefix.size()) ++i;
      l.value.push_back(prefix[i]);
    }
    out.push_back(std::move(l));
    i += prefix[i + 1] == ',' ? 2 : 1;  // past the closing quote and comma
  }
  return out;
}

struct LoadSeries {
  std::vector<Label> labels;
  SeriesSpec spec;
};

std::vector<LoadSeries> BuildSeries(const Flags& f) {
  ModelOptions model;
  model.shape = ModelShape::kKube;
  model.series_per_target = f.series_per_target;
  std::vector<LoadSeries> out;
  out.reserve(f.series);
  for (int target = 0; static_cast<int64_t>(out.size()) < f.series; ++target) {
    const std::string extra = "instance=\"target-" + std::to_string(target) + "\",job=\"restart\",";
    TargetSeries t = BuildTargetSeries(model, target, 0, extra);
    for (auto& spec : t.series) {
      if (static_cast<int64_t>(out.size()) == f.series) break;
      out.push_back({PrefixLabels(spec.prefix), std::move(spec)});
    }
  }
  return out;
}

// One HTTP client per sending thread; counts what the receiver refused.
class Sender {
 public:
  explicit Sender(const std::string& url) : client_(BaseUrl(url)), path_(Path(url)) {
    client_.set_keep_alive(true);
    client_.set_read_timeout(300, 0);
    client_.set_write_timeout(300, 0);
  }

  void Send(const remote::WriteRequest& request) {
    const std::string body = remote::SnappyEncode(remote::EncodeWriteRequest(request));
    const httplib::Headers headers = {{"Content-Encoding", "snappy"},
                                      {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
    for (int attempt = 0;; ++attempt) {
      auto res = client_.Post(path_, headers, body, "application/x-protobuf");
      if (res && res->status / 100 == 2) return;
      if (res && res->status / 100 == 4) {  // refused samples: retrying cannot help
        if (failed_++ < 5) std::fprintf(stderr, "HTTP %d: %s\n", res->status, res->body.c_str());
        return;
      }
      if (attempt == 5) {
        std::fprintf(
            stderr, "sending failed: %s\n",
            res ? std::to_string(res->status).c_str() : httplib::to_string(res.error()).c_str());
        ++failed_;
        return;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }

  int64_t failed() const { return failed_; }

 private:
  static std::string BaseUrl(const std::string& url) {
    return url.substr(0, url.find('/', url.find("://") + 3));
  }
  static std::string Path(const std::string& url) {
    const size_t slash = url.find('/', url.find("://") + 3);
    return slash == std::string::npos ? "/api/v1/write" : url.substr(slash);
  }

  httplib::Client client_;
  const std::string path_;
  int64_t failed_ = 0;
};

// The request for series [first, last) at steps [step_lo, step_hi).
remote::WriteRequest BuildRequest(const std::vector<LoadSeries>& series, size_t first, size_t last,
                                  int64_t step_lo, int64_t step_hi, double step_seconds,
                                  int64_t step_ms) {
  remote::WriteRequest request;
  request.timeseries.resize(last - first);
  for (size_t i = first; i < last; ++i) {
    remote::RemoteTimeSeries& ts = request.timeseries[i - first];
    ts.labels = series[i].labels;
    ts.samples.reserve(step_hi - step_lo);
    for (int64_t step = step_lo; step < step_hi; ++step) {
      ts.samples.push_back({SeriesValue(series[i].spec, step, step_seconds), step * step_ms});
    }
  }
  return request;
}

int Run(const Flags& f) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t end_ms = f.end_ms != 0 ? f.end_ms
                                       : std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count();
  const int64_t last_step = end_ms / f.step_ms;
  const int64_t steps = std::max<int64_t>(1, static_cast<int64_t>(f.hours * 3600000) / f.step_ms);
  const int64_t first_step = last_step - steps + 1;
  const std::vector<LoadSeries> series = BuildSeries(f);
  const size_t batches = (series.size() + f.batch_series - 1) / f.batch_series;
  const double step_seconds = static_cast<double>(f.step_ms) / 1000;

  std::vector<Sender> senders;
  senders.reserve(f.threads);
  for (int i = 0; i < f.threads; ++i) senders.emplace_back(f.url);
  // Every thread finishes a window before any starts the next: time order.
  std::barrier window_done(f.threads);
  std::vector<std::thread> threads;
  for (int id = 0; id < f.threads; ++id) {
    threads.emplace_back([&, id] {
      for (int64_t lo = first_step; lo <= last_step; lo += f.window_steps) {
        const int64_t hi = std::min(last_step + 1, lo + f.window_steps);
        for (size_t b = id; b < batches; b += f.threads) {
          const size_t first = b * f.batch_series;
          const size_t last = std::min(series.size(), first + f.batch_series);
          senders[id].Send(BuildRequest(series, first, last, lo, hi, step_seconds, f.step_ms));
        }
        window_done.arrive_and_wait();
      }
    });
  }
  for (auto& t : threads) t.join();
  int64_t failed = 0;
  for (const auto& s : senders) failed += s.failed();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // One line the driver parses.
  std::printf(
      "series=%zu steps=%lld samples=%lld first_ms=%lld end_ms=%lld failed_requests=%lld "
      "seconds=%.1f\n",
      series.size(), static_cast<long long>(steps),
      static_cast<long long>(steps) * static_cast<long long>(series.size()),
      static_cast<long long>(first_step * f.step_ms), static_cast<long long>(last_step * f.step_ms),
      static_cast<long long>(failed), secs);
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  const auto flags = vigil::bench::ParseFlags(argc, argv);
  if (!flags) return 2;
  return vigil::bench::Run(*flags);
}
