// OTLP metrics receiver (Prometheus 2.47+, --enable-feature=otlp-write-receiver).
// Names and labels: the cases of Prometheus 2.48's
// storage/remote/otlptranslator/prometheus/normalize_name_test.go and
// normalize_label_test.go. Translation: requests assembled field by field
// after opentelemetry-proto v1 (metrics.proto, common.proto, resource.proto),
// expected series as 2.48's otlptranslator/prometheusremotewrite builds them.
// The real OpenTelemetry JS SDK is in tests/otlp/.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>

#include "base/sample.h"
#include "remote/protobuf_wire.h"
#include "tests/web/api_server.h"
#include "web/otlp_translate.h"

namespace vigil::web::testing {
namespace {

using remote::ProtoReader;
using remote::ProtoWriter;
using remote::WireType;

struct NameCase {
  const char* name;
  const char* unit;
  const char* type;  // "Gauge" or "Sum" (monotonic: a counter)
  const char* want;
};

TEST(OtlpNames, MatchPrometheus248NormalizeNameTest) {
  const NameCase cases[] = {
      {"system.filesystem.usage", "By", "Gauge", "system_filesystem_usage_bytes"},
      {"system.io", "By", "Sum", "system_io_bytes_total"},
      {"network_transmitted_bytes_total", "By", "Sum", "network_transmitted_bytes_total"},
      {"\t system.filesystem.usage       ", "  By\t", "Gauge", "system_filesystem_usage_bytes"},
      {"system.network.dropped", "{packets}", "Gauge", "system_network_dropped"},
      {"system.network.dropped", "{packets}", "Sum", "system_network_dropped_total"},
      {"system.network.dropped", "packets", "Gauge", "system_network_dropped_packets"},
      {"system.network.packets.dropped", "packets", "Gauge", "system_network_packets_dropped"},
      {"system.network.packets", "packets", "Gauge", "system_network_packets"},
      {"system.network.dropped", "packets", "Sum", "system_network_dropped_packets_total"},
      {"system.network.packets", "packets", "Sum", "system_network_packets_total"},
      {"hw.gpu.memory.utilization", "1", "Gauge", "hw_gpu_memory_utilization_ratio"},
      {"hw.fan.speed_ratio", "1", "Gauge", "hw_fan_speed_ratio"},
      {"objects", "1", "Sum", "objects_total"},
      {"hw.cpu.speed_limit", "Hz", "Gauge", "hw_cpu_speed_limit_hertz"},
      {"broken.metric.speed", "km/h", "Gauge", "broken_metric_speed_km_per_hour"},
      {"astro.light.speed_limit", "m/s", "Gauge", "astro_light_speed_limit_meters_per_second"},
      {"broken.metric.success_ratio", "%", "Gauge", "broken_metric_success_ratio_percent"},
      {"broken.metric.success_percent", "%", "Gauge", "broken_metric_success_percent"},
      {"crypto.bitcoin.value", "$", "Gauge", "crypto_bitcoin_value_dollars"},
      {"crypto.bitcoin.value.dollars", "$", "Gauge", "crypto_bitcoin_value_dollars"},
      {"test.metric.no_unit", "", "Gauge", "test_metric_no_unit"},
      {"test.metric.spaces", "   \t  ", "Gauge", "test_metric_spaces"},
      {"unsupported.metric.temperature", "°F", "Gauge", "unsupported_metric_temperature_F"},
      {"unsupported.metric.weird", "+=.:,!* & #", "Gauge", "unsupported_metric_weird"},
      {"unsupported.metric.redundant", "__test $/°C", "Gauge",
       "unsupported_metric_redundant_test_per_C"},
      {"active_directory.ds.replication.object.rate", "{objects}/s", "Gauge",
       "active_directory_ds_replication_object_rate_per_second"},
      {"active_directory.ds.ldap.bind.last_successful.time", "ms", "Gauge",
       "active_directory_ds_ldap_bind_last_successful_time_milliseconds"},
      {"apache.requests", "1", "Sum", "apache_requests_total"},
      {"system.disk.operation_time", "s", "Sum", "system_disk_operation_time_seconds_total"},
      {"system.cpu.load_average.15m", "1", "Gauge", "system_cpu_load_average_15m_ratio"},
      {"mongodbatlas.process.network.io", "By/s", "Gauge",
       "mongodbatlas_process_network_io_bytes_per_second"},
      {"mongodbatlas.process.oplog.rate", "GiBy/h", "Gauge",
       "mongodbatlas_process_oplog_rate_gibibytes_per_hour"},
      {"mongodbatlas.process.db.query_targeting.scanned_per_returned", "{scanned}/{returned}",
       "Gauge", "mongodbatlas_process_db_query_targeting_scanned_per_returned"},
      {"redis.latest_fork", "us", "Gauge", "redis_latest_fork_microseconds"},
  };
  for (const NameCase& c : cases) {
    const bool counter = std::strcmp(c.type, "Sum") == 0;
    EXPECT_EQ(OtlpPrometheusName(c.name, c.unit, c.type, counter), c.want)
        << c.name << " " << c.unit;
  }
  // Not in Prometheus's table, but from the same rules: a leading digit gets "_".
  EXPECT_EQ(OtlpPrometheusName("1st.metric", "", "Gauge", false), "_1st_metric");
  // A non-monotonic sum gets no _total.
  EXPECT_EQ(OtlpPrometheusName("queue.size", "", "Sum", false), "queue_size");
}

TEST(OtlpNames, LabelsMatchPrometheus248NormalizeLabelTest) {
  EXPECT_EQ(OtlpLabelName(""), "");
  EXPECT_EQ(OtlpLabelName("_test"), "_test");
  EXPECT_EQ(OtlpLabelName("0test"), "key_0test");
  EXPECT_EQ(OtlpLabelName("test"), "test");
  EXPECT_EQ(OtlpLabelName("test_/"), "test__");
  EXPECT_EQ(OtlpLabelName("__test"), "__test");
  EXPECT_EQ(OtlpLabelName("http.method"), "http_method");
}

// ---- OTLP protobuf, assembled by hand ----------------------------------------

void Fixed64(ProtoWriter& w, uint32_t field, uint64_t v) {
  // ProtoWriter has no fixed64 writer; a double with the same bits is one.
  double d;
  std::memcpy(&d, &v, sizeof(d));
  w.Double(field, d);
}

ProtoWriter StringAttr(const std::string& key, const std::string& value) {
  ProtoWriter any;
  any.Bytes(1, value);
  ProtoWriter kv;
  kv.Bytes(1, key);
  kv.Message(2, any);
  return kv;
}

ProtoWriter IntAttr(const std::string& key, int64_t value) {
  ProtoWriter any;
  any.Int64(3, value);
  ProtoWriter kv;
  kv.Bytes(1, key);
  kv.Message(2, any);
  return kv;
}

constexpr uint64_t kTimeNs = uint64_t{1'700'000'000'000} * 1'000'000 - 30'000'000'000;  // now-30s
constexpr int64_t kTimeMs = 1'700'000'000'000 - 30'000;

ProtoWriter NumberPoint(double value, const std::vector<ProtoWriter>& attrs, uint32_t flags = 0) {
  ProtoWriter p;
  for (const auto& a : attrs) p.Message(7, a);
  Fixed64(p, 2, kTimeNs - 60'000'000'000);
  Fixed64(p, 3, kTimeNs);
  p.Double(4, value);
  if (flags != 0) p.Varint(8, flags);
  return p;
}

ProtoWriter Metric(const std::string& name, const std::string& unit, uint32_t data_field,
                   const ProtoWriter& data) {
  ProtoWriter m;
  m.Bytes(1, name);
  m.Bytes(2, "a description");
  m.Bytes(3, unit);
  m.Message(data_field, data);
  return m;
}

ProtoWriter Gauge(const ProtoWriter& point) {
  ProtoWriter g;
  g.Message(1, point);
  return g;
}

ProtoWriter Sum(const ProtoWriter& point, int temporality, bool monotonic) {
  ProtoWriter s;
  s.Message(1, point);
  s.Varint(2, static_cast<uint64_t>(temporality));
  s.Varint(3, monotonic ? 1 : 0);
  return s;
}

ProtoWriter Histogram() {
  ProtoWriter p;
  p.Message(9, StringAttr("http.route", "/api"));
  Fixed64(p, 3, kTimeNs);
  Fixed64(p, 4, 6);  // count
  p.Double(5, 3.5);  // sum
  // Packed repeated fields (proto3's default): little-endian 8-byte values.
  std::string packed;
  for (uint64_t c : {1, 2, 3}) packed.append(reinterpret_cast<const char*>(&c), 8);
  p.Bytes(6, packed);
  std::string bounds;
  for (double b : {0.5, 1.0}) bounds.append(reinterpret_cast<const char*>(&b), 8);
  p.Bytes(7, bounds);
  ProtoWriter h;
  h.Message(1, p);
  h.Varint(2, 2);  // cumulative
  return h;
}

std::string Request(const std::vector<ProtoWriter>& metrics,
                    const std::vector<ProtoWriter>& resource) {
  ProtoWriter res;
  for (const auto& a : resource) res.Message(1, a);
  ProtoWriter scope;
  for (const auto& m : metrics) scope.Message(2, m);
  ProtoWriter rm;
  rm.Message(1, res);
  rm.Message(2, scope);
  ProtoWriter req;
  req.Message(1, rm);
  return req.Take();
}

std::vector<ProtoWriter> ShopResource() {
  return {StringAttr("service.name", "checkout"), StringAttr("service.namespace", "shop"),
          StringAttr("service.instance.id", "pod-1"), StringAttr("host.name", "node-a"),
          IntAttr("process.pid", 42)};
}

std::string TypicalRequest() {
  const std::vector<ProtoWriter> attrs = {StringAttr("http.method", "GET"),
                                          StringAttr("0code", "x")};
  return Request({Metric("queue.depth", "{items}", 5, Gauge(NumberPoint(7, attrs))),
                  Metric("http.server.requests", "1", 7, Sum(NumberPoint(12, attrs), 2, true)),
                  Metric("delta.requests", "", 7, Sum(NumberPoint(1, attrs), 1, true)),
                  Metric("http.server.duration", "ms", 9, Histogram())},
                 ShopResource());
}

std::map<std::string, std::pair<std::vector<Label>, std::vector<std::pair<int64_t, double>>>>
ByName(const OtlpTranslation& t) {
  std::map<std::string, std::pair<std::vector<Label>, std::vector<std::pair<int64_t, double>>>> out;
  for (const auto& s : t.series) {
    std::string key;
    for (const Label& l : s.labels) key += l.name + "=" + l.value + ",";
    out[key] = {s.labels, s.samples};
  }
  return out;
}

TEST(OtlpTranslate, GaugeSumHistogramAndTargetInfo_AsPrometheus248) {
  auto t = TranslateOtlpMetrics(TypicalRequest());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const auto series = ByName(*t);
  const std::string point = "http_method=GET,instance=pod-1,job=shop/checkout,key_0code=x,";
  const std::vector<std::string> want = {
      "__name__=http_server_duration_milliseconds_bucket,http_route=/api,instance=pod-1,"
      "job=shop/checkout,le=+Inf,",
      "__name__=http_server_duration_milliseconds_bucket,http_route=/api,instance=pod-1,"
      "job=shop/checkout,le=0.5,",
      "__name__=http_server_duration_milliseconds_bucket,http_route=/api,instance=pod-1,"
      "job=shop/checkout,le=1,",
      "__name__=http_server_duration_milliseconds_count,http_route=/api,instance=pod-1,"
      "job=shop/checkout,",
      "__name__=http_server_duration_milliseconds_sum,http_route=/api,instance=pod-1,"
      "job=shop/checkout,",
      "__name__=http_server_requests_total," + point,
      "__name__=queue_depth," + point,
      "__name__=target_info,host_name=node-a,instance=pod-1,job=shop/checkout,process_pid=42,",
  };
  std::vector<std::string> got;
  for (const auto& [key, s] : series) got.push_back(key);
  EXPECT_EQ(got, want);
  const auto value = [&](const std::string& key) { return series.at(key).second.at(0); };
  EXPECT_EQ(value(want[0]), std::make_pair(kTimeMs, 6.0));
  EXPECT_EQ(value(want[1]), std::make_pair(kTimeMs, 1.0));
  EXPECT_EQ(value(want[2]), std::make_pair(kTimeMs, 3.0));  // cumulative: 1 + 2
  EXPECT_EQ(value(want[3]), std::make_pair(kTimeMs, 6.0));
  EXPECT_EQ(value(want[4]), std::make_pair(kTimeMs, 3.5));
  EXPECT_EQ(value(want[5]), std::make_pair(kTimeMs, 12.0));
  EXPECT_EQ(value(want[6]), std::make_pair(kTimeMs, 7.0));
  EXPECT_EQ(value(want[7]), std::make_pair(kTimeMs, 1.0));
  ASSERT_EQ(t->errors.size(), 1u);
  EXPECT_EQ(t->errors[0], "invalid temporality and type combination for metric \"delta.requests\"");
}

TEST(OtlpTranslate, NoRecordedValue_IsAStalenessMarker) {
  auto t = TranslateOtlpMetrics(
      Request({Metric("g", "", 5, Gauge(NumberPoint(7, {}, /*flags=*/1)))}, {}));
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->series.size(), 1u);  // no resource attributes: no target_info
  EXPECT_TRUE(IsStaleNaN(t->series[0].samples.at(0).second));
}

TEST(OtlpTranslate, CollidingAttributeNames_JoinValuesInKeyOrder) {
  auto t = TranslateOtlpMetrics(Request(
      {Metric("g", "", 5, Gauge(NumberPoint(1, {StringAttr("a/b", "2"), StringAttr("a.b", "1")})))},
      {}));
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->series.size(), 1u);
  EXPECT_EQ(t->series[0].labels, (std::vector<Label>{{"__name__", "g"}, {"a_b", "1;2"}}));
}

TEST(OtlpTranslate, TruncatedProtobuf_IsAnError) {
  std::string request = TypicalRequest();
  request.resize(request.size() / 2);
  EXPECT_FALSE(TranslateOtlpMetrics(request).ok());
}

TEST(OtlpTranslate, AttributeValuesNestedTooDeep_AreAnError) {
  ProtoWriter any;
  any.Bytes(1, "leaf");
  for (int i = 0; i < 100; ++i) {
    ProtoWriter array;
    array.Message(1, any);
    ProtoWriter outer;
    outer.Message(5, array);
    any = std::move(outer);
  }
  ProtoWriter kv;
  kv.Bytes(1, "deep");
  kv.Message(2, any);
  auto t = TranslateOtlpMetrics(Request({Metric("g", "", 5, Gauge(NumberPoint(1, {kv})))}, {}));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("nest too deep"), std::string::npos);
}

TEST(OtlpTranslate, ArrayAndMapAttributes_AreTheirJson) {
  ProtoWriter one, two, array, list;
  one.Int64(3, 1);
  two.Bytes(1, "x");
  array.Message(1, one);
  array.Message(1, two);
  ProtoWriter any;
  any.Message(5, array);
  ProtoWriter kv;
  kv.Bytes(1, "list");
  kv.Message(2, any);
  auto t = TranslateOtlpMetrics(Request({Metric("g", "", 5, Gauge(NumberPoint(1, {kv})))}, {}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->series.at(0).labels.at(1), (Label{"list", R"([1,"x"])"}));
}

// Every attribute is copied into every bucket series: a point with many of
// both would expand a small request into gigabytes of labels.
TEST(OtlpTranslate, RequestExpandingToTooManyLabels_IsAnError) {
  ProtoWriter p;
  for (int i = 0; i < 1000; ++i) p.Message(9, StringAttr("a" + std::to_string(i), "v"));
  Fixed64(p, 3, kTimeNs);
  std::string counts, bounds;
  for (int i = 0; i < 3000; ++i) {
    const uint64_t c = 1;
    const double b = i;
    counts.append(reinterpret_cast<const char*>(&c), 8);
    bounds.append(reinterpret_cast<const char*>(&b), 8);
  }
  p.Bytes(6, counts);
  p.Bytes(7, bounds);
  ProtoWriter h;
  h.Message(1, p);
  h.Varint(2, 2);
  auto t = TranslateOtlpMetrics(Request({Metric("h", "", 9, h)}, {}));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("too many series labels"), std::string::npos);
}

// The same request as TypicalRequest() in OTLP/JSON, spelled as exporters do
// (lowerCamelCase, 64-bit integers as strings), with one snake_case field.
constexpr const char* kTypicalJson = R"({"resourceMetrics":[{
  "resource":{"attributes":[
    {"key":"service.name","value":{"stringValue":"checkout"}},
    {"key":"service.namespace","value":{"stringValue":"shop"}},
    {"key":"service.instance.id","value":{"stringValue":"pod-1"}},
    {"key":"host.name","value":{"stringValue":"node-a"}},
    {"key":"process.pid","value":{"intValue":"42"}}]},
  "scopeMetrics":[{"scope":{"name":"s"},"metrics":[
    {"name":"queue.depth","unit":"{items}","gauge":{"dataPoints":[{
      "attributes":[{"key":"http.method","value":{"stringValue":"GET"}},
                    {"key":"0code","value":{"stringValue":"x"}}],
      "timeUnixNano":"1699999970000000000","asDouble":7}]}},
    {"name":"http.server.requests","unit":"1","sum":{"aggregationTemporality":2,"isMonotonic":true,
      "dataPoints":[{"attributes":[{"key":"http.method","value":{"stringValue":"GET"}},
                                   {"key":"0code","value":{"stringValue":"x"}}],
      "timeUnixNano":"1699999970000000000","asInt":"12"}]}},
    {"name":"delta.requests","sum":{"aggregationTemporality":1,"isMonotonic":true,
      "dataPoints":[{"timeUnixNano":"1699999970000000000","asDouble":1}]}},
    {"name":"http.server.duration","unit":"ms","histogram":{"aggregation_temporality":2,
      "dataPoints":[{"attributes":[{"key":"http.route","value":{"stringValue":"/api"}}],
      "timeUnixNano":"1699999970000000000","count":"6","sum":3.5,
      "bucketCounts":["1","2","3"],"explicitBounds":[0.5,1]}]}}]}]}]})";

TEST(OtlpJson, TranslatesAsTheSameProtobufRequest) {
  auto proto = OtlpJsonToProtobuf(kTypicalJson);
  ASSERT_TRUE(proto.ok()) << proto.status().ToString();
  auto from_json = TranslateOtlpMetrics(*proto);
  auto from_proto = TranslateOtlpMetrics(TypicalRequest());
  ASSERT_TRUE(from_json.ok() && from_proto.ok());
  EXPECT_EQ(ByName(*from_json), ByName(*from_proto));
  EXPECT_EQ(from_json->errors, from_proto->errors);
}

TEST(OtlpJson, MalformedJson_IsAnError) {
  EXPECT_FALSE(OtlpJsonToProtobuf("{").ok());
  EXPECT_FALSE(OtlpJsonToProtobuf(R"({"resourceMetrics":{}})").ok());
  EXPECT_FALSE(OtlpJsonToProtobuf(
                   R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[)"
                   R"({"timeUnixNano":"soon"}]}}]}]}]})")
                   .ok());
}

// ---- The HTTP endpoint ------------------------------------------------------

ServerOptions WithOtlp() {
  ServerOptions options;
  options.enable_otlp_write_receiver = true;
  return options;
}

Reply PushOtlp(ApiServer& api, const std::string& body,
               const std::string& type = "application/x-protobuf",
               const httplib::Headers& headers = {}) {
  return api.Send("POST", "/api/v1/otlp/v1/metrics", body, type, headers);
}

TEST(OtlpReceiverTest, Disabled_Is404WithPrometheusText) {
  ApiServer api;
  const auto r = PushOtlp(api, TypicalRequest());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body,
            "otlp write receiver needs to be enabled with --enable-feature=otlp-write-receiver\n");
}

TEST(OtlpReceiverTest, AcceptedMetrics_AreQueryable) {
  ApiServer api(WithOtlp());
  const auto r = PushOtlp(api, TypicalRequest());
  EXPECT_EQ(r.status, 200) << r.body;
  const auto q = api.Get(Url("/api/v1/query", {{"query", "http_server_requests_total"}}));
  EXPECT_EQ(q.body,
            R"({"status":"success","data":{"resultType":"vector","result":[{"metric":)"
            R"({"__name__":"http_server_requests_total","http_method":"GET","instance":"pod-1",)"
            R"("job":"shop/checkout","key_0code":"x"},"value":[1700000000,"12"]}]}})");
  const auto info = api.Get(Url("/api/v1/query", {{"query", "target_info"}})).Json();
  EXPECT_EQ(info["data"]["result"][0]["metric"]["host_name"], "node-a");
}

std::string Gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(OtlpReceiverTest, JsonBody_IsAccepted) {
  ApiServer api(WithOtlp());
  const auto r = PushOtlp(api, kTypicalJson, "application/json");
  EXPECT_EQ(r.status, 200) << r.body;
  const auto q =
      api.Get(Url("/api/v1/query", {{"query", "http_server_duration_milliseconds_count"}}));
  EXPECT_EQ(q.Json()["data"]["result"][0]["value"][1], "6") << q.body;
}

TEST(OtlpReceiverTest, GzipBody_IsAccepted) {
  ApiServer api(WithOtlp());
  const auto r = PushOtlp(api, Gzip(TypicalRequest()), "application/x-protobuf",
                          {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 200) << r.body;
  const auto q = api.Get(Url("/api/v1/query", {{"query", "queue_depth"}})).Json();
  EXPECT_EQ(q["data"]["result"].size(), 1u);
}

TEST(OtlpReceiverTest, ClientMistakes_Are400) {
  ApiServer api(WithOtlp());
  EXPECT_EQ(PushOtlp(api, TypicalRequest(), "application/json").status, 400);
  EXPECT_EQ(PushOtlp(api, kTypicalJson, "text/plain").status, 400);
  EXPECT_EQ(
      PushOtlp(api, TypicalRequest(), "application/x-protobuf", {{"Content-Encoding", "gzip"}})
          .status,
      400);
  std::string truncated = TypicalRequest();
  truncated.resize(truncated.size() - 3);
  EXPECT_EQ(PushOtlp(api, truncated).status, 400);
  EXPECT_EQ(PushOtlp(api, "\xff\xff\xff").status, 400);
}

}  // namespace
}  // namespace vigil::web::testing
