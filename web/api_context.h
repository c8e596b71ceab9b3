// ApiContext: what every group of HTTP handlers shares (options, the other
// components, readiness and reload state), and the functions that register
// each group on the router. Internal to web/.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "web/http_router.h"
#include "web/server.h"

namespace vigil::web {

struct ApiContext {
  ServerOptions options;
  ServerDeps deps;
  int64_t start_time_ms = 0;
  std::atomic<bool> ready{false};
  std::atomic<bool> last_reload_ok{true};
  std::atomic<int64_t> last_config_time_ms{0};
  std::mutex reload_mu;  // one reload at a time

  int64_t NowMillis() const { return options.clock->NowMillis(); }
};

// /api/v1/query, query_range, format_query, query_exemplars.
void RegisterQueryApi(Router& router, ApiContext& ctx);
// /api/v1/series, labels, label/<name>/values.
void RegisterSeriesApi(Router& router, ApiContext& ctx);
// /api/v1/targets, targets/metadata, metadata.
void RegisterTargetsApi(Router& router, ApiContext& ctx);
// /api/v1/status/*, rules, alerts, alertmanagers.
void RegisterStatusApi(Router& router, ApiContext& ctx);
void RegisterRulesApi(Router& router, ApiContext& ctx);
// /federate.
void RegisterFederation(Router& router, ApiContext& ctx);
// /api/v1/write and /api/v1/read.
void RegisterRemoteApi(Router& router, ApiContext& ctx);
void RegisterOtlpApi(Router& router, ApiContext& ctx);
// /-/healthy, /-/ready, /-/reload, /-/quit, /metrics.
void RegisterLifecycle(Router& router, ApiContext& ctx);
// / and the UI pages and assets.
void RegisterUi(Router& router, ApiContext& ctx);

}  // namespace vigil::web
