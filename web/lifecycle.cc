// Lifecycle and self-monitoring endpoints: /-/healthy, /-/ready, /-/reload,
// /-/quit and /metrics, with Prometheus 2.42's status codes and texts.
#include <httplib.h>

#include "base/metrics_registry.h"
#include "web/api_context.h"
#include "web/api_response.h"

namespace vigil::web {
namespace {

constexpr const char* kTextFormat = "text/plain; version=0.0.4; charset=utf-8";

void PlainText(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), "text/plain; charset=utf-8");
}

// Not ready before startup completes and while the store cannot write (disk
// full): the second line then says why.
void HandleReady(ApiContext& ctx, httplib::Response& res) {
  if (!ctx.ready.load()) return PlainText(res, 503, "Service Unavailable");
  if (ctx.deps.db != nullptr) {
    if (const Status st = ctx.deps.db->Writable(); !st.ok()) {
      return PlainText(res, 503, "Service Unavailable\n" + st.message() + "\n");
    }
  }
  PlainText(res, 200, "Vigil Server is Ready.\n");
}

void HandleReload(ApiContext& ctx, httplib::Response& res) {
  if (!ctx.deps.reload) return PlainText(res, 200, "");
  const std::lock_guard<std::mutex> lock(ctx.reload_mu);
  const Status st = ctx.deps.reload();
  ctx.last_reload_ok.store(st.ok());
  if (st.ok()) ctx.last_config_time_ms.store(ctx.NowMillis());
  if (!st.ok()) return WritePlainError(res, 500, "failed to reload config: " + st.message());
  PlainText(res, 200, "");
}

void HandleQuit(ApiContext& ctx, httplib::Response& res) {
  PlainText(res, 200, "Requesting termination... Goodbye!");
  if (ctx.deps.quit) ctx.deps.quit();
}

}  // namespace

void RegisterLifecycle(Router& router, ApiContext& ctx) {
  using R = httplib::Response;
  router.Handle("GET", "/-/healthy",
                [](const HttpCall&, R& r) { PlainText(r, 200, "Vigil Server is Healthy.\n"); });
  router.Handle("GET", "/-/ready", [&ctx](const HttpCall&, R& r) { HandleReady(ctx, r); });
  router.Handle("GET", "/metrics", [](const HttpCall&, R& r) {
    r.set_content(MetricsRegistry::Global().Render(), kTextFormat);
  });

  const auto only_post = [](const HttpCall&, R& r) {
    PlainText(r, 405, "Only POST or PUT requests allowed");
  };
  const auto disabled = [](const HttpCall&, R& r) {
    PlainText(r, 403, "Lifecycle API is not enabled.");
  };
  for (const char* path : {"/-/reload", "/-/quit"}) router.Handle("GET", path, only_post);
  for (const char* method : {"POST", "PUT"}) {
    if (!ctx.options.enable_lifecycle) {
      router.Handle(method, "/-/reload", disabled);
      router.Handle(method, "/-/quit", disabled);
      continue;
    }
    router.Handle(method, "/-/reload", [&ctx](const HttpCall&, R& r) { HandleReload(ctx, r); });
    router.Handle(method, "/-/quit", [&ctx](const HttpCall&, R& r) { HandleQuit(ctx, r); });
  }
}

}  // namespace vigil::web
