#include "web/admin_api.h"

#include <httplib.h>

#include <ctime>
#include <filesystem>
#include <random>

#include "base/duration.h"
#include "base/logger.h"
#include "web/api_params.h"
#include "web/api_response.h"

namespace vigil::web {
namespace {

using httplib::Response;

// Prometheus answers a disabled admin API with errorType "unavailable" but,
// unlike other unavailable errors, HTTP 500.
void WriteAdminDisabled(Response& res) {
  WriteApiError(res, {ApiErrorType::kUnavailable, "admin APIs disabled"});
  res.status = 500;
}

void WriteNoContent(Response& res) {
  res.status = 204;
  res.body.clear();
}

void HandleDeleteSeries(ApiContext& ctx, const HttpCall& call, Response& res) {
  if (call.Params("match[]").empty()) {
    return WriteApiError(res, {ApiErrorType::kBadData, "no match[] parameter provided"});
  }
  auto start = TimeParamOr(call, "start", storage::kMinTime);
  if (!start.ok()) return WriteApiError(res, ApiErrorFromStatus(start.status()));
  auto end = TimeParamOr(call, "end", storage::kMaxTime);
  if (!end.ok()) return WriteApiError(res, ApiErrorFromStatus(end.status()));
  auto selectors = MatchParams(call);
  if (!selectors.ok()) return WriteApiError(res, ApiErrorFromStatus(selectors.status()));
  for (const auto& matchers : *selectors) {
    if (Status st = ctx.deps.db->DeleteSeries(matchers, *start, *end); !st.ok()) {
      return WriteApiError(res, {ApiErrorType::kInternal, st.message()});
    }
  }
  WriteNoContent(res);
}

void HandleCleanTombstones(ApiContext& ctx, Response& res) {
  if (Status st = ctx.deps.db->CleanTombstones(); !st.ok()) {
    return WriteApiError(res, {ApiErrorType::kInternal, st.message()});
  }
  WriteNoContent(res);
}

void HandleSnapshot(ApiContext& ctx, const HttpCall& call, Response& res) {
  bool skip_head = false;
  if (call.HasParam("skip_head")) {
    auto parsed = ParseGoBool(call.Param("skip_head"));
    if (!parsed.ok())
      return WriteApiError(res, InvalidParam("skip_head", parsed.status().message()));
    skip_head = *parsed;
  }
  const std::string name = SnapshotName(ctx.NowMillis());
  const std::filesystem::path dir =
      std::filesystem::path(ctx.options.storage_path) / "snapshots" / name;
  if (Status st = ctx.deps.db->Snapshot(dir.string(), skip_head); !st.ok()) {
    return WriteApiError(res, {ApiErrorType::kInternal, "create snapshot: " + st.message()});
  }
  VLOG_INFO("Snapshot created",
            {{"dir", dir.string()}, {"skip_head", skip_head ? "true" : "false"}});
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginObject();
    w.Key("name");
    w.String(name);
    w.EndObject();
  });
}

void HandleCompact(ApiContext& ctx, Response& res) {
  if (Status st = ctx.deps.db->Compact(); !st.ok()) {
    return WriteApiError(res, {ApiErrorType::kInternal, st.message()});
  }
  WriteNoContent(res);
}

void WriteRetention(const storage::RetentionSettings& r, Response& res) {
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginObject();
    w.Key("time");
    w.String(FormatRetentionDuration(r.retention_ms));
    w.Key("size");
    w.String(FormatByteSize(r.retention_bytes));
    w.Key("timeSeconds");
    w.Int(r.retention_ms / 1000);
    w.Key("sizeBytes");
    w.Int(r.retention_bytes);
    w.Key("source");
    w.String(r.from_runtime ? "runtime" : "flags");
    w.EndObject();
  });
}

// "0" disables a limit in both parameters; otherwise a duration / byte size.
Result<int64_t> ParseLimit(std::string_view text, bool is_size) {
  if (text == "0") return int64_t{0};
  return is_size ? ParseByteSize(text) : ParseDuration(text);
}

void HandleSetRetention(ApiContext& ctx, const HttpCall& call, Response& res) {
  if (!call.HasParam("time") && !call.HasParam("size")) {
    return WriteApiError(res,
                         {ApiErrorType::kBadData, "at least one of time and size must be given"});
  }
  storage::RetentionSettings next = ctx.deps.db->GetRetention();
  for (const bool is_size : {false, true}) {
    const char* name = is_size ? "size" : "time";
    if (!call.HasParam(name)) continue;
    auto v = ParseLimit(call.Param(name), is_size);
    if (!v.ok()) return WriteApiError(res, InvalidParam(name, v.status().message()));
    (is_size ? next.retention_bytes : next.retention_ms) = *v;
  }
  if (Status st = ctx.deps.db->SetRetention(next.retention_ms, next.retention_bytes); !st.ok()) {
    return WriteApiError(res, ApiErrorFromStatus(st));
  }
  WriteRetention(ctx.deps.db->GetRetention(), res);
}

}  // namespace

std::string SnapshotName(int64_t now_ms) {
  const std::time_t secs = static_cast<std::time_t>(now_ms / 1000);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char suffix[24];
  std::snprintf(suffix, sizeof(suffix), "-%016llx",
                static_cast<unsigned long long>(rng() >> 1));  // Go's rand.Int63
  return std::string(stamp) + suffix;
}

std::string EffectiveRetentionText(const ApiContext& ctx) {
  if (ctx.deps.db == nullptr) return ctx.options.storage_retention;
  const storage::RetentionSettings r = ctx.deps.db->GetRetention();
  if (!r.from_runtime) return ctx.options.storage_retention;
  const std::string time = r.retention_ms > 0 ? FormatRetentionDuration(r.retention_ms) : "";
  const std::string size = r.retention_bytes > 0 ? FormatByteSize(r.retention_bytes) : "";
  if (time.empty() && size.empty()) return "unlimited";
  if (time.empty() || size.empty()) return time + size;
  return time + " or " + size;
}

Result<bool> ParseGoBool(std::string_view text) {
  for (const std::string_view t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (text == t) return true;
  }
  for (const std::string_view f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (text == f) return false;
  }
  return Status::InvalidArgument("unable to parse boolean: strconv.ParseBool: parsing \"" +
                                 std::string(text) + "\": invalid syntax");
}

void RegisterAdminApi(Router& router, ApiContext& ctx) {
  using Handler = void (*)(ApiContext&, const HttpCall&, Response&);
  struct Endpoint {
    const char* path;
    std::vector<const char*> methods;
    Handler handler;
  };
  const std::vector<Endpoint> endpoints = {
      {"/api/v1/admin/tsdb/delete_series", {"POST", "PUT"}, HandleDeleteSeries},
      {"/api/v1/admin/tsdb/clean_tombstones",
       {"POST", "PUT"},
       [](ApiContext& c, const HttpCall&, Response& r) { HandleCleanTombstones(c, r); }},
      {"/api/v1/admin/tsdb/snapshot", {"POST", "PUT"}, HandleSnapshot},
      {"/api/v1/admin/tsdb/compact",
       {"POST", "PUT"},
       [](ApiContext& c, const HttpCall&, Response& r) { HandleCompact(c, r); }},
      {"/api/v1/admin/retention", {"PUT", "POST"}, HandleSetRetention},
      {"/api/v1/admin/retention",
       {"GET"},
       [](ApiContext& c, const HttpCall&, Response& r) {
         WriteRetention(c.deps.db->GetRetention(), r);
       }},
  };
  const bool enabled = ctx.options.enable_admin_api && ctx.deps.db != nullptr;
  for (const Endpoint& e : endpoints) {
    for (const char* method : e.methods) {
      router.Handle(method, e.path,
                    [&ctx, enabled, handler = e.handler](const HttpCall& call, Response& res) {
                      if (!enabled) return WriteAdminDisabled(res);
                      handler(ctx, call, res);
                    });
    }
  }
}

}  // namespace vigil::web
