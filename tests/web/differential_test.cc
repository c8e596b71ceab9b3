// Differential API test: Vigil and Prometheus 2.42 scrape the same
// inventory_demo and node-exporter; every endpoint is called on both with the
// same parameters and the answers must agree in status code, JSON shape (keys
// and value types), result type and label sets.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <sstream>

#include "tests/web/live_stack.h"

namespace vigil::web::testing {
namespace {

// Keys whose values are label sets (data, not schema).
bool IsLabelObjectKey(const std::string& key) {
  return key == "metric" || key == "labels" || key == "discoveredLabels" || key == "target";
}

// The schema of a JSON value: object keys with their schemas, the schema of
// an array's first element, the type name of scalars. Label objects, flag
// maps and metadata maps are data, so they collapse to a type name.
nlohmann::json Shape(const nlohmann::json& v, const std::string& key = "") {
  if (v.is_object()) {
    if (IsLabelObjectKey(key)) return "labels";
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, child] : v.items()) out[k] = Shape(child, k);
    return out;
  }
  if (v.is_array()) return v.empty() ? nlohmann::json("[]") : nlohmann::json::array({Shape(v[0])});
  if (v.is_number()) return "number";
  return v.type_name();
}

// Compares shapes, treating an empty array on either side as compatible.
void ExpectSameShape(const nlohmann::json& a, const nlohmann::json& b, const std::string& where) {
  if (a == "[]" || b == "[]") return;
  if (a.is_object() && b.is_object()) {
    std::set<std::string> ka, kb;
    for (const auto& [k, v] : a.items()) ka.insert(k);
    for (const auto& [k, v] : b.items()) kb.insert(k);
    EXPECT_EQ(ka, kb) << "keys differ at " << where;
    for (const auto& k : ka) {
      if (kb.count(k) > 0) ExpectSameShape(a[k], b[k], where + "." + k);
    }
    return;
  }
  if (a.is_array() && b.is_array()) return ExpectSameShape(a[0], b[0], where + "[0]");
  EXPECT_EQ(a, b) << "type differs at " << where;
}

// The label sets of a query/series result, as strings.
std::set<std::string> LabelSets(const nlohmann::json& data) {
  std::set<std::string> out;
  const nlohmann::json& list = data.is_object() && data.contains("result") ? data["result"] : data;
  if (!list.is_array()) return out;
  for (const auto& item : list) {
    out.insert((item.contains("metric") ? item["metric"] : item).dump());
  }
  return out;
}

class DifferentialTest : public LiveStackTest {
 protected:
  void SetUp() override {
    LiveStackTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // One evaluation time for both sides, a little in the past so both have it.
    now_ = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count() -
                          2);
  }

  struct Pair {
    Reply vigil;
    Reply prometheus;
  };

  Pair Call(const std::string& method, const std::string& path, const std::string& form = "") {
    const std::string type = form.empty() ? "" : "application/x-www-form-urlencoded";
    return {Fetch(stack_->vigil_port(), method, path, form, type),
            Fetch(stack_->prometheus_port(), method, path, form, type)};
  }

  // Same status; for JSON answers the same shape, status and errorType.
  // `data_is_map`: "data" is keyed by names (flags, metric names), so only its
  // type is compared.
  Pair Compare(const std::string& method, const std::string& path, const std::string& form = "",
               bool data_is_map = false) {
    Pair p = Call(method, path, form);
    const std::string where = method + " " + path + " " + form;
    EXPECT_EQ(p.vigil.status, p.prometheus.status)
        << where << "\nvigil: " << p.vigil.body << "\nprometheus: " << p.prometheus.body;
    auto v = nlohmann::json::parse(p.vigil.body, nullptr, false);
    auto q = nlohmann::json::parse(p.prometheus.body, nullptr, false);
    if (q.is_discarded()) return p;
    EXPECT_FALSE(v.is_discarded()) << where << ": Vigil's answer is not JSON: " << p.vigil.body;
    if (v.is_discarded()) return p;
    // Prometheus 2.47+ adds droppedTargetCounts to /api/v1/targets, as Vigil
    // does (2.48 semantics); the 2.42 reference lacks it.
    if (v.contains("data") && v["data"].is_object() && q.contains("data") &&
        q["data"].is_object() && !q["data"].contains("droppedTargetCounts")) {
      v["data"].erase("droppedTargetCounts");
    }
    if (data_is_map && v.contains("data") && q.contains("data")) {
      v["data"] = v["data"].type_name();
      q["data"] = q["data"].type_name();
    }
    ExpectSameShape(Shape(v), Shape(q), where);
    EXPECT_EQ(v.value("status", ""), q.value("status", "")) << where;
    EXPECT_EQ(v.value("errorType", ""), q.value("errorType", "")) << where;
    if (q.contains("data") && q["data"].is_object() && q["data"].contains("resultType")) {
      EXPECT_EQ(v["data"]["resultType"], q["data"]["resultType"]) << where;
    }
    return p;
  }

  // Compare() plus equal label sets of the results.
  void CompareLabelSets(const std::string& method, const std::string& path,
                        const std::string& form = "") {
    const Pair p = Compare(method, path, form);
    const auto v = nlohmann::json::parse(p.vigil.body, nullptr, false);
    const auto q = nlohmann::json::parse(p.prometheus.body, nullptr, false);
    if (v.is_discarded() || q.is_discarded()) return;
    EXPECT_EQ(LabelSets(v["data"]), LabelSets(q["data"])) << method << " " << path << " " << form;
  }

  // Compare() plus the same error text.
  void CompareError(const std::string& path) {
    const Pair p = Compare("GET", path);
    EXPECT_EQ(p.vigil.body, p.prometheus.body) << path;
  }

  std::string now_;
};

TEST_F(DifferentialTest, InstantQueries_SameResultTypesAndLabelSets) {
  for (const char* q : {"up", "inventory_items_total", "node_cpu_seconds_total{mode=\"idle\"}",
                        "count by (job) (up)", "sum(rate(inventory_requests_total[5s]))",
                        "histogram_quantile(0.95, sum by (le) "
                        "(rate(inventory_request_duration_seconds_bucket[5s])))",
                        "scalar(count(up))", "\"text\"", "time()"}) {
    CompareLabelSets("GET", Url("/api/v1/query", {{"query", q}, {"time", now_}}));
    CompareLabelSets("POST", "/api/v1/query", Form({{"query", q}, {"time", now_}}));
  }
}

TEST_F(DifferentialTest, RangeQueries_SameResultTypesAndLabelSets) {
  const std::string start = std::to_string(std::stoll(now_) - 5);
  for (const char* q : {"up", "inventory_items_total", "rate(inventory_cache_hits_total[3s])"}) {
    CompareLabelSets("GET", Url("/api/v1/query_range",
                                {{"query", q}, {"start", start}, {"end", now_}, {"step", "1s"}}));
    CompareLabelSets("POST", "/api/v1/query_range",
                     Form({{"query", q}, {"start", start}, {"end", now_}, {"step", "0.5"}}));
  }
}

TEST_F(DifferentialTest, QueryErrors_SameStatusTypeAndText) {
  CompareError(Url("/api/v1/query", {{"query", "up"}, {"time", "abc"}}));
  CompareError(Url("/api/v1/query", {{"query", "up"}, {"timeout", "abc"}}));
  CompareError(
      Url("/api/v1/query_range", {{"query", "up"}, {"start", "10"}, {"end", "5"}, {"step", "1"}}));
  CompareError(
      Url("/api/v1/query_range", {{"query", "up"}, {"start", "0"}, {"end", "5"}, {"step", "0"}}));
  CompareError(
      Url("/api/v1/query_range", {{"query", "up"}, {"start", "0"}, {"end", "50"}, {"step", "x"}}));
  CompareError(Url("/api/v1/query_range",
                   {{"query", "up"}, {"start", "0"}, {"end", "50000"}, {"step", "1"}}));
  CompareError(Url("/api/v1/query_range", {{"query", "up"}, {"end", "5"}, {"step", "1"}}));
  CompareError("/api/v1/series");
  CompareError(Url("/api/v1/series", {{"match[]", "{job=~\".*\"}"}}));
  CompareError(Url("/api/v1/series", {{"match[]", "up"}, {"start", "abc"}}));
  CompareError("/api/v1/label/0bad/values");
  // Parse errors: same status and errorType (wording is the PromQL parser's).
  Compare("GET", Url("/api/v1/query", {{"query", "up{"}}));
  Compare("GET", Url("/api/v1/query", {{"query", ""}}));
  Compare("GET", Url("/api/v1/series", {{"match[]", "up{"}}));
  Compare("GET", Url("/api/v1/format_query", {{"query", "sum("}}));
}

TEST_F(DifferentialTest, SeriesLabelsAndValues_Agree) {
  CompareLabelSets("GET", Url("/api/v1/series", {{"match[]", "up"}}));
  CompareLabelSets("POST", "/api/v1/series",
                   Form({{"match[]", "inventory_items_total"}, {"match[]", "up{job=\"node\"}"}}));
  for (const auto& path :
       {Url("/api/v1/labels", {{"match[]", "up"}}), Url("/api/v1/label/job/values", {}),
        Url("/api/v1/label/__name__/values", {{"match[]", "{job=\"inventory\"}"}})}) {
    const Pair p = Compare("GET", path);
    EXPECT_EQ(nlohmann::json::parse(p.vigil.body)["data"],
              nlohmann::json::parse(p.prometheus.body)["data"])
        << path;
  }
  Compare("GET", "/api/v1/labels");
}

TEST_F(DifferentialTest, TargetsAndMetadata_SameShapes) {
  const Pair targets = Compare("GET", "/api/v1/targets");
  const auto labels_of = [](const std::string& body) {
    std::set<std::string> out;
    // Keep the parsed document alive for the loop: a range-for over a member of
    // a temporary reads freed memory.
    const nlohmann::json doc = nlohmann::json::parse(body);
    for (const auto& t : doc["data"]["activeTargets"]) {
      out.insert(t["labels"].dump() + " " + t["health"].get<std::string>());
    }
    return out;
  };
  EXPECT_EQ(labels_of(targets.vigil.body), labels_of(targets.prometheus.body));
  Compare("GET", "/api/v1/targets?state=active");
  Compare("GET", "/api/v1/targets?state=dropped");
  Compare("GET", Url("/api/v1/targets/metadata", {{"metric", "inventory_items_total"}}));
  Compare("GET", Url("/api/v1/targets/metadata", {{"match_target", "{job=\"inventory\"}"}}));
  const Pair md = Compare("GET", Url("/api/v1/metadata", {{"metric", "inventory_requests_total"}}));
  EXPECT_EQ(nlohmann::json::parse(md.vigil.body)["data"],
            nlohmann::json::parse(md.prometheus.body)["data"]);
  Compare("GET", "/api/v1/metadata?limit=2", "", /*data_is_map=*/true);
}

TEST_F(DifferentialTest, StatusAndRuleEndpoints_SameShapes) {
  Compare("GET", "/api/v1/status/flags", "", /*data_is_map=*/true);
  for (const char* path :
       {"/api/v1/status/config", "/api/v1/status/runtimeinfo", "/api/v1/status/buildinfo",
        "/api/v1/status/tsdb", "/api/v1/status/walreplay", "/api/v1/rules", "/api/v1/alerts",
        "/api/v1/alertmanagers"}) {
    Compare("GET", path);
  }
  Compare("GET", Url("/api/v1/format_query", {{"query", "sum(rate(x[5m]))by(job)"}}));
  Compare("GET", Url("/api/v1/query_exemplars", {{"query", "up"}}));
}

TEST_F(DifferentialTest, FederateAndPlainEndpoints_Agree) {
  const Pair fed = Compare("GET", Url("/federate", {{"match[]", "up"}}));
  const auto series_of = [](const std::string& body) {
    std::set<std::string> out;
    std::istringstream in(body);
    std::string line;
    while (std::getline(in, line)) out.insert(line.substr(0, line.find(' ')));
    return out;
  };
  EXPECT_EQ(series_of(fed.vigil.body), series_of(fed.prometheus.body));
  Compare("GET", Url("/federate", {{"match[]", "up{"}}));
  for (const char* path :
       {"/-/healthy", "/-/ready", "/-/reload", "/api/v1/nonexistent", "/metrics"}) {
    Compare("GET", path);
  }
  Compare("POST", "/-/reload");
  Compare("PUT", "/-/quit");
  Compare("DELETE", "/api/v1/query");
  Compare("GET", "/api/v1/read");
}

}  // namespace
}  // namespace vigil::web::testing
