#include "bench/target/series_model.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <span>
#include <string_view>

namespace vigil::bench {
namespace {

// Fixed per-target families (the inventory app plus a host's memory and load)
// take this many series; the rest is filled with repeated "units".
constexpr int kFixedSeries = 38;
// Series per scalable unit: 8 cpu modes, 3 network, 3 disk, 2 filesystem and a
// 9-series histogram (7 buckets + sum + count).
constexpr int kUnitSeries = 25;
// Series per kube unit (one pod): 12 node-exporter, 14 kube-state-metrics and 24
// HTTP (2 handlers x (9 buckets + sum + count) + 2 request counters).
constexpr int kKubeUnitSeries = 50;

// SplitMix64: a cheap, well-mixed hash so values are reproducible from the seed.
uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) for (hash, step).
double Uniform(uint64_t hash, int64_t step) {
  return static_cast<double>(Mix(hash ^ Mix(static_cast<uint64_t>(step))) >> 11) * 0x1.0p-53;
}

struct Label {
  std::string_view name;
  std::string value;
};

// Collects series family by family, so each family is contiguous in the output.
class FamilyWriter {
 public:
  FamilyWriter(TargetSeries& out, const std::string& extra_labels, uint64_t target_hash)
      : out_(out), extra_labels_(extra_labels), target_hash_(target_hash) {}

  void BeginFamily(std::string_view name, std::string_view type) {
    out_.type_lines.push_back("# TYPE " + std::string(name) + " " + std::string(type) + "\n");
    out_.family_first.push_back(out_.series.size());
  }

  // Adds one series; `key` distinguishes series of the same target for hashing.
  SeriesSpec& Add(std::string_view name, const std::vector<Label>& labels, ValueKind kind,
                  uint64_t key) {
    std::string inner = extra_labels_;
    for (const Label& label : labels) {
      inner.append(label.name);
      inner.append("=\"");
      inner.append(label.value);
      inner.append("\",");
    }
    SeriesSpec spec;
    spec.prefix.append(name);
    if (!inner.empty()) {
      inner.pop_back();  // the trailing comma
      spec.prefix.append("{").append(inner).append("}");
    }
    spec.prefix.push_back(' ');
    spec.kind = kind;
    spec.hash = Mix(target_hash_ ^ Mix(key));
    out_.series.push_back(std::move(spec));
    return out_.series.back();
  }

  uint64_t target_hash() const { return target_hash_; }

 private:
  TargetSeries& out_;
  const std::string& extra_labels_;
  uint64_t target_hash_;
};

// Scales a unit hash into [lo, hi).
double Between(uint64_t hash, double lo, double hi) { return lo + (hi - lo) * Uniform(hash, -1); }

// Adds a histogram family: buckets with cumulative shares `cdf`, then _sum and
// _count, all driven by one observation counter (shared hash, base and rate).
void AddHistogram(FamilyWriter& w, std::string_view name, const std::vector<Label>& labels,
                  std::span<const std::pair<const char*, double>> buckets, double per_second,
                  double mean_seconds, uint64_t key) {
  const uint64_t hash = Mix(w.target_hash() ^ Mix(key));
  const double base = std::floor(Between(hash, 100, 100000));
  auto add = [&](std::string suffix, std::vector<Label> series_labels, ValueKind kind, double cdf) {
    SeriesSpec& spec = w.Add(std::string(name) + suffix, series_labels, kind, key);
    spec.hash = hash;
    spec.base = base;
    spec.rate = per_second;
    spec.cdf = cdf;
  };
  for (const auto& [le, cdf] : buckets) {
    std::vector<Label> bucket_labels = labels;
    bucket_labels.push_back({"le", le});
    add("_bucket", bucket_labels, ValueKind::kBucket, cdf);
  }
  add("_sum", labels, ValueKind::kHistogramSum, mean_seconds);
  add("_count", labels, ValueKind::kBucket, 1.0);
}

constexpr std::array<std::pair<const char*, double>, 12> kRequestBuckets = {{
    {"0.005", 0.02},
    {"0.01", 0.08},
    {"0.025", 0.25},
    {"0.05", 0.5},
    {"0.1", 0.75},
    {"0.25", 0.9},
    {"0.5", 0.96},
    {"1", 0.985},
    {"2.5", 0.995},
    {"5", 0.999},
    {"10", 1.0},
    {"+Inf", 1.0},
}};
constexpr std::array<std::pair<const char*, double>, 7> kRpcBuckets = {{
    {"0.01", 0.1},
    {"0.05", 0.4},
    {"0.1", 0.7},
    {"0.5", 0.92},
    {"1", 0.97},
    {"5", 1.0},
    {"+Inf", 1.0},
}};

void AddInventoryFamilies(FamilyWriter& w) {
  struct Route {
    const char* method;
    const char* endpoint;
    const char* status;
    double per_second;
  };
  constexpr std::array<Route, 12> kRoutes = {{
      {"GET", "/api/items", "200", 40},
      {"GET", "/api/items", "500", 0.2},
      {"GET", "/api/items/:id", "200", 25},
      {"GET", "/api/items/:id", "404", 1.5},
      {"POST", "/api/items", "201", 4},
      {"POST", "/api/items", "400", 0.6},
      {"PUT", "/api/items/:id", "200", 3},
      {"PUT", "/api/items/:id", "404", 0.3},
      {"DELETE", "/api/items/:id", "200", 1},
      {"DELETE", "/api/items/:id", "404", 0.1},
      {"GET", "/metrics", "200", 0.2},
      {"GET", "/health", "200", 0.1},
  }};
  w.BeginFamily("inventory_requests_total", "counter");
  uint64_t key = 1000;
  for (const Route& r : kRoutes) {
    SeriesSpec& s = w.Add("inventory_requests_total",
                          {{"endpoint", r.endpoint}, {"method", r.method}, {"status", r.status}},
                          ValueKind::kCounter, ++key);
    s.base = std::floor(Between(s.hash, 1000, 1e6));
    s.rate = r.per_second;
  }
  w.BeginFamily("inventory_request_duration_seconds", "histogram");
  AddHistogram(w, "inventory_request_duration_seconds", {}, kRequestBuckets, 75, 0.06, 2000);

  w.BeginFamily("inventory_items_total", "gauge");
  SeriesSpec& items = w.Add("inventory_items_total", {}, ValueKind::kGauge, 3000);
  items.base = std::floor(Between(items.hash, 500, 5000));
  items.rate = 20;
  const std::array<std::pair<const char*, double>, 3> counters = {{
      {"inventory_cache_hits_total", 50},
      {"inventory_cache_misses_total", 8},
      {"inventory_db_errors_total", 0.05},
  }};
  for (const auto& [name, per_second] : counters) {
    w.BeginFamily(name, "counter");
    SeriesSpec& s = w.Add(name, {}, ValueKind::kCounter, ++key);
    s.base = std::floor(Between(s.hash, 10, 1e5));
    s.rate = per_second;
  }
}

void AddHostFamilies(FamilyWriter& w) {
  constexpr double kGiB = 1024.0 * 1024 * 1024;
  const std::array<std::pair<const char*, double>, 5> memory = {{
      {"node_memory_MemTotal_bytes", 16 * kGiB},
      {"node_memory_MemAvailable_bytes", 9 * kGiB},
      {"node_memory_MemFree_bytes", 3 * kGiB},
      {"node_memory_Cached_bytes", 5 * kGiB},
      {"node_memory_Buffers_bytes", 0.5 * kGiB},
  }};
  uint64_t key = 4000;
  for (const auto& [name, bytes] : memory) {
    w.BeginFamily(name, "gauge");
    SeriesSpec& s = w.Add(name, {}, ValueKind::kGauge, ++key);
    s.base = bytes;
    // MemTotal never changes on a real host; the others wander by a few percent.
    s.rate = std::string_view(name) == "node_memory_MemTotal_bytes" ? 0 : bytes * 0.03;
  }
  const std::array<const char*, 3> loads = {"node_load1", "node_load15", "node_load5"};
  for (const char* name : loads) {
    w.BeginFamily(name, "gauge");
    SeriesSpec& s = w.Add(name, {}, ValueKind::kGaugeFraction, ++key);
    s.base = 1.5;
    s.rate = 0.8;
  }
}

// Epoch of unit `unit` after `period` churn events: each event replaces the next
// slice (unit % slices) by giving its series a new `pod` label value.
int64_t UnitEpoch(int unit, int64_t period, int slices) {
  if (slices <= 0) return 0;
  const int slice = unit % slices;
  return period / slices + (slice < period % slices ? 1 : 0);
}

struct UnitFamily {
  const char* name;
  const char* type;
};

void AddUnits(FamilyWriter& w, int units, int64_t period, int slices) {
  std::vector<std::string> pods(units);
  for (int u = 0; u < units; ++u) {
    pods[u] = "bench-" + std::to_string(u) + "-" + std::to_string(UnitEpoch(u, period, slices));
  }
  // Series keys include the pod, so a replaced series also gets fresh values.
  auto key = [&](int u, uint64_t family) {
    return Mix(static_cast<uint64_t>(u) * 1000003 + family) ^
           static_cast<uint64_t>(UnitEpoch(u, period, slices)) * 0x100000001B3ULL;
  };
  constexpr std::array<const char*, 8> kModes = {"idle",    "iowait", "irq",    "nice",
                                                 "softirq", "steal",  "system", "user"};
  constexpr std::array<double, 8> kModeShare = {0.82, 0.01, 0.002, 0.001, 0.01, 0.0, 0.05, 0.1};
  w.BeginFamily("node_cpu_seconds_total", "counter");
  for (int u = 0; u < units; ++u) {
    for (size_t m = 0; m < kModes.size(); ++m) {
      SeriesSpec& s = w.Add("node_cpu_seconds_total",
                            {{"cpu", std::to_string(u)}, {"mode", kModes[m]}, {"pod", pods[u]}},
                            ValueKind::kCounterSeconds, key(u, m));
      s.base = std::floor(Between(s.hash, 1e4, 1e6) * kModeShare[m]);
      s.rate = kModeShare[m];
    }
  }
  struct DeviceFamily {
    const char* name;
    const char* device_prefix;
    ValueKind kind;
    double per_second;
  };
  constexpr std::array<DeviceFamily, 6> kDeviceFamilies = {{
      {"node_network_receive_bytes_total", "eth", ValueKind::kCounter, 2e5},
      {"node_network_receive_packets_total", "eth", ValueKind::kCounter, 300},
      {"node_network_transmit_bytes_total", "eth", ValueKind::kCounter, 1e5},
      {"node_disk_io_time_seconds_total", "sd", ValueKind::kCounterSeconds, 0.05},
      {"node_disk_read_bytes_total", "sd", ValueKind::kCounter, 5e4},
      {"node_disk_written_bytes_total", "sd", ValueKind::kCounter, 2e5},
  }};
  for (size_t f = 0; f < kDeviceFamilies.size(); ++f) {
    const DeviceFamily& family = kDeviceFamilies[f];
    w.BeginFamily(family.name, "counter");
    for (int u = 0; u < units; ++u) {
      SeriesSpec& s = w.Add(
          family.name, {{"device", family.device_prefix + std::to_string(u)}, {"pod", pods[u]}},
          family.kind, key(u, 100 + f));
      s.base = std::floor(Between(s.hash, 1e3, 1e9) * family.per_second / 1e5);
      s.rate = family.per_second * Between(s.hash ^ 1, 0.5, 1.5);
    }
  }
  constexpr double kDisk = 500.0 * 1024 * 1024 * 1024;
  const std::array<std::pair<const char*, double>, 2> kFilesystem = {{
      {"node_filesystem_avail_bytes", 0.4},
      {"node_filesystem_size_bytes", 1.0},
  }};
  for (size_t f = 0; f < kFilesystem.size(); ++f) {
    w.BeginFamily(kFilesystem[f].first, "gauge");
    for (int u = 0; u < units; ++u) {
      SeriesSpec& s = w.Add(kFilesystem[f].first,
                            {{"device", "/dev/sd" + std::to_string(u)},
                             {"fstype", "ext4"},
                             {"mountpoint", "/data" + std::to_string(u)},
                             {"pod", pods[u]}},
                            ValueKind::kGauge, key(u, 200 + f));
      s.base = std::floor(kDisk * kFilesystem[f].second);
      s.rate = f == 0 ? kDisk * 0.001 : 0;
    }
  }
  w.BeginFamily("bench_rpc_duration_seconds", "histogram");
  for (int u = 0; u < units; ++u) {
    AddHistogram(w, "bench_rpc_duration_seconds", {{"pod", pods[u]}}, kRpcBuckets, 20, 0.08,
                 key(u, 300));
  }
}

constexpr std::array<std::pair<const char*, double>, 9> kHttpBuckets = {{
    {"0.01", 0.05},
    {"0.025", 0.2},
    {"0.05", 0.45},
    {"0.1", 0.7},
    {"0.25", 0.88},
    {"0.5", 0.95},
    {"1", 0.99},
    {"2.5", 1.0},
    {"+Inf", 1.0},
}};

// node-exporter-like families of the kube shape: one "cpu" per unit. They carry no
// pod, so churn leaves them alone (as a pod rollout leaves the node exporters).
void AddKubeNodeFamilies(FamilyWriter& w, int units) {
  constexpr std::array<const char*, 8> kModes = {"idle",    "iowait", "irq",    "nice",
                                                 "softirq", "steal",  "system", "user"};
  constexpr std::array<double, 8> kModeShare = {0.7, 0.02, 0.003, 0.002, 0.02, 0.001, 0.08, 0.17};
  w.BeginFamily("node_cpu_seconds_total", "counter");
  for (int u = 0; u < units; ++u) {
    for (size_t m = 0; m < kModes.size(); ++m) {
      SeriesSpec& s = w.Add("node_cpu_seconds_total",
                            {{"cpu", std::to_string(u)}, {"mode", kModes[m]}},
                            ValueKind::kCounterSeconds, Mix(static_cast<uint64_t>(u) * 64 + m + 1));
      s.base = std::floor(Between(s.hash, 1e4, 1e6) * kModeShare[m]);
      s.rate = kModeShare[m];
    }
  }
  constexpr double kDisk = 200.0 * 1024 * 1024 * 1024;
  const std::array<std::pair<const char*, double>, 2> kFilesystem = {{
      {"node_filesystem_avail_bytes", 0.35},
      {"node_filesystem_size_bytes", 1.0},
  }};
  for (size_t f = 0; f < kFilesystem.size(); ++f) {
    w.BeginFamily(kFilesystem[f].first, "gauge");
    for (int u = 0; u < units; ++u) {
      SeriesSpec& s = w.Add(kFilesystem[f].first,
                            {{"device", "/dev/nvme" + std::to_string(u) + "n1"},
                             {"fstype", "xfs"},
                             {"mountpoint", "/var/lib/kubelet/pods/" + std::to_string(u)}},
                            ValueKind::kGauge, Mix(static_cast<uint64_t>(u) * 64 + 20 + f));
      s.base = std::floor(kDisk * kFilesystem[f].second);
      s.rate = f == 0 ? kDisk * 0.002 : 0;
    }
  }
  w.BeginFamily("node_hwmon_temp_celsius", "gauge");
  for (int u = 0; u < units; ++u) {
    SeriesSpec& s = w.Add("node_hwmon_temp_celsius",
                          {{"chip", "platform_coretemp_0"}, {"sensor", "temp" + std::to_string(u)}},
                          ValueKind::kGaugeFraction, Mix(static_cast<uint64_t>(u) * 64 + 30));
    s.base = 55;
    s.rate = 4;
  }
  w.BeginFamily("node_interrupts_total", "counter");
  for (int u = 0; u < units; ++u) {
    SeriesSpec& s = w.Add(
        "node_interrupts_total",
        {{"cpu", std::to_string(u)}, {"devices", "nvme0q" + std::to_string(u)}, {"type", "PCI-MSI"}},
        ValueKind::kCounter, Mix(static_cast<uint64_t>(u) * 64 + 31));
    s.base = std::floor(Between(s.hash, 1e5, 1e8));
    s.rate = Between(s.hash ^ 7, 20, 400);
  }
}

// The pod of unit `u` after its churn epochs: namespace and pod name.
struct Pod {
  std::string ns;
  std::string name;
  uint64_t key;  // per-pod seed, new for a replaced pod
};

// kube-state-metrics-like families: mostly constant gauges, as in a real cluster.
void AddKubeStateFamilies(FamilyWriter& w, const std::vector<Pod>& pods) {
  constexpr std::array<const char*, 5> kPhases = {"Failed", "Pending", "Running", "Succeeded",
                                                  "Unknown"};
  w.BeginFamily("kube_pod_status_phase", "gauge");
  for (const Pod& p : pods) {
    for (size_t i = 0; i < kPhases.size(); ++i) {
      SeriesSpec& s = w.Add("kube_pod_status_phase",
                            {{"namespace", p.ns}, {"phase", kPhases[i]}, {"pod", p.name}},
                            ValueKind::kGauge, p.key + i);
      s.base = std::string_view(kPhases[i]) == "Running" ? 1 : 0;
    }
  }
  w.BeginFamily("kube_pod_info", "gauge");
  for (size_t u = 0; u < pods.size(); ++u) {
    const Pod& p = pods[u];
    SeriesSpec& s = w.Add("kube_pod_info",
                          {{"namespace", p.ns},
                           {"node", "node-" + std::to_string(u % 16)},
                           {"pod", p.name},
                           {"pod_ip", "10.1." + std::to_string(u / 250) + "." +
                                          std::to_string(u % 250 + 1)}},
                          ValueKind::kGauge, p.key + 10);
    s.base = 1;
  }
  constexpr std::array<const char*, 2> kContainers = {"app", "istio-proxy"};
  w.BeginFamily("kube_pod_container_status_restarts_total", "counter");
  for (const Pod& p : pods) {
    for (size_t c = 0; c < kContainers.size(); ++c) {
      SeriesSpec& s = w.Add("kube_pod_container_status_restarts_total",
                            {{"container", kContainers[c]}, {"namespace", p.ns}, {"pod", p.name}},
                            ValueKind::kCounter, p.key + 20 + c);
      s.base = std::floor(Between(s.hash, 0, 5));
      s.rate = 0.0005;
    }
  }
  w.BeginFamily("kube_pod_container_status_ready", "gauge");
  for (const Pod& p : pods) {
    for (size_t c = 0; c < kContainers.size(); ++c) {
      SeriesSpec& s = w.Add("kube_pod_container_status_ready",
                            {{"container", kContainers[c]}, {"namespace", p.ns}, {"pod", p.name}},
                            ValueKind::kGauge, p.key + 30 + c);
      s.base = 1;
    }
  }
  w.BeginFamily("kube_pod_container_resource_requests", "gauge");
  for (const Pod& p : pods) {
    for (size_t c = 0; c < kContainers.size(); ++c) {
      for (const char* resource : {"cpu", "memory"}) {
        SeriesSpec& s = w.Add("kube_pod_container_resource_requests",
                              {{"container", kContainers[c]},
                               {"namespace", p.ns},
                               {"pod", p.name},
                               {"resource", resource}},
                              ValueKind::kGauge, p.key + 40 + c * 2 + (resource[0] == 'm'));
        s.base = resource[0] == 'c' ? 1 : 536870912;
      }
    }
  }
}

// An HTTP server's families per pod: request counters and a classic histogram.
void AddHttpFamilies(FamilyWriter& w, const std::vector<Pod>& pods) {
  constexpr std::array<std::pair<const char*, double>, 2> kHandlers = {{
      {"/api/v1/orders", 30},
      {"/healthz", 0.5},
  }};
  w.BeginFamily("http_requests_total", "counter");
  for (const Pod& p : pods) {
    for (size_t h = 0; h < kHandlers.size(); ++h) {
      SeriesSpec& s = w.Add("http_requests_total",
                            {{"code", "200"}, {"handler", kHandlers[h].first}, {"pod", p.name}},
                            ValueKind::kCounter, p.key + 50 + h);
      s.base = std::floor(Between(s.hash, 1e3, 1e7));
      s.rate = kHandlers[h].second;
    }
  }
  w.BeginFamily("http_request_duration_seconds", "histogram");
  for (const Pod& p : pods) {
    for (size_t h = 0; h < kHandlers.size(); ++h) {
      AddHistogram(w, "http_request_duration_seconds",
                   {{"handler", kHandlers[h].first}, {"method", "GET"}, {"pod", p.name}},
                   kHttpBuckets, kHandlers[h].second, 0.09, p.key + 60 + h);
    }
  }
}

void AddKubeUnits(FamilyWriter& w, int units, int64_t period, int slices) {
  AddKubeNodeFamilies(w, units);
  std::vector<Pod> pods(units);
  for (int u = 0; u < units; ++u) {
    const int64_t epoch = UnitEpoch(u, period, slices);
    // A replaced pod gets a new name suffix, like a Deployment's rollout.
    const uint64_t suffix = Mix(static_cast<uint64_t>(u) * 7919 + static_cast<uint64_t>(epoch));
    pods[u].ns = "team-" + std::to_string(u % 12);
    pods[u].name = "orders-" + std::to_string(u) + "-" + std::to_string(suffix % 100000);
    pods[u].key = Mix(suffix) & ~uint64_t{0xFF};
  }
  AddKubeStateFamilies(w, pods);
  AddHttpFamilies(w, pods);
}

void AddFiller(FamilyWriter& w, int count) {
  if (count <= 0) return;
  w.BeginFamily("bench_filler_value", "gauge");
  for (int i = 0; i < count; ++i) {
    SeriesSpec& s =
        w.Add("bench_filler_value", {{"slot", std::to_string(i)}}, ValueKind::kGauge, 9000 + i);
    s.base = std::floor(Between(s.hash, 0, 1e4));
    s.rate = 50;
  }
}

int64_t RoundDown(double x) { return static_cast<int64_t>(std::floor(x)); }

}  // namespace

TargetSeries BuildTargetSeries(const ModelOptions& options, int target, int64_t period,
                               const std::string& extra_labels) {
  TargetSeries out;
  out.series.reserve(options.series_per_target);
  FamilyWriter w(out, extra_labels, Mix(options.seed ^ Mix(static_cast<uint64_t>(target))));
  AddInventoryFamilies(w);
  AddHostFamilies(w);
  const bool kube = options.shape == ModelShape::kKube;
  const int unit_series = kube ? kKubeUnitSeries : kUnitSeries;
  const int units = std::max(0, (options.series_per_target - kFixedSeries) / unit_series);
  const int slices = options.churn_fraction > 0
                         ? std::max(1, static_cast<int>(std::lround(1.0 / options.churn_fraction)))
                         : 0;
  if (kube) {
    AddKubeUnits(w, units, period, slices);
  } else {
    AddUnits(w, units, period, slices);
  }
  AddFiller(w, options.series_per_target - kFixedSeries - units * unit_series);
  return out;
}

double SeriesValue(const SeriesSpec& spec, int64_t step, double step_seconds) {
  // Counters restart every ~48 days (2^22 s), as real processes do, which keeps
  // values in the ranges exporters report instead of growing with the epoch.
  constexpr double kCounterLifetimeSeconds = 4194304.0;
  const double t = std::fmod(static_cast<double>(step) * step_seconds, kCounterLifetimeSeconds);
  const double jitter = Uniform(spec.hash, step);
  switch (spec.kind) {
    case ValueKind::kCounter:
      // Increments are at least half the nominal rate, so the counter never drops.
      return static_cast<double>(
          RoundDown(spec.base + spec.rate * t + 0.5 * spec.rate * step_seconds * jitter));
    case ValueKind::kCounterSeconds:
      return static_cast<double>(RoundDown(
                 (spec.base + spec.rate * t + 0.5 * spec.rate * step_seconds * jitter) * 100)) /
             100;
    case ValueKind::kGauge:
      return static_cast<double>(RoundDown(spec.base + spec.rate * (2 * jitter - 1)));
    case ValueKind::kGaugeFraction:
      return static_cast<double>(RoundDown((spec.base + spec.rate * (2 * jitter - 1)) * 100)) / 100;
    case ValueKind::kBucket:
    case ValueKind::kHistogramSum: {
      const double count = static_cast<double>(
          RoundDown(spec.base + spec.rate * t + 0.5 * spec.rate * step_seconds * jitter));
      if (spec.kind == ValueKind::kHistogramSum) {
        return static_cast<double>(RoundDown(count * spec.cdf * 1000)) / 1000;
      }
      return static_cast<double>(RoundDown(count * spec.cdf));
    }
  }
  return 0;
}

void AppendValue(std::string& out, const SeriesSpec& spec, double value) {
  char buf[64];
  std::to_chars_result r{};
  switch (spec.kind) {
    case ValueKind::kCounter:
    case ValueKind::kGauge:
    case ValueKind::kBucket:
      r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(value));
      break;
    case ValueKind::kHistogramSum:
      r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, 3);
      break;
    case ValueKind::kCounterSeconds:
    case ValueKind::kGaugeFraction:
      r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, 2);
      break;
  }
  out.append(buf, r.ptr);
}

}  // namespace vigil::bench
