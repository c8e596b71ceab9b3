// The HTTP layer: routing (404/405), readiness and lifecycle endpoints,
// /metrics, status endpoints, gzip, CORS, route prefix and request limits.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>

#include "tests/web/api_server.h"

namespace vigil::web::testing {
namespace {

TEST(HttpTest, UnknownPath_Is404PageNotFound) {
  ApiServer api;
  const auto r = api.Get("/api/v1/nonexistent");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "404 page not found\n");
  EXPECT_EQ(api.Send("POST", "/api/v2/foo").status, 404);
}

TEST(HttpTest, WrongMethod_Is405WithAllowHeader) {
  ApiServer api;
  const auto r = api.Send("DELETE", "/api/v1/query");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, "Method Not Allowed\n");
  EXPECT_EQ(r.Header("Allow"), "GET, OPTIONS, POST");
  EXPECT_EQ(api.Get("/api/v1/read").status, 405);
}

TEST(HttpTest, Healthy_AlwaysOk) {
  ApiServer api({}, {}, /*ready=*/false);
  EXPECT_EQ(api.Get("/-/healthy").status, 200);
}

TEST(HttpTest, Ready_503UntilSetReady) {
  ApiServer api({}, {}, /*ready=*/false);
  EXPECT_EQ(api.Get("/-/ready").status, 503);
  EXPECT_EQ(api.Get("/api/v1/query?query=1").status, 503);
  api.server().SetReady(true);
  EXPECT_EQ(api.Get("/-/ready").status, 200);
  EXPECT_EQ(api.Get("/api/v1/query?query=1").status, 200);
}

TEST(HttpTest, Lifecycle_DisabledIs403) {
  ApiServer api;
  for (const char* method : {"POST", "PUT"}) {
    for (const char* path : {"/-/reload", "/-/quit"}) {
      const auto r = api.Send(method, path);
      EXPECT_EQ(r.status, 403) << method << " " << path;
      EXPECT_EQ(r.body, "Lifecycle API is not enabled.");
    }
  }
  const auto get = api.Get("/-/reload");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.body, "Only POST or PUT requests allowed");
}

TEST(HttpTest, Lifecycle_ReloadAndQuitCallTheProcess) {
  std::atomic<int> reloads{0};
  std::atomic<int> quits{0};
  ServerOptions options;
  options.enable_lifecycle = true;
  ServerDeps deps;
  deps.reload = [&] {
    ++reloads;
    return reloads == 1 ? Status::OK() : Status::InvalidArgument("bad yaml");
  };
  deps.quit = [&] { ++quits; };
  ApiServer api(options, deps);
  EXPECT_EQ(api.Send("POST", "/-/reload").status, 200);
  const auto failed = api.Send("PUT", "/-/reload");
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(failed.body, "failed to reload config: bad yaml\n");
  EXPECT_FALSE(api.Get("/api/v1/status/runtimeinfo").Json()["data"]["reloadConfigSuccess"]);
  EXPECT_EQ(api.Send("POST", "/-/quit").status, 200);
  EXPECT_EQ(reloads, 2);
  EXPECT_EQ(quits, 1);
}

TEST(HttpTest, Metrics_ExposesProcessAndBuildInfo) {
  ApiServer api;
  const auto r = api.Get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  for (const char* name : {"process_cpu_seconds_total ", "process_resident_memory_bytes ",
                           "process_start_time_seconds ", "process_open_fds ",
                           "prometheus_build_info{branch=\"main\",goversion=\"gcc\",revision="
                           "\"abc\",version=\"0.1.0\"} 1"}) {
    EXPECT_NE(r.body.find(name), std::string::npos) << name;
  }
}

TEST(HttpTest, Metrics_CountsRequestsPerHandlerAndCode) {
  ApiServer api;
  ASSERT_EQ(api.Get("/api/v1/query?query=1").status, 200);
  ASSERT_EQ(api.Get("/api/v1/query?query=1&time=x").status, 400);
  ASSERT_EQ(api.Get("/api/v1/label/job/values").status, 200);
  const auto r = api.Get("/metrics");
  for (const char* line :
       {"prometheus_http_requests_total{code=\"200\",handler=\"/api/v1/query\"} 1\n",
        "prometheus_http_requests_total{code=\"400\",handler=\"/api/v1/query\"} 1\n",
        "prometheus_http_requests_total{code=\"200\",handler=\"/api/v1/label/:name/values\"} 1\n",
        "prometheus_http_request_duration_seconds_count{handler=\"/api/v1/query\"} 2\n",
        // Both /api/v1/query answers are shorter than 1000 bytes.
        "prometheus_http_response_size_bytes_bucket{handler=\"/api/v1/query\",le=\"1000\"} 2\n",
        "prometheus_http_response_size_bytes_count{handler=\"/api/v1/query\"} 2\n",
        "prometheus_ready 1\n"}) {
    EXPECT_NE(r.body.find(line), std::string::npos) << line;
  }
}

TEST(HttpTest, BuildInfo_ShapeAsPrometheus) {
  ApiServer api;
  EXPECT_EQ(api.Get("/api/v1/status/buildinfo").body,
            R"({"status":"success","data":{"version":"0.1.0","revision":"abc","branch":"main",)"
            R"("buildUser":"vigil","buildDate":"20261125","goVersion":"gcc"}})");
}

TEST(HttpTest, StatusEndpoints_HavePrometheusKeys) {
  ServerOptions options;
  options.flags = {{"web.enable-lifecycle", "false"}, {"config.file", "p.yml"}};
  options.storage_retention = "30d";
  ServerDeps deps;
  deps.config_yaml = [] { return std::string("global:\n  scrape_interval: 15s\n"); };
  ApiServer api(options, deps);
  EXPECT_EQ(api.Get("/api/v1/status/config").body,
            R"({"status":"success","data":{"yaml":"global:\n  scrape_interval: 15s\n"}})");
  EXPECT_EQ(
      api.Get("/api/v1/status/flags").body,
      R"({"status":"success","data":{"config.file":"p.yml","web.enable-lifecycle":"false"}})");
  const auto info = api.Get("/api/v1/status/runtimeinfo").Json()["data"];
  for (const char* key :
       {"startTime", "CWD", "reloadConfigSuccess", "lastConfigTime", "corruptionCount",
        "goroutineCount", "GOMAXPROCS", "GOGC", "GODEBUG", "storageRetention"}) {
    EXPECT_TRUE(info.contains(key)) << key;
  }
  EXPECT_EQ(info["startTime"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(info["storageRetention"], "30d");
  api.Add({{"__name__", "up"}, {"job", "a"}}, kNowMs, 1);
  const auto tsdb = api.Get("/api/v1/status/tsdb").Json()["data"];
  EXPECT_EQ(tsdb["headStats"]["numSeries"], 1);
  for (const char* key : {"seriesCountByMetricName", "labelValueCountByLabelName",
                          "memoryInBytesByLabelName", "seriesCountByLabelValuePair"}) {
    EXPECT_TRUE(tsdb[key].is_array()) << key;
  }
  EXPECT_EQ(api.Get("/api/v1/status/walreplay").body,
            R"({"status":"success","data":{"min":0,"max":0,"current":0}})");
}

// The `limit` parameter (Prometheus 2.45; 2.48 web/api/v1/api.go serveTSDBStatus
// and api_test.go TestTSDBStatus): 10 entries per list by default, `limit`
// of them when given, and a bad_data error unless it is a positive integer.
TEST(HttpTest, TsdbStatus_LimitBoundsEachCardinalityListAndMustBePositive) {
  ApiServer api;
  for (int i = 0; i < 12; ++i) api.Add({{"__name__", "m" + std::to_string(i)}}, kNowMs, 1);
  EXPECT_EQ(api.Get("/api/v1/status/tsdb").Json()["data"]["seriesCountByMetricName"].size(), 10u);
  EXPECT_EQ(api.Get("/api/v1/status/tsdb?limit=").Json()["data"]["seriesCountByMetricName"].size(),
            10u);
  // (MemoryStorage fills only this list; the store cuts all four with the same limit.)
  EXPECT_EQ(api.Get("/api/v1/status/tsdb?limit=2").Json()["data"]["seriesCountByMetricName"].size(),
            2u);
  EXPECT_EQ(
      api.Get("/api/v1/status/tsdb?limit=%2B20").Json()["data"]["seriesCountByMetricName"].size(),
      12u);
  EXPECT_EQ(api.Get("/api/v1/status/tsdb?limit=9223372036854775807")
                .Json()["data"]["headStats"]["numSeries"],
            12);
  for (const char* bad : {"0", "-1", "abc", "1.5", "1e3", "9223372036854775808", "%205"}) {
    const auto r = api.Get(std::string("/api/v1/status/tsdb?limit=") + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(
        r.body,
        R"({"status":"error","errorType":"bad_data","error":"limit must be a positive number"})")
        << bad;
  }
}

// Vigil's own endpoint (Prometheus has none): no queues without remote_write.
TEST(HttpTest, RemoteWriteStatus_ListsNoQueuesWithoutRemoteWrite) {
  ApiServer api;
  EXPECT_EQ(api.Get("/api/v1/status/remote_write").body,
            R"({"status":"success","data":{"queues":[]}})");
}

TEST(HttpTest, RuleEndpoints_EmptyAsPrometheusWithoutRules) {
  ApiServer api;
  EXPECT_EQ(api.Get("/api/v1/rules").body, R"({"status":"success","data":{"groups":[]}})");
  EXPECT_EQ(api.Get("/api/v1/alerts").body, R"({"status":"success","data":{"alerts":[]}})");
  EXPECT_EQ(api.Get("/api/v1/alertmanagers").body,
            R"({"status":"success","data":{"activeAlertmanagers":[],"droppedAlertmanagers":[]}})");
}

TEST(HttpTest, Gzip_WhenClientAcceptsIt) {
  ApiServer api;
  const auto r = api.Get("/api/v1/status/buildinfo", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(api.Get("/api/v1/status/buildinfo").Header("Content-Encoding"), "");
}

TEST(HttpTest, Cors_AnyOriginByDefault) {
  ApiServer api;
  const auto r = api.Get("/api/v1/query?query=1", {{"Origin", "http://grafana:3000"}});
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(r.Header("Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
  const auto preflight = api.Send("OPTIONS", "/api/v1/query", "", "", {{"Origin", "http://x"}});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(api.Get("/api/v1/query?query=1").Header("Access-Control-Allow-Origin"), "");
}

TEST(HttpTest, Cors_OriginRegexIsAnchored) {
  ServerOptions options;
  options.cors_origin = "https?://grafana\\.example";
  ApiServer api(options);
  EXPECT_EQ(api.Get("/api/v1/query?query=1", {{"Origin", "https://grafana.example"}})
                .Header("Access-Control-Allow-Origin"),
            "https://grafana.example");
  EXPECT_EQ(api.Get("/api/v1/query?query=1", {{"Origin", "https://grafana.example.evil"}})
                .Header("Access-Control-Allow-Origin"),
            "");
}

TEST(HttpTest, RoutePrefix_ServesUnderPrefixOnly) {
  ServerOptions options;
  options.route_prefix = "/vigil";
  ApiServer api(options);
  EXPECT_EQ(api.Get("/vigil/api/v1/query?query=1").status, 200);
  EXPECT_EQ(api.Get("/vigil/-/healthy").status, 200);
  EXPECT_EQ(api.Get("/api/v1/query?query=1").status, 404);
  const auto root = api.Get("/");
  EXPECT_EQ(root.status, 302);
  EXPECT_EQ(root.Header("Location"), "/vigil");
  const auto ui = api.Get("/vigil/");
  EXPECT_EQ(ui.status, 302);
  EXPECT_EQ(ui.Header("Location"), "/vigil/graph");
}

TEST(HttpTest, Root_RedirectsToGraphWhichServesHtml) {
  ApiServer api;
  const auto root = api.Get("/");
  EXPECT_EQ(root.status, 302);
  EXPECT_EQ(root.Header("Location"), "/graph");
  const auto graph = api.Get("/graph");
  EXPECT_EQ(graph.status, 200);
  EXPECT_TRUE(graph.Header("Content-Type").starts_with("text/html"))
      << graph.Header("Content-Type");
}

TEST(HttpTest, OversizedBody_Is413) {
  ServerOptions options;
  options.max_request_bytes = 1024;
  ApiServer api(options);
  const auto r = api.PostForm("/api/v1/query", "query=" + std::string(4096, '1'));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(api.PostForm("/api/v1/query", "query=1").status, 200);
}

TEST(HttpTest, KeepAlive_ServesManyRequestsOnOneConnection) {
  ApiServer api;
  httplib::Client client("127.0.0.1", api.port());
  client.set_keep_alive(true);
  for (int i = 0; i < 20; ++i) {
    const auto r = client.Get("/api/v1/query?query=1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
}

// Sends `request` as is over a fresh connection and returns what came back
// once `expected` appeared in it (or the server stopped sending for 5 s).
std::string RawExchange(int port, const std::string& request, const std::string& expected) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return "";
  std::string reply;
  if (send(fd, request.data(), request.size(), 0) > 0) {
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4096];
    while (reply.find(expected) == std::string::npos) {  // the body may come in a later segment
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      reply.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return reply;
}

TEST(HttpTest, PostWithoutContentLength_IsServedAsAnEmptyBody) {
  // What `curl -X POST 'http://.../api/v1/admin/tsdb/snapshot'` sends: no
  // Content-Length, no body, connection kept open.
  ApiServer api;
  const std::string reply = RawExchange(
      api.port(), "POST /api/v1/query?query=1%2B1 HTTP/1.1\r\nHost: x\r\n\r\n", "\"2\"");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200")) << reply;
  EXPECT_NE(reply.find("\"2\""), std::string::npos) << reply;
}

TEST(HttpTest, UnencodedEqualsAndQuotesInQueryString_SplitAtTheFirstEquals) {
  // `curl -g 'http://.../api/v1/query?query=label_replace(vector(1),"a","b","","")'`
  // style: '=' and '"' left unencoded in the value, as Go's parser accepts.
  ApiServer api;
  const std::string reply = RawExchange(
      api.port(), "GET /api/v1/query?query=count(vector(1)==1) HTTP/1.1\r\nHost: x\r\n\r\n",
      "\"1\"]");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200")) << reply;
  EXPECT_NE(reply.find("\"1\"]"), std::string::npos) << reply;
}

TEST(HttpTest, KeptAliveConnection_AnswersSmallQueriesWithoutNagleDelay) {
  // With Nagle on, each small answer on a kept-alive connection waited ~40 ms
  // for the client's delayed ACK; Grafana keeps connections alive.
  ApiServer api;
  httplib::Client client("127.0.0.1", api.port());
  client.set_keep_alive(true);
  std::vector<double> ms;
  for (int i = 0; i < 21; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto res = client.Get("/api/v1/query?query=1");
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    ASSERT_TRUE(res && res->status == 200);
  }
  std::sort(ms.begin(), ms.end());
  EXPECT_LT(ms[ms.size() / 2], 20.0) << "median of 21 kept-alive queries";
}

TEST(HttpTest, SlowClient_DoesNotBlockOthers) {
  ServerOptions options;
  options.max_connections = 8;
  ApiServer api(options);
  // Three connections that send half a request and stall.
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    const int fd = ConnectLoopback(api.port());
    ASSERT_GE(fd, 0);
    const std::string partial = "GET /api/v1/query?query=1 HTTP/1.1\r\nHost: x\r\n";
    ASSERT_GT(send(fd, partial.data(), partial.size(), 0), 0);
    fds.push_back(fd);
  }
  EXPECT_EQ(api.Get("/api/v1/query?query=1").status, 200);
  for (const int fd : fds) close(fd);
}

}  // namespace
}  // namespace vigil::web::testing
