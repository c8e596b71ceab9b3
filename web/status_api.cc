// Status endpoints: /api/v1/status/{config,flags,runtimeinfo,buildinfo,tsdb,
// walreplay}, /api/v1/alertmanagers, and Vigil's own
// /api/v1/status/remote_write (Prometheus has no such endpoint).
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string_view>
#include <thread>

#include "web/admin_api.h"
#include "web/api_context.h"
#include "web/api_params.h"
#include "web/api_response.h"
#include "web/process_metrics.h"

namespace vigil::web {
namespace {

void HandleConfig(ApiContext& ctx, httplib::Response& res) {
  const std::string yaml = ctx.deps.config_yaml ? ctx.deps.config_yaml() : std::string();
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginObject();
    w.Key("yaml");
    w.String(yaml);
    w.EndObject();
  });
}

void HandleFlags(ApiContext& ctx, httplib::Response& res) {
  auto flags = ctx.options.flags;
  std::sort(flags.begin(), flags.end());
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginObject();
    for (const auto& [name, value] : flags) {
      w.Key(name);
      w.String(value);
    }
    w.EndObject();
  });
}

void HandleRuntimeInfo(ApiContext& ctx, httplib::Response& res) {
  std::error_code ec;
  const std::string cwd = std::filesystem::current_path(ec).string();
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginObject();
    w.Key("startTime");
    w.String(FormatRfc3339(ctx.start_time_ms));
    w.Key("CWD");
    w.String(cwd);
    w.Key("reloadConfigSuccess");
    w.Bool(ctx.last_reload_ok.load());
    w.Key("lastConfigTime");
    w.String(FormatRfc3339(ctx.last_config_time_ms.load() / 1000 * 1000));
    w.Key("corruptionCount");
    w.Int(0);
    w.Key("goroutineCount");
    w.Int(static_cast<int64_t>(
        ReadProcValue("/proc/self/status", "Threads:")));  // Prometheus reports goroutines
    w.Key("GOMAXPROCS");
    w.Int(static_cast<int64_t>(std::thread::hardware_concurrency()));
    w.Key("GOGC");
    w.String("");
    w.Key("GODEBUG");
    w.String("");
    w.Key("storageRetention");
    w.String(EffectiveRetentionText(ctx));
    w.EndObject();
  });
}

void HandleBuildInfo(ApiContext& ctx, httplib::Response& res) {
  const BuildInfo& b = ctx.options.build;
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginObject();
    w.Key("version");
    w.String(b.version);
    w.Key("revision");
    w.String(b.revision);
    w.Key("branch");
    w.String(b.branch);
    w.Key("buildUser");
    w.String(b.build_user);
    w.Key("buildDate");
    w.String(b.build_date);
    w.Key("goVersion");
    w.String(b.go_version);
    w.EndObject();
  });
}

void WriteCounts(JsonWriter& w, std::string_view key, const std::vector<storage::CountByName>& v) {
  w.Key(key);
  w.BeginArray();
  for (const auto& c : v) {
    w.BeginObject();
    w.Key("name");
    w.String(c.name);
    w.Key("value");
    w.Int(static_cast<int64_t>(c.count));
    w.EndObject();
  }
  w.EndArray();
}

// Go's strconv.Atoi: an optional sign and decimal digits within int64.
std::optional<int64_t> GoAtoi(std::string_view s) {
  const bool negative = !s.empty() && s[0] == '-';
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > kMax + (negative ? 1 : 0)) return std::nullopt;
  }
  return negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

// The `limit` of /api/v1/status/tsdb (Prometheus 2.45): how many entries each
// cardinality list has, 10 when not given.
Result<size_t> TsdbLimit(const HttpCall& call) {
  const std::string s = call.Param("limit");
  if (s.empty()) return size_t{10};
  const std::optional<int64_t> limit = GoAtoi(s);
  if (!limit || *limit < 1) return Status::InvalidArgument("limit must be a positive number");
  return static_cast<size_t>(*limit);
}

void HandleTsdb(ApiContext& ctx, const HttpCall& call, httplib::Response& res) {
  const Result<size_t> limit = TsdbLimit(call);
  if (!limit.ok()) return WriteApiError(res, {ApiErrorType::kBadData, limit.status().message()});
  const storage::StorageStats s = ctx.deps.db->Stats(*limit);
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginObject();
    w.Key("headStats");
    w.BeginObject();
    w.Key("numSeries");
    w.Int(static_cast<int64_t>(s.num_series));
    w.Key("numLabelPairs");
    w.Int(static_cast<int64_t>(s.num_label_pairs));
    w.Key("chunkCount");
    w.Int(static_cast<int64_t>(s.chunk_count));
    w.Key("minTime");
    w.Int(s.min_time);
    w.Key("maxTime");
    w.Int(s.max_time);
    w.EndObject();
    WriteCounts(w, "seriesCountByMetricName", s.series_count_by_metric_name);
    WriteCounts(w, "labelValueCountByLabelName", s.label_value_count_by_label_name);
    WriteCounts(w, "memoryInBytesByLabelName", s.memory_in_bytes_by_label_name);
    WriteCounts(w, "seriesCountByLabelValuePair", s.series_count_by_label_pair);
    w.EndObject();
  });
}

// The WAL is replayed before the server starts, so replay is always complete.
void HandleWalReplay(httplib::Response& res) {
  WriteApiSuccess(res, [](JsonWriter& w) {
    w.BeginObject();
    for (const char* key : {"min", "max", "current"}) {
      w.Key(key);
      w.Int(0);
    }
    w.EndObject();
  });
}

void HandleAlertmanagers(ApiContext& ctx, httplib::Response& res) {
  const rules::Notifier* notifier = ctx.deps.notifier;
  const auto active = notifier ? notifier->AlertmanagerUrls() : std::vector<std::string>{};
  const auto dropped = notifier ? notifier->DroppedAlertmanagerUrls() : std::vector<std::string>{};
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginObject();
    for (const auto& [key, urls] :
         {std::pair{"activeAlertmanagers", &active}, std::pair{"droppedAlertmanagers", &dropped}}) {
      w.Key(key);
      w.BeginArray();
      for (const auto& url : *urls) {
        w.BeginObject();
        w.Key("url");
        w.String(url);
        w.EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
  });
}

// An RFC 3339 time, or null for 0 (never).
void TimeOrNull(JsonWriter& w, std::string_view key, int64_t ms) {
  w.Key(key);
  if (ms == 0) return w.Null();
  w.String(FormatRfc3339(ms));
}

void WriteIntFields(JsonWriter& w, std::initializer_list<std::pair<const char*, int64_t>> fields) {
  for (const auto& [key, value] : fields) {
    w.Key(key);
    w.Int(value);
  }
}

void WriteQueueSnapshot(JsonWriter& w, const remote::QueueSnapshot& q) {
  const auto count = [](uint64_t n) { return static_cast<int64_t>(n); };
  w.BeginObject();
  w.Key("name");
  w.String(q.remote_name);
  w.Key("url");
  w.String(q.url);
  w.Key("shards");
  w.BeginObject();
  WriteIntFields(w, {{"current", q.shards}, {"min", q.min_shards}, {"max", q.max_shards}});
  w.Key("desired");
  w.Double(q.shards_desired);
  w.EndObject();
  w.Key("samples");
  w.BeginObject();
  WriteIntFields(w, {{"in", count(q.samples_in)},
                     {"sent", count(q.samples_sent)},
                     {"failed", count(q.samples_failed)},
                     {"retried", count(q.samples_retried)},
                     {"dropped", count(q.samples_dropped)},
                     {"backlogDropped", count(q.samples_backlog_dropped)},
                     {"pending", q.samples_pending}});
  w.EndObject();
  TimeOrNull(w, "highestTimestampRead", q.highest_read_ms);
  TimeOrNull(w, "highestTimestampSent", q.highest_sent_ms);
  w.Key("lagSeconds");
  if (const auto lag = q.LagSeconds()) {
    w.Double(*lag);
  } else {
    w.Null();
  }
  w.Key("lastSendError");
  w.String(q.last_error);
  TimeOrNull(w, "lastSendErrorTime", q.last_error_ms);
  TimeOrNull(w, "lastSuccessfulSendTime", q.last_success_ms);
  w.Key("walPosition");
  w.BeginObject();
  WriteIntFields(w, {{"segment", q.saved_position.segment}, {"offset", q.saved_position.offset}});
  w.EndObject();
  w.EndObject();
}

// Vigil only: the state of each remote_write queue.
void HandleRemoteWrite(ApiContext& ctx, httplib::Response& res) {
  const auto queues = ctx.deps.remote_write ? ctx.deps.remote_write->Snapshots()
                                            : std::vector<remote::QueueSnapshot>{};
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginObject();
    w.Key("queues");
    w.BeginArray();
    for (const auto& q : queues) WriteQueueSnapshot(w, q);
    w.EndArray();
    w.EndObject();
  });
}

}  // namespace

void RegisterStatusApi(Router& router, ApiContext& ctx) {
  using R = httplib::Response;
  router.Handle("GET", "/api/v1/status/config",
                [&ctx](const HttpCall&, R& r) { HandleConfig(ctx, r); });
  router.Handle("GET", "/api/v1/status/flags",
                [&ctx](const HttpCall&, R& r) { HandleFlags(ctx, r); });
  router.Handle("GET", "/api/v1/status/runtimeinfo",
                [&ctx](const HttpCall&, R& r) { HandleRuntimeInfo(ctx, r); });
  router.Handle("GET", "/api/v1/status/buildinfo",
                [&ctx](const HttpCall&, R& r) { HandleBuildInfo(ctx, r); });
  router.Handle("GET", "/api/v1/status/tsdb",
                [&ctx](const HttpCall& c, R& r) { HandleTsdb(ctx, c, r); });
  router.Handle("GET", "/api/v1/status/walreplay",
                [](const HttpCall&, R& r) { HandleWalReplay(r); });
  router.Handle("GET", "/api/v1/status/remote_write",
                [&ctx](const HttpCall&, R& r) { HandleRemoteWrite(ctx, r); });
  router.Handle("GET", "/api/v1/alertmanagers",
                [&ctx](const HttpCall&, R& r) { HandleAlertmanagers(ctx, r); });
}

}  // namespace vigil::web
