// Hostile input end to end: the real binary, on loopback, receives queries
// built to exhaust its parser, its evaluator and its time limits, slowloris
// connections, oversized and invalid remote writes, a scrape target with an
// absurd timestamp and an alert template that misuses printf. After every
// request it must still answer /-/healthy within 5 s, still hold the sentinel
// series written at the start, and never have answered with a 5xx other than
// 503 (overload).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "remote/remote_protocol.h"
#include "tests/e2e/metrics_target.h"
#include "tests/e2e/vigil_process.h"

namespace vigil::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Limits the binary runs with, low enough that the test reaches them quickly.
constexpr char kQueryTimeout[] = "2s";
constexpr auto kQueryTimeoutDuration = 2s;
constexpr int kMaxSamples = 5000;
// Filler series written at the start, so that a query over every series
// loads more than kMaxSamples samples.
constexpr int kFillerSeries = 20;
constexpr int kFillerSamples = 300;
static_assert(kFillerSeries * kFillerSamples > kMaxSamples);
// The sentinel: kSentinelSamples samples of kSentinelValue, one a second,
// the last at the test's start time.
constexpr char kSentinel[] = "vigil_hostile_sentinel{probe=\"sentinel\"}";
constexpr int kSentinelSamples = 10;
constexpr char kSentinelValue[] = "42";
// What "still answering" means.
constexpr auto kHealthyWithin = 5s;

// A query that takes far longer than kQueryTimeout to evaluate (about 10 s
// without ASan): an 11 000-point range query over a one-hour subquery at
// one-second resolution. It loads 40 M samples, so it runs with Prometheus's
// default --query.max-samples (HostileSlowQuery).
constexpr char kSlowQuery[] = "count_over_time(vector(1)[1h:1s])";
constexpr int kSlowQuerySteps = 10'999;

// Percent-encodes `s` for a URL query or an x-www-form-urlencoded body.
std::string FormEncode(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// "a=1&b=2", encoded.
std::string FormBody(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += FormEncode(k) + "=" + FormEncode(v);
  }
  return out;
}

std::string Repeat(std::string_view s, int n) {
  std::string out;
  out.reserve(s.size() * n);
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

struct Request {
  std::string method = "GET";
  std::string path;
  std::string body;
  std::string content_type = "application/x-www-form-urlencoded";
  httplib::Headers headers;
};

Request GetRequest(const std::string& path) {
  Request r;
  r.path = path;
  return r;
}

struct TimedReply {
  HttpReply reply;
  Clock::duration elapsed{};
  std::string error;  // why there was no answer (status 0)
};

// One request on a fresh connection; status 0 when there was no answer
// (refused, reset, or nothing within `timeout`).
TimedReply Send(int port, const Request& request, std::chrono::seconds timeout = 30s) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(timeout.count());
  client.set_write_timeout(timeout.count());
  const auto start = Clock::now();
  auto res = request.method == "GET"
                 ? client.Get(request.path, request.headers)
                 : client.Post(request.path, request.headers, request.body, request.content_type);
  TimedReply out;
  out.elapsed = Clock::now() - start;
  if (res) {
    out.reply = {res->status, res->body};
  } else {
    out.error = httplib::to_string(res.error());
  }
  return out;
}

// The same API call by GET (parameters in the URL) or by POST (form body).
Request ApiCall(const std::string& method, const std::string& path,
                const std::vector<std::pair<std::string, std::string>>& params) {
  Request r;
  r.method = method;
  r.path = path;
  if (method == "GET") {
    r.path += "?" + FormBody(params);
  } else {
    r.body = FormBody(params);
  }
  return r;
}

std::string Seconds(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ms) / 1000);
  return buf;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Request RemoteWrite(const remote::WriteRequest& write) {
  Request r;
  r.method = "POST";
  r.path = "/api/v1/write";
  r.body = remote::SnappyEncode(remote::EncodeWriteRequest(write));
  r.content_type = "application/x-protobuf";
  r.headers = {{"Content-Encoding", "snappy"}, {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
  return r;
}

std::string Excerpt(const std::string& s) { return s.size() <= 300 ? s : s.substr(0, 300) + "..."; }

std::string ErrorType(const HttpReply& reply) {
  const json j = json::parse(reply.body, nullptr, false);
  return j.is_object() && j.contains("errorType") ? j["errorType"].get<std::string>() : "";
}

// Holds `count` connections that send one byte of a never-ending request
// header every `interval` (slowloris), until destroyed.
class Slowloris {
 public:
  Slowloris(int port, int count, std::chrono::milliseconds interval) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    for (int i = 0; i < count; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        continue;
      }
      fds_.push_back(fd);
    }
    thread_ = std::thread([this, interval] { Trickle(interval); });
  }
  ~Slowloris() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_) close(fd);
  }
  Slowloris(const Slowloris&) = delete;
  Slowloris& operator=(const Slowloris&) = delete;

  int connected() const { return static_cast<int>(fds_.size()); }
  int bytes_sent() const { return bytes_sent_.load(); }

 private:
  void Trickle(std::chrono::milliseconds interval) {
    static constexpr std::string_view kHeader = "GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    for (size_t i = 0; !stop_; ++i) {
      const char c = i < kHeader.size() ? kHeader[i] : 'a';
      for (int fd : fds_) {
        if (send(fd, &c, 1, MSG_NOSIGNAL) == 1) ++bytes_sent_;
      }
      for (auto slept = 0ms; slept < interval && !stop_; slept += 50ms) {
        std::this_thread::sleep_for(50ms);
      }
    }
  }

  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::atomic<int> bytes_sent_{0};
  std::thread thread_;
};

class HostileInput : public ::testing::Test {
 protected:
  // A server that closes a connection early must fail the request, not
  // kill the test with SIGPIPE.
  static void SetUpTestSuite() { signal(SIGPIPE, SIG_IGN); }

  void SetUp() override {
    const std::string rule_files = RuleFile().empty() ? "" : WriteRuleFile(RuleFile());
    vigil_.emplace("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n" + rule_files +
                       ScrapeConfigs(),
                   std::vector<std::string>{
                       "--web.enable-remote-write-receiver",
                       std::string("--query.timeout=") + kQueryTimeout,
                       "--query.max-samples=" + std::to_string(MaxSamples()),
                       "--web.read-timeout=10s",
                   });
    ASSERT_TRUE(vigil_->WaitReady()) << vigil_->Logs();
    WriteSentinelAndFiller();
  }

  void TearDown() override {
    if (!HasFailure() || !vigil_) return;
    const std::string logs = vigil_->Logs();
    std::cerr << "last of the vigil log:\n"
              << logs.substr(logs.size() - std::min<size_t>(logs.size(), 3000)) << "\n";
  }

  // Extra configuration of the derived fixtures.
  virtual std::string RuleFile() const { return ""; }
  virtual std::string ScrapeConfigs() const { return ""; }
  virtual int MaxSamples() const { return kMaxSamples; }

  int port() const { return vigil_->port(); }

  // Sends a hostile request, then checks that vigil survived it. `what`
  // names the request in failure messages.
  TimedReply SendHostile(const std::string& what, const Request& request,
                         std::chrono::seconds timeout = 30s) {
    const auto r = Send(port(), request, timeout);
    ExpectAnsweredWithoutServerError(what, r);
    ExpectStillServing(what);
    return r;
  }

  // An instant query by GET or POST, at the sentinel's time.
  TimedReply SendHostileQuery(const std::string& what, const std::string& method,
                              const std::string& expr) {
    return SendHostile(
        what + " by " + method,
        ApiCall(method, "/api/v1/query", {{"query", expr}, {"time", SentinelTime()}}));
  }

  static void ExpectAnsweredWithoutServerError(const std::string& what, const TimedReply& r) {
    const HttpReply& reply = r.reply;
    EXPECT_NE(reply.status, 0) << what << ": no answer: " << r.error;
    EXPECT_TRUE(reply.status < 500 || reply.status == 503)
        << what << ": answered " << reply.status << " " << Excerpt(reply.body);
  }

  // /-/healthy answers within kHealthyWithin and the sentinel is intact.
  void ExpectStillServing(const std::string& what) {
    ExpectHealthy(what);
    ExpectSentinelIntact(what);
  }

  void ExpectHealthy(const std::string& what) {
    const auto r = Send(port(), GetRequest("/-/healthy"), kHealthyWithin);
    EXPECT_EQ(r.reply.status, 200) << "/-/healthy after " << what;
    EXPECT_LT(r.elapsed, kHealthyWithin) << "/-/healthy after " << what;
  }

  void ExpectSentinelIntact(const std::string& what) {
    EXPECT_EQ(InstantValue(kSentinel), kSentinelValue) << "sentinel after " << what;
    EXPECT_EQ(InstantValue("count_over_time(" + std::string(kSentinel) + "[1m])"),
              std::to_string(kSentinelSamples))
        << "sentinel sample count after " << what;
  }

  // The value of the single series `expr` returns at the sentinel's time, or
  // a description of what came back instead.
  std::string InstantValue(const std::string& expr) {
    const auto r =
        Send(port(), ApiCall("POST", "/api/v1/query", {{"query", expr}, {"time", SentinelTime()}}),
             kHealthyWithin);
    json j = json::parse(r.reply.body, nullptr, false);  // non-const: [] on a missing key is null
    if (r.reply.status != 200 || !j.is_object() || j["data"]["result"].size() != 1) {
      return "status " + std::to_string(r.reply.status) + ": " + Excerpt(r.reply.body);
    }
    return j["data"]["result"][0]["value"][1].get<std::string>();
  }

  std::string SentinelTime() const { return Seconds(sentinel_end_ms_); }
  int64_t sentinel_end_ms() const { return sentinel_end_ms_; }

  std::optional<VigilProcess> vigil_;

 private:
  std::string WriteRuleFile(const std::string& rules) {
    const auto path = dir_.path() / "rules.yml";
    WriteFileAtomically(path, rules);
    return "rule_files:\n  - " + path.string() + "\n";
  }

  void WriteSentinelAndFiller() {
    sentinel_end_ms_ = NowMs() / 1000 * 1000;
    remote::WriteRequest write;
    remote::RemoteTimeSeries sentinel;
    sentinel.labels = {{"__name__", "vigil_hostile_sentinel"}, {"probe", "sentinel"}};
    for (int i = kSentinelSamples - 1; i >= 0; --i) {
      sentinel.samples.push_back({42, sentinel_end_ms_ - i * 1000});
    }
    write.timeseries.push_back(sentinel);
    for (int s = 0; s < kFillerSeries; ++s) {
      remote::RemoteTimeSeries filler;
      filler.labels = {{"__name__", "vigil_hostile_filler"}, {"i", std::to_string(s)}};
      for (int i = kFillerSamples - 1; i >= 0; --i) {
        filler.samples.push_back({static_cast<double>(i), sentinel_end_ms_ - i * 1000});
      }
      write.timeseries.push_back(std::move(filler));
    }
    const auto r = Send(port(), RemoteWrite(write));
    ASSERT_EQ(r.reply.status, 204) << r.reply.body;
    ExpectSentinelIntact("the initial remote write");
  }

  TempDir dir_;
  int64_t sentinel_end_ms_ = 0;
};

// --- PromQL parser ---------------------------------------------------------

TEST_F(HostileInput, HundredThousandChainedSubqueries_AreRefusedAndServerSurvives) {
  const std::string expr = "vector(1)" + Repeat("[1m:]", 100'000);
  for (const char* method : {"GET", "POST"}) {
    const auto r = SendHostileQuery("100k chained [1m:]", method, expr);
    EXPECT_GE(r.reply.status, 400) << method;
  }
}

// Each kind of nesting the grammar allows, 100 000 deep (10 000 for the
// function calls and the subqueries inside functions).
std::vector<std::pair<std::string, std::string>> DeepExpressions() {
  const int n = 100'000;
  const int calls = 10'000;
  return {
      {"100k parentheses", Repeat("(", n) + "1" + Repeat(")", n)},
      {"100k unary minus", Repeat("-", n) + "1"},
      {"100k-term binary chain", "1" + Repeat("+1", n - 1)},
      {"10k nested abs()", Repeat("abs(", calls) + "vector(1)" + Repeat(")", calls)},
      {"10k nested subqueries",
       Repeat("max_over_time(", calls) + "vector(1)" + Repeat("[1m:])", calls)},
      {"100k offset chain", "vigil_hostile_sentinel" + Repeat(" offset 1m", n)},
      {"100k @ chain", "vigil_hostile_sentinel" + Repeat(" @ 100", n)},
  };
}

TEST_F(HostileInput, DeeplyNestedQueries_AreAnsweredAndServerSurvives) {
  for (const auto& [what, expr] : DeepExpressions()) {
    for (const char* method : {"GET", "POST"}) SendHostileQuery(what, method, expr);
  }
}

// --- PromQL limits ------------------------------------------------------------

// Runs with Prometheus's default sample limit, so that slow queries are cut
// by the timeout and not by the sample limit.
class HostileSlowQuery : public HostileInput {
 protected:
  int MaxSamples() const override { return 50'000'000; }
};

TEST_F(HostileSlowQuery, TimeoutParameter_CannotExtendTheQueryTimeoutFlag) {
  const int64_t end = sentinel_end_ms();
  const auto r = SendHostile("slow query with timeout=1000h",
                             ApiCall("POST", "/api/v1/query_range",
                                     {{"query", kSlowQuery},
                                      {"start", Seconds(end - kSlowQuerySteps * 1000LL)},
                                      {"end", Seconds(end)},
                                      {"step", "1"},
                                      {"timeout", "1000h"}}));
  EXPECT_EQ(r.reply.status, 503) << Excerpt(r.reply.body);
  EXPECT_EQ(ErrorType(r.reply), "timeout") << Excerpt(r.reply.body);
  EXPECT_LT(r.elapsed, kQueryTimeoutDuration + 3s);
}

TEST_F(HostileInput, QueryOverEverySeries_HitsMaxSamplesFast) {
  for (const char* method : {"GET", "POST"}) {
    const auto r = SendHostileQuery("count_over_time of every series over 30d", method,
                                    "count_over_time({__name__=~\".+\"}[30d])");
    EXPECT_EQ(r.reply.status, 422) << method << ": " << Excerpt(r.reply.body);
    EXPECT_EQ(ErrorType(r.reply), "execution") << Excerpt(r.reply.body);
    EXPECT_LT(r.elapsed, 5s) << method;
  }
}

TEST_F(HostileInput, RangeQueryOverAllOfTime_IsRefused) {
  for (const char* method : {"GET", "POST"}) {
    const auto r = SendHostile(
        std::string("query_range over +-9e15 s by ") + method,
        ApiCall(method, "/api/v1/query_range",
                {{"query", "vector(1)"}, {"start", "-9e15"}, {"end", "9e15"}, {"step", "1"}}));
    EXPECT_EQ(r.reply.status, 400) << method << ": " << Excerpt(r.reply.body);
  }
}

TEST_F(HostileSlowQuery, FortyConcurrentHeavyQueries_KeepHealthyAnswering) {
  const int64_t end = sentinel_end_ms();
  const std::vector<std::pair<std::string, std::string>> heavy[] = {
      {{"query", kSlowQuery},
       {"start", Seconds(end - kSlowQuerySteps * 1000LL)},
       {"end", Seconds(end)},
       {"step", "1"}},
      {{"query", "count_over_time({__name__=~\".+\"}[1h])"},
       {"start", Seconds(end - 3600'000)},
       {"end", Seconds(end)},
       {"step", "1"}},
  };
  std::vector<TimedReply> replies(40);
  std::atomic<int> done{0};
  std::vector<std::thread> clients;
  for (size_t i = 0; i < replies.size(); ++i) {
    clients.emplace_back([&, i] {
      replies[i] = Send(port(), ApiCall("POST", "/api/v1/query_range", heavy[i % 2]), 60s);
      ++done;
    });
  }
  Clock::duration slowest_healthy{};
  int healthy_checks = 0;
  while (done.load() < static_cast<int>(replies.size())) {
    const auto r = Send(port(), GetRequest("/-/healthy"), kHealthyWithin);
    EXPECT_EQ(r.reply.status, 200) << "/-/healthy during the heavy queries";
    slowest_healthy = std::max(slowest_healthy, r.elapsed);
    ++healthy_checks;
    std::this_thread::sleep_for(200ms);
  }
  for (auto& c : clients) c.join();
  EXPECT_GT(healthy_checks, 0);
  EXPECT_LT(slowest_healthy, kHealthyWithin);
  for (size_t i = 0; i < replies.size(); ++i) {
    const int status = replies[i].reply.status;
    EXPECT_TRUE(status == 200 || status == 422 || status == 503)
        << "heavy query " << i << " answered " << status << replies[i].error;
  }
  ExpectStillServing("40 concurrent heavy queries");
}

// --- HTTP server ------------------------------------------------------------------

TEST_F(HostileInput, FiftySlowlorisConnections_DoNotBlockOtherRequests) {
  Slowloris slowloris(port(), 50, 2s);
  ASSERT_EQ(slowloris.connected(), 50);
  // Check twice: at once, and after every connection has trickled a few bytes.
  for (int round = 0; round < 2; ++round) {
    std::this_thread::sleep_for(round == 0 ? 1s : 4s);
    const std::string what = "50 slowloris connections, round " + std::to_string(round);
    for (const char* path : {"/-/healthy", "/metrics"}) {
      const auto r = Send(port(), GetRequest(path), kHealthyWithin);
      EXPECT_EQ(r.reply.status, 200) << path << " with " << what;
      EXPECT_LT(r.elapsed, kHealthyWithin) << path << " with " << what;
    }
    const auto q = Send(
        port(), ApiCall("GET", "/api/v1/query", {{"query", kSentinel}, {"time", SentinelTime()}}),
        kHealthyWithin);
    EXPECT_EQ(q.reply.status, 200) << "query with " << what;
    EXPECT_LT(q.elapsed, kHealthyWithin) << "query with " << what;
    ExpectStillServing(what);
  }
  EXPECT_GE(slowloris.bytes_sent(), 50 * 3);
}

// --- Remote write ------------------------------------------------------------------

TEST_F(HostileInput, SixtyFourMebibyteRemoteWrite_IsAnswered413) {
  Request r = RemoteWrite({});
  r.body.assign(64 << 20, 'x');
  const auto reply = SendHostile("64 MiB remote write body", r);
  EXPECT_EQ(reply.reply.status, 413) << Excerpt(reply.reply.body);
}

TEST_F(HostileInput, InvalidRemoteWriteLabels_AreRefused400) {
  const std::pair<std::string, std::vector<Label>> cases[] = {
      {"duplicate label name", {{"__name__", "bad"}, {"a", "1"}, {"a", "2"}}},
      {"label value over 65535 bytes", {{"__name__", "bad"}, {"a", std::string(65'536, 'v')}}},
      {"invalid UTF-8 label value", {{"__name__", "bad"}, {"a", "\xff\xfe\xfd"}}},
      {"empty label name", {{"__name__", "bad"}, {"", "1"}}},
  };
  for (const auto& [what, labels] : cases) {
    remote::WriteRequest write;
    write.timeseries.push_back({labels, {{1, sentinel_end_ms()}}});
    const auto r = SendHostile("remote write with " + what, RemoteWrite(write));
    EXPECT_EQ(r.reply.status, 400) << what << ": " << Excerpt(r.reply.body);
  }
}

// --- Scrape target -------------------------------------------------------------------

class HostileScrapeTarget : public HostileInput {
 protected:
  HostileScrapeTarget() {
    target_.SetContentType("application/openmetrics-text; version=1.0.0; charset=utf-8");
  }
  std::string ScrapeConfigs() const override {
    return "scrape_configs:\n  - job_name: hostile\n    static_configs:\n"
           "      - targets: ['" +
           target_.address() + "']\n";
  }

  MetricsTarget target_{
      "# TYPE far_future gauge\n"
      "far_future 1 1e300\n"
      "# TYPE normal gauge\n"
      "normal 1\n"
      "# EOF\n"};
};

TEST_F(HostileScrapeTarget, OpenMetricsTimestamp1e300_DoesNotCrash) {
  ASSERT_TRUE(vigil_->WaitFor([&] { return target_.scrapes() >= 3; }, 15s));
  ExpectStillServing("scraping an OpenMetrics timestamp of 1e300");
  const auto up = Send(port(), ApiCall("GET", "/api/v1/query", {{"query", "up{job=\"hostile\"}"}}));
  EXPECT_EQ(up.reply.status, 200) << Excerpt(up.reply.body);
}

// --- Alert templates ---------------------------------------------------------------

class HostileAlertTemplate : public HostileInput {
 protected:
  std::string RuleFile() const override {
    return "groups:\n"
           "  - name: hostile\n"
           "    interval: 1s\n"
           "    rules:\n"
           "      - alert: PrintfMisuse\n"
           "        expr: vector(1)\n"
           "        annotations:\n"
           "          summary: '{{ printf \"%s: %s\" $labels.foo $labels.alertname }} "
           "{{ printf \"%s\" $value }}'\n";
  }
};

TEST_F(HostileAlertTemplate, PrintfWithMissingAndNumericArguments_DoesNotCrash) {
  const auto firing = [&] {
    const auto r = Send(port(), GetRequest("/api/v1/alerts"), kHealthyWithin);
    return r.reply.status == 200 && r.reply.body.find("\"state\":\"firing\"") != std::string::npos;
  };
  EXPECT_TRUE(vigil_->WaitFor(firing, 15s));
  // A few more evaluations with the alert firing.
  std::this_thread::sleep_for(3s);
  ExpectStillServing("a firing alert with a printf-misusing annotation");
  const auto alerts = Send(port(), GetRequest("/api/v1/alerts"));
  EXPECT_EQ(alerts.reply.status, 200);
  EXPECT_NE(alerts.reply.body.find("PrintfMisuse"), std::string::npos)
      << Excerpt(alerts.reply.body);
}

}  // namespace
}  // namespace vigil::e2e
