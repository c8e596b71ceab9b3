// The web UI: "/" redirects to the graph page, the UI's page paths answer with
// its index.html and everything else under the prefix is looked up among the
// embedded assets (web/ui/assets.h). Without the UI build (no node/npm) a
// minimal page links to the API instead.
#include <httplib.h>

#include "web/api_context.h"
#include "web/api_response.h"

#ifdef VIGIL_HAVE_WEB_UI
#include "web/ui/assets.h"
#endif

namespace vigil::web {
namespace {

// The route prefix without a trailing slash ("" for "/").
std::string PrefixBase(const ApiContext& ctx) {
  std::string prefix = ctx.options.route_prefix;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return prefix;
}

void Redirect(httplib::Response& res, const std::string& location) {
  res.status = 302;
  res.set_header("Location", location);
  res.set_content("<a href=\"" + location + "\">Found</a>.\n\n", "text/html; charset=utf-8");
}

#ifdef VIGIL_HAVE_WEB_UI
void ServeAsset(const HttpCall& call, httplib::Response& res, const UiAsset& asset) {
  res.set_header("ETag", std::string(asset.etag));
  res.set_header("Cache-Control", std::string(asset.cache_control));
  if (call.Header("If-None-Match") == asset.etag) {
    res.status = 304;
    return;
  }
  res.status = 200;
  if (asset.gzipped) res.set_header("Content-Encoding", "gzip");
  // A content provider keeps httplib from compressing the bytes a second time.
  const std::string_view data = asset.data;
  res.set_content_provider(data.size(), std::string(asset.content_type),
                           [data](size_t offset, size_t length, httplib::DataSink& sink) {
                             return sink.write(data.data() + offset, length);
                           });
}

void ServeUi(const HttpCall& call, httplib::Response& res) {
  const UiAsset* asset = IsUiPage(call.path) ? FindUiAsset("/index.html") : FindUiAsset(call.path);
  if (asset == nullptr) return WritePlainError(res, 404, "404 page not found");
  ServeAsset(call, res, *asset);
}
#else
bool IsBuiltinPage(std::string_view path) {
  for (const char* page : {"/graph", "/targets", "/status", "/service-discovery", "/alerts",
                           "/rules", "/flags", "/config", "/tsdb-status", "/remote-write"}) {
    if (path == page) return true;
  }
  return false;
}

void ServeUi(const HttpCall& call, httplib::Response& res) {
  if (!IsBuiltinPage(call.path)) return WritePlainError(res, 404, "404 page not found");
  res.set_content(
      "<!doctype html><title>Vigil</title><h1>Vigil</h1>"
      "<p>This build has no web UI (it needs node and npm). The HTTP API is available:</p>"
      "<ul><li><a href=\"api/v1/targets\">targets</a></li>"
      "<li><a href=\"api/v1/status/buildinfo\">build information</a></li>"
      "<li><a href=\"api/v1/status/flags\">flags</a></li>"
      "<li><a href=\"api/v1/status/config\">configuration</a></li>"
      "<li><a href=\"api/v1/status/remote_write\">remote write</a></li>"
      "<li><a href=\"metrics\">metrics</a></li></ul>",
      "text/html; charset=utf-8");
}
#endif

}  // namespace

void RegisterUi(Router& router, ApiContext& ctx) {
  const std::string graph = PrefixBase(ctx) + "/graph";
  router.Handle("GET", "/", [graph](const HttpCall&, httplib::Response& r) { Redirect(r, graph); });
  router.SetGetFallback(ServeUi);
}

}  // namespace vigil::web
