// remote_write end to end: the real vigil scrapes a loopback target and
// remote-writes to Debian's VictoriaMetrics and Prometheus 2.42 (the tests
// skip without them); every sample Vigil stored must reach the receiver with
// the same value and timestamp, also across a receiver outage with a kill -9
// of Vigil in the middle.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <cmath>
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

class RemoteWriteE2eTest : public ::testing::Test {
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

TEST_F(RemoteWriteE2eTest, EveryStoredSample_ReachesVictoriaMetricsWithSameValueAndTimestamp) {
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
  // metadata_config.send defaults to true; Vigil sends no metadata and says so.
  EXPECT_NE(vigil.Logs().find("remote write does not send metadata"), std::string::npos)
      << vigil.Logs();
}

TEST_F(RemoteWriteE2eTest, WriteRelabelDrop_KeepsTheSeriesOutOfTheReceiver) {
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

TEST_F(RemoteWriteE2eTest, ReceiverOutageWithVigilKilled_LosesNothing) {
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

// Vigil's GET /api/v1/status/remote_write: the first queue's entry, or null.
Json QueueStatus(const VigilProcess& vigil) {
  const HttpReply r = vigil.Get("/api/v1/status/remote_write");
  const Json body = Json::parse(r.body, nullptr, false);
  if (r.status != 200 || body.is_discarded() || body["status"] != "success") return nullptr;
  const Json& queues = body["data"]["queues"];
  return queues.empty() ? Json(nullptr) : queues[0];
}

TEST_F(RemoteWriteE2eTest, StatusEndpoint_ShowsSendingThenFailuresAndGrowingPendingWhenDown) {
  VigilProcess vigil(Config(target_.port(), VmQueue(vm_)));
  ASSERT_TRUE(vigil.WaitReady());
  Json q;
  ASSERT_TRUE(vigil.WaitFor(
      [&] {
        q = QueueStatus(vigil);
        return q.is_object() && q["samples"]["sent"].get<int64_t>() > 0 &&
               q["walPosition"]["offset"].get<int64_t>() > 0;
      },
      10s))
      << q.dump();
  EXPECT_EQ(q["name"], "vm");
  EXPECT_EQ(q["url"], vm_.write_url());
  EXPECT_EQ(q["shards"]["current"], 1);
  EXPECT_EQ(q["shards"]["min"], 1);
  EXPECT_EQ(q["shards"]["max"], 200);
  EXPECT_GT(q["samples"]["dropped"].get<int64_t>(), 0);  // rw_secret, by write_relabel_configs
  ASSERT_TRUE(q["lagSeconds"].is_number()) << q.dump();
  EXPECT_LT(q["lagSeconds"].get<double>(), 3.0) << q.dump();
  EXPECT_TRUE(q["lastSuccessfulSendTime"].is_string());
  EXPECT_EQ(q["lastSendError"], "");

  vm_.Stop();  // the receiver goes away: retries, an error, a growing backlog
  ASSERT_TRUE(vigil.WaitFor(
      [&] {
        q = QueueStatus(vigil);
        return q.is_object() && q["samples"]["retried"].get<int64_t>() > 0;
      },
      10s))
      << q.dump();
  const int64_t pending = q["samples"]["pending"].get<int64_t>();
  const int64_t sent = q["samples"]["sent"].get<int64_t>();
  EXPECT_FALSE(q["lastSendError"].get<std::string>().empty());
  EXPECT_TRUE(q["lastSendErrorTime"].is_string());
  ASSERT_TRUE(vigil.WaitFor(
      [&] {
        q = QueueStatus(vigil);
        return q["samples"]["pending"].get<int64_t>() > pending &&
               q["lagSeconds"].get<double>() >= 2.0;
      },
      10s))
      << q.dump();
  EXPECT_EQ(q["samples"]["sent"].get<int64_t>(), sent);
  EXPECT_EQ(q["samples"]["failed"].get<int64_t>(), 0);  // network errors are retried
}

// SIGHUP: an unchanged queue keeps running (its counters go on), a changed
// one restarts, a removed one stops and its saved position is deleted.
TEST_F(RemoteWriteE2eTest, Reload_KeepsUnchangedQueuesAndRestartsChangedOnes) {
  const std::string second = "  - url: " + vm_.write_url() + "\n    name: vm2\n" +
                             "    queue_config: {batch_send_deadline: 200ms}\n";
  VigilProcess vigil(Config(target_.port(), VmQueue(vm_) + second));
  ASSERT_TRUE(vigil.WaitReady());
  const auto sent = [&](const std::string& name) {
    return MetricValue(vigil, "prometheus_remote_storage_samples_total{remote_name=\"" + name +
                                  "\",url=\"" + vm_.write_url() + "\"}");
  };
  ASSERT_TRUE(vigil.WaitFor([&] { return sent("vm") > 20 && sent("vm2") > 20; }, 10s));
  const auto positions = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(vigil.data_dir() / "remote_write")) {
      n += e.path().extension() == ".position" ? 1 : 0;
    }
    return n;
  };
  EXPECT_EQ(positions(), 2);

  const double vm_before = sent("vm");
  const double vm2_before = sent("vm2");
  WriteFileAtomically(vigil.config_path(),
                      Config(target_.port(), VmQueue(vm_) + second + "    remote_timeout: 10s\n"));
  vigil.Signal(SIGHUP);
  ASSERT_TRUE(vigil.WaitFor([&] { return sent("vm2") >= 0 && sent("vm2") < vm2_before; }, 10s))
      << "changed queue vm2 was not restarted";
  EXPECT_GE(sent("vm"), vm_before) << "unchanged queue vm was restarted";

  WriteFileAtomically(vigil.config_path(), Config(target_.port(), VmQueue(vm_)));
  vigil.Signal(SIGHUP);
  ASSERT_TRUE(vigil.WaitFor([&] { return sent("vm2") < 0; }, 10s));
  EXPECT_GE(sent("vm"), vm_before);
  EXPECT_EQ(positions(), 1);
}

// Debian's Prometheus 2.42 on loopback with the remote write receiver on.
class Prometheus {
 public:
  Prometheus() : port_(FreePort()) {
    const std::filesystem::path config = dir_.path() / "prometheus.yml";
    WriteFileAtomically(config, "global: {}\n");
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{kPrometheus, "--config.file=" + config.string(),
                                 "--storage.tsdb.path=" + (dir_.path() / "data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                 "--web.enable-remote-write-receiver"},
        dir_.path() / "prometheus.log");
    for (int i = 0; i < 100 && HttpGet(port_, "/-/ready").status != 200; ++i) {
      std::this_thread::sleep_for(100ms);
    }
  }
  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // Remote-writes `series` to it; returns the HTTP status.
  int Push(const std::vector<remote::RemoteTimeSeries>& series) const {
    const std::string body =
        remote::SnappyEncode(remote::EncodeWriteRequest(remote::WriteRequest{series}));
    return HttpPost(port_, "/api/v1/write", body, "application/x-protobuf").status;
  }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<ChildProcess> process_;
};

// Prometheus 2.42 as a second receiver: it gets the same samples, and a 400
// (an out-of-order sample) drops that batch, counted as failed.
TEST_F(RemoteWriteE2eTest, PrometheusReceiver_GetsTheSameData_And400DropsTheBatch) {
  if (!std::filesystem::exists(kPrometheus)) GTEST_SKIP() << kPrometheus << " missing";
  const Prometheus prom;
  const int prom_port = prom.port();
  // A newer sample of the series Vigil will send makes Prometheus refuse it.
  const std::string instance = "127.0.0.1:" + std::to_string(target_.port());
  remote::RemoteTimeSeries conflict{
      {{"__name__", "rw_secret"}, {"instance", instance}, {"job", "t"}, {"replica", "a"}},
      {{1, static_cast<int64_t>((NowSeconds() + 4) * 1000)}}};
  ASSERT_EQ(prom.Push({conflict}), 204);

  const std::string prom_url = prom.url("/api/v1/write");
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

// The answer of a range query (resultType matrix) as SampleSets.
std::optional<SampleSets> RangeQuery(int port, const std::string& query, double start, double end) {
  const HttpReply r = HttpGet(
      port,
      "/api/v1/query_range?nocache=1&step=15&query=" + httplib::detail::encode_query_param(query) +
          "&start=" + std::to_string(start) + "&end=" + std::to_string(end));
  if (r.status != 200) return std::nullopt;
  const Json body = Json::parse(r.body, nullptr, false);
  if (body.is_discarded()) return std::nullopt;
  SampleSets out;
  for (const auto& series : body["data"]["result"]) {
    std::string key;
    for (const auto& [name, value] : series["metric"].items()) {
      key += name + "=" + value.get<std::string>() + ",";
    }
    for (const auto& s : series["values"]) {
      out[key].push_back(std::to_string(s[0].get<int64_t>()) + "=" + s[1].get<std::string>());
    }
  }
  return out;
}

// remote_read from a Prometheus holding older data: a range query over both
// stores answers what each side answers for its part, merged.
TEST(RemoteReadE2eTest, RangeQuerySpanningBothStores_IsTheUnionOfEachSide) {
  if (!std::filesystem::exists(kPrometheus)) GTEST_SKIP() << kPrometheus << " missing";
  const Prometheus prom;
  MetricsTarget target(kTargetBody);
  const std::string instance = "127.0.0.1:" + std::to_string(target.port());
  const auto now_ms = static_cast<int64_t>(NowSeconds() * 1000);
  remote::RemoteTimeSeries old{{{"__name__", "rw_gauge"},
                                {"instance", instance},
                                {"job", "t"},
                                {"n", "1"},
                                {"replica", "a"}},
                               {}};
  for (int i = 0; i < 40; ++i) {  // 50 to 40 minutes ago
    old.samples.push_back({100.0 + i, now_ms - 50 * 60'000 + i * 15'000});
  }
  ASSERT_EQ(prom.Push({old}), 204);

  const std::string config_text = Config(target.port(), "  []\n");
  const std::string with_read =
      config_text + "remote_read:\n  - url: " + prom.url("/api/v1/read") + "\n    name: old\n";
  VigilProcess vigil(with_read);
  ASSERT_TRUE(vigil.WaitReady());
  std::this_thread::sleep_for(4s);
  const double end = std::floor(NowSeconds()) - 1, start = end - 55 * 60;
  const std::string query = "rw_gauge{n=\"1\"}";
  const auto both = RangeQuery(vigil.port(), query, start, end);
  const auto remote_side = RangeQuery(prom.port(), query + "", start, end);
  ASSERT_TRUE(both && remote_side);
  ASSERT_EQ(remote_side->size(), 1u);

  // The same query with remote_read removed (SIGHUP): Vigil's own part.
  WriteFileAtomically(vigil.config_path(), config_text);
  vigil.Signal(SIGHUP);
  std::optional<SampleSets> local_side;
  ASSERT_TRUE(vigil.WaitFor(
      [&] {
        local_side = RangeQuery(vigil.port(), query, start, end);
        return local_side && *local_side != *both;
      },
      10s));
  ASSERT_EQ(local_side->size(), 1u);
  // Prometheus's answer carries the external label Vigil filters out.
  std::vector<std::string> expected = remote_side->begin()->second;
  const auto& mine = local_side->begin()->second;
  EXPECT_GE(mine.size(), 1u);
  EXPECT_GE(expected.size(), 40u);
  expected.insert(expected.end(), mine.begin(), mine.end());
  ASSERT_EQ(both->size(), 1u);
  EXPECT_EQ(both->begin()->first, local_side->begin()->first);
  EXPECT_EQ(both->begin()->second, expected);
}

}  // namespace
}  // namespace vigil::e2e
