#include "tests/promql/prometheus_oracle.h"

#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "base/metrics_registry.h"

extern char** environ;

namespace vigil::promql::testing {
namespace {

constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr const char* kPromtool = "/usr/bin/promtool";

std::string FormatSeconds(int64_t ms) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%lld.%03lld", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000));
  return buf;
}

// OpenMetrics requires every family's samples to be contiguous: series are
// written grouped by metric name.
Status WriteOpenMetrics(const std::vector<OracleSeries>& series, const std::string& path) {
  std::map<std::string, std::vector<const OracleSeries*>> families;
  for (const auto& s : series) families[std::string(s.labels.MetricName())].push_back(&s);
  std::ofstream out(path);
  for (const auto& [name, members] : families) {
    for (const OracleSeries* s : members) {
      std::string head = name + "{";
      bool first = true;
      for (const auto& l : s->labels) {
        if (l.name == kMetricNameLabel) continue;
        head += (first ? "" : ",") + l.name + "=\"" + EscapeLabelValue(l.value) + "\"";
        first = false;
      }
      head += "} ";
      for (const auto& p : s->points) out << head << FormatFloat(p.v) << " " << FormatSeconds(p.t) << "\n";
    }
  }
  out << "# EOF\n";
  out.close();
  return out ? Status::OK() : Status::IOError("cannot write " + path);
}

Result<pid_t> Spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::Unavailable("cannot start " + args[0]);
  return pid;
}

Status RunToCompletion(const std::vector<std::string>& args, const std::string& log) {
  auto pid = Spawn(args, log);
  if (!pid.ok()) return pid.status();
  int status = 0;
  waitpid(*pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Unavailable(args[0] + " failed, see " + log);
  }
  return Status::OK();
}

double ParseValue(const nlohmann::json& v) {
  const std::string s = v.get<std::string>();
  if (s == "NaN") return NAN;
  if (s == "+Inf") return INFINITY;
  if (s == "-Inf") return -INFINITY;
  return std::strtod(s.c_str(), nullptr);  // stod throws on subnormals
}

int64_t ParseTime(const nlohmann::json& v) { return std::llround(v.get<double>() * 1000); }

Labels ParseMetric(const nlohmann::json& m) {
  std::vector<Label> labels;
  for (auto it = m.begin(); it != m.end(); ++it) labels.push_back({it.key(), it.value().get<std::string>()});
  return Labels(std::move(labels));
}

Result<Value> ParseResult(const nlohmann::json& data) try {
  Value v;
  const std::string type = data.at("resultType");
  const auto& result = data.at("result");
  if (type == "scalar") {
    v.type = ValueType::kScalar;
    v.scalar = Point{ParseTime(result[0]), ParseValue(result[1])};
  } else if (type == "string") {
    v.type = ValueType::kString;
    v.string = result[1].get<std::string>();
  } else if (type == "vector") {
    v.type = ValueType::kVector;
    for (const auto& s : result) {
      v.vector.push_back(Sample{ParseMetric(s.at("metric")),
                                Point{ParseTime(s.at("value")[0]), ParseValue(s.at("value")[1])}});
    }
  } else {
    v.type = ValueType::kMatrix;
    for (const auto& s : result) {
      Series series{ParseMetric(s.at("metric")), {}};
      for (const auto& p : s.at("values")) series.points.push_back(Point{ParseTime(p[0]), ParseValue(p[1])});
      v.matrix.push_back(std::move(series));
    }
  }
  return v;
} catch (const std::exception& e) {
  return Status::Internal(std::string("bad prometheus result: ") + e.what());
}

}  // namespace

bool PrometheusOracle::Available() {
  return access(kPrometheus, X_OK) == 0 && access(kPromtool, X_OK) == 0;
}

Result<std::unique_ptr<PrometheusOracle>> PrometheusOracle::Start(
    const std::vector<OracleSeries>& series) {
  std::unique_ptr<PrometheusOracle> o(new PrometheusOracle());
  char tmpl[] = "/tmp/vigil-promql-oracle-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return Status::Unavailable("mkdtemp failed");
  o->dir_ = tmpl;
  const std::string om = o->dir_ + "/data.om";
  const std::string data = o->dir_ + "/data";
  const std::string log = o->dir_ + "/log.txt";
  VIGIL_RETURN_IF_ERROR(WriteOpenMetrics(series, om));
  VIGIL_RETURN_IF_ERROR(RunToCompletion(
      {kPromtool, "tsdb", "create-blocks-from", "openmetrics", om, data}, log));
  {
    std::ofstream cfg(o->dir_ + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 1h\n";
  }
  std::mt19937 rng(static_cast<unsigned>(getpid()) ^
                   static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  for (int attempt = 0; attempt < 5; ++attempt) {
    o->port_ = 20000 + static_cast<int>(rng() % 9000);
    auto pid = Spawn({kPrometheus, "--config.file=" + o->dir_ + "/prometheus.yml",
                      "--storage.tsdb.path=" + data, "--storage.tsdb.retention.time=100y",
                      "--web.listen-address=127.0.0.1:" + std::to_string(o->port_),
                      "--log.level=warn"},
                     log);
    if (!pid.ok()) return pid.status();
    o->pid_ = *pid;
    httplib::Client client("127.0.0.1", o->port_);
    for (int i = 0; i < 300; ++i) {
      int status = 0;
      if (waitpid(o->pid_, &status, WNOHANG) == o->pid_) {
        o->pid_ = -1;
        break;  // exited (port taken?): try another port
      }
      auto res = client.Get("/-/ready");
      if (res && res->status == 200) return o;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (o->pid_ > 0) {
      kill(o->pid_, SIGKILL);
      waitpid(o->pid_, nullptr, 0);
      o->pid_ = -1;
    }
  }
  return Status::Unavailable("prometheus did not become ready, see " + log);
}

PrometheusOracle::~PrometheusOracle() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

Result<nlohmann::json> PrometheusOracle::Post(
    const std::string& path, const std::vector<std::pair<std::string, std::string>>& params) {
  httplib::Client client("127.0.0.1", port_);
  client.set_read_timeout(60, 0);
  httplib::Params form;
  for (const auto& [k, v] : params) form.emplace(k, v);
  auto res = client.Post(path.c_str(), form);
  if (!res) return Status::Unavailable("no response from prometheus");
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(res->body);
    if (body.at("status") != "success") {
      return Status(StatusCode::kExecution, body.at("errorType").get<std::string>() + ": " +
                                                body.at("error").get<std::string>());
    }
    return body.at("data");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("bad prometheus response: ") + e.what());
  }
}

Result<Value> PrometheusOracle::InstantQuery(const std::string& query, int64_t ts_ms) {
  auto data = Post("/api/v1/query", {{"query", query}, {"time", FormatSeconds(ts_ms)}});
  if (!data.ok()) return data.status();
  return ParseResult(*data);
}

Result<std::string> PrometheusOracle::FormatQuery(const std::string& query) {
  auto data = Post("/api/v1/format_query", {{"query", query}});
  if (!data.ok()) return data.status();
  return data->get<std::string>();
}

Result<Value> PrometheusOracle::RangeQuery(const std::string& query, int64_t start_ms,
                                           int64_t end_ms, int64_t step_ms) {
  auto data = Post("/api/v1/query_range", {{"query", query},
                                           {"start", FormatSeconds(start_ms)},
                                           {"end", FormatSeconds(end_ms)},
                                           {"step", FormatSeconds(step_ms)}});
  if (!data.ok()) return data.status();
  return ParseResult(*data);
}

}  // namespace vigil::promql::testing
