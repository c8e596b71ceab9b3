#include "bench/target/openmetrics_dataset.h"

#include <charconv>
#include <cstdio>
#include <memory>

namespace vigil::bench {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Appends `ms` as OpenMetrics seconds ("1700000000" or "1700000000.5").
void AppendTimestamp(std::string& out, int64_t ms) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, ms / 1000);
  out.append(buf, r.ptr);
  if (ms % 1000 != 0) {
    out.push_back('.');
    r = std::to_chars(buf, buf + sizeof buf, 1000 + ms % 1000);
    out.append(buf + 1, r.ptr);  // three digits, leading zeros kept
  }
}

}  // namespace

int64_t WriteOpenMetricsDataset(const DatasetOptions& options, const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "w"));
  if (!file) {
    std::perror(path.c_str());
    return -1;
  }
  const double step_seconds = static_cast<double>(options.step_ms) / 1000.0;
  const int64_t first_step = (options.start_ms + options.step_ms - 1) / options.step_ms;
  const int64_t last_step = options.end_ms / options.step_ms;
  int64_t samples = 0;
  std::string buf;
  buf.reserve(1 << 20);
  // No # TYPE lines: series of one family repeat per target, and untyped samples
  // keep the file valid whatever the grouping.
  for (int t = 0; t < options.targets; ++t) {
    const std::string extra =
        "instance=\"bench-host-" + std::to_string(t) + ":9100\",job=\"bench\",";
    const TargetSeries series = BuildTargetSeries(options.model, t, 0, extra);
    for (const SeriesSpec& spec : series.series) {
      for (int64_t step = first_step; step <= last_step; ++step) {
        buf.append(spec.prefix);
        AppendValue(buf, spec, SeriesValue(spec, step, step_seconds));
        buf.push_back(' ');
        AppendTimestamp(buf, step * options.step_ms);
        buf.push_back('\n');
        ++samples;
      }
      if (buf.size() > (1 << 20) - 4096) {
        std::fwrite(buf.data(), 1, buf.size(), file.get());
        buf.clear();
      }
    }
  }
  buf.append("# EOF\n");
  if (std::fwrite(buf.data(), 1, buf.size(), file.get()) != buf.size() ||
      std::fflush(file.get()) != 0) {
    std::perror(path.c_str());
    return -1;
  }
  return samples;
}

}  // namespace vigil::bench
