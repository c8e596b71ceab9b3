#include "web/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace vigil::web {
namespace {

// Fields of /proc/self/stat after the command name, 0-based from field 3 ("state").
constexpr size_t kStatUtime = 11;      // field 14
constexpr size_t kStatStime = 12;      // field 15
constexpr size_t kStatStartTime = 19;  // field 22, clock ticks after boot
constexpr size_t kStatVsize = 20;      // field 23, bytes
constexpr size_t kStatRss = 21;        // field 24, pages

std::vector<std::string> ReadStatFields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  // The command name may contain spaces; fields start after its ')'.
  const size_t paren = line.rfind(')');
  std::vector<std::string> fields;
  if (paren == std::string::npos) return fields;
  std::istringstream rest(line.substr(paren + 1));
  std::string f;
  while (rest >> f) fields.push_back(f);
  return fields;
}

double StatField(const std::vector<std::string>& fields, size_t i) {
  return i < fields.size() ? std::stod(fields[i]) : 0;
}

double OpenFds() {
  std::error_code ec;
  double n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace

double ReadProcValue(const char* path, std::string_view key) {
  std::ifstream in(path);
  std::string word;
  while (in >> word) {
    if (word == key) {
      double v = 0;
      in >> v;
      return v;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

ProcessMetrics::ProcessMetrics(BuildInfo build)
    : build_(std::move(build)),
      start_time_seconds_(ReadProcValue("/proc/stat", "btime") + StatField(ReadStatFields(), kStatStartTime) /
                                                  static_cast<double>(sysconf(_SC_CLK_TCK))),
      collector_([this](MetricsWriter& w) { Collect(w); }) {}

void ProcessMetrics::Collect(MetricsWriter& w) const {
  const auto fields = ReadStatFields();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  w.Family("process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.");
  w.Sample("process_cpu_seconds_total",
           (StatField(fields, kStatUtime) + StatField(fields, kStatStime)) / ticks);
  w.Family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  w.Sample("process_max_fds", static_cast<double>(limit.rlim_cur));
  w.Family("process_open_fds", "gauge", "Number of open file descriptors.");
  w.Sample("process_open_fds", OpenFds());
  w.Family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  w.Sample("process_resident_memory_bytes", StatField(fields, kStatRss) * page);
  w.Family("process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.");
  w.Sample("process_start_time_seconds", start_time_seconds_);
  w.Family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  w.Sample("process_virtual_memory_bytes", StatField(fields, kStatVsize));

  const Labels build_labels{{"branch", build_.branch},
                            {"goversion", build_.go_version},
                            {"revision", build_.revision},
                            {"version", build_.version}};
  // Grafana and dashboards built for Prometheus look for prometheus_build_info.
  for (const char* name : {"prometheus_build_info", "vigil_build_info"}) {
    w.Family(name, "gauge",
             "A metric with a constant '1' value labeled by version, revision, branch, and "
             "goversion from which the server was built.");
    w.Sample(name, build_labels, 1);
  }
}

}  // namespace vigil::web
