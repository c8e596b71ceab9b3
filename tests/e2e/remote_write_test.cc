// remote_write end to end: the real vigil scrapes a loopback target and
// remote-writes to Debian's VictoriaMetrics and Prometheus 2.42 (the tests
// skip without them); every sample Vigil stored must reach the receiver with
// the same value and timestamp, also across a receiver outage with a kill -9
// of Vigil in the middle.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "remote/remote_protocol.h"
#include "tests/e2e/metrics_target.h"
#include "tests/e2e/vigil_process.h"
#include "tests/support/child_process.h"

namespace vigil::e2e {
namespace {

using namespace std::chrono_literals;
using test_support::ChildProcess;
using Json = nlohmann::json;

constexpr const char* kVictoriaMetrics = "/usr/bin/victoria-metrics";
constexpr const char* kPrometheus = "/usr/bin/prometheus";

// Series (labels without the external ones, as Vigil answers) -> samples
// "t_ms=value".
using SampleSets = std::map<std::string, std::vector<std::string>>;

// The raw samples of `selector`[range] at `time_s`, from a Prometheus-API
// server on `port`; labels named in `ignore` are left out of the key.
std::optional<SampleSets> RawSamples(int port, const std::string& selector, double time_s,
                                     const std::string& ignore = "",
                                     const std::string& range = "10m") {
  const std::string query = httplib::detail::encode_query_param(selector + "[" + range + "]");
  const HttpReply r =
      HttpGet(port, "/api/v1/query?nocache=1&query=" + query + "&time=" + std::to_string(time_s));
  if (r.status != 200) return std::nullopt;
  const Json body = Json::parse(r.body, nullptr, false);
  if (body.is_discarded() || body["data"]["resultType"] != "matrix") return std::nullopt;
  SampleSets out;
  for (const auto& series : body["data"]["result"]) {
    std::string key;
    for (const auto& [name, value] : series["metric"].items()) {
      if (name != ignore) key += name + "=" + value.get<std::string>() + ",";
    }
    auto& samples = out[key];
    for (const auto& s : series["values"]) {
      const auto t_ms = static_cast<int64_t>(s[0].get<double>() * 1000.0 + 0.5);
      samples.push_back(std::to_string(t_ms) + "=" + s[1].get<std::string>());
    }
  }
  return out;
}

int64_t CountSamples(const SampleSets& sets) {
  int64_t n = 0;
  for (const auto& [k, v] : sets) n += static_cast<int64_t>(v.size());
  return n;
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A metric value from vigil's /metrics, or -1.
double MetricValue(const VigilProcess& vigil, const std::string& series) {
  const HttpReply r = vigil.Get("/metrics");
  const auto at = r.body.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(r.body.substr(at + series.size() + 2));
}

// A VictoriaMetrics single node on loopback; restartable on the same data.
class VictoriaMetrics {
 public:
  VictoriaMetrics() : port_(FreePort()) {}
  void Start() {
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{
            kVictoriaMetrics, "-httpListenAddr=127.0.0.1:" + std::to_string(port_),
            "-storageDataPath=" + (dir_.path() / "data").string(), "-search.latencyOffset=0s",
            "-search.disableCache", "-retentionPeriod=1y", "-loggerLevel=ERROR"},
        dir_.path() / "vm.log");
    for (int i = 0; i < 100 && HttpGet(port_, "/health").status != 200; ++i) {
      std::this_thread::sleep_for(100ms);
    }
  }
  void Stop() { process_.reset(); }
  int port() const { return port_; }
  std::string write_url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/write";
  }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<ChildProcess> process_;
};

std::string Config(int target_port, const std::string& remote_writes) {
  return "global:\n"
         "  scrape_interval: 1s\n"
         "  external_labels: {replica: a}\n"
         "scrape_configs:\n"
         "  - job_name: t\n"
         "    static_configs: [{targets: ['127.0.0.1:" +
         std::to_string(target_port) +
         "']}]\n"
         "remote_write:\n" +
         remote_writes;
}

std::string VmQueue(const VictoriaMetrics& vm) {
  return "  - url: " + vm.write_url() +
         "\n"
         "    name: vm\n"
         "    queue_config: {batch_send_deadline: 200ms, min_backoff: 100ms, max_backoff: 1s}\n"
         "    write_relabel_configs:\n"
         "      - {source_labels: [__name__], regex: rw_secret, action: drop}\n";
}

const char* kTargetBody =
    "rw_gauge{n=\"1\"} 1.5\n"
    "rw_gauge{n=\"2\"} -7\n"
    "rw_secret 42\n";

// Waits until the receiver on `port` holds every rw_gauge sample of `range`
// Vigil holds at `time_s`; then compares both answers in full.
void ExpectReceiverHasEverything(const VigilProcess& vigil, int port, double time_s,
                                 std::chrono::seconds timeout, const std::string& range = "10m",
                                 int64_t min_samples = 6) {
  const auto local = RawSamples(vigil.port(), "rw_gauge", time_s, "", range);
  ASSERT_TRUE(local.has_value());
  ASSERT_GE(CountSamples(*local), min_samples);
  std::optional<SampleSets> remote;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    remote = RawSamples(port, "rw_gauge", time_s, "replica", range);
    if (remote && *remote == *local) break;
    std::this_thread::sleep_for(250ms);
  }
  ASSERT_TRUE(remote.has_value());
  EXPECT_EQ(*remote, *local) << vigil.Logs();
}

class RemoteWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kVictoriaMetrics)) {
      GTEST_SKIP() << kVictoriaMetrics << " missing: apt-get install victoria-metrics";
    }
    vm_.Start();
  }

  MetricsTarget target_{kTargetBody};
  VictoriaMetrics vm_;
};

TEST_F(RemoteWriteTest, EveryStoredSample_ReachesVictoriaMetricsWithSameValueAndTimestamp) {
  VigilProcess vigil(Config(target_.port(), VmQueue(vm_)));
  ASSERT_TRUE(vigil.WaitReady());
  std::this_thread::sleep_for(5s);
  ExpectReceiverHasEverything(vigil, vm_.port(), NowSeconds(), 15s);
  // External labels are added on the way out.
  const auto with_replica = RawSamples(vm_.port(), "rw_gauge{replica=\"a\"}", NowSeconds());
  ASSERT_TRUE(with_replica.has_value());
  EXPECT_EQ(with_replica->size(), 2u);
  EXPECT_GT(MetricValue(vigil, "prometheus_remote_storage_samples_total{remote_name=\"vm\",url=\"" +
                                   vm_.write_url() + "\"}"),
            0);
}

TEST_F(RemoteWriteTest, WriteRelabelDrop_KeepsTheSeriesOutOfTheReceiver) {
  VigilProcess vigil(Config(target_.port(), VmQueue(vm_)));
  ASSERT_TRUE(vigil.WaitReady());
  std::this_thread::sleep_for(4s);
  ExpectReceiverHasEverything(vigil, vm_.port(), NowSeconds(), 15s);
  const auto local = RawSamples(vigil.port(), "rw_secret", NowSeconds());
  ASSERT_TRUE(local.has_value());
  EXPECT_FALSE(local->empty());
  const auto remote = RawSamples(vm_.port(), "rw_secret", NowSeconds());
  ASSERT_TRUE(remote.has_value());
  EXPECT_TRUE(remote->empty());
  EXPECT_GT(MetricValue(vigil,
                        "prometheus_remote_storage_samples_dropped_total{remote_name="
                        "\"vm\",url=\"" +
                            vm_.write_url() + "\"}"),
            0);
}

TEST_F(RemoteWriteTest, ReceiverOutageWithVigilKilled_LosesNothing) {
  const std::string config = Config(target_.port(), VmQueue(vm_));
  TempDir data;
  {
    VigilProcess vigil(config, {}, data.path());
    ASSERT_TRUE(vigil.WaitReady());
    std::this_thread::sleep_for(3s);
    vm_.Stop();  // the outage starts
    std::this_thread::sleep_for(15s);
    vigil.Signal(SIGKILL);
    ASSERT_TRUE(vigil.WaitExit().has_value());
  }
  VigilProcess vigil(config, {}, data.path());
  ASSERT_TRUE(vigil.WaitReady());
  std::this_thread::sleep_for(15s);
  EXPECT_GT(MetricValue(vigil,
                        "prometheus_remote_storage_samples_retried_total{remote_name="
                        "\"vm\",url=\"" +
                            vm_.write_url() + "\"}"),
            0);
  const double before_recovery = NowSeconds();
  vm_.Start();  // 30 s later
  ExpectReceiverHasEverything(vigil, vm_.port(), before_recovery, 30s);
}

// Prometheus 2.42 as a second receiver: it gets the same samples, and a 400
// (an out-of-order sample) drops that batch, counted as failed.
TEST_F(RemoteWriteTest, PrometheusReceiver_GetsTheSameData_And400DropsTheBatch) {
  if (!std::filesystem::exists(kPrometheus)) GTEST_SKIP() << kPrometheus << " missing";
  TempDir prom_dir;
  const int prom_port = FreePort();
  std::filesystem::path prom_config = prom_dir.path() / "prometheus.yml";
  WriteFileAtomically(prom_config, "global: {}\n");
  ChildProcess prom({kPrometheus, "--config.file=" + prom_config.string(),
                     "--storage.tsdb.path=" + (prom_dir.path() / "data").string(),
                     "--web.listen-address=127.0.0.1:" + std::to_string(prom_port),
                     "--web.enable-remote-write-receiver"},
                    prom_dir.path() / "prometheus.log");
  for (int i = 0; i < 100 && HttpGet(prom_port, "/-/ready").status != 200; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  // A newer sample of the series Vigil will send makes Prometheus refuse it.
  const std::string instance = "127.0.0.1:" + std::to_string(target_.port());
  remote::RemoteTimeSeries conflict{
      {{"__name__", "rw_secret"}, {"instance", instance}, {"job", "t"}, {"replica", "a"}},
      {{1, static_cast<int64_t>((NowSeconds() + 4) * 1000)}}};
  const std::string body =
      remote::SnappyEncode(remote::EncodeWriteRequest(remote::WriteRequest{{conflict}}));
  ASSERT_EQ(HttpPost(prom_port, "/api/v1/write", body, "application/x-protobuf").status, 204);

  const std::string prom_url = "http://127.0.0.1:" + std::to_string(prom_port) + "/api/v1/write";
  VigilProcess vigil(Config(target_.port(), VmQueue(vm_) + "  - url: " + prom_url +
                                                "\n    name: prom\n"
                                                "    queue_config: {batch_send_deadline: 200ms}\n"
                                                "    write_relabel_configs:\n"
                                                "      - {source_labels: [__name__], regex: "
                                                "'rw_gauge|rw_secret', action: keep}\n"));
  ASSERT_TRUE(vigil.WaitReady());
  const std::string failed =
      "prometheus_remote_storage_samples_failed_total{remote_name=\"prom\""
      ",url=\"" +
      prom_url + "\"}";
  EXPECT_TRUE(vigil.WaitFor([&] { return MetricValue(vigil, failed) > 0; }, 10s)) << vigil.Logs();
  EXPECT_NE(vigil.Logs().find("non-recoverable error sending to remote storage"),
            std::string::npos);
  // Batches after the conflicting sample go through, to both receivers alike.
  std::this_thread::sleep_for(6s);
  const double now = NowSeconds() - 0.5;
  ExpectReceiverHasEverything(vigil, prom_port, now, 15s, "2s", 2);
  ExpectReceiverHasEverything(vigil, vm_.port(), now, 15s);
}

}  // namespace
}  // namespace vigil::e2e
